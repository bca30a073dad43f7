use autodiff::grad;

// A function of the user's own named as a runtime primitive: `#[grad]` takes
// the call `sum(x)` for the runtime's `sum`, and must not differentiate this
// one by the runtime's rule.
#[grad]
fn sum(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (i + 1) as f64 * x[i];
    }
    s
}

#[grad]
fn loss(x: &[f64]) -> f64 {
    sum(x) * 2.0 //~ ERROR this `for<'a> fn(&'a [f64]) -> f64 {sum}` is not autodiff's function of the same name
}

fn main() {
    let _ = loss_grad(&[1.0, 2.0]);
}
