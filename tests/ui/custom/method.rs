use autodiff::custom_vjp;

struct Scale(f64);

impl Scale {
    #[custom_vjp(apply_vjp)]
    fn apply(&self, x: f64) -> f64 { //~ ERROR `#[custom_vjp]` on methods is not supported yet
        self.0 * x
    }
}

fn main() {
    let _ = Scale(2.0).apply(1.0);
}
