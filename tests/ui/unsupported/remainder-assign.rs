use autodiff::grad;

#[grad]
fn wrap(x: f64) -> f64 {
    let mut turns = 7;
    turns %= 4; //~ ERROR `%=` is not supported in `#[grad]` functions yet
    x * f64::from(turns)
}

fn main() {
    let _ = wrap(3.0);
}
