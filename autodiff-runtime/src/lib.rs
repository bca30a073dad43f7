//! Derivative rules, tangent types and the finite-difference gradient check
//! behind [`autodiff`](https://docs.rs/autodiff).
//!
//! Use it through the `autodiff` facade crate: `#[grad]`-generated code calls
//! into [`rules`], and the primitives ([`sigmoid`], [`relu`], [`softplus`]) are
//! ordinary functions, usable outside `#[grad]` too.

mod arith;
pub mod check;
#[cfg(test)]
mod edge_cases;
mod float;
mod relu;
pub mod rules;
mod sigmoid;
mod softplus;
mod tangent;

pub use check::{CheckReport, check, check_with};
pub use relu::{Relu, relu};
pub use sigmoid::{Sigmoid, sigmoid};
pub use softplus::{Softplus, softplus};
pub use tangent::{Accumulate, Differentiable, NotDifferentiated, ScalarOutput};

/// The rule traits: implement them to make a type of your own differentiable.
pub mod rules_traits {
    pub use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
    pub use crate::float::FloatRules;
    pub use crate::relu::ReluRule;
    pub use crate::sigmoid::SigmoidRule;
    pub use crate::softplus::SoftplusRule;
}
