//! Iterator chains against the `for` loops one would write instead: four
//! pairs of `#[grad]` functions, each pair the same computation written both
//! ways, timed in the same run on the same inputs at N = 1 000 and
//! N = 100 000.
//!
//! ```text
//! cargo bench --bench iterators
//! ```
//!
//! The pairs: a dot product (`zip`, `map`, `sum`), Horner's rule (`rev`,
//! `fold`), a sum of squared differences (`windows(2)`), and a stable
//! log-sum-exp (a `fold` with `f64::max`, then `map` and `sum`, a carried
//! maximum). The `desugar` pass turns each chain into a loop before the
//! gradient is generated, so the two gradients should cost the same. After
//! criterion's report the bench prints, per pair and N, the ratios of
//! medians: chain ÷ loop for the gradients, and gradient ÷ function for the
//! chain.
//!
//! Before timing, it checks each gradient against central finite
//! differences (N = 8), and that the two forms agree with each other to
//! 1e-12 at every benchmarked N.

// The loop forms are the index loops one writes instead of the chains.
#![allow(clippy::needless_range_loop)]

use std::hint::black_box;

use autodiff::grad;
use criterion::{Criterion, Throughput};

#[path = "support/ratio.rs"]
mod ratio;

#[grad]
fn dot_chain(w: &[f64], x: &[f64]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum::<f64>()
}

#[grad]
fn dot_loop(w: &[f64], x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..w.len().min(x.len()) {
        s += w[i] * x[i];
    }
    s
}

#[grad]
fn horner_chain(c: &[f64], t: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * t + ci)
}

#[grad]
fn horner_loop(c: &[f64], t: f64) -> f64 {
    let mut acc = 0.0;
    for i in (0..c.len()).rev() {
        acc = acc * t + c[i];
    }
    acc
}

#[grad]
fn diffs_chain(x: &[f64]) -> f64 {
    x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>()
}

#[grad]
fn diffs_loop(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        s += (x[i] - x[i - 1]).powi(2);
    }
    s
}

#[grad]
fn lse_chain(x: &[f64]) -> f64 {
    let m = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    x.iter().map(|v| (v - m).exp()).sum::<f64>().ln() + m
}

#[grad]
fn lse_loop(x: &[f64]) -> f64 {
    let mut m = f64::NEG_INFINITY;
    for i in 0..x.len() {
        m = m.max(x[i]);
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - m).exp();
    }
    s.ln() + m
}

const SIZES: [usize; 2] = [1_000, 100_000];

/// A deterministic point with entries in (-1, 1), no two equal.
fn point(n: usize, seed: u64) -> Vec<f64> {
    (0..n)
        .map(|i| ((i as f64 + 0.5) * 0.618_033_988_7 + seed as f64 * 0.1).sin() * 0.9)
        .collect()
}

/// The central difference of `f` along `x[k]`.
fn central(f: impl Fn(&[f64]) -> f64, x: &[f64], k: usize) -> f64 {
    let h = 1e-6;
    let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
    xp[k] += h;
    xm[k] -= h;
    (f(&xp) - f(&xm)) / (2.0 * h)
}

fn assert_close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance * want.abs().max(1.0),
        "{what}: {got:e} against {want:e}"
    );
}

/// Each of the four pairs as one function of a single slice `v` (for the
/// pairs of two arguments, `v` holds both), and its gradient with respect
/// to `v`, by each form.
type Case = (
    &'static str,
    fn(&[f64]) -> f64,
    fn(&[f64]) -> (f64, Vec<f64>),
    fn(&[f64]) -> (f64, Vec<f64>),
);

// (The timed code calls the generated functions directly: see `main`.)

