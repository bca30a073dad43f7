//! Differential testing of generated gradients (issue 6, scalar subset).
//!
//! Generates random `#[grad]` functions (see `differential/generate.rs` for
//! the constructs and how each stays in its domain), compiles them into a
//! crate under `target/differential/`, and runs it: for every function, at
//! random points, the value of `f_grad` must equal `f`'s bit for bit,
//! `f_vjp(.., -2.0)` must be `-2 ·` the gradient bit for bit, and each
//! differentiated component must match a Richardson-extrapolated central
//! difference (steps `h = 1e-4·max(1, |x|)` and `2h`) within a relative error
//! of `1e-6`, relative to `max(|g|, |fd|, 1e-3·(1 + |f|))`. When the two
//! steps disagree by more than `1e-3` (a kink of `abs relu max min` inside
//! the stencil) or `f` is not finite there, the component is counted as
//! skipped, not compared; the test fails if fewer than 90% are compared.
//!
//! ```text
//! cargo test --test differential                     # 300 functions, seed 1
//! AUTODIFF_DIFF_SEED=7 AUTODIFF_DIFF_COUNT=10000 \
//!     cargo test --release --test differential -- --nocapture
//! ```
//!
//! Environment: `AUTODIFF_DIFF_SEED` (default 1), `AUTODIFF_DIFF_COUNT`
//! (functions, default 300), `AUTODIFF_DIFF_BATCH` (functions per compiled
//! crate, default 500; a function calls only functions of its batch),
//! `AUTODIFF_DIFF_POINTS` (points per function, default 3). A failing
//! function is saved, with the functions it calls, to
//! `target/differential/failures/seed<S>-f<N>.rs`, ready to become a
//! regression test.

mod differential {
    pub mod generate;
    pub mod rng;
}

use differential::generate;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Fewer compared components than this fraction of those generated fails the
/// test: a run that checks (almost) nothing must not pass.
const MIN_COMPARED: f64 = 0.9;

fn env_or(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a non-negative integer")),
        Err(_) => default,
    }
}

/// The generated crate's manifest. Its own `[workspace]` keeps it out of the
/// autodiff workspace it lives in.
fn manifest(root: &Path) -> String {
    format!(
        "[package]\nname = \"autodiff-differential\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nautodiff = {{ path = {root:?} }}\n\n\
         [profile.release]\ndebug = false\nincremental = false\n\n[workspace]\n",
        root = root.display().to_string()
    )
}

struct Outcome {
    passed: usize,
    failed: usize,
    compared: usize,
    skipped: usize,
    failing: Vec<String>,
}

fn parse(stdout: &str) -> Option<Outcome> {
    let mut out = Outcome {
        passed: 0,
        failed: 0,
        compared: 0,
        skipped: 0,
        failing: Vec::new(),
    };
    let mut closed = false;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("FAIL ") {
            out.failing.push(rest.split(' ').next()?.to_owned());
        } else if let Some(rest) = line.strip_prefix("checks: ") {
            // "C compared, S skipped"
            let w: Vec<&str> = rest.split_whitespace().collect();
            out.compared = w.first()?.parse().ok()?;
            out.skipped = w.get(2)?.parse().ok()?;
        } else if line.ends_with(" failed") && line.contains(" passed, ") {
            let w: Vec<&str> = line.split_whitespace().collect();
            out.passed = w.first()?.parse().ok()?;
            out.failed = w.get(2)?.parse().ok()?;
            closed = true;
        }
    }
    closed.then_some(out)
}

