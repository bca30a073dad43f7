use autodiff::grad;

#[grad(wrt(x))]
fn scaled(x: f64, scale: Option<f64>) -> f64 {
    let y = Some(x)?; //~ ERROR the `?` operator is not supported on differentiated values
    y * scale.unwrap_or(1.0)
}

fn main() {
    let _ = scaled(3.0, None);
}
