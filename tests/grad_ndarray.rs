//! `#[grad]` on ndarray code: the seed network and every array rule through
//! the macro, each checked against central finite differences or a
//! hand-derived backward pass — never against the crate's own output.

use autodiff::{check, grad, matmul, mean, norm, norm_sq, sigmoid, sum};
use ndarray::{Array1, Array2, array};

/// Deterministic pseudo-random matrix with entries in [-1, 1).
fn matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_fn((rows, cols), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    })
}

fn max_rel_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / x.abs().max(y.abs()).max(1e-300))
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------- the seed network

#[grad(wrt(w1, w2))]
fn loss(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = sigmoid(&matmul(w1, x));
    0.5 * norm_sq(&(y - &matmul(w2, &h)))
}

#[grad(wrt(w1, w2, x))]
fn loss_all(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = sigmoid(&matmul(w1, x));
    0.5 * norm_sq(&(y - &matmul(w2, &h)))
}

/// The backward pass of the seed notes, derived by hand:
/// u = y − W2 h; dL/dW2 = −u hᵀ; dL/dh = −W2ᵀ u; dL/dz = dL/dh ⊙ h ⊙ (1 − h);
/// dL/dW1 = dL/dz Xᵀ; dL/dX = W1ᵀ dL/dz.
fn backward_by_hand(
    w1: &Array2<f64>,
    w2: &Array2<f64>,
    x: &Array2<f64>,
    y: &Array2<f64>,
) -> (f64, Array2<f64>, Array2<f64>, Array2<f64>) {
    let z = w1.dot(x);
    let h = z.mapv(|z| 1.0 / (1.0 + (-z).exp()));
    let u = y - &w2.dot(&h);
    let value = 0.5 * u.iter().map(|v| v * v).sum::<f64>();
    let dw2 = -u.dot(&h.t());
    let dh = -w2.t().dot(&u);
    let dz = &dh * &h.mapv(|h| h * (1.0 - h));
    (value, dz.dot(&x.t()), dw2, w1.t().dot(&dz))
}

#[test]
fn test_network_batched_against_hand_derived_backward() {
    let (d_in, hidden, d_out, n) = (6, 5, 3, 4);
    let (w1, w2) = (matrix(hidden, d_in, 1), matrix(d_out, hidden, 2));
    let (x, y) = (matrix(d_in, n, 3), matrix(d_out, n, 4));
    let (value, dw1_hand, dw2_hand, dx_hand) = backward_by_hand(&w1, &w2, &x, &y);

    let (l, (dw1, dw2)) = loss_grad(&w1, &w2, &x, &y);
    assert!((l - value).abs() <= 1e-12 * value.abs());
    assert!(max_rel_diff(&dw1, &dw1_hand) < 1e-10, "dW1");
    assert!(max_rel_diff(&dw2, &dw2_hand) < 1e-10, "dW2");

    let (_, (dw1, dw2, dx)) = loss_all_grad(&w1, &w2, &x, &y);
    assert!(max_rel_diff(&dw1, &dw1_hand) < 1e-10, "dW1");
    assert!(max_rel_diff(&dw2, &dw2_hand) < 1e-10, "dW2");
    assert!(max_rel_diff(&dx, &dx_hand) < 1e-10, "dX");
}

