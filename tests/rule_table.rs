//! The contract between `#[grad]` and the runtime, checked: every function
//! of `autodiff::__private::rules` (and item of `__private`) that generated
//! code can call exists. The macro derives the names from its own tables
//! (`autodiff-macros/src/rules.rs`) and the runtime's list of activations,
//! and `__rule_table!` imports each of them here, so a name the runtime
//! lacks — a typo, a rule added to the macro but not to the runtime, an
//! activation listed but not defined — fails this test's build, not a
//! user's.

/// The table, as `#[grad]` would see it: `__rule_table!` called back by the
/// runtime's `__with_activations!` with the activations' names.
macro_rules! table {
    () => {
        autodiff::__private::__with_activations! { (autodiff::__private::__rule_table) }
    };
}

#[test]
fn test_every_rule_the_macro_can_call_exists() {
    let names: &[&str] = table!();
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

/// The list the runtime hands `#[grad]` (`__with_activations!`) names
/// every `activation! { … }` of the runtime: an activation left out of it
/// would be taken for a call of a `#[grad]` function, and fail in the
/// user's build with "cannot find `__gelu_pullback`".
#[test]
fn test_every_activation_of_the_runtime_is_handed_to_the_macro() {
    macro_rules! names {
        ([$($name:ident)*]) => {
            &[$(stringify!($name)),*]
        };
    }
    let listed: &[&str] = autodiff::__private::__with_activations! { (names) };
    let names: &[&str] = table!();
    let source = include_str!("../autodiff-runtime/src/activation/mod.rs");
    let mut found = Vec::new();
    // After the macro's definition (`macro_rules! activation {`), each
    // invocation opens with `activation! {` and names its function in the
    // first `fn name;` of the forward trait.
    for invocation in source.split("\nactivation! {").skip(1) {
        let after = &invocation[invocation.find("\n        fn ").expect("a `fn name;`") + 12..];
        let name = &after[..after.find(';').expect("`;` after the name")];
        assert!(
            listed.contains(&name),
            "the runtime's activation `{name}` is missing from `__with_activations!` \
             (autodiff-runtime/src/activation/mod.rs), which lists {listed:?}"
        );
        assert!(names.contains(&format!("{name}_pullback_into").as_str()));
        found.push(name.to_owned());
    }
    // The scan found them (these three at least), not nothing; and the list
    // names nothing else.
    for name in ["sigmoid", "relu", "softplus"] {
        assert!(found.iter().any(|f| f == name), "the scan found {found:?}");
    }
    assert_eq!(
        listed.len(),
        found.len(),
        "listed {listed:?}, defined {found:?}"
    );
}
