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
//! **Exact check of polynomial bodies.** One function in five (see
//! `differential/poly.rs`) has a polynomial body (`+ - *`, unary `-`,
//! `powi(0..=4)`, dyadic literals, `let`/shadowing/`mut`/compound
//! assignment, calls of earlier polynomial functions). The generator
//! evaluates it and its gradient with exact dyadic arithmetic at 3 points
//! `k/8` (`|k| ≤ 16`), keeping only bodies whose every intermediate (values
//! and adjoints, bounded for all inputs) is exactly representable in `f64`,
//! and the checker requires `f_grad`'s value and gradient to be `==` to the
//! exact ones (bit equality up to the sign of zero). The run prints how many
//! polynomial functions were checked exactly.
//!
//! **Shrinking.** A function that fails (a wrong gradient or value, or the
//! crate failing to compile at it) is shrunk (`differential/shrink.rs`): dead
//! statements removed, subexpressions replaced by a parameter or `0.5`,
//! statements deleted, the function regenerated (same seed and index) with
//! smaller size limits; each candidate is checked alone, with its callees, in
//! the crate `target/differential/shrink/`, and kept if it still fails the
//! same way, for at most `AUTODIFF_DIFF_SHRINK` candidates (default 20;
//! each attempt is printed). The smallest is written as a standalone
//! integration test, `target/differential/failures/regression_seed<S>_f<N>.rs`
//! (the functions, and a `#[test]` checking the failing point against the
//! same finite differences and tolerance, plus the exact values of a
//! polynomial function); the run prints its path and the `cp` command that
//! adds it to `tests/`.
//!
//! ```text
//! cargo test --test differential                     # 300 functions, seed 1
//! AUTODIFF_DIFF_SEED=7 AUTODIFF_DIFF_COUNT=10000 \
//!     cargo test --release --test differential -- --nocapture
//! # the shrinker on a planted failure: f20's gradient is scaled by 1 + 1e-3
//! AUTODIFF_DIFF_PLANT=20 cargo test --test differential -- --nocapture
//! ```
//!
//! Environment: `AUTODIFF_DIFF_SEED` (default 1), `AUTODIFF_DIFF_COUNT`
//! (functions, default 300), `AUTODIFF_DIFF_BATCH` (functions per compiled
//! crate, default 500; a function calls only functions of its batch),
//! `AUTODIFF_DIFF_POINTS` (random points per function, default 3),
//! `AUTODIFF_DIFF_FIRST` (the first function to check, default 0: with a
//! multiple of the batch size, reruns the batches of a large run from there),
//! `AUTODIFF_DIFF_SHRINK` (shrink attempts per failure, default 20; 0 keeps
//! the failing function as it is), `AUTODIFF_DIFF_PLANT=N` (the checker
//! multiplies the gradient of function `fN` by `1 + 1e-3`: a planted failure
//! to test the shrinker; its regression test fails while
//! `AUTODIFF_DIFF_PLANT` is set and passes without it). A batch that does
//! not compile is also kept whole as `target/differential/failures/seed<S>-batch<B>.rs`.

mod differential {
    pub mod generate;
    pub mod poly;
    pub mod rng;
    pub mod shrink;
}

use differential::generate::{self, GenFn};
use differential::shrink;
use std::collections::HashSet;
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
fn manifest(root: &Path, name: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
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
    exact_fns: usize,
    exact_points: usize,
    /// (name, message) of each failing function.
    failing: Vec<(String, String)>,
}

fn parse(stdout: &str) -> Option<Outcome> {
    let mut out = Outcome {
        passed: 0,
        failed: 0,
        compared: 0,
        skipped: 0,
        exact_fns: 0,
        exact_points: 0,
        failing: Vec::new(),
    };
    let mut closed = false;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("FAIL ") {
            let (name, msg) = rest.split_once(' ')?;
            out.failing.push((name.to_owned(), msg.to_owned()));
        } else if let Some(rest) = line.strip_prefix("checks: ") {
            // "C compared, S skipped"
            let w: Vec<&str> = rest.split_whitespace().collect();
            out.compared = w.first()?.parse().ok()?;
            out.skipped = w.get(2)?.parse().ok()?;
        } else if let Some(rest) = line.strip_prefix("exact: ") {
            // "F functions, P points"
            let w: Vec<&str> = rest.split_whitespace().collect();
            out.exact_fns = w.first()?.parse().ok()?;
            out.exact_points = w.get(2)?.parse().ok()?;
        } else if line.ends_with(" failed") && line.contains(" passed, ") {
            let w: Vec<&str> = line.split_whitespace().collect();
            out.passed = w.first()?.parse().ok()?;
            out.failed = w.get(2)?.parse().ok()?;
            closed = true;
        }
    }
    closed.then_some(out)
}

