//! The table of what the macro knows how to differentiate by name: the float
//! methods and the runtime primitives. Everything else is either a call of
//! another `#[grad]` function or an error.
//!
//! It is also the contract with the runtime: generated code calls
//! `::autodiff::__private::rules::<name>`, and every name it can call is
//! derived here, from these tables ([`runtime_names`]). The facade's
//! `tests/rule_table.rs` imports each of them from the runtime (through the
//! hidden `__rule_table!`), so a rule the runtime lacks fails the project's
//! own tests, not a user's build. Adding a method means a row in [`METHODS`];
//! adding a helper the emitter calls means a row in [`HELPERS`] (a unit test
//! checks the emitter names no other).

use crate::ir::{BinOp, MethodRule, MethodShape};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use std::sync::{Mutex, PoisonError};

pub static METHODS: &[MethodRule] = &[
    unary("exp"),
    unary("exp2"),
    unary("ln"),
    unary("log2"),
    unary("log10"),
    unary("sqrt"),
    unary("cbrt"),
    unary("sin"),
    unary("cos"),
    unary("tan"),
    unary("asin"),
    unary("acos"),
    unary("atan"),
    unary("sinh"),
    unary("cosh"),
    unary("tanh"),
    unary("abs"),
    unary("recip"),
    unary("ln_1p"),
    unary("exp_m1"),
    unary("asinh"),
    unary("acosh"),
    unary("atanh"),
    unary("to_radians"),
    unary("to_degrees"),
    // piecewise constant: gradient 0 (`fract`: 1), also at the jumps
    unary("floor"),
    unary("ceil"),
    unary("round"),
    unary("trunc"),
    unary("fract"),
    unary("signum"),
    rule("powi", "powi", MethodShape::Powi),
    binary("powf"),
    binary("max"),
    binary("min"),
    binary("atan2"),
    binary("hypot"),
    binary("log"),
    binary("copysign"),
    binary("rem_euclid"),
    rule("mul_add", "mul_add", MethodShape::MulAdd),
    rule("clamp", "clamp", MethodShape::Clamp),
    // ndarray's methods
    rule("sum", "sum", MethodShape::Reduce),
    unwrapped(rule("mean", "mean", MethodShape::Reduce)),
    with_into(rule("t", "transpose", MethodShape::Reduce)),
    rule("view", "view", MethodShape::Reduce),
    rule("dot", "matmul", MethodShape::Bilinear),
    rule("sum_axis", "sum_axis", MethodShape::Select(1)),
    unwrapped(rule("mean_axis", "mean_axis", MethodShape::Select(1))),
    rule("row", "row", MethodShape::Select(1)),
    rule("column", "column", MethodShape::Select(1)),
    rule("index_axis", "index_axis", MethodShape::Select(2)),
    rule("slice", "slice", MethodShape::Select(1)),
    rule("insert_axis", "insert_axis", MethodShape::Select(1)),
    unwrapped(rule(
        "into_shape_with_order",
        "into_shape_with_order",
        MethodShape::Select(1),
    )),
    unwrapped(rule("to_shape", "to_shape", MethodShape::Select(1))),
];

/// The runtime's activation functions (`autodiff-runtime/src/activation`),
/// called as `sigmoid(x)` or `autodiff::sigmoid(x)` on floats and arrays,
/// and applied to whole arrays by `z.mapv(sigmoid)`: each a unary
/// [`primitive`] whose pullback has an `_into` variant, as the runtime's
/// `activation!` writes them.
///
/// The macro does not name them: the runtime does, in the one file that
/// defines them. `#[grad]` expands to the runtime's
/// `__with_activations! { (::autodiff::__private::__grad) … }`, which calls
/// `__grad! { [sigmoid relu softplus] … }`; [`Activations::parse`] reads that
/// list. Adding an activation to the runtime adds it here.
pub struct Activations {
    rules: Vec<&'static MethodRule>,
}

impl Activations {
    /// The bracketed list `[sigmoid relu softplus]` at the head of `input`,
    /// and the tokens after it.
    pub fn parse(input: TokenStream) -> syn::Result<(Activations, TokenStream)> {
        let mut tokens = input.into_iter();
        let list = match tokens.next() {
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Bracket => group,
            other => {
                let span = other.map_or_else(Span::call_site, |token| token.span());
                return Err(syn::Error::new(
                    span,
                    "expected the runtime's list of activations, `[sigmoid relu …]`: \
                     use `#[autodiff::grad]`, not `autodiff::__private::__grad!`",
                ));
            }
        };
        let mut names = Vec::new();
        for token in list.stream() {
            match token {
                TokenTree::Ident(name) => names.push(name.to_string()),
                other => {
                    return Err(syn::Error::new(
                        other.span(),
                        "expected an activation's name",
                    ));
                }
            }
        }
        Ok((Activations::new(&names), tokens.collect()))
    }

