use autodiff::grad;

#[grad]
fn grow(x: f64) -> f64 {
    let mut y = x;
    while y < 100.0 { //~ ERROR `while` loops on differentiated values is not supported
        y = y * 2.0;
    }
    y
}

fn main() {
    let _ = grow(3.0);
}
