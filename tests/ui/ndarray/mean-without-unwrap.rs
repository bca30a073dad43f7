use autodiff::grad;
use ndarray::Array1;

#[grad]
fn average(a: &Array1<f64>) -> f64 {
    a.mean().unwrap_or(0.0) //~ ERROR ndarray's `mean` returns an `Option`
}

fn main() {
    let _ = average(&Array1::zeros(2));
}
