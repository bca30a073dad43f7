//! A loop over a slice: the Rosenbrock function of N variables, its
//! `#[grad]`-generated value and gradient against a hand-written one and
//! against the forward pass alone, in the same run, on the same inputs, for
//! N = 1 000 and N = 1 000 000.
//!
//! ```text
//! cargo bench --bench loops
//! ```
//!
//! Eight benchmarks and four paired ratios, about two minutes on 2 cores. Criterion's flags still apply
//! (`-- --measurement-time 10`, or a filter such as `-- rosenbrock-1000/`).
//! Two hand-written references: the fastest found (pairs in blocks of 4,
//! which rustc vectorises) and the fastest plain loop (one pair per
//! iteration, as the generated loop runs). After criterion's report it
//! prints, per N, the ratios of the medians: generated / hand-written,
//! generated / hand-written plain loop, generated / forward and
//! hand-written / forward; then, as `support/paired.rs` measures them
//! (batches of two gradients timed in alternation, the median of the rounds'
//! ratios, which the machine's drift between criterion's benchmarks does not
//! move), generated / hand-written and generated / plain loop.
//! Each gradient call allocates and frees its N-element gradient inside the
//! timed loop, the generated and the hand-written alike.
//!
//! Before measuring, it checks that the hand-written reference is right: its
//! value is bit for bit `rosenbrock(x)`, and its gradient matches central
//! finite differences of `rosenbrock` at a few indices, for N = 1 000. Then it
//! asserts that the generated gradient agrees with it to 1e-10 relative, at
//! both N.

use std::array;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};

#[path = "support/paired.rs"]
mod paired;
#[path = "support/ratio.rs"]
mod ratio;
#[path = "support/rosenbrock.rs"]
mod rosenbrock;

use rosenbrock::{point, rosenbrock, rosenbrock_grad, rosenbrock_grad_plain};

/// Pairs per block in [`rosenbrock_grad_by_hand`].
const LANES: usize = 4;

/// The value and gradient as a performance-minded person writes them: one
/// pass, one zeroed allocation, no `unsafe`, the same value bit for bit as
/// `rosenbrock(x)`.
///
/// Pair i, t = x[i + 1] − x[i]², u = 1 − x[i], adds 100·t² + u² to the value,
/// −400·t·x[i] − 2·u to g[i] and 200·t to g[i + 1]. Each g[i] is written once:
/// pair i's part plus pair i − 1's 200·t, carried. The pairs go by blocks of
/// [`LANES`]: a block's terms and gradient entries are computed side by side,
/// which rustc vectorises, and the terms are then added to the value one at a
/// time in source order, the one serial chain, as in `rosenbrock` itself.
///
/// Tried, medians of one run at N = 1 000 / 1 000 000 on the 2-core VM,
/// where `forward` took 0.82 µs / 0.83 ms (its serial sum, one add latency
/// per pair, is the floor):
///
/// | loop | N = 1 000 | N = 1 000 000 |
/// | --- | --- | --- |
/// | indices, `g[i] += …; g[i + 1] += …` | 1.77 µs | 1.79 ms |
/// | `windows(2)`, carry | 1.38 µs | 1.38 ms |
/// | `x.iter().zip(&x[1..])`, carry | 1.36 µs | 1.37 ms |
/// | `array_windows::<2>()`, carry | 1.35 µs | 1.37 ms |
/// | zip over `x[1..]`, x[i] carried too (one load per pair) | 1.34 µs | 1.31 ms |
/// | indices, carry | 1.30 µs | 1.31 ms |
/// | blocks of 2 pairs | 0.95 µs | 0.96 ms |
/// | **blocks of 4 pairs** (this one) | 0.94 µs | 0.95 ms |
/// | blocks of 8 pairs | 0.97 µs | 0.97 ms |
///
/// Four partial sums instead of one change the value's rounding, and were
/// slower anyway: 1.42 µs / 1.43 ms interleaved in the plain zip loop,
/// 1.06 µs / 1.06 ms as four lanes in the blocks of 4.
fn rosenbrock_grad_by_hand(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let mut s = 0.0;
    let Some(pairs) = x.len().checked_sub(1) else {
        return (s, g);
    };
    // 200·t of the previous pair: its part of the next g[i]
    let mut carry = 0.0;

    let blocked = pairs - pairs % LANES;
    let (g_blocks, _) = g[..blocked].as_chunks_mut::<LANES>();
    let (a_blocks, _) = x[..blocked].as_chunks::<LANES>();
    let (b_blocks, _) = x[1..=blocked].as_chunks::<LANES>();
    for ((dst, a), b) in g_blocks.iter_mut().zip(a_blocks).zip(b_blocks) {
        let t: [f64; LANES] = array::from_fn(|j| b[j] - a[j] * a[j]);
        let u: [f64; LANES] = array::from_fn(|j| 1.0 - a[j]);
        let term: [f64; LANES] = array::from_fn(|j| 100.0 * t[j] * t[j] + u[j] * u[j]);
        let from_previous: [f64; LANES] =
            array::from_fn(|j| if j == 0 { carry } else { 200.0 * t[j - 1] });
        *dst = array::from_fn(|j| from_previous[j] - 400.0 * t[j] * a[j] - 2.0 * u[j]);
        for v in term {
            s += v;
        }
        carry = 200.0 * t[LANES - 1];
    }

    // the last pairs % LANES pairs, one at a time
    let rest = g[blocked..pairs]
        .iter_mut()
        .zip(&x[blocked..pairs])
        .zip(&x[blocked + 1..]);
    for ((dst, &a), &b) in rest {
        let t = b - a * a;
        let u = 1.0 - a;
        s += 100.0 * t * t + u * u;
        *dst = carry - 400.0 * t * a - 2.0 * u;
        carry = 200.0 * t;
    }
    g[pairs] = carry;
    (s, g)
}

