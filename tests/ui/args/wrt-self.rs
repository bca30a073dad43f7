use autodiff::grad;

struct Line {
    slope: f64,
}

impl Line {
    #[grad(wrt(self, x))] //~ ERROR `Line` cannot be differentiated (derive `Params` for it)
    fn at(&self, x: f64) -> f64 {
        self.slope * x
    }
}

fn main() {
    let _ = Line { slope: 2.0 }.at(3.0);
}
