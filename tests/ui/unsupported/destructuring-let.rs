use autodiff::grad;

struct Point {
    x: f64,
    y: f64,
}

fn point(x: f64, y: f64) -> Point {
    Point { x, y }
}

#[grad]
fn product(x: f64, y: f64) -> f64 {
    let Point { x: a, y: b } = point(x, y); //~ ERROR this `let` pattern is not supported
    a * b
}

fn main() {
    let _ = product(2.0, 3.0);
}
