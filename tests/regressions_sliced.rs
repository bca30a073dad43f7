//! Regressions found by the differential tests (`tests/differential.rs`)
//! while the reverse of a loop learned to bind `&mut d_a[..hi]` around
//! itself (`Plan::sliced`): an array the loop also reads or writes at
//! another index than the loop's own (`y[i + 1] = .. y[i] ..`, or
//! `y[i] += y[j]` in an inner loop over `j`) must not be cut to the bound;
//! and while a running sum of lagging reads learned to be set by its first
//! contribution (`Plan::opening`): a read whose value is never used
//! (`let b8 = z4[i7 - 1];`) contributes nothing and must not be the one.

#![allow(unused, unused_mut, unused_parens, unused_braces, clippy::all)]

use autodiff::{grad, sigmoid, softplus};

#[path = "support/finite_differences.rs"]
mod finite_differences;
use finite_differences::check_component;

#[grad]
pub fn f47(xs: &[f64], x0: f64) -> f64 {
    let mut m1 = ((((f64::exp(x0.abs())).powf(x0.tanh() * 2.0)).atan()).tanh() * 3.0).exp();
    for j in 0..2 {
        m1 = (m1 * (-2.0)
            + ({
                let b2 = x0;
                m1 - (-2.0)
            }))
        .tanh()
            * 2.0;
    }
    let c3: f64 = (-1.25) * 0.25;
    let v5 = {
        let b4 = m1;
        0.25 as f64
    };
    let mut s6 = 0.0;
    for i8 in 0..xs.len() {
        let t9 = sigmoid((m1.tanh() * 1.3).tan() + (xs[i8].mul_add(f64::tanh(s6), v5)));
        let mut p10 = 1.0;
        for i11 in 0..xs.len() {
            s6 += xs[i11] * p10;
            p10 *= t9;
        }
    }
    let n12 = xs.len();
    let mut y13 = vec![0.0; n12];
    y13[0] = xs[0];
    for i14 in 0..n12 - 1 {
        y13[i14 + 1] = (sigmoid(f64::powf((-s6).abs() + 0.1, xs[i14].tanh() * 2.0))) * y13[i14]
            + (sigmoid((v5.min(xs[i14])).min(f64::cos(c3))));
    }
    ((sigmoid(y13[n12 - 1])).mul_add(0.875, x0)).atan2((sigmoid(c3)).powi(2) + 0.5)
}

#[test]
fn regression_seed1_f47() {
    let x: &[f64] = &[
        1.501263590873922,
        -1.5561655350783536,
        0.7337813893377065,
        1.9117316578215648,
    ];
    let n: i64 = 2;
    let f = |x: &[f64], n: i64| f47(&x[0..3], x[3]);
    let (v, (g0, g1)) = f47_grad(&x[0..3], x[3]);
    let mut g = [g0.to_vec(), vec![g1]].concat();
    assert_eq!(v.to_bits(), f(x, n).to_bits(), "value of f47_grad");
    for (j, &k) in [0, 1, 2, 3].iter().enumerate() {
        check_component(f, x, n, k, g[j]);
    }
}

#[grad]
pub fn f82(xs: &[f64], x0: f64, x1: f64) -> f64 {
    let v2 = x0;
    let n5 = xs.len();
    let mut y6 = vec![0.0; n5];
    y6[0] = xs[0];
    for i7 in 0..n5 {
        for j8 in 0..i7 {
            y6[i7] += y6[j8] * 1e-2;
        }
        y6[i7] = sigmoid(y6[i7]);
    }
    (y6[n5 - 1]
        - ({
            let b9 = v2;
            x0
        }))
}

#[test]
fn regression_seed31_f82() {
    let x: &[f64] = &[
        0.48011505666375287,
        1.860977906362772,
        -1.0443884575711837,
        0.7423054259137412,
        -0.1948865578934149,
    ];
    let n: i64 = 4;
    let f = |x: &[f64], n: i64| f82(&x[0..3], x[3], x[4]);
    let (v, (g0, g1, g2)) = f82_grad(&x[0..3], x[3], x[4]);
    let mut g = [g0.to_vec(), vec![g1], vec![g2]].concat();
    assert_eq!(v.to_bits(), f(x, n).to_bits(), "value of f82_grad");
    for (j, &k) in [0, 1, 2, 3, 4].iter().enumerate() {
        check_component(f, x, n, k, g[j]);
    }
}

#[grad]
pub fn f88(mut x0: f64, x1: f64, xs: &[f64], x2: f64) -> f64 {
    let n1: usize = 3;
    let mut y2 = vec![0.0; n1];
    let mut z3 = vec![0.0f64; n1];
    let mut z4 = vec![0.0f64; n1];
    y2[0] = x1;
    for i6 in 0..n1 {
        z4[i6] = z3[i6].min(x2);
        z3[i6] = -z4[i6];
    }
    for i7 in 1..n1 {
        y2[i7] = (((z4[i7 - 1].tanh() * 1.3).tan()).tanh() * 1.5) * y2[i7 - 1]
            + (({
                let b8 = z4[i7 - 1];
                z3[i7]
            }) * 1e-1);
    }
    let v9 = (x2 / (softplus(y2[n1 - 1]) + 1.0)) * (-x2);
    let v10 = f64::abs(v9);
    let v11: f64 = (v10 * (sigmoid(y2[n1 - 1]))) * (sigmoid(v10));
    v11
}

#[test]
fn regression_seed7_f88() {
    let x: &[f64] = &[
        1.0968485218759043,
        0.9288190737982718,
        -0.5804141261397886,
        -0.9575345608615171,
        -1.7538657329132707,
    ];
    let n: i64 = 4;
    let f = |x: &[f64], n: i64| f88(x[0], x[1], &x[2..4], x[4]);
    let (v, (g0, g1, g2, g3)) = f88_grad(x[0], x[1], &x[2..4], x[4]);
    let mut g = [vec![g0], vec![g1], g2.to_vec(), vec![g3]].concat();
    assert_eq!(v.to_bits(), f(x, n).to_bits(), "value of f88_grad");
    for (j, &k) in [0, 1, 2, 3, 4].iter().enumerate() {
        check_component(f, x, n, k, g[j]);
    }
}
