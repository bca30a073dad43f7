//! ndarray's everyday methods under `#[grad]`: `mapv`/`map` with a closure or
//! a fn path, `sum_axis`, `mean_axis(…).unwrap()`, `mean().unwrap()`, `row`,
//! `column`, `index_axis`, `slice(s![…])`, `insert_axis`,
//! `into_shape_with_order`, `to_shape`, `fold` for the largest or smallest
//! element, and the primitives `softmax`, `log_softmax`, `logsumexp`,
//! `logsumexp_axis`, `max_element`, `min_element`. Each function is
//! checked against central finite differences of itself.

use autodiff::{check, grad, log_softmax, logsumexp, logsumexp_axis, sigmoid, silu, softmax, sum};
use ndarray::{Array1, Array2, Axis, array, s};

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

const TOL: f64 = 1e-6;

// ---------------------------------------------------------------- mapv and map

#[grad]
fn mapv_closure(z: &Array1<f64>, m: f64) -> f64 {
    z.mapv(|v| (v - m).exp()).sum()
}

#[test]
fn test_mapv_with_a_closure_capturing_a_parameter() {
    let z = array![0.3, -1.2, 0.8, 1.5];
    let m = 0.4;
    let (y, g) = mapv_closure_grad(&z, m);
    assert_eq!(y, mapv_closure(&z, m));
    check(|(z, m)| mapv_closure(z, *m), (z.clone(), m), g).assert_close(TOL);
}

#[grad]
fn mapv_fn_path(z: &Array2<f64>) -> f64 {
    let t = z.mapv(f64::tanh);
    let s = z.mapv(sigmoid);
    sum(&(&t * &s))
}

#[test]
fn test_mapv_with_fn_paths() {
    let z = matrix(3, 4, 1);
    let (y, g) = mapv_fn_path_grad(&z);
    assert_eq!(y, mapv_fn_path(&z));
    check(|z: &Array2<f64>| mapv_fn_path(z), z.clone(), g).assert_close(TOL);
}

/// `silu` on a whole array, applied by `mapv`, by a call, and on a value
/// the reverse sweep's `_into` pullback may overwrite.
#[grad]
fn silu_layer(z: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let a = z.mapv(silu);
    let h = silu(&w.dot(&a));
    let k = z.map(|&v| silu(v) * v);
    sum(&h) + sum(&k)
}

#[test]
fn test_silu_on_arrays() {
    let z = matrix(3, 4, 4).mapv(|v| 3.0 * v);
    let w = matrix(2, 3, 5);
    let (y, (gz, gw)) = silu_layer_grad(&z, &w);
    assert_eq!(y, silu_layer(&z, &w));
    check(|(z, w)| silu_layer(z, w), (z.clone(), w.clone()), (gz, gw)).assert_close(TOL);
}

#[grad]
fn map_by_reference(z: &Array1<f64>, w: &Array2<f64>) -> f64 {
    // A receiver that is not a name; a closure over `&A`; a block body.
    let h = w.dot(z).map(|&v| {
        let u = 2.0 * v - 1.0;
        u * u + (-u).exp()
    });
    let k = h.map(|v| *v * 0.5 + v.powi(2));
    k.sum()
}

#[test]
fn test_map_by_reference_with_a_block_body() {
    let z = array![0.5, -0.25, 1.0];
    let w = matrix(2, 3, 5);
    let (y, g) = map_by_reference_grad(&z, &w);
    assert_eq!(y, map_by_reference(&z, &w));
    check(|(z, w)| map_by_reference(z, w), (z.clone(), w.clone()), g).assert_close(TOL);
}

// ---------------------------------------------------------------- along an axis

#[grad]
fn axis_sums(x: &Array2<f64>) -> f64 {
    let columns = x.exp().sum_axis(Axis(0));
    let rows = x.mean_axis(Axis(1)).unwrap();
    (&columns * &columns).sum() + rows.mapv(|r| r * r * r).sum() + x.mean().unwrap()
}

#[test]
fn test_sum_axis_mean_axis_and_mean() {
    let x = matrix(3, 4, 2);
    let (y, g) = axis_sums_grad(&x);
    assert_eq!(y, axis_sums(&x));
    check(|x: &Array2<f64>| axis_sums(x), x.clone(), g).assert_close(TOL);
}

#[grad]
fn cross_entropy(z: &Array2<f64>, p: &Array2<f64>) -> f64 {
    let y = softmax(z, Axis(1));
    -(p * &y.ln()).mean().expect("a batch")
}

