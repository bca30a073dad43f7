use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    let y; //~ ERROR declare the variable with its value
    y = x * x;
    y
}

fn main() {
    let _ = square(3.0);
}
