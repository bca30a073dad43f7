use autodiff::grad;

struct Point {
    x: f64,
}

#[grad]
fn square(x: f64) -> f64 {
    let mut point = Point { x: 0.0 };
    point.x = x * x; //~ ERROR writing to a field is not supported
    point.x + x
}

fn main() {
    let _ = square(3.0);
}
