use autodiff::grad;

#[grad(hvp)]
fn square(x: f64) -> f64 { //~ ERROR `#[grad(hvp)]` needs a generic function
    x * x
}

fn main() {
    let _ = square(2.0);
}
