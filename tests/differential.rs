//! Differential testing of generated gradients (issue 6, scalar subset).
//!
//! Generates random `#[grad]` functions (see `differential/generate.rs` for
//! the constructs and how each stays in its domain), compiles them into a
//! crate under `target/differential/` (under `$CARGO_TARGET_DIR` when that is
//! set), and runs it: for every function, at
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
//! **Loop nests and local arrays** (`differential/shapes.rs`), each
//! switched by `AUTODIFF_DIFF_SHAPES` (default: all on): `nested` loops 2–3
//! deep with an accumulator carried at each level and inner bounds that
//! depend on the outer index; `minmax` reductions over an inner loop and an
//! `if` inside it choosing what to add; `product`s carried through an inner
//! loop and values overwritten in a loop nest (`y = (y * a).sin()`); `vec`,
//! local `Vec` recurrences (`y[i] = x[i] * y[i - 1] + …`, `y[i] += …`,
//! several `Vec`s written in one loop, RK4-like); `slice`, a `&[f64]`
//! parameter they index. The run prints, per shape, how many functions had
//! it, did not compile, and were wrong; the row `ckpoint` counts the
//! functions with a `#[checkpoint]` loop (three in ten top-level range
//! loops of the shapes get one). Each such function is also compiled
//! without the attribute, as `fN_taped`, and at every point its gradient
//! must equal the checkpointed one to 1e-12 relative.
//!
//! **Failures.** A function the macro's code for which does not compile is
//! left out of its batch, with the functions calling it, and the rest is
//! built again (a function must compile as plain Rust without `#[grad]`,
//! else the test stops: a bug of the generator). A panic in generated code
//! fails its function only, with its message and location.
//!
//! **Shrinking.** A function that fails (a wrong gradient or value, a panic,
//! or the crate failing to compile at it) is shrunk
//! (`differential/shrink.rs`): dead statements removed, subexpressions
//! replaced by a parameter, `0.5` or one of their operands, statements,
//! loops and branches deleted, loops replaced by their body, the function
//! regenerated (same seed and index) with smaller size limits; each
//! candidate is checked alone, with its callees, in the crate
//! `target/differential/shrink/`, and kept if it still fails the same way
//! (for a compile error, also compiling without `#[grad]`), for at most
//! `AUTODIFF_DIFF_SHRINK` candidates (default 20; each attempt is printed).
//! Only the first failure of each kind (the same compiler error or panic,
//! names and numbers aside, or a wrong gradient in a function with the same
//! shapes) is shrunk, at most `AUTODIFF_DIFF_SHRINK_MAX` (default 5). The smallest is written as a standalone
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
//! # only the scalar constructs of before, or all shapes but local Vecs
//! AUTODIFF_DIFF_SHAPES=none cargo test --test differential
//! AUTODIFF_DIFF_SHAPES=all,-vec cargo test --test differential
//! # print generated functions (with their callees)
//! AUTODIFF_DIFF_SHOW=113,366 cargo test --test differential show -- --ignored --nocapture
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
//! `AUTODIFF_DIFF_PLANT` is set and passes without it),
//! `AUTODIFF_DIFF_SHAPES` (comma-separated shapes of `shapes.rs`, `all`,
//! `none`, `-name` to remove one; default `all`), `AUTODIFF_DIFF_SHAPE_RATE`
//! (the share of non-polynomial functions with one or two shapes, default
//! 0.25), `AUTODIFF_DIFF_SHRINK_MAX` (failures shrunk per run, default 5),
//! `AUTODIFF_DIFF_DEDUP=0` (shrink every failure, not one per kind),
//! `AUTODIFF_DIFF_SHOW` (the functions the `show` tool prints). A batch that
//! builds but does not run to the end is kept whole as
//! `target/differential/failures/seed<S>-batch<B>.rs`.

mod differential {
    pub mod generate;
    pub mod idioms;
    pub mod poly;
    pub mod rng;
    pub mod shapes;
    pub mod shrink;
}

