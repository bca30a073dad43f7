use autodiff::grad;
use ndarray::Array1;

#[grad]
fn sum_of_squares(a: &Array1<f64>) -> f64 {
    // Only the largest or smallest element is a fold with a rule.
    a.fold(0.0, |s, &v| s + v * v) //~ ERROR ndarray's `fold` is differentiated for the largest or smallest element
}

fn main() {
    let _ = sum_of_squares(&Array1::zeros(2));
}
