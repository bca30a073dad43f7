use autodiff::{grad, sigmoid, sum};
use ndarray::Array1;

#[grad]
fn activate(x: &Array1<f64>, scores: &Vec<f64>) -> f64 {
    let s = sigmoid(scores); //~ ERROR `sigmoid` is not defined for `&Vec<f64>`
    sum(x)
}

fn main() {}
