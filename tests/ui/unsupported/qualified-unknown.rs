use autodiff::grad;

#[grad]
fn steps(x: f64) -> f64 {
    f64::floor(x) //~ ERROR no derivative rule for `f64::floor`
}

fn main() {
    let _ = steps(3.5);
}
