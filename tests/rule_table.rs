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

/// The other direction, for the activations: each `activation! { … }` of
/// the runtime is in the macro's list (`rules::ACTIVATIONS`), whose
/// `_pullback_into` rules the table holds. An activation added to the runtime
/// alone would be taken for a call of a `#[grad]` function, and fail in the
/// user's build with "cannot find `__gelu_pullback`".
#[test]
fn test_every_activation_of_the_runtime_is_known_to_the_macro() {
    let names: &[&str] = autodiff::__private::__rule_table!();
    let source = include_str!("../autodiff-runtime/src/activation/mod.rs");
    let mut found = Vec::new();
    // After the macro's definition (`macro_rules! activation {`), each
    // invocation opens with `activation! {` and names its function in the
    // first `fn name;` of the forward trait.
    for invocation in source.split("\nactivation! {").skip(1) {
        let after = &invocation[invocation.find("\n        fn ").expect("a `fn name;`") + 12..];
        let name = &after[..after.find(';').expect("`;` after the name")];
        assert!(
            names.contains(&format!("{name}_pullback_into").as_str()),
            "the runtime's activation `{name}` is missing from the macro's \
             `rules::ACTIVATIONS` (autodiff-macros/src/rules.rs)"
        );
        found.push(name.to_owned());
    }
    // The scan found them (these three at least), not nothing.
    for name in ["sigmoid", "relu", "softplus"] {
        assert!(found.iter().any(|f| f == name), "the scan found {found:?}");
    }
}
