use autodiff::grad;
use ndarray::Array1;

#[grad]
fn leaky(a: &Array1<f64>) -> f64 {
    // A branch cannot be applied to the whole array at once.
    a.mapv(|v| if v > 0.0 { v } else { 0.1 * v }).sum() //~ ERROR `mapv` is differentiated by applying its closure to the whole array
}

fn main() {
    let _ = leaky(&Array1::zeros(2));
}
