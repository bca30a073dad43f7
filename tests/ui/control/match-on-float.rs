use autodiff::grad;

#[grad]
fn f(x: f64) -> f64 {
    match x { //~ ERROR `match` on a differentiated value is not supported
        0.0 => 1.0,
        _ => x * x,
    }
}

fn main() {
    let _ = f(1.0);
}
