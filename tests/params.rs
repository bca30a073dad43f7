//! `#[derive(Params)]`: parameter structs as `#[grad]` parameters, their
//! gradients, nested structs, constants, and the optimiser operations —
//! checked against finite differences (the struct is a `check` leaf) and
//! hand-computed values.

use autodiff::{Params, check, grad, matmul, norm_sq, sigmoid};
use ndarray::{Array1, Array2, array};

#[derive(Params, Clone, Debug, PartialEq)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array1<f64>,
    w2: Array2<f64>,
    b2: Array1<f64>,
}

/// ½‖y − (W2·σ(W1·x + b1) + b2)‖²
#[grad(wrt(p, x))]
fn loss(p: &Mlp, x: &Array1<f64>, y: &Array1<f64>) -> f64 {
    let h = sigmoid(matmul(&p.w1, x) + &p.b1);
    let out = matmul(&p.w2, &h) + &p.b2;
    0.5 * norm_sq(&(y - &out))
}

fn model() -> Mlp {
    Mlp {
        w1: Array2::from_shape_fn((4, 3), |(i, j)| ((i * 3 + j) as f64 * 0.7).sin()),
        b1: array![0.1, -0.2, 0.05, 0.3],
        w2: Array2::from_shape_fn((2, 4), |(i, j)| ((i * 4 + j) as f64 * 0.3).cos()),
        b2: array![-0.1, 0.2],
    }
}

#[test]
fn test_struct_gradient_against_finite_differences() {
    let p = model();
    let (x, y) = (array![0.5, -1.0, 2.0], array![1.0, 0.0]);
    let (value, (g, dx)): (f64, (Mlp, Array1<f64>)) = loss_grad(&p, &x, &y);
    assert_eq!(value, loss(&p, &x, &y));
    check(
        |(p, x): &(Mlp, Array1<f64>)| loss(p, x, &y),
        (p.clone(), x.clone()),
        (g.clone(), dx),
    )
    .assert_close(1e-6);
    // The bias gradients are the residuals, worked out by hand.
    let h = sigmoid(p.w1.dot(&x) + &p.b1);
    let residual = p.w2.dot(&h) + &p.b2 - &y;
    for (got, want) in g.b2.iter().zip(&residual) {
        assert!((got - want).abs() < 1e-14);
    }
}

#[test]
fn test_optimiser_operations() {
    let p = model();
    let mut q = p.clone();
    let g = Params::zeros_like(&p);
    assert_eq!(g.num_elements(), 12 + 4 + 8 + 2);
    assert!(g.w1.iter().all(|&v| v == 0.0));
    // One SGD step: q ← q − 0.5·p.
    q.axpy(-0.5, &p);
    assert_eq!(q.b1, &p.b1 * 0.5);
    q.add_assign(&q.clone());
    assert_eq!(q.w2, &p.w2 * 1.0);
    q.scale(2.0);
    assert_eq!(q.b2, &p.b2 * 2.0);
    // The flat view runs over the fields in order.
    assert_eq!(p.element(0), p.w1[[0, 0]]);
    assert_eq!(p.element(12), p.b1[0]);
    assert_eq!(p.element(25), p.b2[1]);
    assert!(p.element(26).is_nan());
    let mut r = p.clone();
    r.set_element(13, 9.0);
    assert_eq!(r.b1[1], 9.0);
}

#[derive(Params, Clone, Debug)]
struct Dense {
    w: Array2<f64>,
    b: Array1<f64>,
}

/// Nested parameter structs, a scalar field, and a constant.
#[derive(Params, Clone, Debug)]
struct Model {
    hidden: Dense,
    output: Dense,
    temperature: f64,
    #[params(skip)]
    name: String,
}

#[grad(wrt(m))]
fn model_loss(m: &Model, x: &Array1<f64>) -> f64 {
    let h = sigmoid(matmul(&m.hidden.w, x) + &m.hidden.b);
    let out = matmul(&m.output.w, &h) + &m.output.b;
    autodiff::sum(&out) * m.temperature
}

