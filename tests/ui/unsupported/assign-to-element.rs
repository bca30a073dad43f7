use autodiff::grad;

#[grad]
fn corner(x: f64, y: f64) -> f64 {
    let mut grid = [[0.0; 2]; 2];
    grid[0][1] = x * x; //~ ERROR writing to an element of an element is not supported
    grid[0][1] * y
}

fn main() {
    let _ = corner(2.0, 3.0);
}
