//! `#[grad]` on local arrays written in place and read back: recurrences
//! `y[i] = f(y[i - 1])`, updates `y[i] += …`, several local `Vec`s written in
//! the same loop (the stages of an RK4 step), elements written in an earlier
//! iteration or an earlier loop, and results that are an element or the whole
//! `Vec`. Each gradient is checked against an analytic one or central finite
//! differences (`autodiff::check`), never against the crate's own output.

// The functions index local arrays in `for` loops on purpose: that is the
// construct under test.
#![allow(clippy::needless_range_loop, clippy::manual_memcpy)]

use autodiff::{check, grad};

/// `got` is `want` to within `tol · max(1, |want|)`, element by element.
fn assert_all_near(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

/// The product recurrence of the loop issue: `y[i] = x[i] · y[i − 1]`,
/// returning the last element (a local `Vec` element, by value).
#[grad(wrt(x))]
pub fn chain(x: &[f64]) -> f64 {
    let n = x.len();
    let mut y = vec![0.0; n];
    y[0] = x[0];
    for i in 1..n {
        y[i] = x[i] * y[i - 1];
    }
    y[n - 1]
}

#[test]
fn test_chain_product_recurrence() {
    let x = vec![0.5, -1.5, 2.0, 0.75, 1.25];
    let (value, g) = chain_grad(&x);
    let product: f64 = x.iter().product();
    assert_eq!(value, chain(&x));
    assert!((value - product).abs() <= 1e-15);
    // ∂(Π x)/∂x_k = Π_{j≠k} x_j.
    let want: Vec<f64> = (0..x.len())
        .map(|k| (0..x.len()).filter(|&j| j != k).map(|j| x[j]).product())
        .collect();
    assert_all_near(&g, &want, 1e-14, "chain");
    check(|x: &Vec<f64>| chain(x), x.clone(), &g).assert_close(1e-6);
}

/// The same recurrence with the first element left at its `0.0`: every
/// product is 0, and so is the gradient (no NaN from a stored zero).
#[test]
fn test_chain_from_zero() {
    #[grad(wrt(x))]
    fn chain_zero(x: &[f64]) -> f64 {
        let n = x.len();
        let mut y = vec![0.0; n];
        for i in 1..n {
            y[i] = x[i] * y[i - 1] + x[i];
        }
        y[n - 1]
    }
    let x = vec![0.3, 0.5, -0.25, 1.5];
    let (value, g) = chain_zero_grad(&x);
    assert_eq!(value, chain_zero(&x));
    check(|x: &Vec<f64>| chain_zero(x), x.clone(), &g).assert_close(1e-6);
    assert_eq!(g[0], 0.0);
}

/// `y[i] += …` onto an element written in an earlier iteration, and a
/// second loop reading the first's results.
#[grad(wrt(x))]
pub fn two_passes(x: &[f64], a: f64) -> f64 {
    let n = x.len();
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = x[i].sin() * a;
    }
    for i in 1..n {
        y[i] += y[i - 1] * x[i];
        y[i - 1] -= 0.5 * y[i];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += y[i] * y[i];
    }
    s
}

#[test]
fn test_updates_in_place_across_loops() {
    let x = vec![0.4, -0.7, 1.1, 0.2, -0.3, 0.9];
    let (value, g) = two_passes_grad(&x, 1.3);
    assert_eq!(value, two_passes(&x, 1.3));
    check(|x: &Vec<f64>| two_passes(x, 1.3), x.clone(), &g).assert_close(1e-6);
}

