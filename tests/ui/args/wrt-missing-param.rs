use autodiff::grad;

#[grad(wrt(x, z))] //~ ERROR `wrt` names `z`, which is not a parameter of `product`
fn product(x: f64, y: f64) -> f64 {
    x * y
}

fn main() {
    let _ = product(2.0, 3.0);
}
