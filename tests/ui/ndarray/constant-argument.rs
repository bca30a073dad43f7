use autodiff::grad;
use ndarray::Array2;

#[grad]
fn pick(a: &Array2<f64>, k: f64) -> f64 {
    a.row(k as usize).sum() //~ ERROR the arguments of `row` after the array are constants
}

fn main() {
    let _ = pick(&Array2::zeros((2, 2)), 1.0);
}
