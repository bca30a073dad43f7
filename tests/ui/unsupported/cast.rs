use autodiff::grad;

#[grad]
fn narrow(x: f64) -> f32 {
    let y = x as f32; //~ ERROR `as` casts of differentiated values are not supported
    y * y
}

fn main() {
    let _ = narrow(3.0);
}
