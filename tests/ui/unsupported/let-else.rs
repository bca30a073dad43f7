use autodiff::grad;

#[grad]
fn first_or_zero(x: f64, values: &[f64]) -> f64 {
    let [first, ..] = values else { //~ ERROR `let … else` is not supported
        return 0.0;
    };
    x * first
}

fn main() {
    let _ = first_or_zero(3.0, &[1.0]);
}
