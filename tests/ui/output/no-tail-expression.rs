use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    let y = x * x;
    y; //~ ERROR a `#[grad]` function must end with the value it returns
}

fn main() {
    let _ = square(3.0);
}
