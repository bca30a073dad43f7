use autodiff::custom_vjp;

#[custom_vjp(square_rule)]
async fn square(x: f64) -> f64 { //~ ERROR `async fn` cannot be differentiated
    x * x
}

fn square_rule(x: f64, seed: f64) -> (f64, f64) {
    (x * x, seed * 2.0 * x)
}

fn main() {
    let _ = square(2.0);
}