fn cases() -> [Case; 4] {
    fn halves(v: &[f64]) -> (&[f64], &[f64]) {
        v.split_at(v.len() / 2)
    }
    fn joined((a, b): (Vec<f64>, Vec<f64>)) -> Vec<f64> {
        [a, b].concat()
    }
    fn split_t(v: &[f64]) -> (&[f64], f64) {
        (&v[1..], v[0] * 0.5)
    }
    [
        (
            "dot",
            |v| {
                let (w, x) = halves(v);
                dot_chain(w, x)
            },
            |v| {
                let (w, x) = halves(v);
                let (y, g) = dot_chain_grad(w, x);
                (y, joined(g))
            },
            |v| {
                let (w, x) = halves(v);
                let (y, g) = dot_loop_grad(w, x);
                (y, joined(g))
            },
        ),
        (
            "horner",
            |v| {
                let (c, t) = split_t(v);
                horner_chain(c, t)
            },
            |v| {
                let (c, t) = split_t(v);
                let (y, (dc, dt)) = horner_chain_grad(c, t);
                (y, [vec![dt * 0.5], dc].concat())
            },
            |v| {
                let (c, t) = split_t(v);
                let (y, (dc, dt)) = horner_loop_grad(c, t);
                (y, [vec![dt * 0.5], dc].concat())
            },
        ),
        ("diffs", diffs_chain, diffs_chain_grad, diffs_loop_grad),
        ("logsumexp", lse_chain, lse_chain_grad, lse_loop_grad),
    ]
}

fn check(cases: &[Case]) {
    let x = point(8, 1);
    for &(name, f, chain, by_loop) in cases {
        let (y, g) = chain(&x);
        assert_close(&format!("{name}: value"), y, f(&x), 0.0);
        for (k, &gk) in g.iter().enumerate() {
            assert_close(&format!("{name}: d/dv{k}"), gk, central(f, &x, k), 1e-7);
        }
        for n in SIZES {
            let x = point(n, 2);
            let ((y1, g1), (y2, g2)) = (chain(&x), by_loop(&x));
            assert_close(&format!("{name}: chain and loop values"), y1, y2, 1e-12);
            for (a, b) in g1.iter().zip(&g2) {
                assert_close(&format!("{name}: chain and loop gradients"), *a, *b, 1e-12);
            }
        }
    }
    println!("gradients = central differences (N = 8), chain = loop (N = 1 000, 100 000)");
}

/// Times the function and the two gradients of one pair on the same input:
/// the closures call the generated functions directly, nothing around them.
fn bench_pair(
    criterion: &mut Criterion,
    group_name: &str,
    n: usize,
    forward: impl Fn(),
    chain: impl Fn(),
    by_loop: impl Fn(),
) {
    let mut group = criterion.benchmark_group(group_name);
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function("forward", |b| b.iter(&forward));
    group.bench_function("grad/chain", |b| b.iter(&chain));
    group.bench_function("grad/loop", |b| b.iter(&by_loop));
    group.finish();
}

fn main() {
    check(&cases());
    let mut criterion = Criterion::default().configure_from_args();
    let mut groups = Vec::new();
    for n in SIZES {
        let (w, x) = (point(n, 3), point(n, 4));
        let t = 0.45;
        let name = format!("iterators-dot-{n}");
        bench_pair(
            &mut criterion,
            &name,
            n,
            || _ = black_box(dot_chain(black_box(&w), black_box(&x))),
            || _ = black_box(dot_chain_grad(black_box(&w), black_box(&x))),
            || _ = black_box(dot_loop_grad(black_box(&w), black_box(&x))),
        );
        groups.push(name);
        let name = format!("iterators-horner-{n}");
        bench_pair(
            &mut criterion,
            &name,
            n,
            || _ = black_box(horner_chain(black_box(&x), black_box(t))),
            || _ = black_box(horner_chain_grad(black_box(&x), black_box(t))),
            || _ = black_box(horner_loop_grad(black_box(&x), black_box(t))),
        );
        groups.push(name);
        let name = format!("iterators-diffs-{n}");
        bench_pair(
            &mut criterion,
            &name,
            n,
            || _ = black_box(diffs_chain(black_box(&x))),
            || _ = black_box(diffs_chain_grad(black_box(&x))),
            || _ = black_box(diffs_loop_grad(black_box(&x))),
        );
        groups.push(name);
        let name = format!("iterators-logsumexp-{n}");
        bench_pair(
            &mut criterion,
            &name,
            n,
            || _ = black_box(lse_chain(black_box(&x))),
            || _ = black_box(lse_chain_grad(black_box(&x))),
            || _ = black_box(lse_loop_grad(black_box(&x))),
        );
        groups.push(name);
    }
    criterion.final_summary();
    for group in &groups {
        ratio::print(
            group,
            &[
                ("chain / loop (gradients)", "grad_chain", "grad_loop"),
                ("chain gradient / function", "grad_chain", "forward"),
            ],
        );
    }
}
