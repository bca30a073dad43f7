use autodiff::grad;

#[grad]
fn f(x: f64, i: usize) -> f64 {
    let mut v = [1.0, 2.0];
    v[i] *= x; //~ ERROR only `=`, `+=` and `-=` can write an element
    v[0] + v[1]
}

fn main() {
    let _ = f(1.0, 0);
}
