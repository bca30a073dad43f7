//! Split mode (`f_forward`: one forward sweep, a reverse sweep to run as
//! often as needed) and `f_jacobian` (one reverse sweep per output element),
//! against `f_vjp`'s independent single runs, analytic Jacobians and
//! central finite differences.

use autodiff::{check, grad, matmul, sigmoid};
use ndarray::{Array1, Array2, array};

/// Polar to Cartesian coordinates: an array output built element by element.
#[grad(split)]
fn polar(r: f64, t: f64) -> [f64; 2] {
    let mut out = [0.0; 2];
    out[0] = r * t.cos();
    out[1] = r * t.sin();
    out
}

#[test]
fn test_jacobian_of_an_array_output() {
    let (r, t) = (1.5, 0.7);
    let (value, rows) = polar_jacobian(r, t);
    assert_eq!(value, polar(r, t));
    let want = [[t.cos(), -r * t.sin()], [t.sin(), r * t.cos()]];
    assert_eq!(rows.len(), 2);
    for (row, want) in rows.iter().zip(want) {
        assert!((row.0 - want[0]).abs() < 1e-15 && (row.1 - want[1]).abs() < 1e-15);
    }
}

/// Running sums: a `Vec` output written in a loop.
#[grad(split)]
fn cumulative(x: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; x.len()];
    let mut s = 0.0;
    for i in 0..x.len() {
        s += x[i] * x[i];
        out[i] = s;
    }
    out
}

#[test]
fn test_jacobian_of_a_loop_against_finite_differences() {
    let x = vec![0.5, -1.0, 2.0, 0.25];
    let (value, rows) = cumulative_jacobian(&x);
    assert_eq!(value, cumulative(&x));
    for (k, row) in rows.iter().enumerate() {
        // Row k is the gradient of out[k] = Σ_{i ≤ k} x_i².
        let want: Vec<f64> = (0..x.len())
            .map(|i| if i <= k { 2.0 * x[i] } else { 0.0 })
            .collect();
        assert_eq!(row, &want, "row {k}");
        check(|x: &Vec<f64>| cumulative(x)[k], x.clone(), row.clone()).assert_close(1e-6);
    }
}

/// A loop that records a value per iteration: every run of the reverse
/// sweep pops its own copy of the tape.
#[grad(wrt(x, a), split)]
fn iterate(x: f64, a: f64, n: usize) -> Vec<f64> {
    let mut y = x;
    let mut out = vec![0.0; 2];
    for _ in 0..n {
        y = (y * a).sin() + 0.5;
    }
    out[0] = y;
    out[1] = y * y;
    out
}

#[test]
fn test_backward_runs_many_times_and_matches_vjp() {
    let (x, a) = (0.3, 1.7);
    let (value, backward) = iterate_forward(x, a, 5);
    assert_eq!(value, iterate(x, a, 5));
    for seed in [
        vec![1.0, 0.0],
        vec![0.0, 1.0],
        vec![0.5, -2.0],
        vec![1.0, 0.0],
    ] {
        let from_split = backward(seed.clone());
        let (_, from_vjp) = iterate_vjp(x, a, 5, seed);
        assert_eq!(from_split, from_vjp);
    }
    let (_, rows) = iterate_jacobian(x, a, 5);
    for (k, (dx, da)) in rows.into_iter().enumerate() {
        check(|&(x, a): &(f64, f64)| iterate(x, a, 5)[k], (x, a), (dx, da)).assert_close(1e-6);
    }
}

/// An ndarray output: the Jacobian of σ(W·x) with respect to x is
/// diag(σ′)·W.
#[grad(wrt(x), split)]
fn layer(w: &Array2<f64>, x: &Array1<f64>) -> Array1<f64> {
    sigmoid(matmul(w, x))
}

#[test]
fn test_jacobian_of_an_ndarray_output() {
    let w = array![[0.5, -1.0, 0.25], [2.0, 0.1, -0.3]];
    let x = array![0.2, -0.4, 1.0];
    let (value, rows) = layer_jacobian(&w, &x);
    assert_eq!(value, layer(&w, &x));
    for (k, row) in rows.iter().enumerate() {
        let s = value[k];
        for j in 0..3 {
            let want = s * (1.0 - s) * w[[k, j]];
            assert!((row[j] - want).abs() < 1e-15, "J[{k}][{j}]");
        }
    }
}

#[grad(split)]
fn scalar(x: f64, y: f64) -> f64 {
    x * y.exp()
}

/// A scalar output has one row, the gradient.
#[test]
fn test_jacobian_of_a_scalar_is_its_gradient() {
    let (value, rows) = scalar_jacobian(0.5, 1.5);
    assert_eq!(
        (value, rows),
        (scalar(0.5, 1.5), vec![scalar_grad(0.5, 1.5).1])
    );
    let (_, backward) = scalar_forward(0.5, 1.5);
    assert_eq!(backward(2.0), scalar_vjp(0.5, 1.5, 2.0).1);
}
