//! `#[grad]` on iterator chains and closures written as people write them:
//! `map`/`sum`, `zip`, `fold`, `rev`, `windows`, `collect`, `iter_mut`, local
//! closures. The `desugar` pass turns each into a `for` loop; every gradient
//! is checked against central finite differences (`autodiff::check`).

use autodiff::{Scalar, check, check_with, grad};

const X: [f64; 5] = [0.5, -1.25, 2.0, 0.75, 1.5];

fn xs() -> Vec<f64> {
    X.to_vec()
}

fn check1(f: impl Fn(&[f64]) -> f64, g: &[f64]) {
    check(|x: &Vec<f64>| f(x), xs(), g.to_vec()).assert_close(1e-6);
}

#[grad]
fn sum_squares(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn test_sum_squares() {
    let (y, g) = sum_squares_grad(&X);
    assert_eq!(y, sum_squares(&X));
    check1(sum_squares, &g);
}

#[grad]
fn dot_zip(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}

#[grad]
fn dot_zip_turbofish(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x.iter()).map(|(a, b)| a * b).sum::<f64>()
}

#[test]
fn test_dot_zip() {
    let w = [1.5, -0.5, 0.25, 2.0, -1.0];
    let (y, (dw, dx)) = dot_zip_grad(&w, &X);
    assert_eq!(y, dot_zip(&w, &X));
    assert_eq!(dw, X.to_vec());
    assert_eq!(dx, w.to_vec());
    let (y2, (dw2, dx2)) = dot_zip_turbofish_grad(&w, &X);
    assert_eq!((y2, &dw2, &dx2), (y, &dw, &dx));
    check(
        |(w, x): &(Vec<f64>, Vec<f64>)| dot_zip(w, x),
        (w.to_vec(), xs()),
        (dw, dx),
    )
    .assert_close(1e-6);
}

#[grad]
fn product_fold(x: &[f64]) -> f64 {
    x.iter().fold(1.0, |acc, v| acc * v)
}

#[test]
fn test_product_fold() {
    let (y, g) = product_fold_grad(&X);
    assert_eq!(y, product_fold(&X));
    check1(product_fold, &g);
}

#[grad]
fn max_fold(x: &[f64]) -> f64 {
    x.iter().cloned().fold(f64::NEG_INFINITY, f64::max)
}

#[test]
fn test_max_fold() {
    let (y, g) = max_fold_grad(&X);
    assert_eq!(y, 2.0);
    assert_eq!(g, vec![0.0, 0.0, 1.0, 0.0, 0.0]);
    check1(max_fold, &g);
}

