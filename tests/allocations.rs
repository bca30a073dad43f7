//! What the generated code allocates, counted with a counting global
//! allocator (issue 3: the reverse sweep allocates no more arrays than a
//! hand-written backward pass; issue 4: loops that need nothing recorded
//! allocate nothing beyond the gradient).

use allocation_counter::measure;
use autodiff::{grad, matmul, norm_sq, sigmoid};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Zip};

#[grad(wrt(w1, w2))]
fn loss(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = sigmoid(&matmul(w1, x));
    0.5 * norm_sq(&(y - &matmul(w2, &h)))
}

/// The backward pass as one writes it for speed (as in benches/network.rs):
/// the residual reused as the output adjoint, σ′ applied in place, GEMMs into
/// fresh buffers with transposes as views.
fn backward_by_hand(
    w1: &Array2<f64>,
    w2: &Array2<f64>,
    x: &Array2<f64>,
    a: &Array2<f64>,
    r: &Array2<f64>,
) -> (Array2<f64>, Array2<f64>) {
    let mut dw2 = Array2::zeros(w2.raw_dim());
    general_mat_mul(1.0, r, &a.t(), 0.0, &mut dw2);
    let mut dz = Array2::zeros(a.raw_dim());
    general_mat_mul(1.0, &w2.t(), r, 0.0, &mut dz);
    Zip::from(&mut dz)
        .and(a)
        .for_each(|d, &s| *d *= s * (1.0 - s));
    let mut dw1 = Array2::zeros(w1.raw_dim());
    general_mat_mul(1.0, &dz, &x.t(), 0.0, &mut dw1);
    (dw1, dw2)
}

fn problem() -> (Array2<f64>, Array2<f64>, Array2<f64>, Array2<f64>) {
    let f = |(i, j): (usize, usize)| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.5;
    (
        Array2::from_shape_fn((16, 12), f),
        Array2::from_shape_fn((4, 16), f),
        Array2::from_shape_fn((12, 8), f),
        Array2::from_shape_fn((4, 8), f),
    )
}

#[test]
fn test_reverse_sweep_allocates_no_more_than_a_hand_written_backward_pass() {
    let (w1, w2, x, y) = problem();
    let _ = loss_grad(&w1, &w2, &x, &y); // warm up lazily allocated state
    let forward = measure(|| {
        std::hint::black_box(loss(&w1, &w2, &x, &y));
    });
    let gradient = measure(|| {
        std::hint::black_box(loss_grad(&w1, &w2, &x, &y));
    });
    // The forward quantities the hand-written pass starts from.
    let a = sigmoid(&w1.dot(&x));
    let r = w2.dot(&a) - &y;
    let by_hand = measure(|| {
        std::hint::black_box(backward_by_hand(&w1, &w2, &x, &a, &r));
    });
    let reverse = gradient.count_total - forward.count_total;
    println!(
        "allocations: forward {}, gradient {} (reverse sweep {}), hand-written backward {}",
        forward.count_total, gradient.count_total, reverse, by_hand.count_total
    );
    assert!(
        reverse <= by_hand.count_total,
        "the reverse sweep allocates {reverse} times, a hand-written backward pass {}",
        by_hand.count_total
    );
    // The same gradient, to the last bits that matter.
    let (_, (dw1, dw2)) = loss_grad(&w1, &w2, &x, &y);
    let (hw1, hw2) = backward_by_hand(&w1, &w2, &x, &a, &r);
    for (got, want) in [(&dw1, &hw1), (&dw2, &hw2)] {
        let diff = (got - want).mapv(f64::abs).fold(0.0_f64, |m, &v| m.max(v));
        assert!(diff < 1e-14, "{diff}");
    }
}

/// Straight-line scalar code allocates nothing at all.
#[grad]
fn logistic(x: f64, a: f64, b: f64) -> f64 {
    sigmoid(a * x + b)
}

#[test]
fn test_scalar_gradients_allocate_nothing() {
    let counts = measure(|| {
        std::hint::black_box(logistic_grad(std::hint::black_box(2.0), 3.0, 1.0));
    });
    assert_eq!(counts.count_total, 0);
}

/// A summing loop over a slice and scalars: nothing recorded, no gradient
/// buffer (the gradient is a float).
#[grad(wrt(w, b))]
fn logistic_loss(w: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let z = w * x + b;
        total += autodiff::softplus(z) - y * z;
    }
    total / xs.len() as f64
}

/// Branches on differentiated values: nothing to record either (the branch
/// decisions are read from values still in scope).
#[grad]
fn branchy(x: f64, y: f64) -> f64 {
    let mut r = if x > y { x * y } else { x - y };
    if r < 0.0 {
        r = -r;
    }
    r.sqrt()
}

