use autodiff::grad;

#[grad(wrt(x))]
fn square(x: f64, out: &mut f64) -> f64 {
    *out = x * x; //~ ERROR writing through a reference is not supported
    x * x
}

fn main() {
    let mut out = 0.0;
    let _ = square(3.0, &mut out);
}
