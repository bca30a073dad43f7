use autodiff::{Params, grad};

#[derive(Params, Clone)]
struct Line {
    slope: f64,
}

impl Line {
    // Not `#[grad]`: there is no pullback to call.
    fn at(&self, x: f64) -> f64 {
        self.slope * x
    }
}

#[grad(wrt(line))]
fn loss(line: &Line, x: f64) -> f64 {
    line.at(x) //~ ERROR no method named `__at_pullback`
}

fn main() {
    let _ = loss(&Line { slope: 1.0 }, 2.0);
}
