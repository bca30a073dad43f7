use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    x.sin(); //~ ERROR this statement computes a differentiated value and drops it
    x * x
}

fn main() {
    let _ = square(3.0);
}