/// A linear ODE `y′_i = x_i · y_{i−1}` (`y′_0 = −y_0`) integrated by RK4
/// with `steps` steps of size `h`, its stages in local `Vec`s written in the
/// same loops: the workload of the loop issue.
#[grad(wrt(x))]
pub fn rk4_last(x: &[f64], y0: &[f64], h: f64, steps: usize) -> f64 {
    let n = y0.len();
    let mut y = vec![0.0; n];
    for i in 0..n {
        y[i] = y0[i];
    }
    let mut k1 = vec![0.0; n];
    let mut k2 = vec![0.0; n];
    let mut k3 = vec![0.0; n];
    let mut k4 = vec![0.0; n];
    let mut tmp = vec![0.0; n];
    for _ in 0..steps {
        k1[0] = -y[0];
        for i in 1..n {
            k1[i] = x[i] * y[i - 1];
        }
        for i in 0..n {
            tmp[i] = y[i] + 0.5 * h * k1[i];
        }
        k2[0] = -tmp[0];
        for i in 1..n {
            k2[i] = x[i] * tmp[i - 1];
        }
        for i in 0..n {
            tmp[i] = y[i] + 0.5 * h * k2[i];
        }
        k3[0] = -tmp[0];
        for i in 1..n {
            k3[i] = x[i] * tmp[i - 1];
        }
        for i in 0..n {
            tmp[i] = y[i] + h * k3[i];
        }
        k4[0] = -tmp[0];
        for i in 1..n {
            k4[i] = x[i] * tmp[i - 1];
        }
        for i in 0..n {
            y[i] += h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0;
        }
    }
    y[n - 1]
}

#[test]
fn test_rk4_local_vec_state() {
    let n = 6;
    let x: Vec<f64> = (0..n).map(|i| 0.3 + 0.1 * i as f64).collect();
    let y0: Vec<f64> = (0..n).map(|i| 1.0 - 0.15 * i as f64).collect();
    let (value, g) = rk4_last_grad(&x, &y0, 0.05, 20);
    assert_eq!(value, rk4_last(&x, &y0, 0.05, 20));
    check(|x: &Vec<f64>| rk4_last(x, &y0, 0.05, 20), x.clone(), &g).assert_close(1e-6);
    // x[0] never enters: its gradient is exactly 0.
    assert_eq!(g[0], 0.0);
}

/// The whole local `Vec` as the result, through `_vjp` with a unit seed
/// (row k of the Jacobian) and with a general seed.
#[grad(wrt(x))]
pub fn prefix_products(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let mut y = vec![1.0; n];
    y[0] = x[0];
    for i in 1..n {
        y[i] = y[i - 1] * x[i];
    }
    y
}

#[test]
fn test_whole_vec_output() {
    let x = vec![1.5, -0.5, 2.0, 0.8];
    let n = x.len();
    for k in 0..n {
        let mut seed = vec![0.0; n];
        seed[k] = 1.0;
        let (value, g) = prefix_products_vjp(&x, seed);
        assert_eq!(value, prefix_products(&x));
        // ∂y_k/∂x_j = Π_{m ≤ k, m ≠ j} x_m for j ≤ k, else 0.
        let want: Vec<f64> = (0..n)
            .map(|j| {
                if j > k {
                    0.0
                } else {
                    (0..=k).filter(|&m| m != j).map(|m| x[m]).product()
                }
            })
            .collect();
        assert_all_near(&g, &want, 1e-14, &format!("row {k}"));
    }
    let seed = vec![0.5, -1.0, 0.25, 2.0];
    let (_, g) = prefix_products_vjp(&x, seed.clone());
    let weighted = |x: &Vec<f64>| -> f64 {
        prefix_products(x)
            .iter()
            .zip(&seed)
            .map(|(y, s)| y * s)
            .sum()
    };
    check(weighted, x.clone(), &g).assert_close(1e-6);
}

/// A carried product through an inner loop (`p *= t`), the residuals of a
/// polynomial fit: nested loops with carried values at two levels.
#[grad(wrt(c))]
pub fn poly_fit(c: &[f64], t: &[f64], y: &[f64]) -> f64 {
    let mut loss = 0.0;
    for i in 0..t.len() {
        let mut p = 1.0;
        let mut r = y[i];
        for k in 0..c.len() {
            r -= c[k] * p;
            p *= t[i];
        }
        loss += 0.5 * r * r;
    }
    loss
}

