#![forbid(unsafe_code)]
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

/// Gives a function a derivative written by hand: for numerical stability,
/// or for code `#[grad]` cannot see into (a solver, a library or FFI call).
/// `#[grad]` functions that call it use that derivative.
///
/// The argument names a function with the signature `#[grad]` would give the
/// `_vjp`: the same parameters, then the seed, returning the value and
/// `seed · gradient` (a tuple when several parameters are differentiated;
/// `wrt(...)` picks them as in `#[grad]`). The compiler checks it against
/// that signature. `f_grad` is generated, and `f_vjp` when the named
/// function is not `f_vjp` itself.
///
/// ```
/// use autodiff::{custom_vjp, grad, sigmoid};
///
/// /// ln(1 + eˣ), without overflow for large x.
/// #[custom_vjp(log1pexp_vjp)]
/// fn log1pexp(x: f64) -> f64 {
///     if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
/// }
///
/// fn log1pexp_vjp(x: f64, seed: f64) -> (f64, f64) {
///     (log1pexp(x), seed * sigmoid(x))
/// }
///
/// #[grad]
/// fn loss(w: f64, x: f64) -> f64 {
///     2.0 * log1pexp(w * x)
/// }
///
/// let (_, d) = log1pexp_grad(800.0);
/// assert_eq!(d, 1.0); // e⁸⁰⁰ would overflow
/// let (_, (dw, dx)) = loss_grad(0.5, 3.0);
/// assert!((dw - 2.0 * 3.0 * sigmoid(1.5_f64)).abs() < 1e-12);
/// assert!((dx - 2.0 * 0.5 * sigmoid(1.5_f64)).abs() < 1e-12);
/// ```
pub use autodiff_macros::custom_vjp;

/// Derives [`Params`] (and the gradient traits) for a struct of
/// differentiable fields; see [`Params`].
///
/// ```
/// use autodiff::{Params, grad, matmul, sigmoid, sum};
/// use ndarray::{Array1, Array2, array};
///
/// #[derive(Params, Clone, Debug)]
/// struct Layer {
///     w: Array2<f64>,
///     b: Array1<f64>,
///     #[params(skip)]
///     name: &'static str,
/// }
///
/// #[grad(wrt(p))]
/// fn score(p: &Layer, x: &Array1<f64>) -> f64 {
///     sum(&sigmoid(matmul(&p.w, x) + &p.b))
/// }
///
/// let mut p = Layer { w: array![[0.5, -1.0]], b: array![0.1], name: "out" };
/// let x = array![1.0, 2.0];
/// let (_, g): (f64, Layer) = score_grad(&p, &x);
/// p.axpy(-0.1, &g); // one SGD step
/// autodiff::check(|p: &Layer| score(p, &x), p.clone(), score_grad(&p, &x).1).assert_close(1e-6);
/// ```
pub use autodiff_macros::Params;
pub use autodiff_runtime::*;

/// Not public API: what `#[grad]`-generated code names. May change in any
/// release without notice.
#[doc(hidden)]
pub mod __private {
    pub use autodiff_macros::{__grad, __listing, __rule_table};
    /// The runtime's primitives by their own paths, which generated code
    /// checks a primitive's name in scope against (`rules::runtime_fn`).
    pub use autodiff_runtime as runtime;
    pub use autodiff_runtime::__with_activations;
    pub use autodiff_runtime::checkpoint;
    pub use autodiff_runtime::rules;
    pub use autodiff_runtime::rules::{concatenate2, concatenate3, stack2, stack3};
    pub use autodiff_runtime::{
        Accumulate, Basis, Differentiable, Dual, NotDifferentiated, Scalar, ScalarOutput,
    };
    pub use autodiff_runtime::{max_element, min_element};
    pub use core::option::Option;
    pub use std::vec::Vec;
}
