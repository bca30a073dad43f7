use autodiff::grad;

#[grad(wrt(x))] //~ ERROR `x` is a `&mut` parameter, which cannot be differentiated
fn double_in_place(x: &mut f64) -> f64 {
    *x * 2.0
}

fn main() {
    let mut x = 1.5;
    let _ = double_in_place(&mut x);
}
