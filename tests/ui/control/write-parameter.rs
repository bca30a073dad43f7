use autodiff::grad;

#[grad]
fn f(mut xs: Vec<f64>) -> f64 {
    xs[0] = 1.0; //~ ERROR a `#[grad]` function cannot write into its parameters
    xs[0] * xs[1]
}

fn main() {
    let _ = f(vec![1.0, 2.0]);
}