#[test]
fn test_loops_and_branches_that_record_nothing_allocate_nothing() {
    let xs: Vec<f64> = (0..100).map(|i| f64::from(i) / 50.0 - 1.0).collect();
    let ys: Vec<f64> = (0..100).map(|i| f64::from(i % 2)).collect();
    let counts = measure(|| {
        std::hint::black_box(logistic_loss_grad(0.5, -0.25, &xs, &ys));
    });
    assert_eq!(counts.count_total, 0, "summing loop");
    let counts = measure(|| {
        std::hint::black_box(branchy_grad(std::hint::black_box(2.0), 3.0));
    });
    assert_eq!(counts.count_total, 0, "branches");
}

#[grad]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        s += 100.0 * t * t + (1.0 - x[i]).powi(2);
    }
    s
}

/// Rosenbrock allocates its gradient and nothing else, at any length.
#[test]
fn test_rosenbrock_allocates_only_its_gradient() {
    for n in [2, 1000, 100_000] {
        let x = vec![0.5; n];
        let counts = measure(|| {
            std::hint::black_box(rosenbrock_grad(&x));
        });
        assert_eq!(counts.count_total, 1, "n = {n}");
        assert_eq!(counts.bytes_total, 8 * n as u64, "n = {n}");
    }
}

#[grad]
fn iterate(x: f64, a: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in 0..n {
        y = (y * a).sin();
    }
    y
}

/// A loop that overwrites its carried value records that value, once per
/// iteration: a tape of `n` floats, reserved once on entry.
#[test]
fn test_an_overwritten_carried_value_is_recorded_once_per_iteration() {
    for n in [1_usize, 10, 1000] {
        let counts = measure(|| {
            std::hint::black_box(iterate_grad(0.5, 1.1, n));
        });
        let floats = counts.bytes_max / 8;
        // (A `Vec` of floats holds at least 4.)
        assert_eq!(
            floats,
            n.max(4) as u64,
            "n = {n}: at most {floats} floats held"
        );
        assert_eq!(counts.count_total, 1, "n = {n}: one tape allocation");
    }
}

#[grad(wrt(c))]
fn kmeans_cost(c: &[f64], p: &[f64], d: usize) -> f64 {
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

/// The nearest-centroid gradient allocates twice at any size: its gradient,
/// and one tape of one `usize` per point (the index of the nearest centroid,
/// which `min` took last; `usize::MAX` for none), reserved once.
#[test]
fn test_nearest_centroid_allocates_its_gradient_and_one_tape() {
    let d = 4;
    for (k, n) in [(1, 1), (3, 10), (20, 500)] {
        let c: Vec<f64> = (0..k * d).map(|i| (i as f64 * 0.37).sin()).collect();
        let p: Vec<f64> = (0..n * d).map(|i| (i as f64 * 0.91).cos()).collect();
        let counts = measure(|| {
            std::hint::black_box(kmeans_cost_grad(&c, &p, d));
        });
        assert_eq!(counts.count_total, 2, "k = {k}, n = {n}");
        assert_eq!(
            counts.bytes_total,
            (8 * k * d + 8 * n.max(4)) as u64,
            "k = {k}, n = {n}: the gradient and n indices (at least 4: a Vec's smallest)"
        );
    }
}

#[allow(clippy::needless_range_loop)] // indexed loops: the shape under test
#[grad(wrt(c))]
fn poly_fit(c: &[f64], t: &[f64], y: &[f64]) -> f64 {
    let mut loss = 0.0;
    for i in 0..t.len() {
        let mut p = 1.0;
        let mut model = 0.0;
        for k in 0..c.len() {
            model += c[k] * p;
            p *= t[i];
        }
        let r = y[i] - model;
        loss += 0.5 * r * r;
    }
    loss
}

/// The polynomial fit keeps the powers of one point, whatever the number of
/// points: its loop over the points sums into `loss`, so the reverse of each
/// point runs right after its forward, reading the m powers its inner loop
/// recorded (a load, not a second multiply chain). The gradient allocates its
/// own m floats and one tape of m floats, reserved once, at any n.
#[test]
fn test_polynomial_fit_keeps_the_powers_of_one_point() {
    for (m, n) in [(3, 5), (16, 40), (64, 200)] {
        let c: Vec<f64> = (0..m).map(|k| 0.1 / (k as f64 + 1.0)).collect();
        let t: Vec<f64> = (0..n).map(|i| i as f64 / n as f64 - 0.5).collect();
        let y: Vec<f64> = t.iter().map(|v| v.sin()).collect();
        let counts = measure(|| {
            std::hint::black_box(poly_fit_grad(&c, &t, &y));
        });
        assert_eq!(counts.count_total, 2, "m = {m}, n = {n}");
        assert_eq!(
            counts.bytes_total,
            (8 * m + 8 * m.max(4)) as u64,
            "m = {m}, n = {n}: the gradient and m powers (at least 4: a Vec's smallest)"
        );
    }
}
