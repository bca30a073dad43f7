use autodiff::grad;

#[grad]
fn power(x: f64) -> f64 {
    x.powf() //~ ERROR `powf` takes 1 argument
}

fn main() {
    let _ = power(3.0);
}
