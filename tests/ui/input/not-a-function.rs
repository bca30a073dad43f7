use autodiff::grad;

#[grad]
struct Point { //~ ERROR `#[grad]` applies to functions
    x: f64,
}

fn main() {
    let _ = Point { x: 1.0 }.x;
}
