use autodiff::grad;

trait Model {
    fn loss(&self, x: f64) -> f64;
}

struct Square;

impl Model for Square {
    #[grad] //~ ERROR method `loss_grad` is not a member of trait `Model`
    fn loss(&self, x: f64) -> f64 {
        x * x
    }
}

fn main() {
    let _ = Square.loss(3.0);
}