#[test]
fn test_nested_structs_scalar_fields_and_constants() {
    let m = Model {
        hidden: Dense {
            w: array![[0.5, -0.25], [1.0, 0.75], [-0.5, 0.1]],
            b: array![0.0, 0.1, -0.1],
        },
        output: Dense {
            w: array![[0.3, -0.6, 0.9]],
            b: array![0.05],
        },
        temperature: 1.5,
        name: "tiny".to_owned(),
    };
    let x = array![0.4, -0.8];
    let (value, g) = model_loss_grad(&m, &x);
    assert_eq!(value, model_loss(&m, &x));
    // The constant is carried into the gradient as it is.
    assert_eq!(g.name, "tiny");
    assert_eq!(g.num_elements(), 6 + 3 + 3 + 1 + 1);
    // d/d temperature = the loss divided by the temperature.
    assert!((g.temperature - value / 1.5).abs() < 1e-14);
    check(|m: &Model| model_loss(m, &x), m.clone(), g).assert_close(1e-6);
}

#[derive(Params, Clone, Debug)]
struct Line {
    slope: f64,
    offset: Array1<f64>,
}

impl Line {
    /// A method differentiated with respect to `self` and `x`.
    #[grad(wrt(self, x))]
    fn at(&self, x: f64) -> f64 {
        self.slope * x + self.offset[0] * self.offset[1]
    }

    /// A method calling another through `self`: the gradient reaches
    /// `self` through the call.
    #[grad(wrt(self))]
    fn squared_at(&self, x: f64) -> f64 {
        let y = self.at(x);
        y * y + self.slope
    }

    /// `self` left constant: its slot in the pullback is not a gradient.
    #[grad(wrt(x))]
    fn scaled(&self, x: f64) -> f64 {
        self.at(x) * 2.0
    }
}

#[test]
fn test_methods_differentiated_with_respect_to_self() {
    let line = Line {
        slope: 1.5,
        offset: array![0.5, -2.0],
    };
    let (value, (g, dx)) = line.at_grad(3.0);
    assert_eq!(value, line.at(3.0));
    assert_eq!((g.slope, dx), (3.0, 1.5));
    assert_eq!(g.offset, array![-2.0, 0.5]);
    let (value, g) = line.squared_at_grad(3.0);
    assert_eq!(value, line.squared_at(3.0));
    check(|l: &Line| l.squared_at(3.0), line.clone(), g).assert_close(1e-6);
    let (_, dx) = line.scaled_grad(3.0);
    assert_eq!(dx, 3.0);
}

// A `#[grad(wrt(self, …))]` method called on a differentiated parameter
// from a free function: the gradient reaches the parameter through the
// method's pullback.
#[grad(wrt(line, x, y))]
fn line_loss(line: &Line, x: f64, y: f64) -> f64 {
    let r = line.at(x.sin()) - y;
    r * r + line.at(y)
}

#[grad(wrt(line))]
fn line_loss_by_value(line: Line, x: f64) -> f64 {
    line.at(x).powi(2)
}

#[test]
fn test_methods_called_on_a_parameter() {
    let line = Line {
        slope: 1.5,
        offset: array![0.5, -2.0],
    };
    let (value, (g, dx, dy)) = line_loss_grad(&line, 0.3, 0.8);
    assert_eq!(value, line_loss(&line, 0.3, 0.8));
    check(|l: &Line| line_loss(l, 0.3, 0.8), line.clone(), g).assert_close(1e-6);
    check(
        |&(x, y): &(f64, f64)| line_loss(&line, x, y),
        (0.3, 0.8),
        (dx, dy),
    )
    .assert_close(1e-6);
    let (value, g) = line_loss_by_value_grad(line.clone(), 0.3);
    assert_eq!(value, line_loss_by_value(line.clone(), 0.3));
    check(|l: &Line| line_loss_by_value(l.clone(), 0.3), line, g).assert_close(1e-6);
}
