use autodiff::grad;

#[grad(wrt(self::x))] //~ ERROR `wrt(...)` takes parameter names
fn square(x: f64) -> f64 {
    x * x
}

fn main() {
    let _ = square(3.0);
}
