//! Compile-fail tests: every mistake a user can make with `#[grad]` and the
//! diagnostic it gets. One mistake per file, grouped by category under
//! `tests/ui/<category>/`.
//!
//! Diagnostics differ between toolchains, so the `.stderr` files are recorded
//! with stable and the test is skipped elsewhere. Re-record them after a
//! toolchain or message change with
//! `TRYBUILD=overwrite cargo test --test compiletest`, then review the diff.

#[rustversion::attr(not(stable), ignore)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/**/*.rs");
}