#[grad(wrt(coeffs, x))]
fn horner(coeffs: &[f64], x: f64) -> f64 {
    coeffs.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

#[test]
fn test_horner() {
    let c = xs();
    let x = 0.7;
    let (y, (dc, dx)) = horner_grad(&c, x);
    let want: f64 = c
        .iter()
        .enumerate()
        .map(|(k, c)| c * x.powi(k as i32))
        .sum();
    assert!((y - want).abs() < 1e-12);
    check(
        |(c, x): &(Vec<f64>, f64)| horner(c, *x),
        (c.clone(), x),
        (dc, dx),
    )
    .assert_close(1e-6);
}

#[grad]
fn roughness(x: &[f64]) -> f64 {
    x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum()
}

#[test]
fn test_roughness() {
    let (y, g) = roughness_grad(&X);
    assert_eq!(y, roughness(&X));
    check1(roughness, &g);
}

#[grad]
fn collect_tanh(x: &[f64]) -> f64 {
    let h: Vec<f64> = x.iter().map(|v| v.tanh()).collect();
    h[0] * h[1] + h[4]
}

#[test]
fn test_collect_tanh() {
    let (y, g) = collect_tanh_grad(&X);
    assert_eq!(y, collect_tanh(&X));
    check1(collect_tanh, &g);
}

#[grad]
fn iter_mut_zip(x: &[f64]) -> f64 {
    let mut out = vec![0.0; x.len()];
    for (o, v) in out.iter_mut().zip(x) {
        *o = v.tanh();
    }
    out[0] + out[2] * out[3]
}

#[test]
fn test_iter_mut_zip() {
    let (y, g) = iter_mut_zip_grad(&X);
    assert_eq!(y, iter_mut_zip(&X));
    check1(iter_mut_zip, &g);
}

#[grad]
fn local_closure(x: f64, y: f64) -> f64 {
    let sq = |v: f64| v * v;
    sq(x) + sq(y)
}

#[test]
fn test_local_closure() {
    let (v, (dx, dy)) = local_closure_grad(1.5, -2.0);
    assert_eq!(v, 6.25);
    assert_eq!((dx, dy), (3.0, -4.0));
    check(
        |&(x, y): &(f64, f64)| local_closure(x, y),
        (1.5, -2.0),
        (dx, dy),
    )
    .assert_close(1e-6);
}

#[grad]
fn exp_product(x: &[f64]) -> f64 {
    x.iter().map(|&v| v.exp()).product::<f64>()
}

#[test]
fn test_exp_product() {
    let (y, g) = exp_product_grad(&X);
    assert!((y - exp_product(&X)).abs() < 1e-12);
    check1(exp_product, &g);
}

#[grad]
fn weighted_by_index(x: &[f64]) -> f64 {
    x.iter().enumerate().map(|(i, v)| v * i as f64).sum::<f64>()
}

#[test]
fn test_weighted_by_index() {
    let (_, g) = weighted_by_index_grad(&X);
    assert_eq!(g, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    check1(weighted_by_index, &g);
}

#[grad]
fn copied_sum(x: &[f64]) -> f64 {
    x.iter().copied().map(|v| v.sin()).sum()
}

#[test]
fn test_copied_sum() {
    let (_, g) = copied_sum_grad(&X);
    check1(copied_sum, &g);
}

#[grad]
fn into_iter_vec(x: Vec<f64>) -> f64 {
    x.into_iter().map(|v| v * v * v).sum::<f64>()
}

#[test]
fn test_into_iter_vec() {
    let (_, g) = into_iter_vec_grad(xs());
    check(|x: &Vec<f64>| into_iter_vec(x.clone()), xs(), g).assert_close(1e-6);
}

#[grad]
fn array_sum(x: [f64; 3]) -> f64 {
    x.iter().map(|v| v.exp()).sum()
}

#[test]
fn test_array_sum() {
    let x = [0.1, -0.2, 0.3];
    let (_, g) = array_sum_grad(x);
    check(|x: &[f64; 3]| array_sum(*x), x, g).assert_close(1e-6);
}

#[grad]
fn skip_take(x: &[f64]) -> f64 {
    x.iter().skip(1).take(3).map(|v| v * v).sum::<f64>()
}

#[test]
fn test_skip_take() {
    let (y, g) = skip_take_grad(&X);
    assert_eq!(y, skip_take(&X));
    assert_eq!(g, vec![0.0, 2.0 * X[1], 2.0 * X[2], 2.0 * X[3], 0.0]);
    check1(skip_take, &g);
}

#[grad]
fn every_other(x: &[f64]) -> f64 {
    x.iter().step_by(2).map(|v| v.sin()).sum::<f64>()
}

#[test]
fn test_every_other() {
    let (y, g) = every_other_grad(&X);
    assert_eq!(y, every_other(&X));
    assert_eq!(g[1], 0.0);
    assert_eq!(g[3], 0.0);
    check1(every_other, &g);
}

#[grad]
fn positive_part(x: &[f64]) -> f64 {
    x.iter().filter(|v| **v > 0.0).map(|v| v * v).sum::<f64>()
}

#[grad]
fn positive_part_ref(x: &[f64]) -> f64 {
    x.iter().copied().filter(|&v| v > 0.0).sum::<f64>()
}

#[test]
fn test_filter() {
    let (y, g) = positive_part_grad(&X);
    assert_eq!(y, positive_part(&X));
    check1(positive_part, &g);
    let (y, g) = positive_part_ref_grad(&X);
    assert_eq!(y, positive_part_ref(&X));
    assert_eq!(g, vec![1.0, 0.0, 1.0, 1.0, 1.0]);
    check1(positive_part_ref, &g);
}

#[grad]
fn count_positive_scaled(x: &[f64], s: f64) -> f64 {
    let n = x.iter().filter(|&&v| v > 0.0).count();
    s * n as f64
}

#[test]
fn test_count() {
    let (y, (dx, ds)) = count_positive_scaled_grad(&X, 2.0);
    assert_eq!(y, 8.0);
    assert_eq!(ds, 4.0);
    assert_eq!(dx, vec![0.0; 5]);
    check(
        |(x, s): &(Vec<f64>, f64)| count_positive_scaled(x, *s),
        (xs(), 2.0),
        (dx, ds),
    )
    .assert_close(1e-6);
}

#[grad]
fn fn_path_map(x: &[f64]) -> f64 {
    x.iter().copied().map(f64::exp).sum::<f64>()
}

#[test]
fn test_fn_path_map() {
    let (_, g) = fn_path_map_grad(&X);
    check1(fn_path_map, &g);
}

#[grad]
fn range_source(x: &[f64]) -> f64 {
    let n = x.len();
    (0..n).map(|i| x[i] * x[i]).sum::<f64>()
}

#[test]
fn test_range_source() {
    let (_, g) = range_source_grad(&X);
    check1(range_source, &g);
}

#[grad]
fn range_neighbours(x: &[f64]) -> f64 {
    (1..x.len()).map(|i| x[i] * x[i - 1]).sum::<f64>()
}

#[test]
fn test_range_neighbours() {
    let (_, g) = range_neighbours_grad(&X);
    check1(range_neighbours, &g);
}

#[grad]
fn mean_squared_error(pred: &[f64], target: &[f64]) -> f64 {
    let n = pred.len() as f64;
    pred.iter()
        .zip(target)
        .map(|(p, t)| (p - t).powi(2))
        .sum::<f64>()
        / n
}

#[test]
fn test_mean_squared_error() {
    let t = [0.0, 1.0, -1.0, 0.5, 0.25];
    let (_, (dp, dt)) = mean_squared_error_grad(&X, &t);
    check(
        |(p, t): &(Vec<f64>, Vec<f64>)| mean_squared_error(p, t),
        (xs(), t.to_vec()),
        (dp, dt),
    )
    .assert_close(1e-6);
}

#[grad]
fn log_sum_exp(x: &[f64]) -> f64 {
    let m = x.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    m + x.iter().map(|v| (v - m).exp()).sum::<f64>().ln()
}

#[test]
fn test_log_sum_exp() {
    let (_, g) = log_sum_exp_grad(&X);
    check1(log_sum_exp, &g);
}

#[grad]
fn closure_in_chain(x: &[f64], a: f64) -> f64 {
    let f = |v: f64| a * v.tanh();
    x.iter().map(|&v| f(v)).sum::<f64>()
}

#[test]
fn test_closure_in_chain() {
    let (_, (dx, da)) = closure_in_chain_grad(&X, 0.8);
    check(
        |(x, a): &(Vec<f64>, f64)| closure_in_chain(x, *a),
        (xs(), 0.8),
        (dx, da),
    )
    .assert_close(1e-6);
}

#[grad]
fn block_closure(x: &[f64]) -> f64 {
    x.iter()
        .map(|v| {
            let s = v.sin();
            s * s
        })
        .sum::<f64>()
}

#[test]
fn test_block_closure() {
    let (_, g) = block_closure_grad(&X);
    check1(block_closure, &g);
}

#[grad]
fn rev_enumerate(x: &[f64]) -> f64 {
    x.iter()
        .rev()
        .enumerate()
        .map(|(i, v)| v * (i + 1) as f64)
        .sum::<f64>()
}

#[test]
fn test_rev_enumerate() {
    let (_, g) = rev_enumerate_grad(&X);
    assert_eq!(g, vec![5.0, 4.0, 3.0, 2.0, 1.0]);
    check1(rev_enumerate, &g);
}

#[grad]
fn sum_f32(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum()
}

#[grad]
fn fold_f32(x: &[f32]) -> f32 {
    x.iter().fold(0.0, |acc, v| acc + v.sin())
}

#[grad]
fn product_f32(x: &[f32]) -> f32 {
    x.iter().copied().product()
}

#[test]
fn test_f32() {
    let x: Vec<f32> = vec![0.5, -1.25, 2.0];
    let (y, g) = sum_f32_grad(&x);
    assert_eq!(y, sum_f32(&x));
    assert_eq!(g, vec![1.0, -2.5, 4.0]);
    let (_, g32) = fold_f32_grad(&x);
    for (g, x) in g32.iter().zip(&x) {
        assert!((g - x.cos()).abs() < 1e-6);
    }
    check_with(1e-3, |x: &Vec<f32>| sum_f32(x), x.clone(), g).assert_close(1e-3);
    let (_, g) = fold_f32_grad(&x);
    check_with(1e-3, |x: &Vec<f32>| fold_f32(x), x.clone(), g).assert_close(1e-3);
    let (y, g) = product_f32_grad(&x);
    assert_eq!(y, -1.25);
    assert_eq!(g, vec![-2.5, 1.0, -0.625]);
    check_with(1e-3, |x: &Vec<f32>| product_f32(x), x.clone(), g).assert_close(1e-3);
}

#[grad]
fn energy<T: Scalar>(x: &[T], k: T) -> T {
    k * x.iter().fold(T::zero(), |acc, &v| acc + v * v)
}

#[test]
fn test_generic() {
    let (_, (dx, dk)) = energy_grad(&X, 0.5);
    check(
        |(x, k): &(Vec<f64>, f64)| energy(x, *k),
        (xs(), 0.5),
        (dx, dk),
    )
    .assert_close(1e-6);
    let x32: Vec<f32> = vec![1.0, 2.0];
    let (y, (dx, dk)) = energy_grad(&x32, 2.0_f32);
    assert_eq!((y, &dx, dk), (10.0, &vec![4.0, 8.0], 5.0));
    check_with(
        1e-3,
        |(x, k): &(Vec<f32>, f32)| energy(x, *k),
        (x32.clone(), 2.0),
        (dx, dk),
    )
    .assert_close(1e-3);
}

#[grad(wrt(coeffs, x))]
fn horner_loop(coeffs: &[f64], x: f64) -> f64 {
    let mut acc = 0.0;
    for c in coeffs.iter().rev() {
        acc = acc * x + c;
    }
    acc
}

#[test]
fn test_horner_loop() {
    let c = xs();
    let (y, (dc, dx)) = horner_loop_grad(&c, 0.7);
    assert_eq!((y, (dc.clone(), dx)), horner_grad(&c, 0.7));
    check(
        |(c, x): &(Vec<f64>, f64)| horner_loop(c, *x),
        (c.clone(), 0.7),
        (dc, dx),
    )
    .assert_close(1e-6);
}

#[grad]
fn windows_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(3) {
        s += (w[0] - 2.0 * w[1] + w[2]).powi(2);
    }
    s
}

#[test]
fn test_windows_loop() {
    let (_, g) = windows_loop_grad(&X);
    check1(windows_loop, &g);
}

#[grad]
fn filtered_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for v in x.iter().skip(1).filter(|v| v.abs() < 1.6) {
        s += v.exp();
    }
    s
}

