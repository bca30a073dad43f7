use autodiff::grad;

#[grad]
fn wrap(x: f64) -> f64 {
    let y = x % 1.0; //~ ERROR no derivative rule for `%`
    y * y
}

fn main() {
    let _ = wrap(3.0);
}
