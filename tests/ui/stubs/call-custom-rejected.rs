// A rejected `#[custom_vjp]` gets stubs as well: `f_grad` and, since the
// rule is not `f_vjp` itself, `f_vjp`.
use autodiff::custom_vjp;

#[custom_vjp(square_rule, wrt(y))] //~ ERROR `wrt` names `y`, which is not a parameter of `square`
fn square(x: f64) -> f64 {
    x * x
}

fn square_rule(x: f64, seed: f64) -> (f64, f64) {
    (x * x, seed * 2.0 * x)
}

fn main() {
    let _ = square_grad(2.0);
    let _ = square_vjp(2.0, 1.0);
}
