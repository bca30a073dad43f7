use autodiff::grad;

#[grad]
async fn square(x: f64) -> f64 { //~ ERROR `async fn` cannot be differentiated
    x * x
}

fn main() {
    let _ = square(3.0);
}
