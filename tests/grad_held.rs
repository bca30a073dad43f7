//! Inner loops whose reverse adds into one element of an array at an index
//! they do not change (`d_x[i] += …` in a loop over `j`): the reverse keeps
//! that sum in a register and adds it once after the loop. Each gradient
//! is checked against central finite differences (`autodiff::check`) or an
//! analytic formula, never against the crate's own output.

#![allow(clippy::needless_range_loop)]

use autodiff::{check, grad};

/// `‖Aᵀx‖²` with `A` row-major `n × n`: the inner loop reads `x[i]` of the
/// outer loop, and writes a local `Vec` element by element.
#[grad(wrt(a, x))]
pub fn transposed_norm(a: &[f64], x: &[f64]) -> f64 {
    let n = x.len();
    let mut y = vec![0.0; n];
    for i in 0..n {
        for j in 0..n {
            y[j] += a[i * n + j] * x[i];
        }
    }
    let mut s = 0.0;
    for j in 0..n {
        s += y[j] * y[j];
    }
    s
}

#[test]
fn test_element_of_the_outer_index() {
    let a = vec![0.3, -1.2, 0.5, 0.8, 0.1, -0.4, 1.5, 0.25, -0.7];
    let x = vec![0.9, -0.6, 1.3];
    let (value, (ga, gx)) = transposed_norm_grad(&a, &x);
    assert_eq!(value, transposed_norm(&a, &x));
    check(|x: &Vec<f64>| transposed_norm(&a, x), x.clone(), &gx).assert_close(1e-6);
    check(|a: &Vec<f64>| transposed_norm(a, &x), a.clone(), &ga).assert_close(1e-6);
}

/// A triangle walked by `j > i`, as ADBench's GMM does: the loop over `j` is
/// empty in the last row, and reads an element of a local array at `i`.
#[grad(wrt(l, x))]
pub fn triangle(l: &[f64], x: &[f64]) -> f64 {
    let d = x.len();
    let mut c = vec![0.0; d];
    let mut v = vec![0.0; d];
    for i in 0..d {
        c[i] = x[i].sin();
        v[i] = c[i];
    }
    let mut k = 0;
    for i in 0..d {
        for j in i + 1..d {
            v[j] += l[k] * c[i];
            k += 1;
        }
    }
    let mut s = 0.0;
    for i in 0..d {
        s += v[i] * v[i];
    }
    s
}

#[test]
fn test_element_of_a_local_array_in_a_triangle() {
    let x = vec![0.4, -1.1, 0.7, 1.9];
    let l = vec![0.5, -0.3, 0.8, 1.2, -0.6, 0.2];
    let (value, (gl, gx)) = triangle_grad(&l, &x);
    assert_eq!(value, triangle(&l, &x));
    check(|x: &Vec<f64>| triangle(&l, x), x.clone(), &gx).assert_close(1e-6);
    check(|l: &Vec<f64>| triangle(l, &x), l.clone(), &gl).assert_close(1e-6);
}

/// Two loops deep, with a branch in the innermost, in `f32`, and a constant
/// element besides: `w[0]` and `w[i]` are each summed around the loops that
/// do not change their index.
#[grad(wrt(w))]
pub fn nested_f32(w: &[f32], m: usize) -> f32 {
    let n = w.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..m {
            for k in 0..m {
                let t = w[i] * (j + k) as f32 * 0.25;
                if t > 0.0 {
                    s += t.sin() * w[0];
                } else {
                    s += t;
                }
            }
        }
    }
    s
}

#[test]
fn test_held_two_loops_deep_in_f32() {
    let w = vec![0.3_f32, -0.2, 0.45];
    let m = 3;
    let (value, g) = nested_f32_grad(&w, m);
    assert_eq!(value, nested_f32(&w, m));
    // ∂/∂w_p, by the formula: each (i, j, k) with c = (j + k) / 4 and
    // t = w_i c adds w_0 cos(t) c to w_i and sin(t) to w_0 when t > 0, and c
    // to w_i when not.
    let mut want = vec![0.0_f64; w.len()];
    for i in 0..w.len() {
        for j in 0..m {
            for k in 0..m {
                let c = (j + k) as f64 * 0.25;
                let t = f64::from(w[i]) * c;
                if t > 0.0 {
                    want[i] += f64::from(w[0]) * t.cos() * c;
                    want[0] += t.sin();
                } else {
                    want[i] += c;
                }
            }
        }
    }
    for (p, (&got, &want)) in g.iter().zip(&want).enumerate() {
        assert!(
            (f64::from(got) - want).abs() <= 1e-4 * want.abs().max(1.0),
            "w[{p}]: got {got}, want {want}"
        );
    }
}

/// The loop's reverse is skipped when its carried adjoint is zero (the
/// result does not depend on `s` when `gate` is off), and the element must
/// still come out right.
#[grad(wrt(x))]
pub fn gated(x: &[f64], y: &[f64], gate: bool) -> f64 {
    let n = x.len();
    let mut out = 0.0;
    for i in 0..n {
        let mut s = 0.0;
        for j in 0..y.len() {
            s += (x[i] * y[j]).sin();
        }
        out += if gate { s } else { x[i] };
    }
    out
}

#[test]
fn test_held_in_a_skipped_loop() {
    let x = vec![0.5, -1.25, 2.0];
    let y = vec![0.3, 0.9];
    for gate in [true, false] {
        let (value, g) = gated_grad(&x, &y, gate);
        assert_eq!(value, gated(&x, &y, gate));
        check(|x: &Vec<f64>| gated(x, &y, gate), x.clone(), &g).assert_close(1e-6);
    }
}

/// `x[i + 1]` read in the loop over `j > i`: computed once before that
/// loop's reverse, and only when it runs (in the last row it is empty, and
/// `x[n]` out of bounds).
#[grad(wrt(x, y))]
pub fn upper_pairs(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len();
    let mut s = 0.0;
    for i in 0..n {
        for j in i + 1..n {
            s += (x[i + 1] * y[j]).sin();
        }
    }
    s
}

#[test]
fn test_hoisted_read_only_when_the_loop_runs() {
    let x = vec![0.3, -0.8, 1.1, 0.45];
    let y = vec![0.9, 0.2, -1.3, 0.6];
    let (value, (gx, gy)) = upper_pairs_grad(&x, &y);
    assert_eq!(value, upper_pairs(&x, &y));
    check(|x: &Vec<f64>| upper_pairs(x, &y), x.clone(), &gx).assert_close(1e-6);
    check(|y: &Vec<f64>| upper_pairs(&x, y), y.clone(), &gy).assert_close(1e-6);
}
