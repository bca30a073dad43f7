//! Hessian-vector products by forward over reverse (`#[grad(hvp)]`): the
//! gradient of a generic function evaluated at dual numbers, checked against
//! analytic Hessians and central differences of the gradient.

use autodiff::{Scalar, grad};

#[path = "support/hvp.rs"]
mod hvp_check;
use hvp_check::assert_hvp_matches;

#[grad(hvp)]
fn rosenbrock<T: Scalar>(x: &[T]) -> T {
    let mut s = T::zero();
    let hundred = T::from(100.0).unwrap_or_else(T::nan);
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        let u = T::one() - x[i];
        s += hundred * t * t + u * u;
    }
    s
}

/// The Hessian of Rosenbrock: tridiagonal.
fn rosenbrock_hessian(x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut h = vec![vec![0.0; n]; n];
    for i in 0..n - 1 {
        h[i][i] += 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0;
        h[i + 1][i + 1] += 200.0;
        h[i][i + 1] -= 400.0 * x[i];
        h[i + 1][i] -= 400.0 * x[i];
    }
    h
}

#[test]
fn test_rosenbrock_hvp_against_its_analytic_hessian() {
    let x = vec![1.2, 0.8, -0.5, 1.5, 0.3];
    let h = rosenbrock_hessian(&x);
    for v in [
        vec![1.0, 0.0, 0.0, 0.0, 0.0],
        vec![0.0, 0.0, 1.0, 0.0, 0.0],
        vec![0.3, -1.0, 0.5, 2.0, -0.7],
    ] {
        let (value, hv) = rosenbrock_hvp(&x, &v);
        assert_eq!(value, rosenbrock(&x));
        for (i, row) in h.iter().enumerate() {
            let want: f64 = row.iter().zip(&v).map(|(a, b)| a * b).sum();
            assert!(
                (hv[i] - want).abs() <= 1e-12 * want.abs().max(1.0),
                "(Hv)[{i}] = {}, want {want}",
                hv[i]
            );
        }
    }
}

#[grad(hvp)]
fn mixed<T: Scalar>(x: T, y: T, k: i32) -> T {
    (x * y).sin() + x.powi(k) / y + autodiff::sigmoid(x - y).ln()
}

#[grad(hvp)]
fn swish<T: Scalar>(x: T, y: T) -> T {
    autodiff::silu(x * y) + autodiff::silu(x - y) * y
}

/// `silu`'s second derivative, through the ε part of its pullback at dual
/// numbers: H·v against central differences of the gradient.
#[test]
fn test_silu_hvp_against_differences_of_the_gradient() {
    for (x, y) in [(0.7_f64, 1.3_f64), (-1.1, 0.4), (3.0, -2.5)] {
        for (vx, vy) in [(1.0, 0.0), (0.0, 1.0), (0.6, -0.8)] {
            let (value, hv) = swish_hvp(x, y, vx, vy);
            assert!((value - swish(x, y)).abs() < 1e-14);
            assert_hvp_matches(hv, |x, y| swish_grad(x, y).1, (x, y), (vx, vy));
        }
    }
}

/// A scalar function of two variables with a constant parameter: H·v
/// against central differences of the gradient, (∇f(x + hv) − ∇f(x − hv)) / 2h.
#[test]
fn test_hvp_against_differences_of_the_gradient() {
    let (x, y) = (0.7_f64, 1.3_f64);
    for (vx, vy) in [(1.0, 0.0), (0.0, 1.0), (0.6, -0.8)] {
        let (value, hv) = mixed_hvp(x, y, 3, vx, vy);
        // The value comes from dual arithmetic (σ as 1/(1 + e^−x)): the
        // function's own to a few ulp, not bit for bit.
        assert!((value - mixed(x, y, 3)).abs() < 1e-14);
        assert_hvp_matches(hv, |x, y| mixed_grad(x, y, 3).1, (x, y), (vx, vy));
    }
}
