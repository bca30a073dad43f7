use autodiff::grad;

#[grad]
fn total(a: f64, steps: usize) -> f64 {
    #[checkpoint]
    for i in 0..steps { //~ ERROR this checkpointed loop carries nothing from one iteration to the next
        let _t = a * i as f64;
    }
    a * 2.0
}

fn main() {
    let _ = total(0.5, 10);
}
