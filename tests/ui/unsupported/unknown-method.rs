use autodiff::grad;

trait Cube {
    fn cube(self) -> f64;
}

impl Cube for f64 {
    fn cube(self) -> f64 {
        self * self * self
    }
}

#[grad]
fn volume(x: f64) -> f64 {
    x.cube() //~ ERROR no derivative rule for the method `cube`
}

fn main() {
    let _ = volume(3.0);
}
