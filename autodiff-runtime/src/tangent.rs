//! The adjoint algebra every differentiable type provides.
//!
//! Generated code never names a type. It asks these traits for a zero gradient
//! ([`Differentiable::zero_tangent`]), adds one contribution into another
//! ([`Accumulate`]) and, in `f_grad`, for the seed `1` of a scalar output
//! ([`ScalarOutput`]). Implement them (and the rule traits of the primitives
//! you need) to make a type of your own differentiable.

/// A value with a gradient: `Tangent` is the owned type of that gradient.
///
/// `f64 → f64`, `f32 → f32`; a reference `&T` has the gradient of `T`.
///
/// ```
/// use autodiff_runtime::Differentiable;
/// assert_eq!(2.5_f64.zero_tangent(), 0.0);
/// assert_eq!((&1.0_f32).zero_tangent(), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be differentiated",
    label = "no gradient type for `{Self}`",
    note = "differentiable types are `f32`, `f64`, slices, `Vec`s and arrays of them, ndarray arrays, `#[derive(Params)]` structs and the types that implement `autodiff::Differentiable`; list only those in `wrt(...)`"
)]
pub trait Differentiable {
    /// The owned type of this value's gradient.
    type Tangent;
    /// A gradient of zero with the shape of `self`.
    fn zero_tangent(&self) -> Self::Tangent;
}

impl<T: Differentiable + ?Sized> Differentiable for &T {
    type Tangent = T::Tangent;
    #[inline]
    fn zero_tangent(&self) -> Self::Tangent {
        (**self).zero_tangent()
    }
}

/// `self += rhs` for gradients: how the reverse sweep sums the contributions
/// of every use of a value.
///
/// ```
/// use autodiff_runtime::Accumulate;
/// let mut g = 1.5_f64;
/// g.accumulate(2.0);
/// assert_eq!(g, 3.5);
/// ```
#[diagnostic::on_unimplemented(
    message = "cannot add a gradient of type `{Rhs}` to a gradient of type `{Self}`",
    label = "this value is differentiated, but its gradient has type `{Rhs}`",
    note = "when `{Rhs}` is `NotDifferentiated`, the `#[grad]` function called here does not differentiate this parameter: add it to that function's `wrt(...)`"
)]
pub trait Accumulate<Rhs = Self> {
    /// Adds `rhs` into `self`.
    fn accumulate(&mut self, rhs: Rhs);
}

/// The gradient a `#[grad]` function reports for a parameter it does not
/// differentiate (an integer, or a float left out of `wrt(...)`).
///
/// It only appears in the hidden pullback that one `#[grad]` function calls on
/// another; using it where a gradient is needed is a compile error that names
/// the parameter.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NotDifferentiated;

/// A scalar output, for which `f_grad` seeds the reverse sweep with `1`.
///
/// ```
/// use autodiff_runtime::ScalarOutput;
/// assert_eq!(<f64 as ScalarOutput>::seed_one(), 1.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scalar, so this function has no `_grad`",
    label = "`_grad` needs an `f32` or `f64` output",
    note = "call the `_vjp` function with a seed of type `{Self}` instead: it returns the vector-Jacobian product seedᵀ·J"
)]
pub trait ScalarOutput: Sized {
    /// The seed `1`. (Not `one`, which `num_traits::One` has: a generic
    /// function bounded by both must still say `T::one()`.)
    fn seed_one() -> Self;
}

/// `self *= by` for gradients: a loop that only sums into a float
/// accumulates its contributions once, for an adjoint of `1`, and scales them
/// by the accumulator's real adjoint after.
///
/// ```
/// use autodiff_runtime::Scale;
/// let mut g = vec![1.0_f64, -2.0];
/// g.scale(&0.5);
/// assert_eq!(g, [0.5, -1.0]);
/// ```
pub trait Scale<S> {
    /// Multiplies every element by `by`.
    fn scale(&mut self, by: &S);
}

/// An output with unit vectors: the seeds of a Jacobian, one per element.
///
/// ```
/// use autodiff_runtime::Basis;
/// assert_eq!(2.5_f64.basis(), [1.0]);
/// assert_eq!(vec![3.0_f64, 4.0].basis(), [vec![1.0, 0.0], vec![0.0, 1.0]]);
/// ```
pub trait Basis: Sized {
    /// One value of `self`'s shape per element: 1 at that element, 0
    /// elsewhere, in element order.
    fn basis(&self) -> Vec<Self>;
}

macro_rules! float_tangent {
    ($($t:ty),*) => {$(
        impl Differentiable for $t {
            type Tangent = $t;
            #[inline]
            fn zero_tangent(&self) -> $t {
                0.0
            }
        }

        impl Accumulate for $t {
            #[inline]
            fn accumulate(&mut self, rhs: $t) {
                *self += rhs;
            }
        }

        impl Accumulate<&$t> for $t {
            #[inline]
            fn accumulate(&mut self, rhs: &$t) {
                *self += *rhs;
            }
        }

        impl Scale<$t> for $t {
            #[inline]
            fn scale(&mut self, by: &$t) {
                *self *= *by;
            }
        }

        impl Basis for $t {
            fn basis(&self) -> Vec<$t> {
                vec![1.0]
            }
        }

        impl Basis for Vec<$t> {
            fn basis(&self) -> Vec<Vec<$t>> {
                (0..self.len())
                    .map(|i| {
                        let mut e = vec![0.0; self.len()];
                        e[i] = 1.0;
                        e
                    })
                    .collect()
            }
        }

        impl<const N: usize> Basis for [$t; N] {
            fn basis(&self) -> Vec<[$t; N]> {
                (0..N)
                    .map(|i| {
                        let mut e = [0.0; N];
                        e[i] = 1.0;
                        e
                    })
                    .collect()
            }
        }

        impl ScalarOutput for $t {
            #[inline]
            fn seed_one() -> $t {
                1.0
            }
        }
    )*};
}

float_tangent!(f32, f64);

/// Marks the types a called `#[grad]` function may return as a gradient.
///
/// ```
/// fn is_gradient<G: autodiff_runtime::rules::IsGradient>() {}
/// is_gradient::<f64>();
/// is_gradient::<f32>();
/// ```
#[diagnostic::on_unimplemented(
    message = "the `#[grad]` function called here does not differentiate this argument",
    label = "this argument is differentiated by the caller",
    note = "add the parameter to the called function's `wrt(...)`, or pass a constant"
)]
pub trait IsGradient {}
impl IsGradient for f32 {}
impl IsGradient for f64 {}
