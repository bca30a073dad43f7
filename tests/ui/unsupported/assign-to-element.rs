use autodiff::grad;

#[grad]
fn sum_of_squares(x: f64, y: f64) -> f64 {
    let mut squares = [0.0; 2];
    squares[0] = x * x; //~ ERROR writing to an element is not supported
    squares[1] * y
}

fn main() {
    let _ = sum_of_squares(2.0, 3.0);
}
