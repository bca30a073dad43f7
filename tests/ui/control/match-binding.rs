use autodiff::grad;

#[grad(wrt(x))]
fn f(x: f64, k: u32) -> f64 {
    match k {
        0 => x,
        n => x * f64::from(n), //~ ERROR `match` arms that bind variables are not supported
    }
}

fn main() {
    let _ = f(1.0, 2);
}
