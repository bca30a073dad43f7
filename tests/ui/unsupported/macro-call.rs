use autodiff::grad;

macro_rules! square {
    ($e:expr) => {
        $e * $e
    };
}

#[grad]
fn quartic(x: f64) -> f64 {
    let y = square!(x); //~ ERROR macro calls cannot be differentiated
    y * y
}

fn main() {
    let _ = quartic(3.0);
}