#[test]
fn test_filtered_loop() {
    let (y, g) = filtered_loop_grad(&X);
    assert_eq!(y, filtered_loop(&X));
    assert_eq!(g[0], 0.0);
    assert_eq!(g[2], 0.0);
    check1(filtered_loop, &g);
}

#[grad]
fn range_rev_step(x: &[f64]) -> f64 {
    (0..x.len())
        .rev()
        .step_by(2)
        .map(|i| x[i] * (i + 1) as f64)
        .sum::<f64>()
}

#[test]
fn test_range_rev_step() {
    let (_, g) = range_rev_step_grad(&X);
    assert_eq!(g, vec![1.0, 0.0, 3.0, 0.0, 5.0]);
    check1(range_rev_step, &g);
}

#[grad]
fn step_then_rev(x: &[f64]) -> f64 {
    x.iter().step_by(2).rev().fold(0.0, |acc, v| 2.0 * acc + v)
}

#[test]
fn test_step_then_rev() {
    // Items x[4], x[2], x[0]: 4·x[4] + 2·x[2] + x[0].
    let (y, g) = step_then_rev_grad(&X);
    assert_eq!(y, 4.0 * X[4] + 2.0 * X[2] + X[0]);
    assert_eq!(g, vec![1.0, 0.0, 2.0, 0.0, 4.0]);
    check1(step_then_rev, &g);
}

