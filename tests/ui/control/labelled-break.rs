use autodiff::grad;

#[grad]
fn first_large(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    'outer: for i in 0..xs.len() {
        s += xs[i];
        if s > 1.0 {
            break 'outer; //~ ERROR labelled loops and `break` with a value are not supported
        }
    }
    s
}

fn main() {
    let _ = first_large(&[1.0, 2.0]);
}