const SIZES: [usize; 2] = [1_000, 1_000_000];

fn name(n: usize) -> String {
    format!("rosenbrock-{n}")
}

/// Largest of `values`; NaN if any is NaN (`f64::max` would drop it).
fn worst(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .fold(0.0, |m, v| if v.is_nan() || v > m { v } else { m })
}

/// Panics unless the hand-written reference is right at N = 1 000: its value
/// is `rosenbrock(x)` bit for bit, and its gradient matches central finite
/// differences of `rosenbrock` at indices chosen to cover both ends and the
/// seam between the blocks and the last pairs.
fn check_hand_written() {
    const N: usize = 1_000;
    const INDICES: [usize; 11] = [0, 1, 2, 3, 4, 500, 995, 996, 997, 998, 999];
    const TOLERANCE: f64 = 1e-6;
    let x = point(N);
    let (value, g) = rosenbrock_grad_by_hand(&x);
    let forward = rosenbrock(&x);
    assert!(
        value.to_bits() == forward.to_bits() && g.len() == N,
        "the hand-written reference is wrong at N = {N}: value {value:e} with {} gradient \
         entries, expected rosenbrock(x) = {forward:e} with {N}",
        g.len()
    );
    let errors = INDICES.map(|i| {
        let mut up = x.clone();
        up[i] += 1e-5;
        let mut down = x.clone();
        down[i] -= 1e-5;
        let central = (rosenbrock(&up) - rosenbrock(&down)) / (up[i] - down[i]);
        let error = (g[i] - central).abs() / g[i].abs().max(1.0);
        assert!(
            error <= TOLERANCE,
            "the hand-written gradient is wrong at index {i} (N = {N}): {:e} by hand, {central:e} \
             by central differences, relative error {error:.1e} > {TOLERANCE:.0e}",
            g[i]
        );
        error
    });
    println!(
        "{}: hand-written = central differences at {} indices (worst relative error {:.1e}), \
         value = rosenbrock(x) bit for bit",
        name(N),
        INDICES.len(),
        worst(errors)
    );
}

