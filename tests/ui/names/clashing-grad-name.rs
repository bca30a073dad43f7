use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    x * x
}

fn square_grad(x: f64) -> (f64, f64) { //~ ERROR the name `square_grad` is defined multiple times
    (x * x, 2.0 * x)
}

fn main() {
    let _ = square_grad(3.0);
}
