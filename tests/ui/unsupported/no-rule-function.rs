use autodiff::grad;

// Not `#[grad]`: there is no derivative to call.
fn square(t: f64) -> f64 {
    t * t
}

#[grad]
fn quartic(x: f64) -> f64 {
    let y = square(x); //~ ERROR cannot find function `__square_pullback`
    y * y
}

fn main() {
    let _ = quartic(3.0);
}
