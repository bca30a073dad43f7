use autodiff::grad;

#[grad]
fn rollout(a: f64, steps: usize) -> f64 {
    let mut s = 1.0;
    #[checkpoint(every = 10)] //~ ERROR `#[checkpoint]` takes no argument or a snapshot count
    for _ in 0..steps {
        s = (s * a).sin();
    }
    s
}

fn main() {
    let _ = rollout(0.5, 10);
}
