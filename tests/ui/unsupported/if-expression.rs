use autodiff::grad;

#[grad]
fn magnitude(x: f64) -> f64 {
    let y = if x > 0.0 { x } else { -x }; //~ ERROR `if` on differentiated values is not supported
    y
}

fn main() {
    let _ = magnitude(-3.0);
}
