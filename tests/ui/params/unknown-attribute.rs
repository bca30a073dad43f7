use autodiff::Params;

#[derive(Params)]
struct Model {
    w: Vec<f64>,
    #[params(constant)] //~ ERROR the accepted `#[params(...)]` argument is `skip`
    rate: f64,
}

fn main() {}
