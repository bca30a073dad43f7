use autodiff::grad;

#[grad]
fn f(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0.. { //~ ERROR a differentiated loop runs over a range with constant bounds
        if i >= xs.len() {
            break;
        }
        s += xs[i];
    }
    s
}

fn main() {
    let _ = f(&[1.0]);
}
