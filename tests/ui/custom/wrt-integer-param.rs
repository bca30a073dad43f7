use autodiff::custom_vjp;

#[custom_vjp(power_rule, wrt(x, n))] //~ ERROR `n` has type `i32`, which cannot be differentiated
fn power(x: f64, n: i32) -> f64 {
    x.powi(n)
}

fn power_rule(x: f64, n: i32, seed: f64) -> (f64, f64) {
    (x.powi(n), seed * f64::from(n) * x.powi(n - 1))
}

fn main() {
    let _ = power(2.0, 3);
}
