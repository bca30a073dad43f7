use autodiff::custom_vjp;

#[custom_vjp(square_vjp)]
fn square(x: f64) -> f64 {
    x * x
}

// The seed is missing: the rule must take `(x: f64, seed: f64)`.
fn square_vjp(x: f64) -> (f64, f64) { //~ ERROR this function takes 1 argument but 2 arguments were supplied
    (x * x, 2.0 * x)
}

fn main() {
    let _ = square(2.0);
}
