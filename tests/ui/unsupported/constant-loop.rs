use autodiff::grad;

#[grad]
fn scaled(x: f64, n: u32) -> f64 {
    let mut k = 0;
    while k < n { //~ ERROR control flow statements are not supported
        k += 1;
    }
    x * f64::from(k)
}

fn main() {
    let _ = scaled(2.0, 3);
}