use differential::generate::{self, GenFn};
use differential::{shapes, shrink};
use std::collections::{BTreeMap, HashSet};
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
    /// Points where a checkpointed gradient was compared with the taped one.
    checkpointed: usize,
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
        checkpointed: 0,
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
        } else if let Some(rest) = line.strip_prefix("checkpointed: ") {
            out.checkpointed = rest.split_whitespace().next()?.parse().ok()?;
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
        self.cargo(dir, main, &["run", "--release", "--quiet"])
    }

    /// Whether `fns` compile as plain Rust, without `#[grad]`: generated
    /// code that does not is a bug of the generator (or the shrinker), not
    /// of the macro. `Err` holds the first error.
    fn plain(&self, fns: &[&GenFn]) -> Result<(), String> {
        let mut main = String::from(
            "#![allow(warnings, clippy::all)]\nuse autodiff::{relu, sigmoid, softplus};\n",
        );
        for f in fns {
            for line in f.source.lines().filter(|l| !l.starts_with("#[grad")) {
                // `#[checkpoint]` is `#[grad]`'s too.
                let line = match (line.find("#[checkpoint"), line.find("] for ")) {
                    (Some(start), Some(end)) => format!("{}{}", &line[..start], &line[end + 2..]),
                    _ => line.to_owned(),
                };
                main.push_str(&line);
                main.push('\n');
            }
        }
        main.push_str("fn main() {}\n");
        let run = self.cargo("plain", &main, &["check", "--quiet"]);
        if run.success {
            Ok(())
        } else {
            let err: Vec<&str> = run.stderr.lines().take(30).collect();
            Err(err.join("\n"))
        }
    }

    /// Writes `main` into the crate in `dir` and runs cargo with `args`.
    fn cargo(&self, dir: &str, main: &str, args: &[&str]) -> Run {
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
            .args(args)
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

/// Every compiler error in `stderr` that points at a line of `src/main.rs`,
/// with that line.
fn all_errors(stderr: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for l in stderr.lines() {
        if l.starts_with("error") || l.starts_with("warning") {
            current = l.starts_with("error").then(|| l.to_owned());
        } else if let Some(at) = l.trim_start().strip_prefix("--> src/main.rs:")
            && let Some(msg) = current.take()
            && let Some(line) = at.split(':').next().and_then(|n| n.parse().ok())
        {
            out.push((msg, line));
        }
    }
    out
}

/// What failures count as the same bug, to shrink one of each: the compiler
/// error with names and numbers blanked, or a panic's message likewise, or
/// a wrong gradient in a function with these shapes.
fn failure_key(f: &GenFn, failure: &Failure) -> String {
    let blank = |m: &str| {
        let mut out = String::new();
        let mut quoted = false;
        for c in m.chars() {
            if c == '`' {
                quoted = !quoted;
                out.push_str(if quoted { "`_" } else { "`" });
            } else if !quoted && !c.is_ascii_digit() {
                out.push(c);
            }
        }
        out
    };
    match failure {
        Failure::Compile(m) => format!("compile: {}", blank(m)),
        Failure::Check(m) => match m.find("panicked at") {
            Some(at) => {
                let msg = m[at..].split_once(": ").map_or("", |(_, r)| r);
                format!("panic: {}", blank(msg))
            }
            None => format!("{}: {}", check_class(m), shapes::names(f.shapes)),
        },
    }
}

/// Per shape: functions, those that did not compile, those not checked
/// because they call one that did not, wrong ones, and wrong ones that call
/// a wrong function.
#[derive(Default, Clone, Copy)]
struct ShapeStats {
    functions: usize,
    no_compile: usize,
    not_checked: usize,
    wrong: usize,
    wrong_callee: usize,
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
        // Kept only if it is Rust that compiles without `#[grad]`.
        let plain: Vec<&GenFn> = fns.iter().collect();
        return (function_at(&main, &fns, line) == Some(fns.len() - 1)
            && ctx.plain(&plain).is_ok())
        .then_some(Failure::Compile(msg));
    }
    let out = parse(&run.stdout)?;
    out.failing
        .into_iter()
        .next()
        .map(|(_, m)| Failure::Check(m))
}

