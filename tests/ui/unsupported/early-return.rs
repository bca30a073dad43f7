use autodiff::grad;

// A `return` inside a loop needs a float result: this one returns a tuple.
#[grad]
fn first_large(x: f64) -> (f64, f64) {
    for _ in 0..3 {
        if x > 1.0 {
            return (x, 1.0); //~ ERROR this `return` is not supported
        }
    }
    (x, 2.0 * x)
}

fn main() {
    let _ = first_large(3.0);
}
