use autodiff::grad;

#[grad(respect_to(x))] //~ ERROR unknown `#[grad]` argument `respect_to`
fn square(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = square(3.0);
}
