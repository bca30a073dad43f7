//! The table of what the macro knows how to differentiate by name: the float
//! methods and the runtime primitives. Everything else is either a call of
//! another `#[grad]` function or an error.

use crate::ir::{MethodRule, MethodShape};

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
    rule("t", "transpose", MethodShape::Reduce),
    rule("dot", "matmul", MethodShape::Bilinear),
];

/// Runtime functions, called as `sigmoid(x)` or `autodiff::sigmoid(x)`.
pub static PRIMITIVES: &[MethodRule] = &[
    unary("sigmoid"),
    unary("relu"),
    unary("softplus"),
    unary("norm"),
    rule("sum", "sum", MethodShape::Reduce),
    rule("mean", "mean", MethodShape::Reduce),
    rule("norm_sq", "norm_sq", MethodShape::Reduce),
    rule("transpose", "transpose", MethodShape::Reduce),
    rule("matmul", "matmul", MethodShape::Bilinear),
    rule("dot", "dot", MethodShape::Bilinear),
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
    MethodRule { name, rule, shape }
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

pub fn primitive(name: &str) -> Option<&'static MethodRule> {
    PRIMITIVES.iter().find(|rule| rule.name == name)
}

impl MethodShape {
    /// How many arguments the method takes besides its receiver.
    pub fn arity(self) -> usize {
        match self {
            MethodShape::Unary | MethodShape::Reduce | MethodShape::Tuple => 0,
            MethodShape::Binary | MethodShape::Bilinear | MethodShape::Powi => 1,
            MethodShape::MulAdd | MethodShape::Clamp => 2,
        }
    }

    /// The names of a three-operand rule's pullbacks, receiver first:
    /// `mul_add_pullback_{x,a,b}`, `clamp_pullback_{x,lo,hi}`.
    pub fn operand_names(self) -> [&'static str; 3] {
        match self {
            MethodShape::Clamp => ["x", "lo", "hi"],
            _ => ["x", "a", "b"],
        }
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