#[test]
fn test_mean_expect_of_a_softmax() {
    let z = matrix(3, 4, 3) * 3.0;
    let p = matrix(3, 4, 4).mapv(f64::abs);
    let (y, g) = cross_entropy_grad(&z, &p);
    assert_eq!(y, cross_entropy(&z, &p));
    check(|z: &Array2<f64>| cross_entropy(z, &p), z.clone(), g.0).assert_close(TOL);
}

// ---------------------------------------------------------------- parts of an array

#[grad]
fn parts(a: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let first = a.row(0).dot(v);
    let last = a.column(3).sum();
    let inner = a.slice(s![1.., ..2]).sum();
    let middle = a.index_axis(Axis(0), 1);
    first * last + inner * inner + (&middle * &middle).sum()
}

#[test]
fn test_row_column_slice_and_index_axis() {
    let a = matrix(3, 4, 6);
    let v = array![0.5, -1.0, 2.0, 0.25];
    let (y, g) = parts_grad(&a, &v);
    assert_eq!(y, parts(&a, &v));
    check(|(a, v)| parts(a, v), (a.clone(), v.clone()), g).assert_close(TOL);
}

/// Views, a closure and a slice that depend on the loop index, recorded for
/// the reverse sweep.
#[grad]
fn rows_in_a_loop(a: &Array2<f64>, v: &Array1<f64>, m: f64) -> f64 {
    let mut total = 0.0;
    for i in 0..a.nrows() {
        let r = a.row(i).mapv(|e| sigmoid(e * m)).dot(v);
        let q = a.slice(s![i.., ..]).sum_axis(Axis(0)).mean().unwrap();
        total += r * r * q * (i as f64 + 1.0);
    }
    total
}

#[test]
fn test_rows_read_in_a_loop() {
    let a = matrix(4, 3, 7);
    let v = array![0.5, -1.0, 2.0];
    let (y, g) = rows_in_a_loop_grad(&a, &v, 0.7);
    assert_eq!(y, rows_in_a_loop(&a, &v, 0.7));
    check(
        |(a, v, m)| rows_in_a_loop(a, v, *m),
        (a.clone(), v.clone(), 0.7),
        g,
    )
    .assert_close(TOL);
}

#[grad]
fn outer(v: &Array1<f64>) -> f64 {
    let column = v.view().insert_axis(Axis(1));
    let row = v.view().insert_axis(Axis(0));
    let m = column.dot(&row);
    (&m * &m).sum()
}

#[test]
fn test_insert_axis_outer_product() {
    let v = array![0.5, -1.0, 2.0];
    let (y, g) = outer_grad(&v);
    assert_eq!(y, outer(&v));
    check(|v: &Array1<f64>| outer(v), v.clone(), g).assert_close(TOL);
}

// ---------------------------------------------------------------- softmax and friends

#[grad]
fn normalised(z: &Array2<f64>, w: &Array2<f64>) -> f64 {
    let a = softmax(z, Axis(0));
    let b = log_softmax(z, Axis(1));
    let c = logsumexp_axis(z, Axis(1));
    sum(&(&a * w)) + sum(&(&b * w)) + (&c * &c).sum() + logsumexp(z)
}

#[test]
fn test_softmax_log_softmax_and_logsumexp() {
    let z = matrix(3, 4, 8) * 4.0;
    let w = matrix(3, 4, 9);
    let (y, g) = normalised_grad(&z, &w);
    assert_eq!(y, normalised(&z, &w));
    check(|(z, w)| normalised(z, w), (z.clone(), w.clone()), g).assert_close(TOL);
}

/// The values, against the definitions: stable where the naive formula
/// overflows.
#[test]
fn test_softmax_values_against_the_definition() {
    let z = array![[1.0, 2.0, 3.0], [1000.0, 1000.0, 999.0]];
    let y = softmax(&z, Axis(1));
    let e: Array1<f64> = array![1.0_f64, 2.0, 3.0].mapv(f64::exp);
    let want = &e / e.sum();
    for k in 0..3 {
        assert!((y[[0, k]] - want[k]).abs() < 1e-15);
    }
    let e1 = 1.0 / (2.0 + (-1.0_f64).exp());
    assert!((y[[1, 0]] - e1).abs() < 1e-15 && (y[[1, 2]] - e1 * (-1.0_f64).exp()).abs() < 1e-15);
    let l = log_softmax(&z, Axis(1));
    assert!((l[[1, 0]] - e1.ln()).abs() < 1e-13);
    let lse = logsumexp(&array![1000.0, 1000.0]);
    assert!((lse - (1000.0 + 2.0_f64.ln())).abs() < 1e-12);
    assert_eq!(logsumexp(&Array1::<f64>::zeros(0)), f64::NEG_INFINITY);
}

// ---------------------------------------------------------------- fold for max/min