    pub fn new(names: &[impl AsRef<str>]) -> Activations {
        Activations {
            rules: names.iter().map(|name| activation(name.as_ref())).collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&'static MethodRule> {
        self.rules.iter().copied().find(|rule| rule.name == name)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = &'static MethodRule> + '_ {
        self.rules.iter().copied()
    }
}

/// The list in messages: `` `sigmoid`/`relu`/`softplus` ``.
impl std::fmt::Display for Activations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (k, rule) in self.rules.iter().enumerate() {
            let sep = if k == 0 { "" } else { "/" };
            write!(f, "{sep}`{}`", rule.name)?;
        }
        Ok(())
    }
}

/// The rule of the activation `name`: made once per name for the life of
/// the compiler process (a few bytes per activation), so that the IR can
/// hold `&'static` rules as it does the built-in ones.
fn activation(name: &str) -> &'static MethodRule {
    static MADE: Mutex<Vec<&'static MethodRule>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(rule) = made.iter().find(|rule| rule.name == name) {
        return rule;
    }
    let name: &'static str = Box::leak(name.into());
    let rule: &'static MethodRule = Box::leak(Box::new(with_into(unary(name))));
    made.push(rule);
    rule
}

/// Runtime functions, called as `norm(x)` or `autodiff::norm(x)`, besides
/// the [`Activations`].
pub static PRIMITIVES: &[MethodRule] = &[
    unary("norm"),
    rule("sum", "sum", MethodShape::Reduce),
    rule("mean", "mean", MethodShape::Reduce),
    rule("norm_sq", "norm_sq", MethodShape::Reduce),
    with_into(rule("transpose", "transpose", MethodShape::Reduce)),
    rule("matmul", "matmul", MethodShape::Bilinear),
    rule("dot", "dot", MethodShape::Bilinear),
    unary("logsumexp"),
    unary("max_element"),
    unary("min_element"),
    rule("logsumexp_axis", "logsumexp_axis", MethodShape::AxisWise),
    rule("softmax", "softmax", MethodShape::AxisWise),
    rule("log_softmax", "log_softmax", MethodShape::AxisWise),
    // `concatenate(axis, &[a.view(), b.view()]).unwrap()`, `stack![axis, a, b]`,
    // as `desugar::join` writes them.
    rule("concatenate2", "concatenate2", MethodShape::Join(2)),
    rule("concatenate3", "concatenate3", MethodShape::Join(3)),
    rule("stack2", "stack2", MethodShape::Join(2)),
    rule("stack3", "stack3", MethodShape::Join(3)),
];

/// A tuple built from differentiated values, `(a, b)`: a [`crate::ir::Op::Primitive`]
/// with no callee, so that its forward code is the tuple as written.
pub static TUPLE: MethodRule = rule("tuple", "tuple", MethodShape::Tuple);

/// An array built from differentiated values, `[a, b]`: as [`TUPLE`], its
/// forward code the array as written.
pub static ARRAY: MethodRule = rule("array", "tuple", MethodShape::Tuple);

/// The most components a differentiated tuple may have (the runtime's
/// `Component` impls).
pub const TUPLE_MAX: usize = 6;

/// The most elements a differentiated array literal may have (the runtime's
/// `tuple_pullback_0` to `tuple_pullback_7`).
pub const ARRAY_MAX: usize = 8;

const fn rule(name: &'static str, rule: &'static str, shape: MethodShape) -> MethodRule {
    MethodRule {
        name,
        rule,
        shape,
        unwrap: false,
        into: false,
    }
}

/// A method that returns an `Option` (see [`MethodRule::unwrap`]).
const fn unwrapped(rule: MethodRule) -> MethodRule {
    MethodRule {
        unwrap: true,
        ..rule
    }
}

/// A rule whose pullback has an `_into` variant (see [`MethodRule::into`]).
const fn with_into(rule: MethodRule) -> MethodRule {
    MethodRule { into: true, ..rule }
}

