use autodiff::{grad, matmul, sum};
use ndarray::{Array2, Array3};

#[grad(wrt(a))]
fn product(a: &Array2<f64>, b: &Array3<f64>) -> f64 {
    sum(&matmul(a, b)) //~ ERROR `matmul` is not defined
}

fn main() {}
