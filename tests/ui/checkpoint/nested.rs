use autodiff::grad;

#[grad]
fn rollout(a: f64, steps: usize) -> f64 {
    let mut s = 1.0;
    for _ in 0..3 {
        #[checkpoint] //~ ERROR `#[checkpoint]` on a loop inside another loop
        for _ in 0..steps {
            s = (s * a).sin();
        }
    }
    s
}

fn main() {
    let _ = rollout(0.5, 10);
}
