use autodiff::grad;

#[grad]
fn f(xs: &[f64], y: f64) -> f64 {
    xs[y] //~ ERROR an index must be an integer, not a differentiated value
}

fn main() {
    let _ = f(&[1.0], 0.0);
}