const fn unary(name: &'static str) -> MethodRule {
    rule(name, name, MethodShape::Unary)
}

const fn binary(name: &'static str) -> MethodRule {
    rule(name, name, MethodShape::Binary)
}

pub fn method(name: &str) -> Option<&'static MethodRule> {
    METHODS.iter().find(|rule| rule.name == name)
}

pub fn primitive(name: &str, activations: &Activations) -> Option<&'static MethodRule> {
    PRIMITIVES
        .iter()
        .find(|rule| rule.name == name)
        .or_else(|| activations.get(name))
}

/// [`PRIMITIVES`] and the [`Activations`].
pub fn primitives(activations: &Activations) -> impl Iterator<Item = &'static MethodRule> + '_ {
    PRIMITIVES.iter().chain(activations.iter())
}

/// Whether the rule named `pullback` (`neg_pullback`) of an operator has an
/// `_into` variant that takes the adjoint by value (a method's or
/// primitive's says so itself: [`MethodRule::into`]).
pub fn has_into(pullback: &str) -> bool {
    INTO_RULES.contains(&pullback)
}

/// `x.min(p)`, `x.max(p)` of floats: the forward sweep records which side
/// was taken with `min_side`/`max_side`, and the reverse sweep routes the
/// adjoint with `select_pullback_lhs`/`_rhs`.
pub static SIDED: &[&str] = &["min", "max"];

/// The operators' rules with an `_into` variant that takes the adjoint by
/// value (see [`has_into`]; a method or primitive marks its own with
/// [`MethodRule::into`]).
pub static INTO_RULES: &[&str] = &[
    "neg_pullback",
    "add_pullback_lhs",
    "add_pullback_rhs",
    "sub_pullback_lhs",
    "sub_pullback_rhs",
];

/// Rules with an `_into` variant that takes their (array) operand by value.
pub static PRIMAL_INTO_RULES: &[&str] = &["norm_sq_pullback"];

/// The arithmetic operators, by rule prefix: `add_pullback_lhs`, ….
pub static OPERATORS: &[BinOp] = &[BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div];

/// The functions of `__private::rules` the emitter calls by name, besides
/// the pullbacks: seeds, zeros, accumulation, tapes, dual numbers.
pub static HELPERS: &[&str] = &[
    "accumulate",
    "accumulate_at",
    "basis",
    "callee_gradient",
    "constant_dual",
    "constant_duals",
    "dual_of",
    "duals_of",
    "elem_zero",
    "epsilon_part",
    "is_zero",
    "last",
    "no_last",
    "one",
    "slice_range",
    "one_like",
    "product_start",
    "runtime_fn",
    "same_type",
    "scaled",
    "segment",
    "sum_start",
    "takes_max",
    "takes_min",
    "type_of",
    "zero",
    "zero_of_type",
    // A trait: the bound `callee_gradient` checks.
    "IsGradient",
];

/// The other items of `__private` that generated code names.
pub static PRIVATE_ITEMS: &[&str] = &[
    "Basis",
    "Differentiable",
    "Dual",
    "NotDifferentiated",
    "Scalar",
    "ScalarOutput",
    "Vec",
    // The proc macro that prints `f_vjp`'s listing for rustdoc.
    "__listing",
    // `#[grad]`'s expansion: the runtime's macro that hands the macro the
    // activations' names, and the proc macro it calls back with them.
    "__with_activations",
    "__grad",
    // The segments and the snapshot schedule of `#[checkpoint]` loops:
    // [`CHECKPOINT_ITEMS`].
    "checkpoint",
    // The primitives `desugar` writes for ndarray's `fold` (max/min),
    // `concatenate` and `stack`.
    "max_element",
    "min_element",
    "concatenate2",
    "concatenate3",
    "stack2",
    "stack3",
    // The runtime crate, whose primitives `rules::runtime_fn` checks a
    // one-word primitive call against (`lower::calls::runtime_callee`).
    "runtime",
];

/// The items of `::autodiff::__private::checkpoint` that generated code
/// names (`checkpoint.rs`'s rewrite and `emit`'s snapshots).
pub static CHECKPOINT_ITEMS: &[&str] = &[
    "Schedule",
    "segment_count",
    "segment_end",
    "segment_length",
    "segment_start",
];

impl BinOp {
    /// The rule prefix of the operator: `add` → `add_pullback_lhs`.
    pub fn rule(self) -> &'static str {
        match self {
            BinOp::Add => "add",
            BinOp::Sub => "sub",
            BinOp::Mul => "mul",
            BinOp::Div => "div",
        }
    }
}

