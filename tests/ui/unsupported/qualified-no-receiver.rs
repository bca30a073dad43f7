use autodiff::grad;

#[grad]
fn constant(x: f64) -> f64 {
    let e = f64::exp(); //~ ERROR this function takes 1 argument but 0 arguments were supplied
    e * x
}

fn main() {
    let _ = constant(3.0);
}
