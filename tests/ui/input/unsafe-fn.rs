use autodiff::grad;

#[grad]
unsafe fn square(x: f64) -> f64 { //~ ERROR `unsafe fn` cannot be differentiated
    x * x
}

fn main() {
    let _ = unsafe { square(3.0) };
}
