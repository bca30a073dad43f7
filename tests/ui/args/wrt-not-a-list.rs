use autodiff::grad;

#[grad(wrt = x)] //~ ERROR `wrt` takes a list of parameter names
fn square(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = square(3.0);
}
