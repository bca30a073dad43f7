use autodiff::grad;

#[grad]
fn clamp_low(x: f64, low: bool) -> f64 {
    match low { //~ ERROR `match` on differentiated values is not supported
        true => x.max(0.0),
        false => x,
    }
}

fn main() {
    let _ = clamp_low(-3.0, true);
}
