use autodiff::grad;

// `sin_cos` returns a tuple, which `#[grad]` cannot differentiate yet:
// rejected with the list of methods, like any method without a rule.
#[grad]
fn polar(r: f64, theta: f64) -> f64 {
    r * theta.sin_cos().0 //~ ERROR no derivative rule for the method `sin_cos`
}

fn main() {
    let _ = polar(2.0, 0.5);
}
