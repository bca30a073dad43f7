use autodiff::Params;

#[derive(Params)]
enum Choice { //~ ERROR `#[derive(Params)]` applies to structs
    A(f64),
    B(f64),
}

fn main() {}
