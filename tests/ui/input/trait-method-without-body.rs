use autodiff::grad;

trait Model {
    #[grad]
    fn loss(x: f64) -> f64; //~ ERROR `#[grad]` applies to functions
}

fn main() {}
