use autodiff::grad;

#[grad]
fn f(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, x) in xs.iter() { //~ ERROR bind loop elements to names
        s += x;
    }
    s
}

fn main() {
    let _ = f(&[1.0]);
}
