use autodiff::grad;

#[grad]
fn product((x, y): (f64, f64)) -> f64 { //~ ERROR parameters of a `#[grad]` function must be plain names
    x * y
}

fn main() {
    let _ = product((2.0, 3.0));
}