/// Where the generated crates live, and how they are checked.
struct Ctx {
    root: PathBuf,
    base: PathBuf,
    seed: u64,
    points: usize,
    plant: Option<usize>,
    /// Candidates the shrinker may test per failure.
    attempts: usize,
}

struct Run {
    success: bool,
    stdout: String,
    stderr: String,
}

impl Ctx {
    /// Writes `main` into the crate in `dir` (created if needed) and runs it.
    fn run(&self, dir: &str, main: &str) -> Run {
        let krate = self.base.join(dir);
        std::fs::create_dir_all(krate.join("src")).unwrap();
        let name = format!("autodiff-differential-{dir}").replace("crate", "main");
        std::fs::write(krate.join("Cargo.toml"), manifest(&self.root, &name)).unwrap();
        // Same dependency versions as the workspace, and no resolution needed.
        if !krate.join("Cargo.lock").exists() {
            let _ = std::fs::copy(self.root.join("Cargo.lock"), krate.join("Cargo.lock"));
        }
        std::fs::write(krate.join("src").join("main.rs"), main).unwrap();
        let output = Command::new(env!("CARGO"))
            .args(["run", "--release", "--quiet"])
            .current_dir(&krate)
            .env("CARGO_TARGET_DIR", self.base.join("target"))
            .output()
            .expect("cannot run cargo");
        Run {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// How a function fails.
#[derive(Clone, Debug, PartialEq)]
enum Failure {
    /// The checker's message (a wrong gradient or value).
    Check(String),
    /// The first compiler error of the crate, located in the function.
    Compile(String),
}

/// The first compiler error in `stderr` and the line of `src/main.rs` it
/// points at.
fn first_error(stderr: &str) -> Option<(String, usize)> {
    let mut lines = stderr.lines();
    let msg = lines.find(|l| l.starts_with("error"))?.to_owned();
    let at = lines.find_map(|l| l.trim_start().strip_prefix("--> src/main.rs:"))?;
    let line = at.split(':').next()?.parse().ok()?;
    Some((msg, line))
}

/// The function of `fns` whose source spans line `line` of `main`.
fn function_at(main: &str, fns: &[GenFn], line: usize) -> Option<usize> {
    fns.iter().position(|f| {
        main.find(&f.source).is_some_and(|at| {
            let first = main[..at].lines().count() + 1;
            (first..first + f.source.lines().count()).contains(&line)
        })
    })
}

/// Checks `target` alone (with its callees from `pool`) and says how it
/// fails, if it does.
fn test_candidate(ctx: &Ctx, pool: &[GenFn], target: &GenFn) -> Option<Failure> {
    let mut fns: Vec<GenFn> = shrink::callees(&target.source, &target.name, pool)
        .into_iter()
        .cloned()
        .collect();
    fns.push(target.clone());
    let main = generate::main_rs(ctx.seed, ctx.points, ctx.plant, &fns, fns.len() - 1);
    let run = ctx.run("shrink", &main);
    if !run.success {
        let (msg, line) = first_error(&run.stderr)?;
        return (function_at(&main, &fns, line) == Some(fns.len() - 1))
            .then_some(Failure::Compile(msg));
    }
    let out = parse(&run.stdout)?;
    out.failing
        .into_iter()
        .next()
        .map(|(_, m)| Failure::Check(m))
}

fn same_kind(a: &Failure, b: &Failure) -> bool {
    match (a, b) {
        (Failure::Check(_), Failure::Check(_)) => true,
        (Failure::Compile(a), Failure::Compile(b)) => a == b,
        _ => false,
    }
}

/// Shrinks the failing function `batch[pos]`, writes its regression test and
/// returns the test's path.
fn shrink_and_save(ctx: &Ctx, batch: &[GenFn], pos: usize, failure: Failure) -> PathBuf {
    let pool = &batch[..pos];
    let original = &batch[pos];
    let size_of = |f: &GenFn| {
        shrink::size(&f.source)
            + shrink::callees(&f.source, &f.name, pool)
                .iter()
                .map(|c| shrink::size(&c.source))
                .sum::<usize>()
    };
    let (mut best, mut best_failure) = (original.clone(), failure.clone());
    let from = size_of(&best);
    let mut tried: HashSet<String> = HashSet::new();
    tried.insert(best.source.clone());
    let mut attempts = 0;
    let start = Instant::now();
    'outer: while attempts < ctx.attempts {
        let mut list: Vec<GenFn> = shrink::candidates(&best)
            .into_iter()
            .map(|src| shrink::with_source(&best, src))
            .collect();
        list.extend(
            shrink::REGENERATE
                .iter()
                .map(|&lim| generate::function_with(ctx.seed, original.index, pool, lim)),
        );
        for cand in list {
            if attempts >= ctx.attempts {
                break 'outer;
            }
            if size_of(&cand) >= size_of(&best) || !tried.insert(cand.source.clone()) {
                continue;
            }
            attempts += 1;
            let got = test_candidate(ctx, pool, &cand);
            let kept = got.as_ref().is_some_and(|g| same_kind(g, &failure));
            println!(
                "  shrink attempt {attempts}/{}: {} tokens, {}",
                ctx.attempts,
                size_of(&cand),
                if kept {
                    "still fails: kept"
                } else {
                    "does not fail the same way"
                }
            );
            if kept {
                best = cand;
                best_failure = got.unwrap();
                continue 'outer;
            }
        }
        break;
    }
    let to = size_of(&best);
    let summary = format!(
        "Shrunk from {from} to {to} tokens in {attempts} attempts ({:.1} s).",
        start.elapsed().as_secs_f64()
    );
    println!("  {summary}");
    let msg = match &best_failure {
        Failure::Check(m) => m.clone(),
        Failure::Compile(m) => format!("does not compile: {m}"),
    };
    let callees = shrink::callees(&best.source, &best.name, pool);
    let file_text = shrink::regression_test(&shrink::Regression {
        seed: ctx.seed,
        index: original.index,
        target: &best,
        callees: &callees,
        failure: &msg,
        point: shrink::point(&msg),
        planted: ctx.plant.is_some(),
        summary: &summary,
    });
    let dir = ctx.base.join("failures");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "regression_seed{}_f{}.rs",
        ctx.seed, original.index
    ));
    std::fs::write(&file, file_text).unwrap();
    println!("  regression test: {}", file.display());
    println!(
        "  add it with: cp {} {}",
        file.display(),
        ctx.root.join("tests").display()
    );
    file
}