#[test]
fn test_carried_product_in_inner_loop() {
    let c = vec![0.5, -0.25, 0.125, 0.3];
    let t = vec![-1.0, -0.3, 0.2, 0.7, 1.1];
    let y = vec![0.1, 0.4, -0.2, 0.9, 0.3];
    let (value, g) = poly_fit_grad(&c, &t, &y);
    assert_eq!(value, poly_fit(&c, &t, &y));
    // ∂L/∂c_k = −Σ_i r_i t_i^k.
    let want: Vec<f64> = (0..c.len())
        .map(|k| {
            -(0..t.len())
                .map(|i| {
                    let r = y[i]
                        - (0..c.len())
                            .map(|m| c[m] * t[i].powi(m as i32))
                            .sum::<f64>();
                    r * t[i].powi(k as i32)
                })
                .sum::<f64>()
        })
        .collect();
    assert_all_near(&g, &want, 1e-12, "poly_fit");
}

/// The nearest-centroid cost of the loop issue: `min` over an inner loop of
/// an innermost sum.
#[grad(wrt(c))]
pub fn kmeans_cost(c: &[f64], p: &[f64], d: usize) -> f64 {
    let k = c.len() / d;
    let n = p.len() / d;
    let mut cost = 0.0;
    for i in 0..n {
        let mut closest = f64::INFINITY;
        for j in 0..k {
            let mut dist = 0.0;
            for e in 0..d {
                let diff = c[j * d + e] - p[i * d + e];
                dist += diff * diff;
            }
            closest = closest.min(dist);
        }
        cost += closest;
    }
    cost
}

#[test]
fn test_nearest_centroid_cost() {
    let d = 2;
    let c = vec![0.0, 0.0, 1.0, 1.0, -1.0, 0.5];
    let p = vec![0.1, 0.2, 0.9, 1.2, -0.8, 0.4, 0.6, 0.7, -0.2, -0.1];
    let (value, g) = kmeans_cost_grad(&c, &p, d);
    assert_eq!(value, kmeans_cost(&c, &p, d));
    // ∂/∂c_j = Σ over the points whose nearest centroid is j of 2 (c_j − p_i).
    let mut want = vec![0.0; c.len()];
    for i in 0..p.len() / d {
        let dist =
            |j: usize| -> f64 { (0..d).map(|e| (c[j * d + e] - p[i * d + e]).powi(2)).sum() };
        let best = (0..c.len() / d)
            .min_by(|&a, &b| dist(a).total_cmp(&dist(b)))
            .unwrap();
        for e in 0..d {
            want[best * d + e] += 2.0 * (c[best * d + e] - p[i * d + e]);
        }
    }
    assert_all_near(&g, &want, 1e-14, "kmeans");
    check(|c: &Vec<f64>| kmeans_cost(c, &p, d), c.clone(), &g).assert_close(1e-6);
}

/// A packed lower triangle walked with a counter `k += 1` (as ADBench's GMM
/// does), on top of a local array written in one loop and updated in
/// another: the counter is stepped back in the reverse, not recorded.
#[grad(wrt(l))]
pub fn packed_triangle(l: &[f64], x: &[f64], d: usize) -> f64 {
    let mut y = vec![0.0; d];
    for i in 0..d {
        y[i] = l[i].exp() * x[i];
    }
    let mut k = d;
    for i in 0..d {
        for j in i + 1..d {
            y[j] += l[k] * x[i];
            k += 1;
        }
    }
    let mut s = 0.0;
    for i in 0..d {
        s += y[i] * y[i];
    }
    s
}

#[test]
fn test_packed_triangle_with_a_counter() {
    let d = 4;
    let l: Vec<f64> = (0..d * (d + 1) / 2).map(|i| 0.1 * i as f64 - 0.3).collect();
    let x = vec![0.7, -1.2, 0.4, 1.5];
    let (value, g) = packed_triangle_grad(&l, &x, d);
    assert_eq!(value, packed_triangle(&l, &x, d));
    check(|l: &Vec<f64>| packed_triangle(l, &x, d), l.clone(), &g).assert_close(1e-6);
}