/// `{rule}_pullback` for one operand, `{rule}_pullback_{side}` for one of
/// several (see [`MethodShape::sides`]).
pub fn pullback_name(rule: &str, side: &str) -> String {
    if side.is_empty() {
        format!("{rule}_pullback")
    } else {
        format!("{rule}_pullback_{side}")
    }
}

/// Every name in `::autodiff::__private::rules` that generated code can
/// call, derived from the tables above, sorted and without repeats.
pub fn runtime_names(activations: &Activations) -> Vec<String> {
    let mut names: Vec<String> = HELPERS.iter().map(|&name| name.to_owned()).collect();
    for op in OPERATORS {
        for side in ["lhs", "rhs"] {
            names.push(pullback_name(op.rule(), side));
        }
    }
    names.push(pullback_name("neg", ""));
    for rule in METHODS
        .iter()
        .chain(primitives(activations))
        .chain([&TUPLE])
    {
        for side in rule.shape.sides() {
            names.push(pullback_name(rule.rule, side));
        }
    }
    for name in SIDED {
        names.push(format!("{name}_side"));
    }
    for side in ["lhs", "rhs"] {
        names.push(pullback_name("select", side));
    }
    for rule in INTO_RULES.iter().chain(PRIMAL_INTO_RULES) {
        names.push(format!("{rule}_into"));
    }
    for rule in METHODS.iter().chain(primitives(activations)) {
        if rule.into {
            names.push(format!("{}_pullback_into", rule.rule));
        }
    }
    names.sort();
    names.dedup();
    names
}

impl MethodShape {
    /// The operands' suffixes in the names of the pullbacks, receiver first:
    /// `""` for the one operand of `exp_pullback`, `lhs`/`rhs` for
    /// `powf_pullback_lhs`, `x`/`a`/`b` for `mul_add_pullback_x`, ….
    pub fn sides(self) -> &'static [&'static str] {
        match self {
            MethodShape::Unary
            | MethodShape::Reduce
            | MethodShape::Powi
            | MethodShape::Select(_)
            | MethodShape::AxisWise => &[""],
            MethodShape::Binary | MethodShape::Bilinear => &["lhs", "rhs"],
            MethodShape::MulAdd => &["x", "a", "b"],
            MethodShape::Clamp => &["x", "lo", "hi"],
            // One per component, up to `ARRAY_MAX`: `tuple_pullback_0`, ….
            MethodShape::Tuple => &["0", "1", "2", "3", "4", "5", "6", "7"],
            // One per array after the axis: `concatenate2_pullback_0`, ….
            MethodShape::Join(2) => &["0", "1"],
            MethodShape::Join(_) => &["0", "1", "2"],
        }
    }

    /// How many arguments the method takes besides its receiver.
    pub fn arity(self) -> usize {
        match self {
            MethodShape::Unary | MethodShape::Reduce | MethodShape::Tuple => 0,
            MethodShape::Binary
            | MethodShape::Bilinear
            | MethodShape::Powi
            | MethodShape::AxisWise => 1,
            MethodShape::MulAdd | MethodShape::Clamp => 2,
            MethodShape::Select(n) | MethodShape::Join(n) => usize::from(n),
        }
    }

    /// Whether argument `k` (the receiver or first argument is 0) is a
    /// constant no derivative flows through.
    pub fn constant_at(self, k: usize) -> bool {
        match self {
            MethodShape::Join(_) => k == 0,
            shape => k > 0 && shape.constant_args(),
        }
    }

    /// Whether the arguments after the receiver are constants that no
    /// derivative flows through (`powi`'s exponent, an axis, an index).
    pub fn constant_args(self) -> bool {
        matches!(
            self,
            MethodShape::Powi | MethodShape::Select(_) | MethodShape::AxisWise
        )
    }

    /// Whether the value is an array (or a view) whatever the operand.
    pub fn makes_array(self) -> bool {
        matches!(
            self,
            MethodShape::Bilinear
                | MethodShape::Select(_)
                | MethodShape::AxisWise
                | MethodShape::Join(_)
        )
    }
}

