use autodiff::grad;

#[grad]
fn grow(x: f64) -> f64 {
    let y = loop { //~ ERROR a `loop` has no value in `#[grad]` functions
        break x * 2.0;
    };
    y
}

fn main() {
    let _ = grow(3.0);
}
