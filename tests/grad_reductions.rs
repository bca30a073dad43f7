//! `#[grad]` on running `min`/`max` reductions in loops (`best =
//! best.min(v)`): the reverse sweep runs only the iteration whose value won,
//! or none when the initial value won. Each gradient is checked against an
//! analytic one or central finite differences (`autodiff::check`), never
//! against the crate's own output; inputs keep clear of ties, where the
//! function has a kink.

// The functions index slices in `for` loops on purpose: that is the
// construct under test.
#![allow(clippy::needless_range_loop)]

use autodiff::{check, grad};

/// The largest element, started from the first: the gradient is the unit
/// vector at the largest.
#[grad(wrt(x))]
pub fn largest(x: &[f64]) -> f64 {
    let mut best = x[0];
    for i in 1..x.len() {
        best = best.max(x[i]);
    }
    best
}

#[test]
fn test_running_max_routes_to_the_winner() {
    for (x, at) in [
        (vec![0.5, -1.0, 3.0, 2.0], 2),
        (vec![4.0, -1.0, 3.0, 2.0], 0),
        (vec![0.5, -1.0, 3.0, 7.5], 3),
        (vec![2.0], 0),
    ] {
        let (value, g) = largest_grad(&x);
        assert_eq!(value, x[at]);
        let want: Vec<f64> = (0..x.len()).map(|i| f64::from(i == at)).collect();
        assert_eq!(g, want, "{x:?}");
    }
}

/// The value as the receiver (`v.min(best)`), scaled by the index.
#[grad(wrt(x))]
pub fn weighted_smallest(x: &[f64]) -> f64 {
    let mut best = f64::INFINITY;
    for i in 0..x.len() {
        let v = x[i] * x[i] * (i as f64 + 1.0);
        best = v.min(best);
    }
    best
}

#[test]
fn test_running_min_with_the_value_as_receiver() {
    let x = vec![1.5, -0.8, 0.9, 2.0, 0.7];
    let (value, g) = weighted_smallest_grad(&x);
    assert_eq!(value, weighted_smallest(&x));
    check(|x: &Vec<f64>| weighted_smallest(x), x.clone(), &g).assert_close(1e-6);
    // v = x²·(i + 1) = 2.25, 1.28, 2.43, 16, 2.45: x[1] wins, ∂v/∂x₁ = 2·x₁·2.
    let want = [0.0, 2.0 * -0.8 * 2.0, 0.0, 0.0, 0.0];
    assert_eq!(g, want);
}

/// The initial value wins: no iteration has a reverse, and the gradient
/// goes to the parameter the initial value came from.
#[grad(wrt(x, cap))]
pub fn capped_min(x: &[f64], cap: f64) -> f64 {
    let mut best = cap * cap;
    for i in 0..x.len() {
        best = best.min(x[i].exp());
    }
    best
}

#[test]
fn test_initial_value_of_a_running_min_wins() {
    let x = vec![1.0, 2.0, 0.5];
    let (value, (g, d_cap)) = capped_min_grad(&x, 0.5);
    assert_eq!(value, 0.25);
    assert_eq!(g, vec![0.0; 3]);
    assert_eq!(d_cap, 1.0);
    let (value, (g, d_cap)) = capped_min_grad(&x, 3.0);
    assert_eq!(value, 0.5_f64.exp());
    assert_eq!(g, vec![0.0, 0.0, 0.5_f64.exp()]);
    assert_eq!(d_cap, 0.0);
}

/// A running max over an inner loop per row, summed over the rows, with the
/// value an inner sum: per row, only the winning column's sum has a reverse.
#[grad(wrt(a))]
pub fn row_max_of_sums(a: &[f64], rows: usize, cols: usize, depth: usize) -> f64 {
    let mut total = 0.0;
    for r in 0..rows {
        let mut best = f64::NEG_INFINITY;
        for c in 0..cols {
            let mut s = 0.0;
            for k in 0..depth {
                let v = a[(r * cols + c) * depth + k];
                s += v * v.sin();
            }
            best = best.max(s);
        }
        total += best * (r as f64 + 0.5);
    }
    total
}

