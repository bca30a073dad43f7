use autodiff::grad;

#[grad]
extern "C" fn square(x: f64) -> f64 { //~ ERROR `extern fn` cannot be differentiated
    x * x
}

fn main() {
    let _ = square(3.0);
}
