//! `#[grad]` on summing loops whose bodies write local arrays in place: per
//! iteration scratch (`xc[e] = x[p][e] - mu[e]`, a triangle update of it,
//! a vector of per-component terms and their log-sum-exp), which the plan
//! fuses — each iteration's reverse runs right after its forward, with one
//! iteration's worth of tape — and its near misses, where an array carries
//! a value from one iteration into the next and the loop must not be fused.
//! Every gradient is checked against central finite differences
//! (`autodiff::check`), never against the crate's own output.

// Indexing local arrays in `for` loops is the construct under test.
#![allow(clippy::needless_range_loop)]

use autodiff::{check, grad};

/// GMM's point loop, packed: `theta` holds the K means (K × D) and then K
/// strictly lower triangles (D(D−1)/2 each). Per point and component, the
/// centred point, its image under the unit lower-triangular factor, and the
/// squared norm; per point, the log-sum-exp of the components' terms with a
/// running max that starts at an element.
#[grad(wrt(theta))]
pub fn mixture(theta: &[f64], x: &[f64], d: usize, k: usize) -> f64 {
    let n = x.len() / d;
    let tri = d * (d - 1) / 2;
    let mut xc = vec![0.0; d];
    let mut v = vec![0.0; d];
    let mut terms = vec![0.0; k];
    let mut total = 0.0;
    for p in 0..n {
        for c in 0..k {
            for e in 0..d {
                xc[e] = x[p * d + e] - theta[c * d + e];
                v[e] = xc[e];
            }
            let mut at = k * d + c * tri;
            for i in 0..d {
                for j in i + 1..d {
                    v[j] += theta[at] * xc[i];
                    at += 1;
                }
            }
            let mut sq = 0.0;
            for e in 0..d {
                sq += v[e] * v[e];
            }
            terms[c] = -0.5 * sq;
        }
        let mut m = terms[0];
        for c in 1..k {
            m = m.max(terms[c]);
        }
        let mut s = 0.0;
        for c in 0..k {
            s += (terms[c] - m).exp();
        }
        total += s.ln() + m;
    }
    total
}

fn spread(n: usize, scale: f64, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| scale * ((i as f64 * 0.7 + phase).sin() + 0.3 * (i as f64 * 1.3).cos()))
        .collect()
}

#[test]
fn test_mixture_point_loop_with_scratch_arrays() {
    let (d, k, n) = (4, 3, 7);
    let theta = spread(k * d + k * d * (d - 1) / 2, 0.6, 0.2);
    let x = spread(n * d, 1.0, 1.1);
    let (value, g) = mixture_grad(&theta, &x, d, k);
    assert_eq!(value.to_bits(), mixture(&theta, &x, d, k).to_bits());
    check(|t: &Vec<f64>| mixture(t, &x, d, k), theta.clone(), &g).assert_close(1e-6);
}

#[test]
fn test_mixture_with_one_component_and_one_dimension() {
    // No triangle (d = 1) and no running max step (k = 1).
    let (d, k, n) = (1, 1, 5);
    let theta = spread(k * d, 0.4, 0.5);
    let x = spread(n * d, 1.0, 0.9);
    let g = mixture_grad(&theta, &x, d, k).1;
    check(|t: &Vec<f64>| mixture(t, &x, d, k), theta.clone(), &g).assert_close(1e-6);
}

/// The array starts from parameters and the loop writes only its first `m`
/// elements: the last one keeps `x[3]` throughout, and its adjoint sums over
/// every point into `x[3]`.
#[grad(wrt(x))]
pub fn stale_tail(x: &[f64], z: &[f64]) -> f64 {
    let m = 3;
    let mut a = [x[0], x[1], x[2], x[3]];
    let mut s = 0.0;
    for p in 0..z.len() {
        for e in 0..m {
            a[e] = z[p] * x[e] + x[3];
        }
        s += a[0] * a[3] + a[2].sin() * a[3];
    }
    s
}

#[test]
fn test_elements_the_loop_never_writes_keep_their_value_from_before() {
    let x = vec![0.7, -1.2, 0.4, 1.9];
    let z = vec![0.5, -0.8, 1.3, 0.2, -1.1];
    let g = stale_tail_grad(&x, &z).1;
    check(|x: &Vec<f64>| stale_tail(x, &z), x.clone(), &g).assert_close(1e-6);
}