/// Panics unless the generated value and gradient agree with the hand-written
/// ones at `x` to 1e-10, relative to the value and to the gradient's largest
/// entry.
fn assert_agree(name: &str, x: &[f64]) {
    const TOLERANCE: f64 = 1e-10;
    let (value, g) = rosenbrock_grad(x);
    let (value_hand, g_hand) = rosenbrock_grad_by_hand(x);
    let (value_plain, g_plain) = rosenbrock_grad_plain(x);
    assert!(
        value_plain.to_bits() == value_hand.to_bits()
            && g_plain
                .iter()
                .zip(&g_hand)
                .all(|(a, b)| (a - b).abs() <= 1e-12 * b.abs().max(1.0)),
        "{name}: the two hand-written references disagree"
    );
    assert_eq!(g.len(), g_hand.len(), "{name}: gradient lengths differ");
    let value_error = ((value - value_hand) / value_hand).abs();
    let scale = worst(g_hand.iter().map(|v| v.abs()));
    let g_error = worst(g.iter().zip(&g_hand).map(|(a, b)| (a - b).abs())) / scale;
    assert!(
        value_error <= TOLERANCE && g_error <= TOLERANCE,
        "{name}: generated and hand-written disagree: value {value_error:.1e}, gradient \
         {g_error:.1e} (tolerance {TOLERANCE:.0e})"
    );
    println!("{name}: generated = hand-written (value {value_error:.1e}, gradient {g_error:.1e})");
}

fn bench_point(c: &mut Criterion, name: &str, x: &[f64]) {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(x.len() as u64));
    if x.len() > 10_000 {
        // Same iteration count in every sample: a call takes milliseconds,
        // too long for criterion's linear sampling.
        group.sampling_mode(SamplingMode::Flat);
    }
    group.bench_function("forward", |b| b.iter(|| rosenbrock(black_box(x))));
    group.bench_function("grad/generated", |b| {
        b.iter(|| rosenbrock_grad(black_box(x)));
    });
    group.bench_function("grad/hand-written", |b| {
        b.iter(|| rosenbrock_grad_by_hand(black_box(x)));
    });
    group.bench_function("grad/hand-written-plain", |b| {
        b.iter(|| rosenbrock_grad_plain(black_box(x)));
    });
    group.finish();
}

fn main() {
    // The reference must be right, and the two gradients agree, before their
    // speed means anything.
    check_hand_written();
    let points: Vec<(String, Vec<f64>)> = SIZES.iter().map(|&n| (name(n), point(n))).collect();
    for (name, x) in &points {
        assert_agree(name, x);
    }

    let mut criterion = Criterion::default().configure_from_args();
    for (name, x) in &points {
        bench_point(&mut criterion, name, x);
    }
    criterion.final_summary();

    for (name, _) in &points {
        ratio::print(
            name,
            &[
                (
                    "generated / hand-written",
                    "grad_generated",
                    "grad_hand-written",
                ),
                (
                    "generated / plain loop",
                    "grad_generated",
                    "grad_hand-written-plain",
                ),
                ("generated / forward", "grad_generated", "forward"),
                ("hand-written / forward", "grad_hand-written", "forward"),
            ],
        );
    }

    for (name, x) in &points {
        let ids =
            ["generated", "hand-written", "hand-written-plain"].map(|f| format!("{name}/grad/{f}"));
        if !paired::selected(&ids.each_ref().map(String::as_str)) {
            continue;
        }
        let generated = || {
            black_box(rosenbrock_grad(black_box(x)));
        };
        let by_hand = || {
            black_box(rosenbrock_grad_by_hand(black_box(x)));
        };
        let plain = || {
            black_box(rosenbrock_grad_plain(black_box(x)));
        };
        let budget = Duration::from_secs(3);
        paired::print(
            name,
            &[
                (
                    "generated / hand-written",
                    paired::ratio(&generated, &by_hand, budget),
                ),
                (
                    "generated / plain loop",
                    paired::ratio(&generated, &plain, budget),
                ),
            ],
        );
    }
}
