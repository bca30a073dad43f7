use autodiff::Params;

#[derive(Params, Clone)]
struct Model {
    w: Vec<f64>,
    label: String, //~ ERROR `String` is not a parameter type
}

fn main() {}
