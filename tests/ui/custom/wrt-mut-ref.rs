use autodiff::custom_vjp;

#[custom_vjp(fill_rule, wrt(x, out))] //~ ERROR `out` is a `&mut` parameter, which cannot be differentiated
fn fill(x: f64, out: &mut Vec<f64>) -> f64 {
    out.push(x);
    x
}

fn fill_rule(x: f64, out: &mut Vec<f64>, seed: f64) -> (f64, f64) {
    (fill(x, out), seed)
}

fn main() {
    let _ = fill(2.0, &mut Vec::new());
}