#[grad]
fn fold_extremes(z: &Array2<f64>, c: f64) -> f64 {
    let top = z.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    let low = z.mapv(|v| v * v).fold(c, |acc, v| f64::min(acc, *v));
    top * low + z.fold(-f64::INFINITY, |m: f64, &v: &f64| v.max(m)).sin()
}

#[test]
fn test_fold_for_the_largest_and_smallest_element() {
    let z = matrix(3, 4, 11);
    for c in [0.5, 1e-4] {
        // c = 0.5: `low` is an element of z²; c = 1e-4: `low` is c.
        let (v, (dz, dc)) = fold_extremes_grad(&z, c);
        assert_eq!(v, fold_extremes(&z, c));
        check(
            |(z, c): &(Array2<f64>, f64)| fold_extremes(z, *c),
            (z.clone(), c),
            (dz, dc),
        )
        .assert_close(TOL);
    }
    // The primitives against their definitions.
    let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert_eq!(autodiff::max_element(&z), top);
    assert_eq!(
        autodiff::min_element(&z),
        z.iter().copied().fold(f64::INFINITY, f64::min)
    );
    assert_eq!(
        autodiff::max_element(&Array1::<f64>::zeros(0)),
        f64::NEG_INFINITY
    );
}

// ---------------------------------------------------------------- reshapes

#[grad]
fn reshapes(z: &Array2<f64>, v: &Array1<f64>) -> f64 {
    // An owned intermediate reshaped by value (the reverse sweep reads its
    // shape: the forward sweep reshapes a copy), a reference reshaped with
    // `to_shape`, and a column-major `to_shape`.
    let w = z * 2.0;
    let flat = w.into_shape_with_order(6).unwrap();
    let m = v.to_shape((3, 2)).unwrap();
    let c = z
        .to_shape(((3, 2), ndarray::Order::ColumnMajor))
        .expect("six elements");
    let r = z.exp().into_shape_with_order((3, 2)).unwrap();
    (flat.mapv(f64::sin).sum() + (&m * &c).sum() + (&r * &m).sum()) * 0.1
}

#[test]
fn test_reshapes() {
    let z = matrix(2, 3, 5);
    let v = Array1::from_iter(matrix(1, 6, 6));
    let (y, (dz, dv)) = reshapes_grad(&z, &v);
    assert_eq!(y, reshapes(&z, &v));
    check(
        |(z, v): &(Array2<f64>, Array1<f64>)| reshapes(z, v),
        (z.clone(), v.clone()),
        (dz, dv),
    )
    .assert_close(TOL);
}

// ---------------------------------------------------------------- concatenate and stack

#[grad]
fn joins(a: &Array2<f64>, b: &Array2<f64>, v: &Array1<f64>) -> f64 {
    let c = ndarray::concatenate(Axis(0), &[a.view(), b.view()]).unwrap();
    let e = a.exp();
    let s = ndarray::stack(Axis(1), &[a.view(), e.view(), b.view()]).expect("same shapes");
    let eb = b.exp();
    let m = ndarray::concatenate![Axis(1), e, eb, e];
    let v2 = v * 2.0;
    let w = ndarray::stack![Axis(0), v2, v.mapv(f64::sin)];
    (c.mapv(f64::sin).sum()
        + (&s * &s).sum() * 0.1
        + m.sum_axis(Axis(0)).mapv(f64::tanh).sum()
        + w.mapv(f64::cos).sum())
        * 0.5
}

#[test]
fn test_concatenate_and_stack() {
    let (a, b) = (matrix(2, 3, 7), matrix(2, 3, 8));
    let v = Array1::from_iter(matrix(1, 2, 9));
    let (y, (da, db, dv)) = joins_grad(&a, &b, &v);
    assert_eq!(y, joins(&a, &b, &v));
    check(
        |(a, b, v): &(Array2<f64>, Array2<f64>, Array1<f64>)| joins(a, b, v),
        (a.clone(), b.clone(), v.clone()),
        (da, db, dv),
    )
    .assert_close(TOL);
}

// ---------------------------------------------------------------- powi and powf

#[grad]
fn powers(a: &Array1<f64>, e: f64) -> f64 {
    // ndarray's `powf(n)` raises every element to one exponent: its
    // gradient is the sum over the elements.
    a.powi(3).sum() + a.mapv(|v| v.abs() + 1.0).powf(e).sum()
}

#[test]
fn test_powi_and_powf_of_an_array() {
    let a = Array1::from_iter(matrix(1, 5, 10));
    for e in [1.5, -0.5] {
        let (y, (da, de)) = powers_grad(&a, e);
        assert_eq!(y, powers(&a, e));
        check(
            |(a, e): &(Array1<f64>, f64)| powers(a, *e),
            (a.clone(), e),
            (da, de),
        )
        .assert_close(TOL);
    }
}
