use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    let y = { //~ ERROR this block has no value
        x * x;
    };
    y
}

fn main() {
    let _ = square(3.0);
}
