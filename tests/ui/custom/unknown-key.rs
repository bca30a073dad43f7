use autodiff::custom_vjp;

#[custom_vjp(square_rule, split)] //~ ERROR `#[custom_vjp]` takes the path of the hand-written function
fn square(x: f64) -> f64 {
    x * x
}

fn square_rule(x: f64, seed: f64) -> (f64, f64) {
    (x * x, seed * 2.0 * x)
}

fn main() {
    let _ = square(2.0);
}
