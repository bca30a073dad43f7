use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    let _y = x * x;
    return; //~ ERROR `return` must give the value to differentiate
}

fn main() {
    let _ = square(3.0);
}
