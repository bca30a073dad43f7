use autodiff::grad;

#[grad(wrt(xs))]
fn first(xs: &[f64]) -> f64 {
    xs[0] //~ ERROR indexing differentiated values is not supported
}

fn main() {
    let _ = first(&[1.0, 2.0]);
}
