// The stubs have the function's visibility: `pub` ones are reachable from
// outside the module, as the derivative would be.
mod model {
    use autodiff::grad;

    #[grad]
    pub fn loss(w: &[f64]) -> f64 {
        w[0].div_euclid(2.0) * w[1] //~ ERROR no derivative rule for the method `div_euclid`
    }
}

fn main() {
    let w = vec![1.0, 2.0];
    let (value, g): (f64, Vec<f64>) = model::loss_grad(&w);
    println!("{value} {g:?}");
}
