use autodiff::grad;

#[grad(wrt(x))]
fn scale(x: f64, k: f64) -> f64 {
    k * x
}

#[grad]
fn twice(x: f64, k: f64) -> f64 {
    scale(x, k) //~ ERROR the `#[grad]` function called here does not differentiate this argument
}

fn main() {
    let _ = twice(3.0, 2.0);
}
