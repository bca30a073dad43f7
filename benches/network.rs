//! The seed network's value and gradient, `L = ½‖Y − W2 σ(W1 X)‖²` with
//! respect to W1 and W2: the `#[grad]`-generated `loss_grad` against a
//! hand-written ndarray backward pass, and against the forward pass alone, in
//! the same run, on the same inputs, single-threaded.
//!
//! ```text
//! cargo bench --bench network
//! ```
//!
//! Sizes (d_in, h, d_out, n) = (4, 8, 3, 1), (784, 128, 10, 64) and
//! (784, 512, 10, 256), each in f64 and f32: 18 benchmarks, about 4 minutes on
//! 2 cores. Criterion's flags still apply (`-- --measurement-time 10`, or a
//! filter such as `-- f64-784x128`). After criterion's report it prints, per
//! size and precision, the ratios of the medians: generated / hand-written and
//! gradient / forward.
//!
//! Before measuring, it asserts that the generated and the hand-written
//! gradients agree: to 1e-10 relative in f64, to 1e-5 in f32 (relative to
//! the largest element of each gradient).

use std::hint::black_box;
use std::time::Duration;

use autodiff::{grad, matmul, norm_sq, sigmoid};
use criterion::{Criterion, SamplingMode};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, NdFloat, Zip};
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;

#[path = "support/ratio.rs"]
mod ratio;

// `#[grad]` is not generic over the float type yet: one copy per precision.

#[grad(wrt(w1, w2))]
fn loss_f64(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = sigmoid(&matmul(w1, x));
    0.5 * norm_sq(&(y - &matmul(w2, &h)))
}

#[grad(wrt(w1, w2))]
fn loss_f32(w1: &Array2<f32>, w2: &Array2<f32>, x: &Array2<f32>, y: &Array2<f32>) -> f32 {
    let h = sigmoid(&matmul(w1, x));
    0.5 * norm_sq(&(y - &matmul(w2, &h)))
}

/// The backward pass as a careful person writes it with ndarray: GEMM into
/// fresh buffers, `Y` copied once and overwritten by the residual, transposes
/// as views, σ′ = a·(1 − a) from the stored activations, fused in place. Six
/// arrays: the activations, the residual, the hidden adjoint and the two
/// gradients; no gradient with respect to X.
fn loss_grad_by_hand<A: NdFloat>(
    w1: &Array2<A>,
    w2: &Array2<A>,
    x: &Array2<A>,
    y: &Array2<A>,
) -> (A, (Array2<A>, Array2<A>)) {
    let (one, zero) = (A::one(), A::zero());
    let (h, d_in) = w1.dim();
    let (d_out, n) = y.dim();

    // a = σ(W1 X)
    let mut a = Array2::zeros((h, n));
    general_mat_mul(one, w1, x, zero, &mut a);
    a.mapv_inplace(|z| one / (one + (-z).exp()));
    // r = W2 a − Y
    let mut r = y.to_owned();
    general_mat_mul(one, w2, &a, -one, &mut r);
    let value = r.iter().fold(zero, |s, &v| s + v * v) / (one + one);

    // dW2 = r aᵀ
    let mut dw2 = Array2::zeros((d_out, h));
    general_mat_mul(one, &r, &a.t(), zero, &mut dw2);
    // dZ = (W2ᵀ r) ⊙ a ⊙ (1 − a)
    let mut dz = Array2::zeros((h, n));
    general_mat_mul(one, &w2.t(), &r, zero, &mut dz);
    Zip::from(&mut dz)
        .and(&a)
        .for_each(|d, &s| *d = *d * s * (one - s));
    // dW1 = dZ Xᵀ
    let mut dw1 = Array2::zeros((h, d_in));
    general_mat_mul(one, &dz, &x.t(), zero, &mut dw1);
    (value, (dw1, dw2))
}

/// A network and a batch: Glorot-uniform weights, pixels in [0, 1), one-hot
/// targets; fixed seed.
struct Problem<A> {
    w1: Array2<A>,
    w2: Array2<A>,
    x: Array2<A>,
    y: Array2<A>,
}

#[derive(Clone, Copy)]
struct Size {
    d_in: usize,
    h: usize,
    d_out: usize,
    n: usize,
}

const SIZES: [Size; 3] = [
    Size {
        d_in: 4,
        h: 8,
        d_out: 3,
        n: 1,
    },
    Size {
        d_in: 784,
        h: 128,
        d_out: 10,
        n: 64,
    },
    Size {
        d_in: 784,
        h: 512,
        d_out: 10,
        n: 256,
    },
];

impl Size {
    fn name(self, precision: &str) -> String {
        let Self { d_in, h, d_out, n } = self;
        format!("network-{precision}-{d_in}x{h}x{d_out}x{n}")
    }