#[test]
fn test_running_max_over_inner_sums() {
    let (rows, cols, depth) = (4, 5, 3);
    let a: Vec<f64> = (0..rows * cols * depth)
        .map(|i| (i as f64 * 0.731).sin() * 2.0)
        .collect();
    let (value, g) = row_max_of_sums_grad(&a, rows, cols, depth);
    assert_eq!(value, row_max_of_sums(&a, rows, cols, depth));
    check(
        |a: &Vec<f64>| row_max_of_sums(a, rows, cols, depth),
        a.clone(),
        &g,
    )
    .assert_close(1e-6);
}

/// Not a reduction alone: the running min is also read by the sum (every
/// iteration has a reverse), and it must still be right.
#[grad(wrt(x))]
pub fn min_read_elsewhere(x: &[f64]) -> f64 {
    let mut best = f64::INFINITY;
    let mut s = 0.0;
    for i in 0..x.len() {
        best = best.min(x[i]);
        s += best * x[i];
    }
    s + best
}

#[test]
fn test_running_min_also_read_in_the_loop() {
    let x = vec![2.0, 1.5, 3.0, -0.5, 0.25];
    let (value, g) = min_read_elsewhere_grad(&x);
    assert_eq!(value, min_read_elsewhere(&x));
    check(|x: &Vec<f64>| min_read_elsewhere(x), x.clone(), &g).assert_close(1e-6);
}

/// Not a reduction alone: the loop also adds into a local array that is
/// read afterwards, so adjoints enter the body other than through the min.
#[grad(wrt(x))]
pub fn min_and_scatter(x: &[f64], k: usize) -> f64 {
    let n = x.len() / k;
    let mut out = vec![0.0; k];
    let mut total = 0.0;
    for i in 0..n {
        let mut best = f64::INFINITY;
        for j in 0..k {
            let v = x[i * k + j];
            out[j] += v * v;
            best = best.min(v);
        }
        total += best;
    }
    let mut s = 0.0;
    for j in 0..k {
        s += out[j] * (j as f64 + 1.0);
    }
    total + s
}

#[test]
fn test_running_min_beside_an_array_update() {
    let x: Vec<f64> = (0..12).map(|i| (i as f64 * 1.37).cos()).collect();
    let (value, g) = min_and_scatter_grad(&x, 3);
    assert!((value - min_and_scatter(&x, 3)).abs() <= 1e-12);
    check(|x: &Vec<f64>| min_and_scatter(x, 3), x.clone(), &g).assert_close(1e-6);
}

/// A running `min` and a running `max` from constants that are not NaN
/// (`f64::INFINITY`, `-1.0e300`), over values among which some are NaN:
/// `min` and `max` pass a NaN by, so the value and the gradient are those of
/// the other elements. (The carried value is never NaN, so the forward sweep
/// compares and selects, with no NaN test on it: `analyse::Ordered`.)
#[grad(wrt(x))]
pub fn spread_skipping_nan(x: &[f64]) -> f64 {
    let mut lo = f64::INFINITY;
    for i in 0..x.len() {
        lo = lo.min(x[i] * 2.0);
    }
    let mut hi = -1.0e300;
    for i in 0..x.len() {
        hi = (x[i] * 3.0).max(hi);
    }
    hi - lo
}

#[test]
fn test_running_min_and_max_from_constants_pass_nan_by() {
    let x = vec![0.5, f64::NAN, -1.25, 2.0, f64::NAN];
    let (value, g) = spread_skipping_nan_grad(&x);
    assert_eq!(value, 3.0 * 2.0 - 2.0 * -1.25);
    assert_eq!(value, spread_skipping_nan(&x));
    assert_eq!(g, [0.0, 0.0, -2.0, 3.0, 0.0]);

    // Nothing but NaN: the constants win, and nothing is differentiated.
    let (value, g) = spread_skipping_nan_grad(&[f64::NAN, f64::NAN]);
    assert_eq!(value, f64::NEG_INFINITY);
    assert_eq!(g, [0.0, 0.0]);

    // Away from ties, against central differences.
    let x = vec![0.3, -0.7, 1.9, 0.25];
    let (_, g) = spread_skipping_nan_grad(&x);
    check(|x: &Vec<f64>| spread_skipping_nan(x), x.clone(), &g).assert_close(1e-6);
}