#[test]
fn differential_gradients_match_finite_differences() {
    let seed = env_or("AUTODIFF_DIFF_SEED", 1);
    let count = env_or("AUTODIFF_DIFF_COUNT", 300) as usize;
    let batch_size = env_or("AUTODIFF_DIFF_BATCH", 500).max(1) as usize;
    let points = env_or("AUTODIFF_DIFF_POINTS", 3).max(1) as usize;
    let attempts = env_or("AUTODIFF_DIFF_SHRINK", 20) as usize;
    let plant = std::env::var("AUTODIFF_DIFF_PLANT").ok().map(|v| {
        v.trim()
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("AUTODIFF_DIFF_PLANT={v:?} is not a function index"))
    });
    assert!(count > 0, "AUTODIFF_DIFF_COUNT=0 checks nothing");

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let base = root.join("target").join("differential");
    let ctx = Ctx {
        root,
        base,
        seed,
        points,
        plant,
        attempts,
    };

    let plant_env = plant.map_or(String::new(), |p| format!("AUTODIFF_DIFF_PLANT={p} "));
    let reproduce = format!(
        "{plant_env}AUTODIFF_DIFF_SEED={seed} AUTODIFF_DIFF_COUNT={count} AUTODIFF_DIFF_BATCH={batch_size} \
         AUTODIFF_DIFF_POINTS={points} cargo test --release --test differential -- --nocapture"
    );
    println!(
        "differential: seed {seed}, {count} functions in batches of {batch_size}, {points} points each"
    );
    if let Some(p) = plant {
        println!("planted failure: the gradient of f{p} is multiplied by 1 + 1e-3");
    }
    println!("reproduce with: {reproduce}");

    let (mut passed, mut failed, mut compared, mut skipped, mut expected) = (0, 0, 0, 0, 0);
    let (mut exact_fns, mut exact_points, mut poly_fns) = (0, 0, 0);
    let mut failing: Vec<String> = Vec::new();
    let mut saved: Vec<PathBuf> = Vec::new();
    // `AUTODIFF_DIFF_FIRST`: start at this function (a batch boundary), to
    // rerun one batch of a large run.
    let mut first = env_or("AUTODIFF_DIFF_FIRST", 0) as usize;
    while first < count {
        let n = batch_size.min(count - first);
        let batch = generate::batch(seed, first, n);
        expected += batch.iter().map(|f| f.wrt.len() * points).sum::<usize>();
        poly_fns += batch.iter().filter(|f| f.poly.is_some()).count();
        let main = generate::main_rs(seed, points, plant, &batch, 0);
        let start = Instant::now();
        let run = ctx.run("crate", &main);
        let outcome = parse(&run.stdout);
        let Some(outcome) = outcome.filter(|_| run.success) else {
            // A compile error (or a crash) of generated code that should be
            // supported: shrink the function it points at, if it does.
            let failures = ctx.base.join("failures");
            std::fs::create_dir_all(&failures).unwrap();
            let kept = failures.join(format!("seed{seed}-batch{first}.rs"));
            std::fs::write(&kept, &main).unwrap();
            let culprit = first_error(&run.stderr)
                .and_then(|(msg, line)| Some((msg, function_at(&main, &batch, line)?)));
            let regression = culprit.map(|(msg, pos)| {
                println!("{} does not compile: {msg}", batch[pos].name);
                shrink_and_save(&ctx, &batch, pos, Failure::Compile(msg))
            });
            let stderr: String = run.stderr.chars().take(20_000).collect();
            panic!(
                "the generated crate for functions {first}..{} did not build or run:\n{stderr}\n{}\n\
                 source kept in {}\nregression test: {regression:?}\nreproduce with: {reproduce}",
                first + n,
                run.stdout,
                kept.display()
            );
        };
        print!("{}", run.stdout);
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
            "the generated crate did not check every function:\n{}",
            run.stdout
        );
        for (name, msg) in &outcome.failing {
            let pos = batch
                .iter()
                .position(|f| &f.name == name)
                .expect("a failing function is one of the batch");
            println!("shrinking {name} ({msg})");
            saved.push(shrink_and_save(
                &ctx,
                &batch,
                pos,
                Failure::Check(msg.clone()),
            ));
            failing.push(name.clone());
        }
        passed += outcome.passed;
        failed += outcome.failed;
        compared += outcome.compared;
        skipped += outcome.skipped;
        exact_fns += outcome.exact_fns;
        exact_points += outcome.exact_points;
        first += n;
    }

    println!("checks: {compared} compared, {skipped} skipped, of {expected} generated");
    println!(
        "exact: {exact_fns} of {poly_fns} polynomial functions checked exactly, at {exact_points} points"
    );
    println!("{passed} passed, {failed} failed");
    assert_eq!(
        failed, 0,
        "wrong gradients in {failing:?}; regression tests {saved:?}\nreproduce with: {reproduce}"
    );
    assert_eq!(passed, count, "not every function was checked");
    assert_eq!(
        exact_fns, poly_fns,
        "not every polynomial function was checked exactly"
    );
    assert!(
        compared as f64 >= MIN_COMPARED * expected as f64,
        "only {compared} of {expected} gradient components were compared ({skipped} skipped)\n\
         reproduce with: {reproduce}"
    );
}
