use autodiff::grad;

// The macro cannot build an array from differentiated values yet, so the
// body returns a constant: what matters is that `_grad` is called on a
// function whose output is not a scalar.
#[grad(wrt(x))]
fn corners(x: f64) -> [f64; 2] {
    let _ = x;
    [0.0, 1.0]
}

fn main() {
    let _ = corners_grad(1.0); //~ ERROR `[f64; 2]` is not a scalar, so this function has no `_grad`
}