#[test]
fn test_network_against_finite_differences() {
    for n in [1, 5] {
        let (w1, w2) = (matrix(4, 3, 10 + n as u64), matrix(2, 4, 20));
        let (x, y) = (matrix(3, n, 30), matrix(2, n, 40));
        let (_, g) = loss_all_grad(&w1, &w2, &x, &y);
        check(
            |(w1, w2, x)| loss(w1, w2, x, &y),
            (w1.clone(), w2.clone(), x.clone()),
            g,
        )
        .assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- rules through the macro

#[grad]
fn broadcasting(a: &Array2<f64>, b: &Array1<f64>, s: f64) -> f64 {
    let c = a * b + s; // row-broadcast b, scalar broadcast s
    let d = (&c - b) / (s * s + 1.0);
    sum(&(&d * &c)) + mean(&d) * s
}

#[test]
fn test_broadcasting_arithmetic() {
    let a = matrix(3, 4, 7);
    let b = array![0.5, -1.5, 2.0, 0.25];
    let s = 0.75;
    let (_, g) = broadcasting_grad(&a, &b, s);
    check(
        |(a, b, s)| broadcasting(a, b, *s),
        (a.clone(), b.clone(), s),
        g,
    )
    .assert_close(1e-6);
}

#[grad]
fn elementwise(x: &Array1<f64>) -> f64 {
    let t = x.tanh() + x.exp() * 0.1 - x.sin();
    let u = (x * x + 1.0).sqrt().ln();
    sum(&(&t * &u)) + norm(&x.powi(3))
}

#[test]
fn test_elementwise_methods() {
    let x = array![0.3, -1.2, 0.8, 1.5, -0.4];
    let (_, g) = elementwise_grad(&x);
    check(|x: &Array1<f64>| elementwise(x), x.clone(), g).assert_close(1e-6);
}

#[grad]
fn methods(w: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let wt = w.t();
    let p = wt.dot(v); // (cols) vector
    let q = w.dot(&p); // back to (rows)
    q.sum() + norm_sq(&p)
}

#[test]
fn test_dot_transpose_and_sum_methods() {
    let w = matrix(3, 4, 9);
    let v = array![1.0, -2.0, 0.5];
    let (_, g) = methods_grad(&w, &v);
    check(|(w, v)| methods(w, v), (w.clone(), v.clone()), g).assert_close(1e-6);
}

#[grad]
fn norm_at_zero(x: &Array1<f64>) -> f64 {
    norm(x)
}

#[test]
fn test_norm_gradient_is_zero_at_zero() {
    let (value, g) = norm_at_zero_grad(&Array1::zeros(3));
    assert_eq!(value, 0.0);
    assert!(g.iter().all(|&v| v == 0.0), "{g}");
}

/// An array-valued function: only `_vjp`, with an array seed.
#[grad(wrt(w))]
fn layer(w: &Array2<f64>, x: &Array1<f64>) -> Array1<f64> {
    sigmoid(&matmul(w, x))
}

#[test]
fn test_array_output_vjp_with_an_array_seed() {
    let w = matrix(3, 2, 11);
    let x = array![0.7, -0.2];
    let seed = array![1.0, -2.0, 0.5];
    let (value, dw) = layer_vjp(&w, &x, seed.clone());
    assert_eq!(value, sigmoid(&w.dot(&x)));
    // seedᵀ·J wrt w: dW = (seed ⊙ σ'(Wx)) xᵀ, by hand.
    let z = w.dot(&x);
    for i in 0..3 {
        let s = 1.0 / (1.0 + (-z[i]).exp());
        for j in 0..2 {
            let want = seed[i] * s * (1.0 - s) * x[j];
            assert!(
                (dw[[i, j]] - want).abs() < 1e-14,
                "({i}, {j}): {} vs {want}",
                dw[[i, j]]
            );
        }
    }
}

#[grad]
fn single_precision(w: &Array2<f32>, x: &Array1<f32>) -> f32 {
    0.5 * norm_sq(&sigmoid(&matmul(w, x)))
}

#[test]
fn test_f32_arrays() {
    let w = matrix(2, 3, 12).mapv(|v| v as f32);
    let x = array![0.5_f32, -1.0, 0.25];
    let (_, g) = single_precision_grad(&w, &x);
    check(|(w, x)| single_precision(w, x), (w.clone(), x.clone()), g).assert_close(1e-3);
}

/// A recurrence over arrays: the carried state is an owned array that each
/// iteration overwrites (`h0.clone()` starts it), so the loop records it once
/// per iteration.
#[grad(wrt(w, h0))]
fn recurrent(w: &Array2<f64>, h0: &Array1<f64>, steps: usize) -> f64 {
    let mut h = h0.clone();
    for _ in 0..steps {
        h = sigmoid(&matmul(w, &h));
    }
    sum(&h)
}

#[test]
fn test_array_recurrence_in_a_loop() {
    let w = Array2::from_shape_fn((3, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin());
    let h0 = Array1::from_vec(vec![0.1, -0.2, 0.3]);
    for steps in [0, 1, 4] {
        let (value, (dw, dh)) = recurrent_grad(&w, &h0, steps);
        assert_eq!(value, recurrent(&w, &h0, steps));
        check(
            |(w, h0): &(Array2<f64>, Array1<f64>)| recurrent(w, h0, steps),
            (w.clone(), h0.clone()),
            (dw, dh),
        )
        .assert_close(1e-6);
    }
}

/// Arrays inside the branches of a summing loop over a slice.
#[grad]
fn alternating(xs: &[f64], w: &Array1<f64>) -> f64 {
    let mut acc = 0.0;
    for (i, x) in xs.iter().enumerate() {
        if i % 2 == 0 {
            acc += sum(&(w * *x));
        } else {
            acc -= w[i % 3] * x;
        }
    }
    acc
}

#[test]
fn test_arrays_in_branches_of_a_loop() {
    let xs = vec![0.5, -1.0, 2.0, 0.3];
    let w = Array1::from_vec(vec![0.2, 0.4, -0.5]);
    let (value, (dxs, dw)) = alternating_grad(&xs, &w);
    assert_eq!(value, alternating(&xs, &w));
    check(
        |(xs, w): &(Vec<f64>, Array1<f64>)| alternating(xs, w),
        (xs.clone(), w.clone()),
        (dxs, dw),
    )
    .assert_close(1e-6);
}
