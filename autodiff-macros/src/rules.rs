//! The table of what the macro knows how to differentiate by name: the float
//! methods and the runtime primitives. Everything else is either a call of
//! another `#[grad]` function or an error.

use crate::ir::{MethodRule, MethodShape, PrimitiveRule};

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
    MethodRule {
        name: "powi",
        shape: MethodShape::Powi,
    },
    binary("powf"),
    binary("max"),
    binary("min"),
    binary("atan2"),
    binary("hypot"),
    MethodRule {
        name: "mul_add",
        shape: MethodShape::MulAdd,
    },
];

pub static PRIMITIVES: &[PrimitiveRule] = &[
    PrimitiveRule { name: "sigmoid" },
    PrimitiveRule { name: "relu" },
    PrimitiveRule { name: "softplus" },
];

const fn unary(name: &'static str) -> MethodRule {
    MethodRule {
        name,
        shape: MethodShape::Unary,
    }
}

const fn binary(name: &'static str) -> MethodRule {
    MethodRule {
        name,
        shape: MethodShape::Binary,
    }
}

pub fn method(name: &str) -> Option<&'static MethodRule> {
    METHODS.iter().find(|rule| rule.name == name)
}

pub fn primitive(name: &str) -> Option<&'static PrimitiveRule> {
    PRIMITIVES.iter().find(|rule| rule.name == name)
}

impl MethodShape {
    /// How many arguments the method takes besides its receiver.
    pub fn arity(self) -> usize {
        match self {
            MethodShape::Unary => 0,
            MethodShape::Binary | MethodShape::Powi => 1,
            MethodShape::MulAdd => 2,
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