/// Names the chain's closures share with each other and with the code
/// around them keep their meaning.
#[grad]
fn shadowing(x: &[f64], v: f64) -> f64 {
    let a = x.iter().map(|v| v * 2.0).fold(0.0, |acc, w| acc + w * v);
    let b = x.iter().filter(|e| **e > v).map(|&e| e * e).sum::<f64>();
    let mut c = 0.0;
    for e in x.iter().rev().filter(|w| w.abs() < v) {
        c = 0.5 * c + e;
    }
    a + b + c
}

#[test]
fn test_shadowing() {
    let (y, (dx, dv)) = shadowing_grad(&X, 0.6);
    let a: f64 = X.iter().map(|w| 2.0 * w * 0.6).sum();
    let b: f64 = X.iter().filter(|e| **e > 0.6).map(|e| e * e).sum();
    let mut c = 0.0;
    for e in X.iter().rev().filter(|w| w.abs() < 0.6) {
        c = 0.5 * c + e;
    }
    assert!((y - (a + b + c)).abs() < 1e-12);
    check(
        |(x, v): &(Vec<f64>, f64)| shadowing(x, *v),
        (xs(), 0.6),
        (dx, dv),
    )
    .assert_close(1e-6);
}

#[grad]
fn swapped_arguments(x: f64, y: f64) -> f64 {
    let diff = |a: f64, b: f64| a - 2.0 * b;
    let a = 1.0;
    let b = 2.0;
    diff(y, x) * a + b
}

