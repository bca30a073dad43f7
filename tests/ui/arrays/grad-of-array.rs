use autodiff::{grad, matmul, sigmoid};
use ndarray::{Array1, Array2, array};

#[grad(wrt(w))]
fn layer(w: &Array2<f64>, x: &Array1<f64>) -> Array1<f64> {
    sigmoid(&matmul(w, x))
}

fn main() {
    let w = array![[1.0, 2.0], [3.0, 4.0]];
    let x = array![0.5, -0.5];
    let _ = layer_grad(&w, &x); //~ ERROR is not a scalar, so this function has no `_grad`
    let _ = layer_vjp(&w, &x, array![1.0, 0.0]); // the array-valued way
}