    fn problem(self) -> Problem<f64> {
        let Self { d_in, h, d_out, n } = self;
        let mut rng = XorShiftRng::seed_from_u64(7);
        let mut glorot = |rows: usize, cols: usize| {
            let a = (6.0 / (rows + cols) as f64).sqrt();
            Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-a..a))
        };
        let w1 = glorot(h, d_in);
        let w2 = glorot(d_out, h);
        let x = Array2::from_shape_simple_fn((d_in, n), || rng.random_range(0.0..1.0));
        let mut y = Array2::zeros((d_out, n));
        for j in 0..n {
            y[[rng.random_range(0..d_out), j]] = 1.0;
        }
        Problem { w1, w2, x, y }
    }
}

impl Problem<f64> {
    fn to_f32(&self) -> Problem<f32> {
        // The weights are small and the targets 0 or 1: `as` only rounds.
        let cast = |a: &Array2<f64>| a.mapv(|v| v as f32);
        Problem {
            w1: cast(&self.w1),
            w2: cast(&self.w2),
            x: cast(&self.x),
            y: cast(&self.y),
        }
    }
}

/// Worst difference between two arrays relative to the largest element of
/// `reference`.
fn rel_diff<A: NdFloat>(got: &Array2<A>, reference: &Array2<A>) -> f64 {
    assert_eq!(got.dim(), reference.dim(), "gradient shapes differ");
    let to_f64 = |v: A| v.to_f64().unwrap_or(f64::NAN);
    let scale = reference
        .iter()
        .fold(0.0, |m: f64, &v| m.max(to_f64(v).abs()));
    let worst = Zip::from(got)
        .and(reference)
        .fold(0.0, |m: f64, &g, &r| m.max(to_f64(g - r).abs()));
    if worst == 0.0 { 0.0 } else { worst / scale }
}

/// Asserts that `generated` and the hand-written pass agree on `p` to `tol`.
fn assert_agree<A: NdFloat>(
    name: &str,
    p: &Problem<A>,
    generated: (A, (Array2<A>, Array2<A>)),
    tol: f64,
) {
    let (l, (dw1, dw2)) = generated;
    let (l_hand, (dw1_hand, dw2_hand)) = loss_grad_by_hand(&p.w1, &p.w2, &p.x, &p.y);
    let l_err = ((l - l_hand) / l_hand).abs().to_f64().unwrap_or(f64::NAN);
    let (e1, e2) = (rel_diff(&dw1, &dw1_hand), rel_diff(&dw2, &dw2_hand));
    assert!(
        l_err <= tol && e1 <= tol && e2 <= tol,
        "{name}: generated and hand-written disagree: value {l_err:.1e}, dW1 {e1:.1e}, \
         dW2 {e2:.1e} (tolerance {tol:.0e})"
    );
    println!("{name}: generated = hand-written (value {l_err:.1e}, dW1 {e1:.1e}, dW2 {e2:.1e})");
}

/// Benchmarks forward, generated and hand-written gradient of one problem.
macro_rules! bench_problem {
    ($c:expr, $name:expr, $p:expr, $loss:ident, $loss_grad:ident) => {{
        let p = $p;
        let mut group = $c.benchmark_group($name);
        // Same iteration count in every sample: the large sizes take
        // milliseconds per call, too long for criterion's linear sampling.
        group.sampling_mode(SamplingMode::Flat);
        group.bench_function("forward", |b| {
            b.iter(|| {
                $loss(
                    black_box(&p.w1),
                    black_box(&p.w2),
                    black_box(&p.x),
                    black_box(&p.y),
                )
            });
        });
        group.bench_function("grad/generated", |b| {
            b.iter(|| {
                $loss_grad(
                    black_box(&p.w1),
                    black_box(&p.w2),
                    black_box(&p.x),
                    black_box(&p.y),
                )
            });
        });
        group.bench_function("grad/hand-written", |b| {
            b.iter(|| {
                loss_grad_by_hand(
                    black_box(&p.w1),
                    black_box(&p.w2),
                    black_box(&p.x),
                    black_box(&p.y),
                )
            });
        });
        group.finish();
    }};
}

fn main() {
    let problems: Vec<(Size, Problem<f64>, Problem<f32>)> = SIZES
        .iter()
        .map(|&s| {
            let p = s.problem();
            let q = p.to_f32();
            (s, p, q)
        })
        .collect();

    // The gradients must agree before their speed means anything.
    for (size, p, q) in &problems {
        let name = size.name("f64");
        assert_agree(&name, p, loss_f64_grad(&p.w1, &p.w2, &p.x, &p.y), 1e-10);
        let name = size.name("f32");
        assert_agree(&name, q, loss_f32_grad(&q.w1, &q.w2, &q.x, &q.y), 1e-5);
    }

    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    for (size, p, q) in &problems {
        bench_problem!(criterion, size.name("f64"), p, loss_f64, loss_f64_grad);
        bench_problem!(criterion, size.name("f32"), q, loss_f32, loss_f32_grad);
    }
    criterion.final_summary();

    for precision in ["f64", "f32"] {
        for size in SIZES {
            ratio::print(
                &size.name(precision),
                &[
                    (
                        "generated / hand-written",
                        "grad_generated",
                        "grad_hand-written",
                    ),
                    ("gradient / forward", "grad_generated", "forward"),
                    ("hand-written / forward", "grad_hand-written", "forward"),
                ],
            );
        }
    }
}
