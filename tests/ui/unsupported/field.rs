use autodiff::grad;

#[grad(wrt(point))]
fn first(point: (f64, f64)) -> f64 {
    point.0 //~ ERROR `(f64, f64)` cannot be differentiated
}

fn main() {
    let _ = first((1.0, 2.0));
}
