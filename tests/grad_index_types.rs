//! Range loops over index types other than `usize`. The forward sweep keeps
//! a loop's last index (and a running `min`'s winner) as a bare index whose
//! type's largest value stands for "none" (`rules::no_last`): a `lo..hi`
//! index is below `hi`, so it never is that value, up to the top of the
//! type's range. Each gradient is checked against central finite differences
//! (`autodiff::check`) or an analytic formula.

use autodiff::{check, grad};

/// The nearest of the centroids `c[j]` to each point, with `u8` indices
/// ending at the type's top: `j` runs up to 254, next to `u8::MAX`.
#[grad(wrt(c))]
pub fn nearest_u8(c: &[f64], p: &[f64], start: f64) -> f64 {
    let k = c.len() as u8;
    let mut cost = 0.0;
    for i in 0..p.len() as u8 {
        let mut closest = start;
        for j in (u8::MAX - k)..u8::MAX {
            let diff = c[(j - (u8::MAX - k)) as usize] - p[i as usize];
            closest = closest.min(diff * diff);
        }
        cost += closest;
    }
    cost
}

#[test]
fn test_min_winner_with_u8_indices_at_the_top_of_the_range() {
    let c = vec![0.1, 0.9, -0.4, 0.55];
    let p = vec![0.2, 0.6, -0.5, 1.3, 0.0];
    let (value, gc) = nearest_u8_grad(&c, &p, f64::INFINITY);
    assert_eq!(value, nearest_u8(&c, &p, f64::INFINITY));
    check(
        |c: &Vec<f64>| nearest_u8(c, &p, f64::INFINITY),
        c.clone(),
        &gc,
    )
    .assert_close(1e-6);
    // Each point adds 2·(c_j − p) to its nearest centroid only.
    let mut expected = vec![0.0; c.len()];
    for &pi in &p {
        let (j, cj) = c
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - pi).abs().total_cmp(&(b.1 - pi).abs()))
            .unwrap();
        expected[j] += 2.0 * (cj - pi);
    }
    for (g, e) in gc.iter().zip(&expected) {
        assert!((g - e).abs() < 1e-12, "{gc:?} against {expected:?}");
    }
}

#[test]
fn test_min_winner_that_never_wins() {
    // No centroid comes nearer than `start`: no iteration wins, the index
    // keeps "none", and the gradient is zero.
    let c = vec![3.0, -3.0];
    let p = vec![0.1, -0.2];
    let (value, gc) = nearest_u8_grad(&c, &p, 0.5);
    assert_eq!(value, 1.0);
    assert_eq!(gc, vec![0.0, 0.0]);
}

/// A triangle over `i32` indices, from a negative start or up to the top of
/// the type: the inner loop stops early where its product passes 1.5, so
/// the reverse sweep takes each instance's last index from a tape of
/// `i32`s, and is skipped where the loop was empty.
#[grad(wrt(x))]
pub fn triangle_i32(x: &[f64], lo: i32) -> f64 {
    let mut s = 0.0;
    for i in lo..lo + x.len() as i32 {
        let mut p = 1.0;
        for j in lo..i {
            if p > 1.5 {
                break;
            }
            p *= x[(j - lo) as usize] * 0.5 + 1.0;
        }
        s += p * x[(i - lo) as usize];
    }
    s
}

#[test]
fn test_recorded_last_index_of_i32_loops() {
    let x = vec![0.9, 0.8, 1.1, 0.45, -0.2];
    for lo in [-3, 0, i32::MAX - 5] {
        let (value, gx) = triangle_i32_grad(&x, lo);
        assert_eq!(value, triangle_i32(&x, lo));
        check(|x: &Vec<f64>| triangle_i32(x, lo), x.clone(), &gx).assert_close(1e-6);
    }
}
