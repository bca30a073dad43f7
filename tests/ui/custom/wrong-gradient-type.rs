use autodiff::custom_vjp;

#[custom_vjp(norm2_vjp)]
fn norm2(x: f64, y: f64) -> f64 {
    x.hypot(y)
}

// Two differentiated parameters: the gradient is a pair, not one float.
fn norm2_vjp(x: f64, y: f64, seed: f64) -> (f64, f64) { //~ ERROR mismatched types
    (x.hypot(y), seed)
}

fn main() {
    let _ = norm2(3.0, 4.0);
}
