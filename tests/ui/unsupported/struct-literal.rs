use autodiff::grad;

#[grad]
fn pair(x: f64) -> f64 {
    let both = (x, 2.0 * x); //~ ERROR building tuples, arrays or structs from differentiated values is not supported
    let _ = both;
    x
}

fn main() {
    let _ = pair(3.0);
}