/// Counters stepped by nested loops: downwards by 2 over an inclusive
/// range, upwards over a loop of `x.iter()`, two by the same loop, and one
/// the outer body reads too (that one is recorded; the others are stepped
/// back in the reverse).
#[grad(wrt(w))]
pub fn nested_counters(w: &[f64], x: &[f64], d: usize) -> f64 {
    let n = w.len();
    let mut s = 0.0_f64;
    let mut down = 2 * d * d + 1;
    let mut up = 0;
    let mut c = 3;
    let (mut a, mut b) = (0, 5);
    for i in 0..d {
        for j in i..=d - 1 {
            s += w[down % n] * x[j] * (1.0 + 0.1 * s).sin();
            down -= 2;
        }
        for v in x.iter() {
            s += w[up % n] * v;
            up += 1;
        }
        s += w[c % n] * 0.5;
        for j in 0..i {
            s += (w[(c + j) % n] * x[j]).tanh();
            c += 1;
        }
        for j in (0..i).rev() {
            s += w[(a + b) % n] * x[j] * s.cos();
            a += 1;
            b += 3;
        }
    }
    s
}

#[test]
fn test_counters_stepped_by_nested_loops() {
    let x = vec![0.7, -1.2, 0.4, 1.5];
    let w: Vec<f64> = (0..11).map(|i| 0.13 * i as f64 - 0.4).collect();
    for d in 1..=4 {
        let (value, g) = nested_counters_grad(&w, &x, d);
        assert_eq!(value, nested_counters(&w, &x, d));
        check(|w: &Vec<f64>| nested_counters(w, &x, d), w.clone(), &g).assert_close(1e-6);
    }
}

/// A counter stepped two loops down: the middle loop steps it through the
/// innermost one, and the outer loop through the middle one.
#[grad(wrt(w))]
pub fn deep_counter(w: &[f64], d: usize) -> f64 {
    let n = w.len();
    let mut s = 0.0_f64;
    let mut l = 1;
    for i in 0..d {
        for j in 0..i {
            for _ in j..i {
                s += (w[l % n] * s).cos() * w[(i + j) % n];
                l += 2;
            }
        }
    }
    s
}

#[test]
fn test_a_counter_stepped_two_loops_down() {
    let w: Vec<f64> = (0..7).map(|i| 0.3 * i as f64 - 0.8).collect();
    for d in 0..=5 {
        let (value, g) = deep_counter_grad(&w, d);
        assert_eq!(value, deep_counter(&w, d));
        check(|w: &Vec<f64>| deep_counter(w, d), w.clone(), &g).assert_close(1e-6);
    }
}

/// The polynomial fit with the coefficient index a counter its inner loop
/// steps across points: the loop over the points is fused, its inner loop
/// reversed inside each iteration.
#[grad(wrt(c))]
pub fn rotating_fit(c: &[f64], t: &[f64], y: &[f64]) -> f64 {
    let m = c.len();
    let mut loss = 0.0;
    let mut k = 0;
    for i in 0..t.len() {
        let mut p = 1.0;
        let mut model = 0.0;
        for _ in 0..m {
            model += c[k % m] * p;
            p *= t[i];
            k += 1;
        }
        let r = y[i] - model;
        loss += 0.5 * r * r;
    }
    loss
}

#[test]
fn test_a_fused_loop_with_a_counter_its_inner_loop_steps() {
    let c = vec![0.3, -0.2, 0.5, 0.1, -0.4];
    let t: Vec<f64> = (0..7).map(|i| 0.2 * i as f64 - 0.6).collect();
    let y: Vec<f64> = t.iter().map(|v| v.sin()).collect();
    let (value, g) = rotating_fit_grad(&c, &t, &y);
    assert_eq!(value, rotating_fit(&c, &t, &y));
    check(|c: &Vec<f64>| rotating_fit(c, &t, &y), c.clone(), &g).assert_close(1e-6);
}

