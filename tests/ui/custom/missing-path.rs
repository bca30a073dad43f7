use autodiff::custom_vjp;

#[custom_vjp] //~ ERROR `#[custom_vjp]` takes the path of the hand-written function
fn square(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = square(2.0);
}
