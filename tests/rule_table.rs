//! The contract between `#[grad]` and the runtime, checked: every function
//! of `autodiff::__private::rules` (and item of `__private`) that generated
//! code can call exists. The macro derives the names from its own tables
//! (`autodiff-macros/src/rules.rs`) and `__rule_table!` imports each of them
//! here, so a name the runtime lacks — a typo, a rule added to the macro
//! but not to the runtime — fails this test's build, not a user's.

#[test]
fn test_every_rule_the_macro_can_call_exists() {
    let names: &[&str] = autodiff::__private::__rule_table!();
    // Names the macro certainly emits: an empty or truncated table fails.
    for name in [
        "mul_pullback_lhs",
        "div_pullback_rhs",
        "neg_pullback",
        "exp_pullback",
        "powf_pullback_rhs",
        "powi_pullback",
        "mul_add_pullback_b",
        "clamp_pullback_hi",
        "select_pullback_lhs",
        "max_side",
        "sigmoid_pullback_into",
        "norm_sq_pullback_into",
        "matmul_pullback_rhs",
        "transpose_pullback",
        "accumulate",
        "one",
    ] {
        assert!(names.contains(&name), "`{name}` missing from the table");
    }
    let mut sorted = names.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), names.len(), "the table repeats a name");
}
