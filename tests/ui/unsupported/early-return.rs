use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    let y = x * x;
    return y; //~ ERROR early `return` is not supported
    #[allow(unreachable_code)]
    y
}

fn main() {
    let _ = square(3.0);
}
