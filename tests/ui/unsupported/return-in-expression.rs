use autodiff::grad;

// A `return` nested in an expression, not in the `if` a `let` is given.
#[grad]
fn clipped(x: f64) -> f64 {
    let y = 2.0 * if x > 1.0 { return 1.0; } else { x * x }; //~ ERROR this `return` is not supported
    y
}

fn main() {
    let _ = clipped(3.0);
}