#[test]
fn test_swapped_arguments() {
    let (value, (dx, dy)) = swapped_arguments_grad(1.5, 4.0);
    assert_eq!(value, 4.0 - 3.0 + 2.0);
    assert_eq!((dx, dy), (-2.0, 1.0));
    check(
        |&(x, y): &(f64, f64)| swapped_arguments(x, y),
        (1.5, 4.0),
        (dx, dy),
    )
    .assert_close(1e-6);
}

#[grad]
fn filter_on_pairs(w: &[f64], x: &[f64]) -> f64 {
    w.iter()
        .zip(x)
        .filter(|(a, b)| **a > 0.0 && b.abs() < 1.9)
        .map(|(a, b)| a * b)
        .sum::<f64>()
}

#[test]
fn test_filter_on_pairs() {
    let w = [1.0, 2.0, -1.0, 0.5, 3.0];
    let (_, (dw, dx)) = filter_on_pairs_grad(&w, &X);
    assert_eq!(dw, vec![0.5, -1.25, 0.0, 0.75, 1.5]);
    assert_eq!(dx, vec![1.0, 2.0, 0.0, 0.5, 3.0]);
    check(
        |(w, x): &(Vec<f64>, Vec<f64>)| filter_on_pairs(w, x),
        (w.to_vec(), xs()),
        (dw, dx),
    )
    .assert_close(1e-6);
}

/// A chain over an ndarray parameter is left as written (`a[k]` would not
/// index a 2-D array); over constants it runs in the forward sweep as is.
#[grad(wrt(x))]
fn ndarray_constant_chain(x: f64, a: &ndarray::Array2<f64>) -> f64 {
    let s = a.iter().map(|v| v * v).sum::<f64>();
    x * s
}

#[test]
fn test_ndarray_constant_chain() {
    let a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    let (y, dx) = ndarray_constant_chain_grad(0.5, &a);
    assert_eq!((y, dx), (15.0, 30.0));
}

#[grad]
fn collect_generic<T: Scalar>(x: &[T]) -> T {
    let h: Vec<T> = x.iter().map(|v| v.tanh()).collect();
    h[0] * h[1]
}

#[grad]
fn collect_turbofish(x: &[f64]) -> f64 {
    let h = x.iter().rev().map(|v| v.sin()).collect::<Vec<_>>();
    h[0] - h[4]
}

#[test]
fn test_collect_generic_and_turbofish() {
    let (_, g) = collect_generic_grad(&X);
    check1(collect_generic::<f64>, &g);
    let (y, g) = collect_turbofish_grad(&X);
    assert_eq!(y, X[4].sin() - X[0].sin());
    check1(collect_turbofish, &g);
}

/// A chain inside a closure of a chain: two nested loops. (The outer
/// element is taken by value, `|&v|`: a `&f64` loop element read in an inner
/// loop is not differentiated yet, written as a chain or by hand.)
#[grad]
fn nested(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .map(|&v| y.iter().map(|w| (w - v).powi(2)).sum::<f64>())
        .sum::<f64>()
}

#[test]
fn test_nested() {
    let y = [0.25, -0.5, 1.0];
    let (value, (dx, dy)) = nested_grad(&X, &y);
    assert_eq!(value, nested(&X, &y));
    check(
        |(x, y): &(Vec<f64>, Vec<f64>)| nested(x, y),
        (xs(), y.to_vec()),
        (dx, dy),
    )
    .assert_close(1e-6);
}

// A `zip` with a reversed side, and a `rev` before a `zip`: each slice is
// read from its own end, also when the two differ in length.
#[grad]
fn zip_reversed(x: &[f64]) -> f64 {
    x.iter()
        .zip(x.iter().rev())
        .map(|(a, b)| a * b.sin())
        .sum::<f64>()
}

#[grad]
fn rev_then_zip(x: &[f64], y: &[f64]) -> f64 {
    x.iter().rev().zip(y).map(|(a, b)| a * b * b).sum::<f64>()
}

