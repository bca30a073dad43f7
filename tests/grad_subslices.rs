//! Sub-slices of differentiated slices (`&x[a..b]`, `&x[a..]`, `&x[..=b]`,
//! `&x[..]`), and windows used whole (`w.iter()`, `w.len()`): each gradient
//! is checked against central finite differences (`autodiff::check`).

// Written as people write them: index loops, and a `&Vec` parameter (the
// `Vec`'s own indexing, as well as the slice's, takes a range).
#![allow(clippy::needless_range_loop, clippy::ptr_arg)]

use autodiff::{check, grad};

const X: [f64; 7] = [0.5, -1.25, 2.0, 0.75, 1.5, -0.3, 0.9];

fn check_at(f: impl Fn(&[f64]) -> f64, g: Vec<f64>) {
    assert_eq!(g.len(), X.len());
    check(|x: &Vec<f64>| f(x), X.to_vec(), g).assert_close(1e-6);
}

#[grad]
fn middle(x: &[f64]) -> f64 {
    let w = &x[1..3];
    w[0] * w[1] + w.iter().sum::<f64>() + w.len() as f64
}

#[test]
fn test_middle() {
    let (y, g) = middle_grad(&X);
    assert_eq!(y, middle(&X));
    check_at(middle, g);
}

/// Rows of a row-major matrix, `d` wide: a product along each row.
#[grad(wrt(x))]
fn row_products(x: &[f64], d: usize) -> f64 {
    let n = x.len() / d;
    let mut s = 0.0;
    for i in 0..n {
        let row = &x[i * d..(i + 1) * d];
        let mut p = 1.0;
        for j in 0..d {
            p *= row[j];
        }
        s += p.sin();
    }
    s
}

#[test]
fn test_row_products() {
    let x = &X[..6];
    let (y, g) = row_products_grad(x, 3);
    assert_eq!(y, row_products(x, 3));
    check(|x: &Vec<f64>| row_products(x, 3), x.to_vec(), g).assert_close(1e-6);
}

#[grad]
fn open_ranges(x: &Vec<f64>) -> f64 {
    let t = &x[2..];
    let h = &x[..=1];
    let all = &x[..];
    t[0] * h[1] + all.len() as f64 * t[1] + (all[6] * h[0]).exp()
}

#[test]
fn test_open_ranges() {
    let x = X.to_vec();
    let (y, g) = open_ranges_grad(&x);
    assert_eq!(y, open_ranges(&x));
    check(|x: &Vec<f64>| open_ranges(x), x, g).assert_close(1e-6);
}

#[grad]
fn l2(v: &[f64]) -> f64 {
    v.iter().map(|e| e * e).sum::<f64>().sqrt()
}

/// A sub-slice passed to another `#[grad]` function.
#[grad]
fn halves(x: &[f64]) -> f64 {
    let m = x.len() / 2;
    l2(&x[..m]) * l2(&x[m..])
}

#[test]
fn test_halves() {
    let (y, g) = halves_grad(&X);
    assert_eq!(y, halves(&X));
    check_at(halves, g);
}

/// Overlapping sub-slices, read in a loop that carries a sum.
#[grad]
fn overlapping(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 2 {
        let w = &x[i..=i + 2];
        s += w[0] * w[2] - (w[1] * s).tanh();
    }
    s
}

#[test]
fn test_overlapping() {
    let (y, g) = overlapping_grad(&X);
    assert_eq!(y, overlapping(&X));
    check_at(overlapping, g);
}

#[grad]
fn window_sums(x: &[f64]) -> f64 {
    x.windows(3)
        .map(|w| w.iter().sum::<f64>() * w[0])
        .sum::<f64>()
}

#[test]
fn test_window_sums() {
    let (y, g) = window_sums_grad(&X);
    assert!((y - window_sums(&X)).abs() < 1e-12);
    check_at(window_sums, g);
}

#[grad]
fn window_len(x: &[f64]) -> f64 {
    x.windows(2).map(|w| w[1] * w.len() as f64).sum::<f64>()
}

#[test]
fn test_window_len() {
    let (y, g) = window_len_grad(&X);
    assert!((y - window_len(&X)).abs() < 1e-12);
    check_at(window_len, g);
}

#[grad]
fn window_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for w in x.windows(3) {
        s += w.iter().map(|v| v * v).sum::<f64>().sqrt() * w[1];
    }
    s
}

#[test]
fn test_window_loop() {
    let (y, g) = window_loop_grad(&X);
    assert!((y - window_loop(&X)).abs() < 1e-12);
    check_at(window_loop, g);
}

#[grad]
fn window_filter(x: &[f64]) -> f64 {
    x.windows(2)
        .filter(|w| w[0] + w[1] > 0.0)
        .map(|w| w[0] * w[1])
        .sum::<f64>()
}

#[test]
fn test_window_filter() {
    let (y, g) = window_filter_grad(&X);
    assert!((y - window_filter(&X)).abs() < 1e-12);
    check_at(window_filter, g);
}

#[grad]
fn window_filter_whole(x: &[f64]) -> f64 {
    x.windows(3)
        .filter(|w| w.iter().sum::<f64>() > 0.0)
        .map(|w| w[0] * w[2] + w.len() as f64)
        .sum::<f64>()
}

