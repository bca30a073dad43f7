use autodiff::grad;

struct Point {
    x: f64,
    y: f64,
}

#[grad]
fn pair(x: f64) -> f64 {
    let p = Point { x, y: 2.0 * x }; //~ ERROR building a struct
    p.x + p.y
}

fn main() {
    let _ = pair(3.0);
}
