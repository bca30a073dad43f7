use autodiff::grad;

static mut LAST: f64 = 0.0;

#[grad]
fn square(x: f64) -> f64 {
    LAST = x; //~ ERROR `LAST` is not a local variable of this function
    x * x
}

fn main() {
    let _ = square(3.0);
}