#[grad]
fn zip_reversed_copied_rev_fold(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y.iter().rev().copied())
        .rev()
        .fold(0.0, |acc, (a, b)| acc * 0.5 + a * b.sin())
}

#[grad]
fn for_zip_reversed(x: &[f64], y: &[f64]) -> f64 {
    let mut s = 0.0;
    for (a, &b) in x.iter().zip(y.iter().rev()) {
        s += a * b.cos();
    }
    s
}

#[test]
fn test_zip_with_a_reversed_side() {
    let (v, g) = zip_reversed_grad(&X);
    let plain: f64 = X.iter().zip(X.iter().rev()).map(|(a, b)| a * b.sin()).sum();
    assert_eq!(v, plain);
    check1(zip_reversed, &g);
    // Lengths 5 and 3, then 2 and 4: the shorter one bounds the pairs.
    for y in [vec![0.3, -1.1, 2.0], vec![0.3, -1.1, 2.0, 4.0, 0.5, -0.25]] {
        let x = if y.len() == 3 {
            xs()
        } else {
            xs()[..2].to_vec()
        };
        type F = fn(&[f64], &[f64]) -> f64;
        type G = fn(&[f64], &[f64]) -> (f64, (Vec<f64>, Vec<f64>));
        let cases: [(F, G, F); 3] = [
            (rev_then_zip, rev_then_zip_grad, |x, y| {
                x.iter().rev().zip(y).map(|(a, b)| a * b * b).sum()
            }),
            (
                zip_reversed_copied_rev_fold,
                zip_reversed_copied_rev_fold_grad,
                |x, y| {
                    x.iter()
                        .zip(y.iter().rev().copied())
                        .rev()
                        .fold(0.0, |acc, (a, b)| acc * 0.5 + a * b.sin())
                },
            ),
            (for_zip_reversed, for_zip_reversed_grad, |x, y| {
                x.iter()
                    .zip(y.iter().rev())
                    .map(|(a, &b)| a * b.cos())
                    .sum()
            }),
        ];
        for (f, f_grad, plain) in cases {
            let (v, (dx, dy)) = f_grad(&x, &y);
            assert_eq!(v, plain(&x, &y));
            check(
                |(x, y): &(Vec<f64>, Vec<f64>)| f(x, y),
                (x.clone(), y.clone()),
                (dx, dy),
            )
            .assert_close(1e-6);
        }
    }
}

// An array literal whose element is a `#[grad]` call's result read again by
// the reverse sweep: the literal owns a copy (it once borrowed it, E0308).
#[grad(wrt(x))]
fn scaled(n: i32, x: f64, s: f64) -> f64 {
    x * s * f64::from(n)
}

#[grad]
fn min_of_a_literal(x: f64, y: f64) -> f64 {
    let parts = [scaled(2, x, 0.5).atan(), y * 2.0, (x * y).sin()];
    parts.iter().copied().fold(f64::INFINITY, f64::min)
}

#[test]
fn test_min_of_a_literal_with_a_call() {
    for (x, y) in [(0.3, 1.2), (2.0, 0.1), (-1.0, 0.7)] {
        let (v, (dx, dy)) = min_of_a_literal_grad(x, y);
        assert_eq!(v, min_of_a_literal(x, y));
        check(
            |&(x, y): &(f64, f64)| min_of_a_literal(x, y),
            (x, y),
            (dx, dy),
        )
        .assert_close(1e-6);
    }
}

// A closure reading a name that a later `let` binds again: it reads the
// value it captured, also where it is called after the new binding.
#[grad]
fn closure_over_a_shadowed_name(x: f64, y: f64) -> f64 {
    let f = |v: f64| x.sin() * v;
    let a = f(y);
    let x = y * 3.0;
    a + f(x)
}

// A closure never called costs nothing, whatever it reads.
#[grad]
fn closure_never_called(x: f64, y: f64) -> f64 {
    let _unused = |v: f64| x.hypot(0.1).powi(-2) + v;
    let c = x * y;
    let x = -c;
    x * 2.0
}

#[test]
fn test_closures_over_shadowed_names() {
    for (x, y) in [(0.7, 1.3), (-2.0, 0.4)] {
        let (v, (dx, dy)) = closure_over_a_shadowed_name_grad(x, y);
        assert_eq!(v, closure_over_a_shadowed_name(x, y));
        check(
            |&(x, y): &(f64, f64)| closure_over_a_shadowed_name(x, y),
            (x, y),
            (dx, dy),
        )
        .assert_close(1e-6);
        let (v, (dx, dy)) = closure_never_called_grad(x, y);
        assert_eq!(v, closure_never_called(x, y));
        assert_eq!((dx, dy), (-2.0 * y, -2.0 * x));
    }
}

