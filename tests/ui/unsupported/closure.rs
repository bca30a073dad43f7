use autodiff::grad;

#[grad]
fn scaled_square(x: f64) -> f64 {
    let scale = |t: f64| t * x; //~ ERROR closures that use differentiated values are not supported
    scale(x)
}

fn main() {
    let _ = scaled_square(3.0);
}
