//! The bound of generic `#[grad]` functions: a float type with every scalar
//! derivative rule.

use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
use crate::float::FloatRules;
use crate::params::Params;
use crate::relu::{Relu, ReluRule};
use crate::sigmoid::{Sigmoid, SigmoidRule};
use crate::softplus::{Softplus, SoftplusRule};
use crate::tangent::{Accumulate, Basis, Differentiable, ScalarOutput, Scale};

/// A float type every scalar rule applies to: `f32` and `f64`. Bound a
/// generic `#[grad]` function's type parameter by it (it includes
/// `num_traits::Float`, so the float methods are there), and call the
/// derivative at the type you need: `f_grad::<f32>(..)`, `f_grad::<f64>(..)`.
///
/// ```
/// use autodiff::{Scalar, grad};
///
/// #[grad]
/// fn f<T: Scalar>(x: T, y: T) -> T {
///     x * y + x.sin()
/// }
///
/// let (_, (dx, dy)) = f_grad::<f64>(1.0, 2.0);
/// assert_eq!((dx, dy), (2.0 + 1.0_f64.cos(), 1.0));
/// let (_, (dx, _)) = f_grad::<f32>(1.0, 2.0);
/// assert_eq!(dx, 2.0 + 1.0_f32.cos());
/// ```
pub trait Scalar:
    num_traits::Float
    + num_traits::NumAssignOps
    + core::fmt::Debug
    + Default
    + Differentiable<Tangent = Self>
    + Accumulate
    + ScalarOutput
    + AddRule<Self, DOut = Self>
    + SubRule<Self, DOut = Self>
    + MulRule<Self, DOut = Self>
    + DivRule<Self, DOut = Self>
    + NegRule<DOut = Self>
    + FloatRules
    + Sigmoid<Output = Self>
    + SigmoidRule
    + Relu<Output = Self>
    + ReluRule
    + Softplus<Output = Self>
    + SoftplusRule
    + Scale<Self>
    + Basis
    + Params<Scalar = Self>
    + crate::rules::IsGradient
{
}

impl Scalar for f32 {}
impl Scalar for f64 {}
