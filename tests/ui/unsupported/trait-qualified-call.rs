use autodiff::grad;

trait Square {
    fn square(self) -> f64;
}

impl Square for f64 {
    fn square(self) -> f64 {
        self * self
    }
}

#[grad]
fn area(x: f64) -> f64 {
    <f64 as Square>::square(x) //~ ERROR calls through `<T as Trait>::f` cannot be differentiated yet
}

fn main() {
    let _ = area(3.0);
}
