use autodiff::grad;

#[grad]
fn product(x: f64, y: f64) -> f64 {
    let (a, b) = (x, y); //~ ERROR destructuring
    a * b
}

fn main() {
    let _ = product(2.0, 3.0);
}