// `skip`, `take`, `step_by` and `rev` in any order: each moves the
// positions of the ones before it. The values are those of the same chain
// run by `Iterator`; the gradients are checked against central differences.
#[grad]
fn rev_skip(x: &[f64]) -> f64 {
    x.iter().rev().skip(1).map(|v| v * v.sin()).sum::<f64>()
}

#[grad]
fn rev_take(x: &[f64]) -> f64 {
    x.iter()
        .rev()
        .take(3)
        .fold(0.0, |acc, v| acc * 0.5 + v.cos())
}

#[grad]
fn step_rev(x: &[f64]) -> f64 {
    x.iter()
        .step_by(2)
        .rev()
        .fold(1.0, |acc, v| acc * 0.75 + v * v)
}

#[grad]
fn skip_rev_step(x: &[f64]) -> f64 {
    x.iter()
        .skip(1)
        .rev()
        .step_by(2)
        .map(|v| v.tanh())
        .sum::<f64>()
}

#[grad]
fn take_rev_skip(x: &[f64]) -> f64 {
    x.iter()
        .take(4)
        .rev()
        .skip(1)
        .fold(0.0, |acc, v| acc * 1.5 - v)
}

#[grad]
fn rev_take_zip(x: &[f64]) -> f64 {
    x.iter()
        .rev()
        .take(3)
        .zip(x)
        .map(|(a, b)| a * b)
        .sum::<f64>()
}

#[grad]
fn range_rev_skip(x: &[f64]) -> f64 {
    (0..x.len())
        .rev()
        .skip(1)
        .map(|i| x[i] * x[x.len() - 1 - i])
        .sum::<f64>()
}

#[grad]
fn windows_rev_step(x: &[f64]) -> f64 {
    x.windows(2)
        .rev()
        .step_by(2)
        .map(|w| (w[1] - w[0]).powi(2))
        .sum::<f64>()
}

#[test]
fn test_moves_in_any_order() {
    type F = fn(&[f64]) -> f64;
    type G = fn(&[f64]) -> (f64, Vec<f64>);
    let cases: [(&str, F, G, F); 8] = [
        ("rev_skip", rev_skip, rev_skip_grad, |x| {
            x.iter().rev().skip(1).map(|v| v * v.sin()).sum::<f64>()
        }),
        ("rev_take", rev_take, rev_take_grad, |x| {
            x.iter()
                .rev()
                .take(3)
                .fold(0.0, |acc, v| acc * 0.5 + v.cos())
        }),
        ("step_rev", step_rev, step_rev_grad, |x| {
            x.iter()
                .step_by(2)
                .rev()
                .fold(1.0, |acc, v| acc * 0.75 + v * v)
        }),
        ("skip_rev_step", skip_rev_step, skip_rev_step_grad, |x| {
            x.iter()
                .skip(1)
                .rev()
                .step_by(2)
                .map(|v| v.tanh())
                .sum::<f64>()
        }),
        ("take_rev_skip", take_rev_skip, take_rev_skip_grad, |x| {
            x.iter()
                .take(4)
                .rev()
                .skip(1)
                .fold(0.0, |acc, v| acc * 1.5 - v)
        }),
        ("rev_take_zip", rev_take_zip, rev_take_zip_grad, |x| {
            x.iter()
                .rev()
                .take(3)
                .zip(x)
                .map(|(a, b)| a * b)
                .sum::<f64>()
        }),
        ("range_rev_skip", range_rev_skip, range_rev_skip_grad, |x| {
            (0..x.len())
                .rev()
                .skip(1)
                .map(|i| x[i] * x[x.len() - 1 - i])
                .sum::<f64>()
        }),
        (
            "windows_rev_step",
            windows_rev_step,
            windows_rev_step_grad,
            |x| {
                x.windows(2)
                    .rev()
                    .step_by(2)
                    .map(|w| (w[1] - w[0]).powi(2))
                    .sum::<f64>()
            },
        ),
    ];
    for n in [0, 1, 4, 5, 8] {
        let x: Vec<f64> = (0..n)
            .map(|k| 0.3 + 0.7 * f64::from(k) - 0.1 * f64::from(k * k))
            .collect();
        for (name, f, f_grad, plain) in cases {
            let (v, g) = f_grad(&x);
            assert_eq!(v, plain(&x), "{name} at n = {n}");
            check(|x: &Vec<f64>| f(x), x.clone(), g).assert_close(1e-6);
        }
    }
}

