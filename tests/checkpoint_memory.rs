//! The peak heap of a checkpointed gradient (issue 13): RK4 over a state of
//! n = 100 floats for s = 10⁶ steps, counted with a counting global
//! allocator. The taped gradient would keep about 4·s·n floats (3.2 GB);
//! with `#[checkpoint]` the gradient keeps √s snapshots of the state it
//! carries and one segment of √s steps recorded at a time; with
//! `#[checkpoint(snapshots = 10)]`, 10 snapshots (Revolve's schedule).

use allocation_counter::measure;

// RK4 (`benches/support/rk4.rs`, as in `tests/checkpoint.rs` and
// `benches/checkpoint.rs`).
#[macro_use]
#[path = "../benches/support/rk4.rs"]
mod rk4_support;

rk4!(
    #[checkpoint]
    rk4
);
rk4!(
    #[checkpoint(snapshots = 10)]
    rk4_ten
);

const MIB: u64 = 1 << 20;

#[test]
fn rk4_gradient_over_a_million_steps_stays_under_64_mib() {
    let steps: usize = std::env::var("AUTODIFF_CHECKPOINT_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let n = 100;
    let x: Vec<f64> = (0..n)
        .map(|i| 0.5 + 0.5 * ((i * 7 % 13) as f64 / 13.0))
        .collect();
    let h = 1e-5;
    let mut result = (0.0, Vec::new());
    let info = measure(|| result = rk4_grad(&x, h, steps));
    let (value, g) = result;
    assert_eq!(value, rk4(&x, h, steps));
    // (The gradient itself is checked against the taped one and finite
    // differences in tests/checkpoint.rs; at this length it is all finite.)
    assert!(g.iter().all(|v| v.is_finite()) && g.iter().any(|&v| v != 0.0));
    eprintln!(
        "rk4 gradient, n = {n}, s = {steps}: peak heap {:.1} MiB",
        info.bytes_max as f64 / MIB as f64
    );
    assert!(
        info.bytes_max < 64 * MIB,
        "peak heap {} bytes (over 64 MiB)",
        info.bytes_max
    );
}

/// Ten snapshots where the default keeps √s: the peak heap falls with them
/// (Revolve's schedule runs the segments forward more often instead).
#[test]
fn fewer_snapshots_keep_less() {
    let steps = 40_000;
    let n = 100;
    let x: Vec<f64> = (0..n).map(|i| 0.5 + 0.01 * i as f64).collect();
    let h = 1e-4;
    let mut default = (0.0, Vec::new());
    let mut ten = (0.0, Vec::new());
    let peak_default = measure(|| default = rk4_grad(&x, h, steps)).bytes_max;
    let peak_ten = measure(|| ten = rk4_ten_grad(&x, h, steps)).bytes_max;
    assert_eq!(default.0, ten.0);
    for (a, b) in default.1.iter().zip(&ten.1) {
        assert!((a - b).abs() <= 1e-12 * a.abs().max(b.abs()), "{a} vs {b}");
    }
    // A snapshot is 6 arrays of n floats: 200 of them by default, 10 here,
    // besides one segment's tape (200 steps) that both keep.
    let snapshot = 6 * n as u64 * 8;
    eprintln!(
        "rk4 gradient, n = {n}, s = {steps}: peak heap {} KiB (200 snapshots), {} KiB (10)",
        peak_default / 1024,
        peak_ten / 1024
    );
    assert!(
        peak_ten + 150 * snapshot < peak_default,
        "10 snapshots: {peak_ten} bytes, the default: {peak_default} bytes"
    );
}
