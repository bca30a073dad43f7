use autodiff::grad;

#[grad(wrt())] //~ ERROR `wrt()` names no parameter
fn product(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {
    let _ = product(2.0, 3.0);
}
