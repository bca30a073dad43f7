use autodiff::grad;

#[grad(wrt(x))]
fn f(x: f64, k: Option<f64>) -> f64 {
    let mut y = x;
    if let Some(k) = k { //~ ERROR `if let` and `while let` are not supported
        y = y * k;
    }
    y
}

fn main() {
    let _ = f(1.0, Some(2.0));
}