// A local array of computed values read by index with `|&v|` (after `rev`
// and `skip`, and a `zip` with itself reversed): each element is a copy,
// also where the macro cannot tell the element type (a call's result).
#[grad(wrt(x))]
fn local_array_moves(x: f64, y: f64) -> f64 {
    let parts = [
        x * 0.1,
        y.powi(1),
        (x + y).atan(),
        scaled(1, x, y),
        y.atan2((x * 0.1).exp()),
    ];
    let a = parts
        .iter()
        .rev()
        .skip(2)
        .map(|&v| v.mul_add(v, v))
        .sum::<f64>();
    let b = parts
        .iter()
        .zip(parts.iter().rev())
        .map(|(&p, &q)| f64::atan2(p, q.exp() + 1.0))
        .sum::<f64>();
    a * b
}

#[test]
fn test_local_array_moves() {
    for (x, y) in [(0.3, 0.7), (-1.2, 0.4)] {
        let (v, dx) = local_array_moves_grad(x, y);
        assert_eq!(v, local_array_moves(x, y));
        check(|&x: &f64| local_array_moves(x, y), x, dx).assert_close(1e-6);
    }
}

// Moves on either side of a `zip`, and a `zip` of a zip: each slice keeps
// the positions of its own moves (`step_by` before a `zip` was once read
// at the other side's positions, then rejected).
#[grad]
fn step_then_zip(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .step_by(2)
        .zip(y)
        .map(|(a, b)| a * b.sin())
        .sum::<f64>()
}

#[grad]
fn zip_with_skipped(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y.iter().skip(1))
        .map(|(a, b)| a * b.cos())
        .sum::<f64>()
}

#[grad]
fn moves_on_both_sides(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .rev()
        .take(3)
        .zip(y.iter().rev().step_by(2).copied())
        .rev()
        .skip(1)
        .fold(0.5, |acc, (a, b)| acc * a + b)
}

#[grad]
fn zip_of_a_zip(x: &[f64], y: &[f64]) -> f64 {
    x.iter()
        .zip(y.iter().rev())
        .skip(1)
        .zip(x.iter().step_by(2))
        .map(|((a, b), c)| a * b - c)
        .sum::<f64>()
}

#[test]
fn test_moves_on_either_side_of_a_zip() {
    type F = fn(&[f64], &[f64]) -> f64;
    type G = fn(&[f64], &[f64]) -> (f64, (Vec<f64>, Vec<f64>));
    let cases: [(&str, F, G, F); 4] = [
        (
            "step_then_zip",
            step_then_zip,
            step_then_zip_grad,
            |x, y| x.iter().step_by(2).zip(y).map(|(a, b)| a * b.sin()).sum(),
        ),
        (
            "zip_with_skipped",
            zip_with_skipped,
            zip_with_skipped_grad,
            |x, y| {
                x.iter()
                    .zip(y.iter().skip(1))
                    .map(|(a, b)| a * b.cos())
                    .sum()
            },
        ),
        (
            "moves_on_both_sides",
            moves_on_both_sides,
            moves_on_both_sides_grad,
            |x, y| {
                x.iter()
                    .rev()
                    .take(3)
                    .zip(y.iter().rev().step_by(2).copied())
                    .rev()
                    .skip(1)
                    .fold(0.5, |acc, (a, b)| acc * a + b)
            },
        ),
        ("zip_of_a_zip", zip_of_a_zip, zip_of_a_zip_grad, |x, y| {
            x.iter()
                .zip(y.iter().rev())
                .skip(1)
                .zip(x.iter().step_by(2))
                .map(|((a, b), c)| a * b - c)
                .sum()
        }),
    ];
    for (n, m) in [(7, 5), (4, 9), (0, 3), (1, 1)] {
        let x: Vec<f64> = (0..n).map(|k| 0.3 + 0.41 * f64::from(k)).collect();
        let y: Vec<f64> = (0..m).map(|k| -0.7 + 0.23 * f64::from(k)).collect();
        for (name, f, f_grad, plain) in cases {
            let (v, (dx, dy)) = f_grad(&x, &y);
            assert_eq!(v, plain(&x, &y), "{name} at lengths {n}, {m}");
            check(
                |(x, y): &(Vec<f64>, Vec<f64>)| f(x, y),
                (x.clone(), y.clone()),
                (dx, dy),
            )
            .assert_close(1e-6);
        }
    }
}
