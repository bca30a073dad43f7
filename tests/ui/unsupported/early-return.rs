use autodiff::grad;

#[grad]
fn clipped(x: f64) -> f64 {
    let y = if x > 1.0 { return 1.0; } else { x * x }; //~ ERROR this `return` is not supported
    y
}

fn main() {
    let _ = clipped(3.0);
}
