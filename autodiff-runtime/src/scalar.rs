//! The bound of generic `#[grad]` functions: a float type with every scalar
//! derivative rule.

use crate::activation::Activations;
use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
use crate::float::FloatRules;
use crate::params::Params;
use crate::tangent::{Accumulate, Basis, Differentiable, ScalarOutput, Scale};

/// A float type every scalar rule applies to: `f32` and `f64`. Bound a
/// generic `#[grad]` function's type parameter by it (it includes
/// `num_traits::Float`, so the float methods are there), and call the
/// derivative at the type you need: `f_grad::<f32>(..)`, `f_grad::<f64>(..)`.
///
/// `#[grad] fn f<T: autodiff::Scalar>(x: T, y: T) -> T { x * y + x.sin() }`
/// gives `f_grad::<f32>` and `f_grad::<f64>` (see the `autodiff` crate).
///
/// ```
/// fn needs<T: autodiff_runtime::Scalar>() {}
/// needs::<f32>();
/// needs::<f64>();
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
    + crate::float::PowfRule<Self, PTangent = Self>
    + Activations
    + Scale<Self>
    + Basis
    + Params<Scalar = Self>
    + crate::tangent::IsGradient
{
}

impl Scalar for f32 {}
impl Scalar for f64 {}
impl<F: Scalar> Scalar for crate::Dual<F> {}
