use autodiff::grad;

struct Point {
    x: f64,
    y: f64,
}

#[grad]
fn swapped(x: f64, y: f64) -> f64 {
    let mut a = x;
    let mut b = y;
    Point { x: a, y: b } = Point { x: b, y: a }; //~ ERROR a `#[grad]` function can only assign to its own local variables
    a / b
}

fn main() {
    let _ = swapped(2.0, 3.0);
}