/// The class of a checker's message: a shrunk function must fail in the
/// same class (a finite wrong gradient must not become a NaN one, which a
/// subexpression moved out of its domain guard can make).
fn check_class(msg: &str) -> &'static str {
    if msg.contains("panicked at") {
        "panic"
    } else if msg.contains("exact check") {
        "exact"
    } else if msg.contains(": value ") {
        "value"
    } else if msg.contains(": vjp(seed") {
        "vjp"
    } else if ["gradient NaN", "gradient inf", "gradient -inf"]
        .iter()
        .any(|g| msg.contains(g))
    {
        "non-finite gradient"
    } else {
        "gradient"
    }
}

fn same_kind(a: &Failure, b: &Failure) -> bool {
    match (a, b) {
        (Failure::Check(a), Failure::Check(b)) => check_class(a) == check_class(b),
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
    let shrink_max = env_or("AUTODIFF_DIFF_SHRINK_MAX", 5) as usize;
    let dedup = env_or("AUTODIFF_DIFF_DEDUP", 1) != 0;
    let plant = std::env::var("AUTODIFF_DIFF_PLANT").ok().map(|v| {
        v.trim()
            .parse::<usize>()
            .unwrap_or_else(|_| panic!("AUTODIFF_DIFF_PLANT={v:?} is not a function index"))
    });
    assert!(count > 0, "AUTODIFF_DIFF_COUNT=0 checks nothing");

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // Cargo's target directory: `CARGO_TARGET_DIR` (relative to the root, as
    // cargo reads it) when it is set, else `target/`.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), |dir| root.join(dir));
    let base = target.join("differential");
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
    let mut checkpointed = 0;
    let mut failing: Vec<String> = Vec::new();
    let mut no_compile: Vec<String> = Vec::new();
    let mut saved: Vec<PathBuf> = Vec::new();
    // Per shape (and "none" for functions without one).
    let mut stats: BTreeMap<&str, ShapeStats> = BTreeMap::new();
    // One failure of each kind is shrunk, at most `shrink_max`; the others
    // are listed.
    let mut shrunk: BTreeMap<String, String> = BTreeMap::new();
    let mut failed_here: HashSet<String> = HashSet::new();
    let mut shrink_one =
        |f: &GenFn, batch: &[GenFn], pos: usize, failure: Failure, saved: &mut Vec<PathBuf>| {
            let callees = shrink::callees(&f.source, &f.name, &batch[..pos]);
            failed_here.insert(f.name.clone());
            if let Some(c) = callees.iter().find(|c| failed_here.contains(&c.name)) {
                println!("  not shrunk: it calls {}, which fails too", c.name);
                return;
            }
            // With AUTODIFF_DIFF_DEDUP=0, every failure is its own kind.
            let key = if dedup {
                failure_key(f, &failure)
            } else {
                f.name.clone()
            };
            if let Some(first) = shrunk.get(&key) {
                println!("  not shrunk: the same kind of failure as {first} ({key})");
                return;
            }
            if shrunk.len() >= shrink_max {
                println!(
                    "  not shrunk: AUTODIFF_DIFF_SHRINK_MAX={shrink_max} failures were ({key})"
                );
                return;
            }
            shrunk.insert(key, f.name.clone());
            saved.push(shrink_and_save(&ctx, batch, pos, failure));
        };
    // `AUTODIFF_DIFF_FIRST`: start at this function (a batch boundary), to
    // rerun one batch of a large run.
    let mut first = env_or("AUTODIFF_DIFF_FIRST", 0) as usize;
    while first < count {
        let n = batch_size.min(count - first);
        let batch = generate::batch(seed, first, n);
        poly_fns += batch.iter().filter(|f| f.poly.is_some()).count();
        // Functions that do not compile are left out, with the functions
        // that call them, and the rest built again.
        let mut left_out: BTreeMap<usize, Option<String>> = BTreeMap::new();
        let start = Instant::now();
        let (outcome, kept, stdout) = loop {
            let kept: Vec<GenFn> = batch
                .iter()
                .enumerate()
                .filter(|(p, _)| !left_out.contains_key(p))
                .map(|(_, f)| f.clone())
                .collect();
            let main = generate::main_rs(seed, points, plant, &kept, 0);
            let run = ctx.run("crate", &main);
            if let Some(outcome) = parse(&run.stdout).filter(|_| run.success) {
                break (outcome, kept, run.stdout);
            }
            let culprits: Vec<(String, usize)> = all_errors(&run.stderr)
                .into_iter()
                .filter_map(|(msg, line)| {
                    let at = function_at(&main, &kept, line)?;
                    let pos = batch.iter().position(|f| f.name == kept[at].name)?;
                    Some((msg, pos))
                })
                .collect();
            if run.success || culprits.is_empty() {
                // A crash, or an error outside the generated functions.
                let failures = ctx.base.join("failures");
                std::fs::create_dir_all(&failures).unwrap();
                let file = failures.join(format!("seed{seed}-batch{first}.rs"));
                std::fs::write(&file, &main).unwrap();
                let stderr: String = run.stderr.chars().take(20_000).collect();
                panic!(
                    "the generated crate for functions {first}..{} did not build or run:\n{stderr}\n{}\n\
                     source kept in {}\nreproduce with: {reproduce}",
                    first + n,
                    run.stdout,
                    file.display()
                );
            }
            // Each must be valid Rust without `#[grad]`.
            let mut suspects: Vec<usize> = culprits.iter().map(|c| c.1).collect();
            suspects.sort_unstable();
            suspects.dedup();
            let plain: Vec<&GenFn> = batch
                .iter()
                .enumerate()
                .filter(|(p, f)| {
                    suspects.contains(p)
                        || suspects.iter().any(|&s| {
                            shrink::callees(&batch[s].source, &batch[s].name, &batch[..s])
                                .iter()
                                .any(|c| c.name == f.name)
                        })
                })
                .map(|(_, f)| f)
                .collect();
            if let Err(e) = ctx.plain(&plain) {
                let names: Vec<&str> = suspects.iter().map(|&p| batch[p].name.as_str()).collect();
                panic!(
                    "generator bug: among {names:?}, code that does not compile even without #[grad]:\n{e}\n\
                     see them with AUTODIFF_DIFF_SHOW={}",
                    names.join(",")
                );
            }
            for (msg, pos) in culprits {
                if left_out.contains_key(&pos) {
                    continue;
                }
                println!("{} does not compile: {msg}", batch[pos].name);
                no_compile.push(batch[pos].name.clone());
                left_out.insert(pos, Some(msg));
            }
            for (pos, f) in batch.iter().enumerate() {
                if !left_out.contains_key(&pos)
                    && shrink::callees(&f.source, &f.name, &batch[..pos])
                        .iter()
                        .any(|c| {
                            let p = batch.iter().position(|b| b.name == c.name).unwrap();
                            left_out.contains_key(&p)
                        })
                {
                    left_out.insert(pos, None);
                }
            }
            println!(
                "batch {first}..{}: {} functions left out, building the rest again",
                first + n,
                left_out.len()
            );
        };
        expected += kept.iter().map(|f| f.wrt.len() * points).sum::<usize>();
        print!("{stdout}");
        println!(
            "batch {first}..{}: {} passed, {} failed, {} did not compile, {} not checked (calling one that did not), {:.1} s",
            first + n,
            outcome.passed,
            outcome.failed,
            left_out.values().filter(|m| m.is_some()).count(),
            left_out.values().filter(|m| m.is_none()).count(),
            start.elapsed().as_secs_f64()
        );
        assert_eq!(
            outcome.passed + outcome.failed,
            kept.len(),
            "the generated crate did not check every function"
        );
        let wrong: HashSet<&str> = outcome.failing.iter().map(|(n, _)| n.as_str()).collect();
        for (pos, f) in batch.iter().enumerate() {
            let mut tags: Vec<&str> = shapes::NAMES
                .iter()
                .filter(|(_, b)| f.shapes & b != 0)
                .map(|(n, _)| *n)
                .collect();
            if tags.is_empty() {
                tags.push("(none)");
            }
            // Not a shape of its own: a top-level loop of one, checkpointed.
            if f.source.contains("#[checkpoint") {
                tags.push("ckpoint");
            }
            for tag in tags {
                let st = stats.entry(tag).or_default();
                st.functions += 1;
                match left_out.get(&pos) {
                    Some(Some(_)) => st.no_compile += 1,
                    Some(None) => st.not_checked += 1,
                    None if wrong.contains(f.name.as_str()) => {
                        let callees = shrink::callees(&f.source, &f.name, &batch[..pos]);
                        if callees.iter().any(|c| wrong.contains(c.name.as_str())) {
                            st.wrong_callee += 1;
                        } else {
                            st.wrong += 1;
                        }
                    }
                    None => {}
                }
            }
        }
        for (&pos, msg) in &left_out {
            if let Some(msg) = msg {
                println!("shrinking {} (does not compile: {msg})", batch[pos].name);
                shrink_one(
                    &batch[pos],
                    &batch,
                    pos,
                    Failure::Compile(msg.clone()),
                    &mut saved,
                );
            }
        }
        for (name, msg) in &outcome.failing {
            let pos = batch
                .iter()
                .position(|f| &f.name == name)
                .expect("a failing function is one of the batch");
            println!("shrinking {name} ({msg})");
            shrink_one(
                &batch[pos],
                &batch,
                pos,
                Failure::Check(msg.clone()),
                &mut saved,
            );
            failing.push(name.clone());
        }
        passed += outcome.passed;
        failed += outcome.failed;
        compared += outcome.compared;
        skipped += outcome.skipped;
        exact_fns += outcome.exact_fns;
        exact_points += outcome.exact_points;
        checkpointed += outcome.checkpointed;
        first += n;
    }

    println!(
        "shapes on: {} (AUTODIFF_DIFF_SHAPES), rate {}",
        shapes::names(shapes::config().on),
        shapes::config().rate
    );
    println!(
        "{:<8} {:>9} {:>15} {:>11} {:>7} {:>5} {:>17}",
        "shape",
        "functions",
        "did not compile",
        "not checked",
        "checked",
        "wrong",
        "wrong via callee"
    );
    for (tag, st) in &stats {
        println!(
            "{tag:<8} {:>9} {:>15} {:>11} {:>7} {:>5} {:>17}",
            st.functions,
            st.no_compile,
            st.not_checked,
            st.functions - st.no_compile - st.not_checked,
            st.wrong,
            st.wrong_callee
        );
    }
    println!("checks: {compared} compared, {skipped} skipped, of {expected} generated");
    println!(
        "exact: {exact_fns} of {poly_fns} polynomial functions checked exactly, at {exact_points} points"
    );
    println!("checkpointed: {checkpointed} points compared with the taped gradient to 1e-12");
    println!(
        "{passed} passed, {failed} failed, {} did not compile",
        no_compile.len()
    );
    assert!(
        failed == 0 && no_compile.is_empty(),
        "wrong gradients in {failing:?}; not compiling: {no_compile:?}; regression tests {saved:?}\n\
         reproduce with: {reproduce}"
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

/// Prints generated functions without checking them:
/// `AUTODIFF_DIFF_SHOW=8,28 cargo test --test differential show -- --ignored --nocapture`
/// (with the same `AUTODIFF_DIFF_SEED`, `AUTODIFF_DIFF_BATCH` and
/// `AUTODIFF_DIFF_SHAPES` as the run that reported them).
#[test]
#[ignore = "a tool: prints the functions AUTODIFF_DIFF_SHOW lists"]
fn show() {
    let seed = env_or("AUTODIFF_DIFF_SEED", 1);
    let batch_size = env_or("AUTODIFF_DIFF_BATCH", 500).max(1) as usize;
    let list = std::env::var("AUTODIFF_DIFF_SHOW").unwrap_or_default();
    for word in list.split(',').filter(|w| !w.trim().is_empty()) {
        let index: usize = word
            .trim()
            .trim_start_matches('f')
            .parse()
            .unwrap_or_else(|_| {
                panic!("AUTODIFF_DIFF_SHOW={list:?}: not a list of function indices")
            });
        let first = index / batch_size * batch_size;
        let batch = generate::batch(seed, first, index - first + 1);
        let f = &batch[index - first];
        for c in shrink::callees(&f.source, &f.name, &batch) {
            println!("{}", c.source);
        }
        println!(
            "// shapes: {}, wrt (flat) {:?}\n{}",
            shapes::names(f.shapes),
            f.wrt,
            f.source
        );
    }
}
