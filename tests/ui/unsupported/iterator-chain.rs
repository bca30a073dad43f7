use autodiff::grad;

#[grad]
fn pairs(x: &[f64]) -> f64 {
    x.rchunks(2).map(|c| c[0] * c[1]).sum::<f64>() //~ ERROR `.rchunks(..)` has no rewrite in an iterator chain
}

fn main() {
    let _ = pairs(&[1.0, 2.0]);
}
