use autodiff::grad;

#[grad]
fn f(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for x in xs.iter().rev() { //~ ERROR `#[grad]` loops run over ranges
        s = s * 0.5 + x;
    }
    s
}

fn main() {
    let _ = f(&[1.0]);
}
