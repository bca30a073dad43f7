use autodiff::{grad, sigmoid};

#[grad]
fn logistic(x: f64, a: f64) -> f64 {
    sigmoid(x, a) //~ ERROR `sigmoid` takes 1 argument
}

fn main() {
    let _ = logistic(3.0, 1.0);
}
