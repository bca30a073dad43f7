use autodiff::grad;

#[grad]
fn square(x: f64) -> f64 {
    let y = unsafe { core::ptr::read(&x) }; //~ ERROR `unsafe` blocks are not supported
    y * y
}

fn main() {
    let _ = square(3.0);
}
