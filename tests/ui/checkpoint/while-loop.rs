use autodiff::grad;

#[grad]
fn rollout(a: f64, steps: usize) -> f64 {
    let mut s = 1.0;
    let mut k = 0;
    #[checkpoint] //~ ERROR `#[checkpoint]` applies to a `for` loop over a range
    while k < steps {
        s = (s * a).sin();
        k += 1;
    }
    s
}

fn main() {
    let _ = rollout(0.5, 10);
}
