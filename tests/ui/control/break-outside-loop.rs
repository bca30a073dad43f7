use autodiff::grad;

#[grad]
fn f(x: f64) -> f64 {
    let y = x * x;
    break; //~ ERROR `break` and `continue` must be inside a loop
    y
}

fn main() {
    let _ = f(1.0);
}
