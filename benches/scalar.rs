//! The seed function's gradient: `#[grad]`-generated against hand-written, in
//! the same run, over the same 1 024 inputs.
//!
//! ```text
//! cargo bench --bench scalar
//! ```
//!
//! Prints, after criterion's own report, the ratio of the medians
//! (generated / hand-written, and gradient / forward).

use autodiff::{grad, sigmoid};
use criterion::Criterion;
use std::hint::black_box;

#[path = "support/ratio.rs"]
mod ratio;

#[grad]
fn logistic(x: f64, a: f64, b: f64) -> f64 {
    sigmoid(a * x + b)
}

/// The gradient as a careful person writes it: one `exp`, and σ'(z) as
/// e/(1 + e)² (accurate where y·(1 − y) is not), e = e^(−|z|).
#[inline]
fn logistic_grad_by_hand(x: f64, a: f64, b: f64) -> (f64, (f64, f64, f64)) {
    let z = a * x + b;
    let e = (-z.abs()).exp();
    let y = if z >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    let dz = e / ((1.0 + e) * (1.0 + e));
    (y, (a * dz, x * dz, dz))
}

fn inputs() -> Vec<(f64, f64, f64)> {
    (0..1024)
        .map(|i| {
            let t = f64::from(i) / 1024.0;
            (4.0 * t - 2.0, 3.0 - 6.0 * t * t, 0.5 - t)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let points = inputs();
    let mut group = c.benchmark_group("logistic");
    group.bench_function("forward", |bench| {
        bench.iter(|| {
            let mut sum = 0.0;
            for &(x, a, b) in black_box(&points) {
                sum += logistic(x, a, b);
            }
            sum
        });
    });
    group.bench_function("grad/generated", |bench| {
        bench.iter(|| {
            let mut sum = 0.0;
            for &(x, a, b) in black_box(&points) {
                let (y, (dx, da, db)) = logistic_grad(x, a, b);
                sum += y + dx + da + db;
            }
            sum
        });
    });
    group.bench_function("grad/hand-written", |bench| {
        bench.iter(|| {
            let mut sum = 0.0;
            for &(x, a, b) in black_box(&points) {
                let (y, (dx, da, db)) = logistic_grad_by_hand(x, a, b);
                sum += y + dx + da + db;
            }
            sum
        });
    });
    group.finish();
}

fn main() {
    // The two gradients must agree before their speed means anything.
    for &(x, a, b) in &inputs() {
        let (y, g) = logistic_grad(x, a, b);
        let (y_hand, g_hand) = logistic_grad_by_hand(x, a, b);
        assert!(
            (y - y_hand).abs() <= 1e-15 && (g.0 - g_hand.0).abs() <= 1e-15,
            "gradients disagree at {x}"
        );
    }
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
    ratio::print(
        "logistic",
        &[
            (
                "generated / hand-written",
                "grad_generated",
                "grad_hand-written",
            ),
            ("gradient / forward", "grad_generated", "forward"),
        ],
    );
}
