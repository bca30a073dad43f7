use autodiff::custom_vjp;

#[custom_vjp(product_rule, wrt(x), wrt(y))] //~ ERROR duplicate `wrt` argument
fn product(x: f64, y: f64) -> f64 {
    x * y
}

fn product_rule(x: f64, y: f64, seed: f64) -> (f64, (f64, f64)) {
    (x * y, (seed * y, seed * x))
}

fn main() {
    let _ = product(2.0, 3.0);
}
