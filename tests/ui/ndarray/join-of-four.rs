use autodiff::grad;
use ndarray::{Array1, Axis, concatenate};

#[grad]
fn joined(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    // Two or three arrays at a time.
    concatenate(Axis(0), &[a.view(), b.view(), a.view(), b.view()]) //~ ERROR `concatenate` is differentiated for two or three arrays
        .unwrap()
        .sum()
}

fn main() {
    let _ = joined(&Array1::zeros(2), &Array1::zeros(2));
}
