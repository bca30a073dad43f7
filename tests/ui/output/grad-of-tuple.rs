use autodiff::grad;

#[grad]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

fn main() {
    let _ = polar_vjp(1.0, 0.5, (1.0, 0.0)); // a tuple output has `_vjp`
    let _ = polar_grad(1.0, 0.5); //~ ERROR `(f64, f64)` is not a scalar, so this function has no `_grad`
}
