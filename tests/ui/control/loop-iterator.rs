use autodiff::grad;

#[grad]
fn f(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in xs.rchunks(2) { //~ ERROR `#[grad]` loops run over ranges
        s = s * 0.5 + x[0];
    }
    s
}

fn main() {
    let _ = f(&[1.0]);
}
