use autodiff::grad;

#[grad]
fn double(x: f64) -> f64 {
    let mut y = x;
    let _ = { y += x }; //~ ERROR `+=` must be a statement of its own
    y
}

fn main() {
    let _ = double(3.0);
}