/// A scratch array filled by one loop per outer iteration and read by a
/// later loop over the same range (GMM's centred point `x − μ` read by the
/// triangle): the reverse computes each element again from its writer.
#[grad(wrt(m, l))]
pub fn centred_triangle(m: &[f64], l: &[f64], x: &[f64], d: usize) -> f64 {
    let n = x.len() / d;
    let mut xc = vec![0.0; d];
    let mut s = 0.0;
    for k in 0..n {
        for id in 0..d {
            xc[id] = x[k * d + id] - m[id];
        }
        let mut c = 0;
        for i in 0..d {
            for j in i + 1..d {
                s += l[c] * xc[i] * xc[j].sin();
                c += 1;
            }
        }
    }
    s
}

#[test]
fn test_scratch_array_read_by_a_later_loop() {
    let d = 4;
    let m = vec![0.3, -0.2, 0.5, 0.1];
    let l: Vec<f64> = (0..d * (d - 1) / 2).map(|i| 0.2 * i as f64 - 0.4).collect();
    let x: Vec<f64> = (0..3 * d).map(|i| (i as f64 * 0.7).cos()).collect();
    let (value, (gm, gl)) = centred_triangle_grad(&m, &l, &x, d);
    assert_eq!(value, centred_triangle(&m, &l, &x, d));
    check(
        |m: &Vec<f64>| centred_triangle(m, &l, &x, d),
        m.clone(),
        &gm,
    )
    .assert_close(1e-6);
    check(
        |l: &Vec<f64>| centred_triangle(&m, l, &x, d),
        l.clone(),
        &gl,
    )
    .assert_close(1e-6);
}

/// A local `Vec` that grows (`push`, which `#[grad]` keeps as written) inside
/// the loop whose inner loop runs over its length: the length is read
/// before each inner loop and must not be computed again after the `Vec`
/// has grown further.
#[grad(wrt(x))]
pub fn growing(x: &[f64], n: usize) -> f64 {
    let mut w: Vec<f64> = Vec::new();
    let mut s = 0.0;
    for i in 0..n {
        w.push(i as f64 + 1.0);
        let m = w.len();
        for j in 0..m {
            s += x[i] * w[j] * x[j].sin();
        }
    }
    s
}

#[test]
fn test_a_growing_vec_bounds_an_inner_loop() {
    let x = vec![0.3, -0.6, 0.9, 1.2];
    let (value, g) = growing_grad(&x, 4);
    assert_eq!(value, growing(&x, 4));
    check(|x: &Vec<f64>| growing(x, 4), x.clone(), &g).assert_close(1e-6);
}

/// Reads of a local array at lagging indices `a[i]`, `a[i - 1]`, `a[i - 2]`
/// in a loop reversed backwards: their adjoints are summed in registers and
/// each element written once, the last two after the loop.
#[grad(wrt(x))]
pub fn lagged_reads(x: &[f64], lo: usize) -> f64 {
    let n = x.len();
    let mut a = vec![0.0; n];
    for i in 0..n {
        a[i] = x[i].sin() + 0.5 * x[i];
    }
    let mut b = vec![0.0; n];
    for i in lo..n {
        b[i] = x[i] * (a[i - 2] - 2.0 * a[i]) + a[i - 1] * a[i - 2];
    }
    let mut s = 0.0;
    for i in 0..n {
        s += b[i] * b[i];
    }
    s
}

#[test]
fn test_lagged_reads_of_a_local_array() {
    let x: Vec<f64> = (0..9).map(|i| (i as f64 * 0.77).cos() + 0.1).collect();
    for lo in [2, 3, 8, 9, 12] {
        let (value, g) = lagged_reads_grad(&x, lo);
        assert_eq!(value, lagged_reads(&x, lo));
        check(|x: &Vec<f64>| lagged_reads(x, lo), x.clone(), &g).assert_close(1e-6);
    }
}
