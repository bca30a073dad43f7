use autodiff::{Params, grad};

#[derive(Params, Clone)]
struct Line {
    slope: f64,
}

impl Line {
    #[grad(wrt(x))]
    fn at(&self, x: f64) -> f64 {
        self.slope * x
    }

    // `self` is differentiated here, but `at` treats it as a constant.
    #[grad(wrt(self))]
    fn twice(&self, x: f64) -> f64 {
        2.0 * self.at(x) //~ ERROR the `#[grad]` function called here does not differentiate this argument
    }
}

fn main() {
    let _ = Line { slope: 2.0 }.twice(3.0);
}
