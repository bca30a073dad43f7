//! Summing loops (`s += f(x[i])`), whose reverse sweep runs inside the
//! forward loop and whose element gradients are summed in registers
//! (`emit::forward_fused`): every shape that takes that path or just misses
//! it, checked against central finite differences (`autodiff::check`) and,
//! where it is short, an analytic gradient.

use autodiff::{check, grad};

/// Central differences agree to this relative error.
const FD_TOL: f64 = 1e-6;

fn point(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.3 + 0.7 * ((i as f64) * 1.3).sin())
        .collect()
}

#[grad]
fn three_neighbours(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 2 {
        s += x[i] * x[i + 1] + (x[i + 2] - x[i]).powi(2);
    }
    s
}

/// Offsets 0, 1 and 2 from the index: three running sums.
#[test]
fn test_offsets_up_to_two() {
    for n in [3, 4, 9] {
        let x = point(n);
        let (value, g) = three_neighbours_grad(&x);
        assert_eq!(value, three_neighbours(&x));
        let mut want = vec![0.0; n];
        for i in 0..n - 2 {
            let d = x[i + 2] - x[i];
            want[i] += x[i + 1] - 2.0 * d;
            want[i + 1] += x[i];
            want[i + 2] += 2.0 * d;
        }
        for (i, (g, w)) in g.iter().zip(&want).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * w.abs().max(1.0),
                "n = {n}, [{i}]: {g} vs {w}"
            );
        }
        check(|x: &Vec<f64>| three_neighbours(x), x.clone(), g).assert_close(FD_TOL);
    }
}

#[grad]
fn backward_difference(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += (x[i] - x[i - 1]).powi(2) * x[i];
    }
    s
}

/// A negative offset (`x[i - 1]`) and a range that starts at 1: no running
/// sum, the elements are updated in place.
#[test]
fn test_negative_offset_and_late_start() {
    for n in [1, 2, 7] {
        let x = point(n);
        let (value, g) = backward_difference_grad(&x);
        assert_eq!(value, backward_difference(&x));
        check(|x: &Vec<f64>| backward_difference(x), x.clone(), g).assert_close(FD_TOL);
    }
}

#[grad]
fn root_of_sum(x: &[f64], scale: f64) -> f64 {
    let mut s = x[0] * scale;
    for i in 2..x.len() {
        s += scale * x[i].sin() * x[i - 2];
    }
    s.sqrt()
}

/// The sum's adjoint is not 1 (`sqrt` after the loop) and its starting value
/// is differentiated (`x[0] · scale`): the accumulated contributions are
/// scaled, and the start gets the sum's adjoint.
#[test]
fn test_sum_with_nonunit_adjoint_and_differentiated_start() {
    for n in [1, 2, 3, 8] {
        let x: Vec<f64> = point(n).iter().map(|v| v + 1.0).collect();
        let scale = 1.7;
        let (value, (g, d_scale)) = root_of_sum_grad(&x, scale);
        assert_eq!(value, root_of_sum(&x, scale));
        check(
            |(x, scale): &(Vec<f64>, f64)| root_of_sum(x, *scale),
            (x.clone(), scale),
            (g, d_scale),
        )
        .assert_close(FD_TOL);
    }
}

#[grad]
fn weighted_pairs(w: &[f64], xs: &[f64], bias: f64) -> f64 {
    let mut total = 0.0;
    for (i, (w, x)) in w.iter().zip(xs).enumerate() {
        let z = w * x + bias;
        total += autodiff::softplus(z) * (i as f64 + 1.0);
    }
    total * total
}

