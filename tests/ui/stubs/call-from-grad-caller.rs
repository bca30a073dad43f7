// A `#[grad]` function that calls a rejected one goes through its stubbed
// pullback: only the callee's own error appears.
use autodiff::grad;

#[grad(wrt(x))]
fn scaled(x: f64, k: usize) -> f64 {
    x as f64 * k as f64 //~ ERROR `as` casts of differentiated values are not supported
}

#[grad]
fn outer(x: f64) -> f64 {
    scaled(x, 2) * x
}

fn main() {
    let (_, dx) = outer_grad(1.0);
    let (_, dk) = scaled_vjp(1.0, 3, 1.0);
    println!("{dx} {dk}");
}
