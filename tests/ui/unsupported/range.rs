use autodiff::grad;

#[grad]
fn span(x: f64) -> f64 {
    let range = 0.0..x; //~ ERROR this expression cannot be differentiated
    range.end
}

fn main() {
    let _ = span(3.0);
}
