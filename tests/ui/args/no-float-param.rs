use autodiff::grad;

#[grad]
fn triangle(n: u32) -> f64 { //~ ERROR `triangle` has no `f32` or `f64` parameter to differentiate
    f64::from(n * (n + 1) / 2)
}

fn main() {
    let _ = triangle(4);
}
