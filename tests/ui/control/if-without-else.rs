use autodiff::grad;

#[grad]
fn f(x: f64) -> f64 {
    let y = if x > 0.0 { x * x }; //~ ERROR this `if` is used as a value, so it needs an `else`
    y
}

fn main() {
    let _ = f(1.0);
}
