use autodiff::grad;

#[grad]
fn power(x: f64) -> f64 {
    x.powi(x) //~ ERROR the exponent of `powi` is an integer and cannot be differentiated
}

fn main() {
    let _ = power(3.0);
}
