// `split` and `hvp` ask for more functions: they get stubs too.
use autodiff::{Scalar, grad};

#[grad(split, hvp)]
pub fn energy<T: Scalar>(x: &[T], k: T) -> T {
    let mut s = T::zero();
    for i in 0..x.len() {
        s = s + k * x[i] % x[i]; //~ ERROR no derivative rule for `%`
    }
    s
}

fn main() {
    let x = [1.0_f64, 2.0];
    let (_, (dx, dk)) = energy_grad(&x, 0.5);
    let (_, backward) = energy_forward(&x, 0.5);
    let (_, (_, _)) = (0.0, backward(1.0));
    let (_, rows) = energy_jacobian(&x, 0.5);
    let (_, (hx, hk)) = energy_hvp(&x, 0.5, &x, 1.0);
    println!("{dx:?} {dk} {} {hx:?} {hk}", rows.len());
}
