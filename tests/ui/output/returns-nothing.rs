use autodiff::grad;

#[grad]
fn square(x: f64) { //~ ERROR `square` returns nothing
    let _y = x * x;
}

fn main() {
    square(3.0);
}
