//! `#[checkpoint]` against the taped gradient (issue 13): RK4 over a state of
//! n = 100 floats for s = 10⁴, 10⁵ and 10⁶ steps; the median time of a few
//! runs and the peak heap (a counting allocator) of the function, the taped
//! gradient and the checkpointed one (√s snapshots, the default; and 10,
//! Revolve's binomial schedule), and the ratios the issue asks for.
//!
//! `cargo bench --bench checkpoint` (add `-- --quick` for s ≤ 10⁵ only).
//! Not criterion: one run at s = 10⁶ takes seconds, and peak bytes are what
//! matters there.

use allocation_counter::measure;
use std::hint::black_box;
use std::time::{Duration, Instant};

#[macro_use]
#[path = "support/rk4.rs"]
mod rk4_support;

rk4!(rk4_taped);
rk4!(
    #[checkpoint]
    rk4_checkpointed
);
rk4!(
    #[checkpoint(snapshots = 10)]
    rk4_ten
);

/// The median time of `runs` runs of `f`, and the peak heap of one.
fn measured(runs: usize, mut f: impl FnMut()) -> (Duration, u64) {
    let peak = measure(&mut f).bytes_max;
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], peak)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = 100;
    let x: Vec<f64> = (0..n)
        .map(|i| 0.5 + 0.5 * ((i * 7 % 13) as f64 / 13.0))
        .collect();
    let h = 1e-5;
    println!("RK4, n = {n}: median of the runs, peak heap of one (counting allocator)\n");
    println!(
        "| steps s | function | taped gradient | checkpointed gradient | checkpointed ÷ taped | checkpointed ÷ function | 10 snapshots | 10 snapshots ÷ function |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (steps, runs) in [(10_000usize, 11), (100_000, 5), (1_000_000, 3)] {
        if quick && steps > 100_000 {
            break;
        }
        let (f_time, f_peak) = measured(runs, || {
            black_box(rk4_taped(black_box(&x), h, steps));
        });
        let (t_time, t_peak) = measured(runs, || {
            black_box(rk4_taped_grad(black_box(&x), h, steps));
        });
        let (c_time, c_peak) = measured(runs, || {
            black_box(rk4_checkpointed_grad(black_box(&x), h, steps));
        });
        let (r_time, r_peak) = measured(runs, || {
            black_box(rk4_ten_grad(black_box(&x), h, steps));
        });
        // The two gradients are the same numbers (tests/checkpoint.rs checks
        // that to 1e-12); a bench that compared different work would lie.
        let a = rk4_taped_grad(&x, h, steps);
        for b in [
            rk4_checkpointed_grad(&x, h, steps),
            rk4_ten_grad(&x, h, steps),
        ] {
            assert_eq!(a.0, b.0);
            let worst =
                a.1.iter()
                    .zip(&b.1)
                    .map(|(p, q)| (p - q).abs() / p.abs().max(q.abs()).max(1e-300))
                    .fold(0.0, f64::max);
            assert!(
                worst <= 1e-12,
                "taped and checkpointed gradients differ by {worst:e}"
            );
        }
        println!(
            "| 10^{} | {:.2?}, {} | {:.2?}, {} | {:.2?}, {} | {:.2} | {:.2} | {:.2?}, {} | {:.2} |",
            (steps as f64).log10().round(),
            f_time,
            mib(f_peak),
            t_time,
            mib(t_peak),
            c_time,
            mib(c_peak),
            c_time.as_secs_f64() / t_time.as_secs_f64(),
            c_time.as_secs_f64() / f_time.as_secs_f64(),
            r_time,
            mib(r_peak),
            r_time.as_secs_f64() / f_time.as_secs_f64(),
        );
    }
}
