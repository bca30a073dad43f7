use autodiff::{Scalar, custom_vjp};

// `x: T` is a float of the caller's choice, differentiated by default as in
// `#[grad]`: the rule must return its gradient, of type `T`.
#[custom_vjp(scale_rule)]
fn scale<T: Scalar>(x: T, _k: usize) -> T {
    x + x
}

fn scale_rule<T: Scalar>(x: T, k: usize, _seed: T) -> (T, ()) { //~ ERROR mismatched types
    (scale(x, k), ())
}

fn main() {
    let _ = scale(2.0, 3);
}
