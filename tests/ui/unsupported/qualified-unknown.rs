use autodiff::grad;

#[grad]
fn polar(x: f64) -> f64 {
    f64::sin_cos(x).0 //~ ERROR no derivative rule for `f64::sin_cos`
}

fn main() {
    let _ = polar(3.5);
}