#[test]
fn test_window_filter_whole() {
    let (y, g) = window_filter_whole_grad(&X);
    assert!((y - window_filter_whole(&X)).abs() < 1e-12);
    check_at(window_filter_whole, g);
}

/// A sub-slice of a local `Vec` written in place before it is read.
#[grad]
fn local_rows(x: &[f64]) -> f64 {
    let mut y = vec![0.0; x.len()];
    for i in 0..x.len() {
        y[i] = x[i] * x[i] + 1.0;
    }
    let head = &y[..3];
    let tail = &y[3..];
    head[0] * head[2] + tail.iter().sum::<f64>()
}

#[test]
fn test_local_rows() {
    let (y, g) = local_rows_grad(&X);
    assert!((y - local_rows(&X)).abs() < 1e-12);
    check_at(local_rows, g);
}

/// A sub-slice of a local `Vec` read in the loop that writes the `Vec`:
/// the reverse sweep reads the values as they were.
#[grad]
fn recurrence(x: &[f64]) -> f64 {
    let n = x.len();
    let mut y = vec![1.0; n];
    for i in 2..n {
        let prev = &y[i - 2..i];
        let v = prev[0] * x[i] + prev[1].sin();
        y[i] = v;
    }
    y[n - 1]
}

#[test]
fn test_recurrence() {
    let (y, g) = recurrence_grad(&X);
    assert_eq!(y, recurrence(&X));
    check_at(recurrence, g);
}

#[grad]
fn chunk_products(x: &[f64]) -> f64 {
    x.chunks(2)
        .map(|c| c[0] * c.iter().sum::<f64>())
        .sum::<f64>()
}

#[test]
fn test_chunk_products() {
    // 7 elements: the last chunk has one.
    let (y, g) = chunk_products_grad(&X);
    assert!((y - chunk_products(&X)).abs() < 1e-12);
    check_at(chunk_products, g);
}

#[grad]
fn exact_chunks(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for c in x.chunks_exact(3) {
        s += (c[0] * c[2]).exp() - c[1] * c.len() as f64;
    }
    s
}

#[test]
fn test_exact_chunks() {
    // 7 elements: the remainder (one) is left out.
    let (y, g) = exact_chunks_grad(&X);
    assert!((y - exact_chunks(&X)).abs() < 1e-12);
    assert_eq!(g[6], 0.0);
    check_at(exact_chunks, g);
}

#[grad]
fn chunks_rev_filter(x: &[f64]) -> f64 {
    x.chunks(3)
        .rev()
        .filter(|c| c.len() == 3)
        .map(|c| c[1] * c[2].sin())
        .fold(0.5, |acc, v| acc * v + 1.0)
}

#[test]
fn test_chunks_rev_filter() {
    let (y, g) = chunks_rev_filter_grad(&X);
    assert!((y - chunks_rev_filter(&X)).abs() < 1e-12);
    check_at(chunks_rev_filter, g);
}

// Found by the differential run (seed 31): a chain of chunks over a slice
// that is not differentiated (the chunk was copied out as an unsized
// value), and a sub-slice of a local array in a branch that ends (it was
// recorded as a borrow of a temporary).

#[grad(wrt(x2))]
fn constant_chunks(n: usize, xs: &[f64], x2: f64) -> f64 {
    let it5 = xs
        .chunks_exact(2)
        .map(|w7| ((n as f64).tanh() * 0.9).acos() + (w7[1] * w7.len() as f64 - w7[0]))
        .sum::<f64>();
    it5 * x2 + x2.sin()
}

#[test]
fn test_constant_chunks() {
    let xs = [0.25, -0.25, -0.75, -1.25];
    let (y, g) = constant_chunks_grad(2, &xs, -2.25);
    assert_eq!(y, constant_chunks(2, &xs, -2.25));
    check(|x2: &f64| constant_chunks(2, &xs, *x2), -2.25, g).assert_close(1e-6);
}

#[grad(wrt(x2, x1))]
fn sub_slice_in_a_branch(x0: f64, x1: f64, x2: f64, x3: f64) -> f64 {
    let t1 = if x1.sin() > 0.5 {
        if x3 < -0.5 {
            return f64::mul_add(1.0, x2, x2) - x0;
        }
        (x0.exp() + 0.25).sqrt()
    } else {
        f64::mul_add(0.5, x3, x1) * x1.hypot(0.5).ln()
    };
    let arr4 = [x3, x3.tanh(), x0, t1 * x2];
    let sub7 = &arr4[1..];
    sub7.iter()
        .rev()
        .skip(1)
        .map(|&v6| v6.exp() * x1)
        .sum::<f64>()
}

#[test]
fn test_sub_slice_in_a_branch() {
    // Each branch: sin(x1) > 0.5 with x3 < -0.5 (return), with x3 ≥ -0.5,
    // and sin(x1) ≤ 0.5.
    for (x0, x1, x3) in [(0.3, 1.2, -0.8), (0.3, 1.2, 0.4), (0.3, -0.7, 0.4)] {
        let x2 = 0.6;
        let (y, (g1, g2)) = sub_slice_in_a_branch_grad(x0, x1, x2, x3); // parameter order
        assert_eq!(y, sub_slice_in_a_branch(x0, x1, x2, x3));
        check(
            |&(x2, x1): &(f64, f64)| sub_slice_in_a_branch(x0, x1, x2, x3),
            (x2, x1),
            (g2, g1),
        )
        .assert_close(1e-6);
    }
}
