// A rejected body: the error is the remainder's alone. `cube_grad` and
// `cube_vjp` still exist (stubs with the right signatures), so the calls in
// `main` type-check and add no "cannot find function" error.
use autodiff::grad;

#[grad]
fn cube(x: f64, a: f64) -> f64 {
    x * x * x % a //~ ERROR no derivative rule for `%`
}

fn main() {
    let (y, (dx, da)): (f64, (f64, f64)) = cube_grad(2.0, 3.0);
    let (_, (dx2, _)) = cube_vjp(2.0, 3.0, 0.5);
    println!("{y} {dx} {da} {dx2}");
}
