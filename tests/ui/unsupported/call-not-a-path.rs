use autodiff::grad;

fn square(t: f64) -> f64 {
    t * t
}

#[grad]
fn apply(x: f64) -> f64 {
    let functions = [square];
    functions[0](x) //~ ERROR only calls of named functions can be differentiated
}

fn main() {
    let _ = apply(3.0);
}
