use autodiff::grad;

fn apply(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    f(x)
}

#[grad]
fn scaled_square(x: f64) -> f64 {
    let scale = |t: f64| t * x; //~ ERROR a closure that uses differentiated values can only be called
    apply(scale, x)
}

fn main() {
    let _ = scaled_square(3.0);
}
