use autodiff::grad;

#[grad(wrt(x, n))] //~ ERROR `n` has type `i32`, which cannot be differentiated
fn power(x: f64, n: i32) -> f64 {
    x.powi(n)
}

fn main() {
    let _ = power(2.0, 3);
}