#[test]
fn differential_gradients_match_finite_differences() {
    let seed = env_or("AUTODIFF_DIFF_SEED", 1);
    let count = env_or("AUTODIFF_DIFF_COUNT", 300) as usize;
    let batch_size = env_or("AUTODIFF_DIFF_BATCH", 500).max(1) as usize;
    let points = env_or("AUTODIFF_DIFF_POINTS", 3).max(1) as usize;
    assert!(count > 0, "AUTODIFF_DIFF_COUNT=0 checks nothing");

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let base = root.join("target").join("differential");
    let krate = base.join("crate");
    let failures = base.join("failures");
    std::fs::create_dir_all(krate.join("src")).unwrap();
    std::fs::write(krate.join("Cargo.toml"), manifest(&root)).unwrap();
    // Same dependency versions as the workspace, and no resolution needed.
    if !krate.join("Cargo.lock").exists() {
        let _ = std::fs::copy(root.join("Cargo.lock"), krate.join("Cargo.lock"));
    }

    let reproduce = format!(
        "AUTODIFF_DIFF_SEED={seed} AUTODIFF_DIFF_COUNT={count} AUTODIFF_DIFF_BATCH={batch_size} \
         AUTODIFF_DIFF_POINTS={points} cargo test --release --test differential -- --nocapture"
    );
    println!(
        "differential: seed {seed}, {count} functions in batches of {batch_size}, {points} points each"
    );
    println!("reproduce with: {reproduce}");

    let (mut passed, mut failed, mut compared, mut skipped, mut expected) = (0, 0, 0, 0, 0);
    let mut failing: Vec<String> = Vec::new();
    let mut first = 0;
    while first < count {
        let n = batch_size.min(count - first);
        let batch = generate::batch(seed, first, n);
        expected += batch.iter().map(|f| f.wrt.len() * points).sum::<usize>();
        std::fs::write(
            krate.join("src").join("main.rs"),
            generate::main_rs(seed, points, &batch),
        )
        .unwrap();
        let start = Instant::now();
        let output = Command::new(env!("CARGO"))
            .args(["run", "--release", "--quiet"])
            .current_dir(&krate)
            .env("CARGO_TARGET_DIR", base.join("target"))
            .output()
            .expect("cannot run cargo");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let outcome = parse(&stdout);
        let Some(outcome) = outcome.filter(|_| output.status.success()) else {
            // A compile error (or a crash) of generated code that should be
            // supported: keep the batch's source for minimising.
            std::fs::create_dir_all(&failures).unwrap();
            let kept = failures.join(format!("seed{seed}-batch{first}.rs"));
            std::fs::copy(krate.join("src").join("main.rs"), &kept).unwrap();
            let stderr: String = stderr.chars().take(20_000).collect();
            panic!(
                "the generated crate for functions {first}..{} did not build or run ({}):\n{stderr}\n{stdout}\n\
                 source kept in {}\nreproduce with: {reproduce}",
                first + n,
                output.status,
                kept.display()
            );
        };
        print!("{stdout}");
        println!(
            "batch {first}..{}: {} passed, {} failed, {:.1} s",
            first + n,
            outcome.passed,
            outcome.failed,
            start.elapsed().as_secs_f64()
        );
        assert_eq!(
            outcome.passed + outcome.failed,
            n,
            "the generated crate did not check every function:\n{stdout}"
        );
        for name in &outcome.failing {
            let pos = batch
                .iter()
                .position(|f| &f.name == name)
                .expect("a failing function is one of the batch");
            std::fs::create_dir_all(&failures).unwrap();
            let file = failures.join(format!("seed{seed}-{name}.rs"));
            std::fs::write(&file, generate::with_callees(&batch, pos)).unwrap();
            println!("  saved {}", file.display());
            failing.push(name.clone());
        }
        passed += outcome.passed;
        failed += outcome.failed;
        compared += outcome.compared;
        skipped += outcome.skipped;
        first += n;
    }

    println!("checks: {compared} compared, {skipped} skipped, of {expected} generated");
    println!("{passed} passed, {failed} failed");
    assert_eq!(
        failed,
        0,
        "wrong gradients in {failing:?}; sources in {}\nreproduce with: {reproduce}",
        failures.display()
    );
    assert_eq!(passed, count, "not every function was checked");
    assert!(
        compared as f64 >= MIN_COMPARED * expected as f64,
        "only {compared} of {expected} gradient components were compared ({skipped} skipped)\n\
         reproduce with: {reproduce}"
    );
}
