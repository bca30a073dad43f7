//! Derivative rules, tangent types and the finite-difference gradient check
//! behind [`autodiff`](https://docs.rs/autodiff).
//!
//! Use it through the `autodiff` facade crate: `#[grad]`-generated code calls
//! into [`rules`], and the primitives ([`sigmoid`], [`relu`], [`softplus`], [`silu`],
//! [`matmul`], [`dot`], [`transpose`], [`sum`], [`mean`], [`norm`],
//! [`norm_sq`], [`softmax`], [`log_softmax`], [`logsumexp`],
//! [`logsumexp_axis`], [`max_element`], [`min_element`]) are ordinary
//! functions, usable outside `#[grad]` too.
//!
//! Scalars are `f32` and `f64`; arrays are ndarray's `ArrayBase<S, D>` of
//! either (owned, views, any dimension), with the owned `Array<A, D>` as
//! their gradient.

#![forbid(unsafe_code)]

mod activation;
mod arith;
mod array;
mod array_arith;
mod array_float;
mod axis;
pub mod check;
#[doc(hidden)]
pub mod checkpoint;
mod dual;
#[cfg(test)]
mod edge_cases;
mod float;
mod linalg;
mod params;
mod reduce;
pub mod rules;
mod scalar;
mod seq;
mod tangent;
mod tuple;

pub use activation::exports::*;
pub use axis::{log_softmax, logsumexp, logsumexp_axis, max_element, min_element, softmax};
pub use check::{CheckReport, check, check_with};
pub use dual::Dual;
pub use linalg::{Matmul, dot, matmul, transpose};
pub use params::Params;
pub use reduce::{mean, norm, norm_sq, sum};
pub use scalar::Scalar;
pub use tangent::{Accumulate, Basis, Differentiable, NotDifferentiated, ScalarOutput, Scale};

/// The rule traits: implement them to make a type of your own differentiable.
pub mod rules_traits {
    pub use crate::activation::rule_traits::*;
    pub use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
    pub use crate::float::{FloatRules, PowfRule};
    pub use crate::linalg::{DotRule, MatmulRule, TransposeRule};
    pub use crate::reduce::ReduceRule;
}