/// Near miss: each point reads what the previous one left (`a[e]` before it
/// is written). Fusing this loop would drop the chain between points.
#[grad(wrt(x, w))]
pub fn carried_scratch(x: &[f64], w: &[f64], d: usize) -> f64 {
    let mut a = vec![0.0; d];
    let mut s = 0.0;
    for p in 0..x.len() / d {
        for e in 0..d {
            a[e] = a[e] * 0.5 + x[p * d + e] * w[e];
        }
        s += a[d - 1] * a[0];
    }
    s
}

#[test]
fn test_scratch_read_before_it_is_written_carries_between_points() {
    let d = 3;
    let x = spread(5 * d, 1.0, 0.3);
    let w = spread(d, 0.8, 2.0);
    let g = carried_scratch_grad(&x, &w, d).1;
    check(|x: &Vec<f64>| carried_scratch(x, &w, d), x.clone(), &g.0).assert_close(1e-6);
    check(|w: &Vec<f64>| carried_scratch(&x, w, d), w.clone(), &g.1).assert_close(1e-6);
}

/// Near miss: the elements written change from point to point, so the last
/// one is often left from an earlier point.
#[grad(wrt(x))]
pub fn shifting_bounds(x: &[f64], d: usize) -> f64 {
    let mut a = vec![0.0; d];
    let mut s = 0.0;
    for p in 0..x.len() / d {
        let h = 1 + p % d;
        for e in 0..h {
            a[e] = x[p * d + e] * x[p * d];
        }
        s += a[d - 1] * a[0];
    }
    s
}

#[test]
fn test_scratch_written_over_changing_bounds_carries_between_points() {
    let d = 3;
    let x = spread(7 * d, 1.0, 0.6);
    let g = shifting_bounds_grad(&x, d).1;
    check(|x: &Vec<f64>| shifting_bounds(x, d), x.clone(), &g).assert_close(1e-6);
}

/// Near miss: an element past the ones written first is written later in
/// the iteration and read in the next one.
#[grad(wrt(x))]
pub fn spilled(x: &[f64], d: usize) -> f64 {
    let mut a = vec![0.0; d + 1];
    let mut s = 0.0;
    for p in 0..x.len() / d {
        for e in 0..d {
            a[e] = x[p * d + e] * x[p * d];
        }
        s += a[0] * a[d];
        a[d] = a[d - 1] + 0.25;
    }
    s
}

#[test]
fn test_an_element_written_late_carries_between_points() {
    let d = 2;
    let x = spread(6 * d, 1.0, 1.7);
    let g = spilled_grad(&x, d).1;
    check(|x: &Vec<f64>| spilled(x, d), x.clone(), &g).assert_close(1e-6);
}

/// Near miss: the scratch array is read after the loop, so the last point's
/// values reach the result a second way.
#[grad(wrt(x))]
pub fn read_after(x: &[f64], d: usize) -> f64 {
    let mut a = vec![0.0; d];
    let mut s = 0.0;
    for p in 0..x.len() / d {
        for e in 0..d {
            a[e] = x[p * d + e] * x[p * d + e];
        }
        s += a[0] * a[d - 1];
    }
    s + a[d - 1].exp()
}

#[test]
fn test_scratch_read_after_the_loop() {
    let d = 3;
    let x = spread(4 * d, 0.9, 0.4);
    let g = read_after_grad(&x, d).1;
    check(|x: &Vec<f64>| read_after(x, d), x.clone(), &g).assert_close(1e-6);
}

/// A `Vec` made afresh for each point, a recurrence along it, and its last
/// element summed over the points.
#[grad(wrt(x))]
pub fn fresh_each_point(x: &[f64], d: usize) -> f64 {
    let mut s = 0.0;
    for p in 0..x.len() / d {
        let mut y = vec![0.0; d];
        y[0] = x[p * d];
        for i in 1..d {
            y[i] = x[p * d + i] * y[i - 1] + 0.5;
        }
        s += y[d - 1].tanh() * y[0];
    }
    s
}

#[test]
fn test_a_vec_made_in_each_iteration() {
    let d = 4;
    let x = spread(5 * d, 0.9, 0.8);
    let g = fresh_each_point_grad(&x, d).1;
    check(|x: &Vec<f64>| fresh_each_point(x, d), x.clone(), &g).assert_close(1e-6);
}