/// An enumerated `zip` of two differentiated slices and a scalar: running
/// sums for both slices, an accumulator for the scalar.
#[test]
fn test_enumerated_zip_of_two_slices() {
    let w = point(5);
    let xs: Vec<f64> = point(6).iter().map(|v| v * 2.0 - 0.5).collect();
    let (value, (dw, dxs, dbias)) = weighted_pairs_grad(&w, &xs, 0.25);
    assert_eq!(value, weighted_pairs(&w, &xs, 0.25));
    assert_eq!(dxs[5], 0.0, "beyond the shorter slice nothing is read");
    check(
        |(w, xs, bias): &(Vec<f64>, Vec<f64>, f64)| weighted_pairs(w, xs, *bias),
        (w.clone(), xs.clone(), 0.25),
        (dw, dxs, dbias),
    )
    .assert_close(FD_TOL);
}

#[grad]
fn square(x: f64) -> f64 {
    x * x
}

#[grad]
fn sum_of_calls(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter() {
        s += square(*v) + v;
    }
    s
}

/// A call of another `#[grad]` function inside a summing loop.
#[test]
fn test_call_inside_a_summing_loop() {
    let x = point(4);
    let (value, g) = sum_of_calls_grad(&x);
    assert_eq!(value, sum_of_calls(&x));
    for (g, x) in g.iter().zip(&x) {
        assert!((g - (2.0 * x + 1.0)).abs() < 1e-12);
    }
}

#[grad]
fn two_sums(x: &[f64]) -> f64 {
    let mut a = 0.0;
    let mut b = 0.0;
    for v in x.iter() {
        a += v;
        b += v * v;
    }
    b / x.len() as f64 - (a / x.len() as f64).powi(2)
}

/// Two accumulators (the variance): not fused, the general reverse loop.
#[test]
fn test_two_accumulators() {
    let x = point(6);
    let (value, g) = two_sums_grad(&x);
    assert_eq!(value, two_sums(&x));
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    for (g, x) in g.iter().zip(&x) {
        let want = 2.0 * (x - mean) / n;
        assert!((g - want).abs() < 1e-12, "{g} vs {want}");
    }
}

// Indexing from a run-time start is the point here.
#[allow(clippy::needless_range_loop)]
#[grad]
fn empty_sum(x: &[f64], from: usize) -> f64 {
    let mut s = 0.0;
    for i in from..x.len() {
        s += x[i] * x[i];
    }
    s + 1.0
}

/// Zero trips (`from` = len), and a range that starts late.
#[test]
fn test_zero_trip_and_late_start() {
    let x = point(4);
    let (value, g) = empty_sum_grad(&x, 4);
    assert_eq!(value, 1.0);
    assert_eq!(g, [0.0; 4]);
    let (_, g) = empty_sum_grad(&x, 2);
    assert_eq!(g, [0.0, 0.0, 2.0 * x[2], 2.0 * x[3]]);
}

/// `x[i] * x[i]`: the two reads of one element get one pullback, `2·x[i]·d`.
#[allow(clippy::needless_range_loop)] // indexed reads: the shape under test
#[grad]
fn squares(x: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        s += c * (x[i] * x[i]);
    }
    s
}

/// Two reads at one index variable that changes between them: different
/// elements, each with its own pullback.
#[grad]
fn moved_index(x: &[f64]) -> f64 {
    let mut j = 0;
    let a = x[j];
    j += 1;
    let b = x[j];
    a * b
}

#[test]
fn a_squared_element_gets_twice_its_product() {
    let x = [0.5, -1.25, 2.0];
    let (value, (gx, gc)) = squares_grad(&x, 3.0);
    let sum_sq: f64 = x.iter().map(|v| v * v).sum();
    assert!((value - 3.0 * sum_sq).abs() < 1e-12);
    for (g, v) in gx.iter().zip(&x) {
        assert!((g - 6.0 * v).abs() < 1e-12, "{g} vs {}", 6.0 * v);
    }
    assert!((gc - sum_sq).abs() < 1e-12);
    let (value, g) = moved_index_grad(&x);
    assert!((value - x[0] * x[1]).abs() < 1e-15);
    assert_eq!(g, vec![x[1], x[0], 0.0]);
}
