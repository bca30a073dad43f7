use autodiff::grad;

#[grad(split)]
fn rollout(a: f64, steps: usize) -> f64 {
    let mut s = 1.0;
    #[checkpoint] //~ ERROR `#[checkpoint]` is not supported with `#[grad(split)]`
    for _ in 0..steps {
        s = (s * a).sin();
    }
    s
}

fn main() {
    let _ = rollout(0.5, 10);
}
