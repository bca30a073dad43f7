use autodiff::Params;

#[derive(Params)]
struct Settings { //~ ERROR `#[derive(Params)]` needs at least one field
    #[params(skip)]
    rate: f64,
}

fn main() {}
