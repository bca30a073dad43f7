use autodiff::grad;

#[grad]
fn rollout(a: f64, steps: usize) -> f64 {
    let mut s = 1.0;
    #[checkpoint]
    for _ in 0..steps {
        s = (s * a).sin();
        if s < 0.1 {
            break; //~ ERROR a checkpointed loop cannot be left early
        }
    }
    s
}

fn main() {
    let _ = rollout(0.5, 10);
}
