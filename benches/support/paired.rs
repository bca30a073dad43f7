//! Paired ratios: two gradients timed in alternation, batch against batch,
//! and the median of the per-round ratios.
//!
//! Criterion measures one function after the other, seconds apart. On a
//! shared machine whose speed drifts by 10–30 % within a minute (other
//! tenants, frequency), the ratio of two such medians carries that drift. Here
//! each round times a batch of `a` and a batch of `b` back to back, in
//! alternating order (`a b`, then `b a`) so that neither always runs first,
//! and keeps `a ÷ b` of that round: drift slower than a round cancels. The
//! median and quartiles of the rounds' ratios are printed beside criterion's
//! ratio of medians.
//!
//! It runs after criterion's report, for the groups criterion's filter (the
//! command line's positional argument, as a substring) selects, and not at
//! all with `--list`, `--test` or `--profile-time`.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Criterion's flags that take a value (`--sample-size 10`): the word after
/// one is not the filter.
const VALUE_FLAGS: &[&str] = &[
    "-c",
    "--color",
    "-s",
    "--save-baseline",
    "-b",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--format",
    "--profile-time",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--plotting-backend",
    "--output-format",
];

/// Rounds always run, besides the warm-up ones.
const MIN_ROUNDS: usize = 41;
/// Rounds at most.
const MAX_ROUNDS: usize = 401;
/// Rounds run first and not kept: caches, allocator and frequency settle.
const WARM_UP_ROUNDS: usize = 4;
/// Time one batch of a function takes, at least.
const BATCH: Duration = Duration::from_millis(1);

/// Whether the paired measurement of the functions with ids `ids`
/// (`rosenbrock-1000/grad/generated`) runs in this invocation.
pub fn selected(ids: &[&str]) -> bool {
    let mut filter = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if matches!(arg.as_str(), "--list" | "--test" | "--profile-time") {
            return false;
        }
        if VALUE_FLAGS.contains(&arg.as_str()) {
            if arg == "--profile-time" {
                return false;
            }
            args.next();
        } else if !arg.starts_with('-') {
            filter = Some(arg);
        }
    }
    filter.is_none_or(|filter| ids.iter().any(|id| id.contains(filter.as_str())))
}

/// The spread of the rounds' ratios `a ÷ b`.
pub struct Paired {
    pub median: f64,
    pub q1: f64,
    pub q3: f64,
    pub rounds: usize,
}

/// Times `a` and `b` in alternation for about `budget` (between
/// [`MIN_ROUNDS`] and [`MAX_ROUNDS`] rounds) and returns the spread of the
/// per-round ratios `a ÷ b`.
pub fn ratio(a: &dyn Fn(), b: &dyn Fn(), budget: Duration) -> Paired {
    let calls = calls_per_batch(a).max(calls_per_batch(b));
    let mut ratios = Vec::with_capacity(MAX_ROUNDS);
    let start = Instant::now();
    for round in 0.. {
        let (ta, tb) = if round % 2 == 0 {
            let ta = time(a, calls);
            (ta, time(b, calls))
        } else {
            let tb = time(b, calls);
            (time(a, calls), tb)
        };
        if round >= WARM_UP_ROUNDS {
            ratios.push(ta.as_secs_f64() / tb.as_secs_f64());
        }
        let enough = ratios.len() >= MIN_ROUNDS && start.elapsed() >= budget;
        if enough || ratios.len() == MAX_ROUNDS {
            break;
        }
    }
    ratios.sort_by(f64::total_cmp);
    let at = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    Paired {
        median: at(0.5),
        q1: at(0.25),
        q3: at(0.75),
        rounds: ratios.len(),
    }
}

/// Prints `label: median (quartiles, rounds)` for each `(label, ratio)`,
/// under a heading for `group`.
pub fn print(group: &str, ratios: &[(&str, Paired)]) {
    println!("\npaired ratios, alternating batches ({group}):");
    for (label, p) in ratios {
        println!(
            "  {label:<28} {median:.3}   (quartiles {q1:.3}–{q3:.3}, {rounds} rounds)",
            median = p.median,
            q1 = p.q1,
            q3 = p.q3,
            rounds = p.rounds,
        );
    }
}

/// Calls of `f` that take at least [`BATCH`].
fn calls_per_batch(f: &dyn Fn()) -> u32 {
    let mut calls = 1;
    while time(f, calls) < BATCH && calls < 1 << 20 {
        calls *= 2;
    }
    calls
}

fn time(f: &dyn Fn(), calls: u32) -> Duration {
    let start = Instant::now();
    for _ in 0..calls {
        black_box(f)();
    }
    start.elapsed()
}
