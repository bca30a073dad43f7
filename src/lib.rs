#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

/// Differentiates a function at compile time: `#[grad] fn f` keeps `f` and
/// adds `f_grad` (value and gradient) and `f_vjp` (value and vector-Jacobian
/// product).
///
/// ```
/// use autodiff::grad;
///
/// #[grad(wrt(x))]
/// fn scaled_square(x: f64, k: f64) -> f64 {
///     k * x * x
/// }
///
/// let (y, dx) = scaled_square_grad(3.0, 0.5);
/// assert_eq!((y, dx), (4.5, 3.0)); // d(k·x²)/dx = 2·k·x
/// let (_, dx) = scaled_square_vjp(3.0, 0.5, 10.0);
/// assert_eq!(dx, 30.0); // seed · 2·k·x
/// ```
pub use autodiff_macros::grad;
pub use autodiff_runtime::*;

/// Not public API: what `#[grad]`-generated code names. May change in any
/// release without notice.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_runtime::rules;
    pub use autodiff_runtime::{Accumulate, Differentiable, NotDifferentiated, ScalarOutput};
    pub use core::option::Option;
    pub use std::vec::Vec;
}