/// The list shown in "no derivative rule" errors.
pub fn method_list() -> String {
    METHODS
        .iter()
        .map(|rule| rule.name)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Mode, Operand, OperandKind};
    use proc_macro2::Span;

    /// Every pullback `reverse` builds for every method and primitive, with
    /// every operand active, scalar or not, is in the table.
    #[test]
    fn every_pullback_reverse_can_build_is_listed() {
        let activations = crate::tests::activations();
        let names = runtime_names(&activations);
        for rule in METHODS.iter().chain(primitives(&activations)) {
            let operands: Vec<Operand> = (0..=rule.shape.arity())
                .map(|var| Operand {
                    kind: OperandKind::Var(var),
                    mode: Mode::Value,
                    span: Span::call_site(),
                })
                .collect();
            let operands: Vec<&Operand> = operands.iter().collect();
            for scalar in [true, false] {
                let pullbacks = crate::reverse::rule_pullbacks(
                    rule,
                    &operands,
                    operands.len(),
                    &|operand: &Operand| match operand.kind {
                        OperandKind::Var(var) => Some(var),
                        _ => None,
                    },
                    &|_: &Operand| scalar,
                );
                // One pullback per side: `powi`'s exponent has none.
                assert_eq!(pullbacks.len(), rule.shape.sides().len(), "`{}`", rule.name);
                for (_, name, _) in pullbacks {
                    assert!(names.contains(&name), "`{name}` is not in the table");
                }
            }
        }
    }

    /// The names the emitter writes as `::autodiff::__private::rules::name`
    /// (or `#rules::name`) or `::autodiff::__private::Name`, anywhere in the
    /// macro's source, are in the table: a helper added to the emitter must
    /// be added to [`HELPERS`] too.
    #[test]
    fn the_emitter_names_only_listed_helpers() {
        let sources = [
            include_str!("analyse.rs"),
            include_str!("checkpoint.rs"),
            include_str!("custom.rs"),
            include_str!("desugar.rs"),
            include_str!("emit.rs"),
            include_str!("expand.rs"),
            include_str!("front.rs"),
            include_str!("lower/mod.rs"),
            include_str!("lower/calls.rs"),
            include_str!("lower/control.rs"),
            include_str!("lower/expressions.rs"),
            include_str!("lower/statements.rs"),
            include_str!("params.rs"),
            include_str!("reverse.rs"),
            include_str!("simplify.rs"),
        ];
        let names = runtime_names(&crate::tests::activations());
        let checkpoint: Vec<String> = CHECKPOINT_ITEMS.iter().map(|&n| n.to_owned()).collect();
        let mut seen = 0;
        for source in sources {
            for (prefix, list) in [
                ("__private::checkpoint::", &checkpoint[..]),
                // `let helpers = quote!(::autodiff::__private::checkpoint);`
                ("#helpers::", &checkpoint[..]),
                ("__private::rules::", &names[..]),
                // `let rules = quote!(::autodiff::__private::rules);`
                ("#rules::", &names[..]),
                (
                    "__private::",
                    &PRIVATE_ITEMS
                        .iter()
                        .map(|&n| n.to_owned())
                        .collect::<Vec<_>>()[..],
                ),
            ] {
                for (at, _) in source.match_indices(prefix) {
                    let rest = &source[at + prefix.len()..];
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    // `rules::#rule`, interpolated: the pullbacks, checked above.
                    if name.is_empty() || name == "rules" {
                        continue;
                    }
                    seen += 1;
                    assert!(list.contains(&name), "`{prefix}{name}` is not in the table");
                }
            }
        }
        assert!(seen > 30, "the scan found only {seen} names");
    }

    /// The lists that name rules by string name rules that exist.
    #[test]
    fn lists_by_name_name_rules() {
        let names = runtime_names(&crate::tests::activations());
        for rule in INTO_RULES.iter().chain(PRIMAL_INTO_RULES) {
            assert!(names.contains(&(*rule).to_owned()), "`{rule}`");
        }
        let unary: Vec<&str> = METHODS
            .iter()
            .filter(|rule| rule.shape == MethodShape::Unary)
            .map(|rule| rule.rule)
            .collect();
        for list in [
            crate::reverse::OUTPUT_UNREAD,
            crate::reverse::OPERAND_UNREAD,
            crate::reverse::BOTH_UNREAD,
        ] {
            for name in list {
                assert!(unary.contains(name), "`{name}` is not a unary method");
            }
        }
        for name in SIDED {
            assert!(
                method(name).is_some_and(|rule| rule.shape == MethodShape::Binary),
                "`{name}`"
            );
        }
    }
}
