use autodiff::grad;

#[grad(wrt(x, y, x))] //~ ERROR `x` is listed twice in `wrt(...)`
fn product(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {
    let _ = product(2.0, 3.0);
}
