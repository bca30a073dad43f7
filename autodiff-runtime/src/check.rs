//! Gradient check by central finite differences.
//!
//! Entry points: [`check`] (default step) and [`check_with`] (given step).
//! Both perturb one element of one parameter at a time, estimate the
//! derivative as in the notes this crate grew from,
//!
//! ```text
//! ∂f/∂xᵢ ≈ (f(x + hᵢ) − f(x − hᵢ)) / 2hᵢ
//! ```
//!
//! and report, per parameter, the worst [relative error](#relative-error) of
//! the given gradient against that estimate in a [`CheckReport`].
//!
//! # What can be checked
//!
//! The point `at` and the gradient `grad` (by value or by reference) have one
//! type `P: `[`Point`]: a single parameter — `f32`, `f64`, `Vec<T>`, `[T; N]`
//! with `T` `f32` or `f64` (any [`Leaf`]) — or a tuple of up to 8 of them, one
//! per differentiated parameter, in the shape `#[grad]` returns gradients. The
//! function returns `f32` or `f64` (any [`Real`]). A new parameter type (an
//! ndarray array, a type of your own) needs only an `impl Leaf`.
//!
//! # Step
//!
//! The step for an element `x` is `hᵢ = ε · max(1, |x|)`: the absolute `ε` of
//! the notes for `|x| ≤ 1`, and relative above, so that `x ± hᵢ` still differs
//! from `x` in the element's precision. The derivative is divided by the
//! distance between the two points actually evaluated (after rounding to the
//! element type), not by the nominal `2hᵢ`.
//!
//! The default `ε` ([`check`]) depends on the precision of the element and
//! of the output, whichever is coarser:
//!
//! - [`DEFAULT_EPS_F64`] = `1e-5` when both are `f64`, the notes' choice.
//!   It is close to the optimum `∛(3u) ≈ 7e-6` that balances truncation
//!   error (`≈ ε²·|f‴|/6`) against rounding error (`≈ u·|f|/ε`), with `u` the
//!   unit roundoff; both are then about `1e-11` for a function of unit scale.
//! - [`DEFAULT_EPS_F32`] = `5e-3 ≈ ∛f32::EPSILON` when either is `f32`; the
//!   estimate is then good to about `1e-5` absolute at unit scale, so use a
//!   tolerance near `1e-2` for `f32` checks.
//!
//! # Relative error
//!
//! For a gradient element `g` and its finite-difference estimate `fd`:
//!
//! ```text
//! err = |g − fd| / max(|g|, |fd|, floor)
//! ```
//!
//! `err` is `0` when `g == fd` (infinities of the same sign included) and
//! `+∞` when the formula gives NaN (a NaN on either side, or one side
//! infinite). The floor is the magnitude below which gradients are compared
//! absolutely, in units of the floor:
//!
//! - [`REL_ERROR_FLOOR_F64`] = `1e-6` in `f64`. An exact-zero gradient
//!   compared with finite-difference noise of `≈ 1e-11` then reports
//!   `≈ 1e-5` instead of `1`; yet with a tolerance `tol`, any gradient off
//!   by more than `1e-6 · tol` in absolute terms still fails, however small.
//! - [`REL_ERROR_FLOOR_F32`] = `1e-2` in `f32`, where the noise is
//!   `≈ 1e-5`: a zero gradient then reports `≈ 1e-3`.
//!
//! # Errors
//!
//! [`check`] and [`check_with`] never panic on their inputs. A parameter
//! whose gradient has a different number of elements than the point (a `Vec`
//! of the wrong length) is reported with an infinite error and named by
//! [`CheckReport::assert_close`]; a NaN or infinite value gives an infinite
//! error. Only [`CheckReport::assert_close`] panics, by design.

use crate::params::Params;
use core::borrow::Borrow;
use core::fmt;
use core::fmt::Write as _;

/// Default finite-difference step `ε` for `f64` elements and `f64` outputs:
/// `1e-5`, as in the notes. See the [module documentation](self#step).
pub const DEFAULT_EPS_F64: f64 = 1e-5;

/// Default finite-difference step `ε` when the element or the output is
/// `f32`: `5e-3 ≈ ∛f32::EPSILON`. See the [module documentation](self#step).
pub const DEFAULT_EPS_F32: f64 = 5e-3;

/// Floor of the relative error's denominator in `f64`: `1e-6`. See the
/// [module documentation](self#relative-error).
pub const REL_ERROR_FLOOR_F64: f64 = 1e-6;

/// Floor of the relative error's denominator when the element or the output
/// is `f32`: `1e-2`. See the [module documentation](self#relative-error).
pub const REL_ERROR_FLOOR_F32: f64 = 1e-2;

pub use crate::params::Real;

/// One differentiable parameter seen as a flat list of real elements, read
/// and written as `f64`.
///
/// Implemented for every [`Params`] type: `f32`, `f64` (one element),
/// `Vec`s, arrays `[T; N]` and ndarray arrays of them, and
/// `#[derive(Params)]` structs; the flat view is `Params`'. Every `Leaf` is
/// a [`Point`] with one parameter.
///
/// ```
/// use autodiff_runtime::check::Leaf;
/// let mut v = vec![1.0_f32, 2.0];
/// assert_eq!(Leaf::len(&v), 2);
/// v.set(1, 0.5);
/// assert_eq!(v.get(1), 0.5);
/// assert_eq!(v.epsilon(), f64::from(f32::EPSILON));
/// ```
pub trait Leaf {
    /// The number of elements.
    fn len(&self) -> usize;
    /// Whether there are no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Element `i` (`i < len()`) as `f64`.
    fn get(&self, i: usize) -> f64;
    /// Sets element `i` (`i < len()`) to the nearest value of the element type
    /// to `v`.
    fn set(&mut self, i: usize, v: f64);
    /// The machine epsilon of the element type, as `f64`.
    fn epsilon(&self) -> f64;
}

/// Every [`Params`] type is a leaf: its flat view (`num_elements`,
/// `element`, `set_element`, `element_epsilon`), the one definition of it.
impl<P: Params> Leaf for P {
    #[inline]
    fn len(&self) -> usize {
        self.num_elements()
    }
    #[inline]
    fn get(&self, i: usize) -> f64 {
        self.element(i)
    }
    #[inline]
    fn set(&mut self, i: usize, v: f64) {
        self.set_element(i, v);
    }
    #[inline]
    fn epsilon(&self) -> f64 {
        self.element_epsilon()
    }
}

/// The point a function is checked at, and its gradient: one or several
/// parameters, each a [`Leaf`].
///
/// Implemented for every [`Leaf`] (one parameter) and for tuples of up to 8
/// leaves (one parameter per component).
///
/// ```
/// use autodiff_runtime::check::Point;
/// let p = (1.0_f64, vec![2.0_f64, 3.0], [4.0_f32; 3]);
/// assert_eq!(p.num_params(), 3);
/// assert_eq!(p.param(1).get(0), 2.0);
/// assert_eq!(p.param(2).len(), 3);
/// ```
pub trait Point {
    /// The number of parameters.
    fn num_params(&self) -> usize;
    /// Parameter `k`; panics unless `k < num_params()`.
    fn param(&self, k: usize) -> &dyn Leaf;
    /// Parameter `k`, mutably; panics unless `k < num_params()`.
    fn param_mut(&mut self, k: usize) -> &mut dyn Leaf;
}

impl<L: Leaf> Point for L {
    #[inline]
    fn num_params(&self) -> usize {
        1
    }
    #[inline]
    fn param(&self, k: usize) -> &dyn Leaf {
        assert_eq!(k, 0, "parameter index out of range");
        self
    }
    #[inline]
    fn param_mut(&mut self, k: usize) -> &mut dyn Leaf {
        assert_eq!(k, 0, "parameter index out of range");
        self
    }
}

macro_rules! tuple_point {
    ($n:literal: $($t:ident $i:tt),+) => {
        impl<$($t: Leaf),+> Point for ($($t,)+) {
            #[inline]
            fn num_params(&self) -> usize {
                $n
            }
            fn param(&self, k: usize) -> &dyn Leaf {
                match k {
                    $($i => &self.$i,)+
                    _ => panic!("parameter index {k} out of range for {} parameters", $n),
                }
            }
            fn param_mut(&mut self, k: usize) -> &mut dyn Leaf {
                match k {
                    $($i => &mut self.$i,)+
                    _ => panic!("parameter index {k} out of range for {} parameters", $n),
                }
            }
        }
    };
}

tuple_point!(1: A 0);
tuple_point!(2: A 0, B 1);
tuple_point!(3: A 0, B 1, C 2);
tuple_point!(4: A 0, B 1, C 2, D 3);
tuple_point!(5: A 0, B 1, C 2, D 3, E 4);
tuple_point!(6: A 0, B 1, C 2, D 3, E 4, F 5);
tuple_point!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_point!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);

/// The worst element of one parameter: where the gradient and the finite
/// difference disagree most (the first such element on a tie).
///
/// ```
/// let r = autodiff_runtime::check(|x: &Vec<f64>| x[0] + 2.0 * x[1], vec![0.0, 0.0], vec![1.0, 3.0]);
/// let w = r.worst(0).unwrap();
/// assert_eq!(w.index, 1);
/// assert!((w.expected - 2.0).abs() < 1e-9);
/// assert_eq!(w.got, 3.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Worst {
    /// The element's index within the parameter (`0` for a scalar).
    pub index: usize,
    /// Its [relative error](self#relative-error).
    pub rel_error: f64,
    /// The finite-difference estimate.
    pub expected: f64,
    /// The gradient that was checked.
    pub got: f64,
}

/// What the check found for one parameter.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// Every element compared; `None` when the parameter has no elements.
    Compared(Option<Worst>),
    /// The gradient has `grad` elements where the point has `at`.
    LengthMismatch { at: usize, grad: usize },
}

/// The result of a gradient check: the worst relative error per parameter,
/// and where it occurs.
///
/// `Display` prints one line per parameter; [`assert_close`](Self::assert_close)
/// panics with the offending parameter, element, expected and actual values.
///
/// ```
/// use autodiff_runtime::check;
/// let r = check(|&(x, y): &(f64, f64)| x * y, (2.0, 3.0), (3.0, 2.0));
/// assert!(r.max_rel_error() < 1e-9);
/// assert_eq!(r.per_param().len(), 2);
/// println!("{r}");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CheckReport {
    per_param: Vec<f64>,
    outcomes: Vec<Outcome>,
}

impl CheckReport {
    /// The worst relative error over all parameters; `0` when there is
    /// nothing to compare, `+∞` for a NaN or a length mismatch.
    ///
    /// ```
    /// let r = autodiff_runtime::check(|x: &f64| x * x, 3.0, 5.0);
    /// assert!((r.max_rel_error() - 1.0 / 6.0).abs() < 1e-9);
    /// ```
    #[must_use]
    pub fn max_rel_error(&self) -> f64 {
        self.per_param.iter().copied().fold(0.0, f64::max)
    }

    /// The worst relative error of each parameter, in parameter order.
    ///
    /// ```
    /// let r = autodiff_runtime::check(|&(x, y): &(f64, f64)| x + y, (0.0, 0.0), (1.0, 0.0));
    /// assert!(r.per_param()[0] < 1e-9);
    /// assert!(r.per_param()[1] > 0.99);
    /// ```
    #[must_use]
    pub fn per_param(&self) -> &[f64] {
        &self.per_param
    }

    /// The worst element of parameter `k`, or `None` if it has no elements,
    /// its gradient has the wrong length, or `k` is out of range.
    ///
    /// ```
    /// let r = autodiff_runtime::check(|x: &[f64; 3]| x[2] * x[2], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]);
    /// assert_eq!(r.worst(0).unwrap().index, 2);
    /// assert_eq!(r.worst(1), None);
    /// ```
    #[must_use]
    pub fn worst(&self, k: usize) -> Option<Worst> {
        match self.outcomes.get(k)? {
            Outcome::Compared(worst) => *worst,
            Outcome::LengthMismatch { .. } => None,
        }
    }

    /// Whether every relative error is at most `tol`.
    ///
    /// ```
    /// let r = autodiff_runtime::check(|x: &f64| x.sin(), 1.0, 1.0_f64.cos());
    /// assert!(r.is_close(1e-8));
    /// ```
    #[must_use]
    pub fn is_close(&self, tol: f64) -> bool {
        self.per_param.iter().all(|&e| e <= tol)
    }

    /// Panics unless every relative error is at most `tol`, with a message
    /// naming each failing parameter and element, the finite-difference
    /// value expected and the gradient got.
    ///
    /// # Panics
    ///
    /// When some parameter's relative error exceeds `tol` (or is NaN-born,
    /// hence `+∞`), or its gradient has the wrong number of elements.
    ///
    /// ```should_panic
    /// // d/dx x² is 2x, not x: fails with
    /// // "parameter 0, element 0: relative error 5.0e-1 > 1.0e-6: finite difference 6, gradient 3"
    /// autodiff_runtime::check(|x: &f64| x * x, 3.0, 3.0).assert_close(1e-6);
    /// ```
    #[track_caller]
    pub fn assert_close(&self, tol: f64) {
        if self.is_close(tol) {
            return;
        }
        let mut msg = format!("gradient check failed (tolerance {tol:.1e}):");
        for (k, (&err, outcome)) in self.per_param.iter().zip(&self.outcomes).enumerate() {
            if err <= tol {
                continue;
            }
            // Writing to a String cannot fail.
            let _ = match outcome {
                Outcome::Compared(Some(w)) => write!(
                    msg,
                    "\n  parameter {k}, element {}: relative error {:.1e} > {tol:.1e}: finite difference {}, gradient {}",
                    w.index, w.rel_error, w.expected, w.got
                ),
                Outcome::Compared(None) => {
                    write!(msg, "\n  parameter {k}: relative error {err:.1e}")
                }
                Outcome::LengthMismatch { at, grad } => write!(
                    msg,
                    "\n  parameter {k}: the gradient has {grad} elements but the point has {at}"
                ),
            };
        }
        panic!("{msg}");
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient check (central differences): worst relative error {:.3e}",
            self.max_rel_error()
        )?;
        for (k, outcome) in self.outcomes.iter().enumerate() {
            write!(f, "\n  parameter {k}: ")?;
            match outcome {
                Outcome::Compared(Some(w)) => write!(
                    f,
                    "{:.3e} at element {} (finite difference {}, gradient {})",
                    w.rel_error, w.index, w.expected, w.got
                )?,
                Outcome::Compared(None) => write!(f, "no elements")?,
                Outcome::LengthMismatch { at, grad } => write!(
                    f,
                    "length mismatch (gradient has {grad} elements, point has {at})"
                )?,
            }
        }
        Ok(())
    }
}

/// Checks `grad`, the gradient of `f` at `at`, against central finite
/// differences with the default step (`1e-5` in `f64`, `5e-3` when `f32` is
/// involved; see [Step](self#step)).
///
/// `at` and `grad` have the same type `P` (`grad` by value or by reference):
/// a single parameter or a tuple with one component per parameter, as
/// `#[grad]` returns them. `f` is evaluated at `at` with one element moved at
/// a time; `at` is restored exactly between evaluations. Never panics on its
/// inputs; see [`CheckReport`].
///
/// ```
/// use autodiff_runtime::{check, sigmoid};
/// // y = σ(a·x + b) at x = 2, a = 3, b = 1; with σ' = σ(1 − σ),
/// // ∂y/∂x = a·σ', ∂y/∂a = x·σ', ∂y/∂b = σ'.
/// let (x, a, b) = (2.0_f64, 3.0, 1.0);
/// let s = sigmoid(a * x + b);
/// let ds = s * (1.0 - s);
/// let report = check(
///     |&(x, a, b): &(f64, f64, f64)| sigmoid(a * x + b),
///     (x, a, b),
///     (a * ds, x * ds, ds),
/// );
/// report.assert_close(1e-6);
/// assert!(report.max_rel_error() > 0.0); // finite differences are approximate
/// ```
pub fn check<P, R>(f: impl FnMut(&P) -> R, at: P, grad: impl Borrow<P>) -> CheckReport
where
    P: Point,
    R: Real,
{
    run(None, f, at, grad.borrow())
}

/// [`check`] with the step `eps` for every element: `hᵢ = eps · max(1, |xᵢ|)`.
///
/// ```
/// let r = autodiff_runtime::check_with(1e-3, |x: &f32| x.exp(), 1.0, 1.0_f32.exp());
/// r.assert_close(1e-3);
/// ```
pub fn check_with<P, R>(
    eps: f64,
    f: impl FnMut(&P) -> R,
    at: P,
    grad: impl Borrow<P>,
) -> CheckReport
where
    P: Point,
    R: Real,
{
    run(Some(eps), f, at, grad.borrow())
}

fn run<P, R>(eps: Option<f64>, mut f: impl FnMut(&P) -> R, mut at: P, grad: &P) -> CheckReport
where
    P: Point,
    R: Real,
{
    let params = at.num_params();
    let mut per_param = Vec::with_capacity(params);
    let mut outcomes = Vec::with_capacity(params);
    for k in 0..params {
        let n = at.param(k).len();
        let grad_len = grad.param(k).len();
        if grad_len != n {
            per_param.push(f64::INFINITY);
            outcomes.push(Outcome::LengthMismatch {
                at: n,
                grad: grad_len,
            });
            continue;
        }
        // Coarser of the element's and the output's precision.
        let coarse = at.param(k).epsilon().max(R::EPSILON) > f64::EPSILON;
        let (default_eps, floor) = if coarse {
            (DEFAULT_EPS_F32, REL_ERROR_FLOOR_F32)
        } else {
            (DEFAULT_EPS_F64, REL_ERROR_FLOOR_F64)
        };
        let eps = eps.unwrap_or(default_eps);
        let mut worst: Option<Worst> = None;
        for i in 0..n {
            let expected = central_difference(&mut f, &mut at, k, i, eps);
            let got = grad.param(k).get(i);
            let rel_error = rel_error(got, expected, floor);
            if worst.is_none_or(|w| rel_error > w.rel_error) {
                worst = Some(Worst {
                    index: i,
                    rel_error,
                    expected,
                    got,
                });
            }
        }
        per_param.push(worst.map_or(0.0, |w| w.rel_error));
        outcomes.push(Outcome::Compared(worst));
    }
    CheckReport {
        per_param,
        outcomes,
    }
}

/// `(f(x + h) − f(x − h)) / (x₊ − x₋)` for element `elem` of parameter
/// `param`, with `h = eps · max(1, |x|)` and `x₊`, `x₋` the perturbed values as
/// stored (rounded to the element type). Restores the element afterwards.
fn central_difference<P: Point, R: Real>(
    f: &mut impl FnMut(&P) -> R,
    at: &mut P,
    param: usize,
    elem: usize,
    eps: f64,
) -> f64 {
    let x = at.param(param).get(elem);
    let step = eps * x.abs().max(1.0);
    at.param_mut(param).set(elem, x + step);
    let x_plus = at.param(param).get(elem);
    let f_plus = f(at).to_f64();
    at.param_mut(param).set(elem, x - step);
    let x_minus = at.param(param).get(elem);
    let f_minus = f(at).to_f64();
    // `x` was read from the element, so writing it back is exact.
    at.param_mut(param).set(elem, x);
    (f_plus - f_minus) / (x_plus - x_minus)
}

/// `|g − fd| / max(|g|, |fd|, floor)`, `0` if equal, `+∞` instead of NaN.
fn rel_error(got: f64, expected: f64, floor: f64) -> f64 {
    #[allow(clippy::float_cmp)] // exact agreement, infinities included
    if got == expected {
        return 0.0;
    }
    let err = (got - expected).abs() / got.abs().max(expected.abs()).max(floor);
    if err.is_nan() { f64::INFINITY } else { err }
}

#[cfg(test)]
// Exact values (kinks, ±∞, ties) are what many asserts check.
#[allow(
    clippy::float_cmp,
    clippy::many_single_char_names,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]
mod tests {
    use super::*;

    #[test]
    fn test_check_passes_right_gradient() {
        // f(x, a, b) = σ(ax + b) at (2, 3, 1): the notes' example, with the
        // derivatives of its symbolic section, e^−7 / (1 + e^−7)² · (a, x, 1).
        let f = |&(x, a, b): &(f64, f64, f64)| 1.0 / (1.0 + (-(a * x + b)).exp());
        let e = (-7.0_f64).exp();
        let ds = e / ((1.0 + e) * (1.0 + e));
        let r = check(f, (2.0, 3.0, 1.0), (3.0 * ds, 2.0 * ds, ds));
        // y ≈ 1 but ∂y/∂b ≈ 9e-4: the FD's rounding error u·|y|/ε ≈ 1e-11
        // is ≈ 1e-8 relative to it.
        r.assert_close(1e-7);
        assert_eq!(r.per_param().len(), 3);
        // ∂y/∂x = 3·e^−7/(1 + e^−7)², from mpmath at 50 digits.
        assert!((r.worst(0).unwrap().expected - 0.002_730_663_540_365_479_5).abs() < 1e-10);
    }

    #[test]
    fn test_check_catches_wrong_gradient() {
        // d/dx (x³) = 3x², and we claim 2x² at x = 2: 8 instead of 12.
        let r = check(|x: &f64| x * x * x, 2.0, 8.0);
        assert!((r.max_rel_error() - 4.0 / 12.0).abs() < 1e-8, "{r}");
        assert!(!r.is_close(1e-3));
        // Right gradient passes.
        check(|x: &f64| x * x * x, 2.0, 12.0).assert_close(1e-9);
    }

    #[test]
    fn test_check_names_worst_element() {
        // Gradient of Σ xᵢ² is 2x; element 2 is wrong (sign flipped).
        let f = |x: &Vec<f64>| x.iter().map(|v| v * v).sum::<f64>();
        let x = vec![1.0, -2.0, 0.5, 3.0];
        let mut g: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        g[2] = -g[2];
        let r = check(f, x, &g);
        let w = r.worst(0).unwrap();
        assert_eq!(w.index, 2);
        assert_eq!(w.got, g[2]);
        assert_eq!(w.got, -1.0);
        assert!((w.expected - 1.0).abs() < 1e-9);
        assert!((w.rel_error - 2.0).abs() < 1e-8);
    }

    #[test]
    fn test_check_worst_is_first_on_tie() {
        // Both elements are off by a factor 2: the first is reported.
        let r = check(|x: &[f64; 3]| x[0] + x[1] + x[2], [0.0; 3], [1.0, 2.0, 2.0]);
        assert_eq!(r.worst(0).unwrap().index, 1, "{r}");
    }

    #[test]
    fn test_check_per_param_and_tuple_of_leaves() {
        // f(s, v, a) = s · Σv + Σa², gradient (Σv, s·1, 2a); parameter 1 is wrong.
        let f = |(s, v, a): &(f64, Vec<f64>, [f32; 2])| {
            s * v.iter().sum::<f64>() + a.iter().map(|&x| f64::from(x * x)).sum::<f64>()
        };
        let (s, v, a) = (1.5, vec![1.0, 2.0], [0.5_f32, -1.0]);
        let good = (3.0, vec![1.5, 1.5], [1.0_f32, -2.0]);
        let r = check(f, (s, v.clone(), a), good);
        r.assert_close(1e-2);
        let bad = (3.0, vec![1.5, 1.0], [1.0_f32, -2.0]);
        let r = check(f, (s, v, a), bad);
        let per = r.per_param();
        assert!(per[0] < 1e-8 && per[2] < 1e-2, "{r}");
        assert!((per[1] - 1.0 / 3.0).abs() < 1e-6, "{r}");
        assert_eq!(r.worst(1).unwrap().index, 1);
    }

    #[test]
    fn test_check_tuple_arity_8() {
        let f = |p: &(f64, f64, f64, f64, f64, f64, f64, f64)| {
            p.0 + 2.0 * p.1 + 3.0 * p.2 + 4.0 * p.3 + 5.0 * p.4 + 6.0 * p.5 + 7.0 * p.6 + 8.0 * p.7
        };
        let at = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
        check(f, at, (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)).assert_close(1e-9);
        let r = check(f, at, (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 0.0));
        assert_eq!(r.per_param()[7], 1.0);
        assert!(r.per_param()[..7].iter().all(|&e| e < 1e-9));
    }

    #[test]
    fn test_check_zero_gradient_floor() {
        // f = cos(x + 0.1) + x·sin(0.1) has zero derivative at x = 0, but its
        // finite difference carries rounding and truncation noise of ≈ 1e-11;
        // without the floor the relative error of the exact gradient 0 is 1.
        let f = |x: &f64| (x + 0.1).cos() + x * 0.1_f64.sin();
        let r = check(f, 0.0, 0.0);
        let noise = r.worst(0).unwrap().expected;
        assert!(noise != 0.0 && noise.abs() < 1e-10, "{r}");
        assert!(r.max_rel_error() < 1e-4, "{r}");
        // A gradient of 1e-4 where the truth is 0 is still caught.
        assert!(check(f, 0.0, 1e-4).max_rel_error() > 0.99);
        // The same in f32, with its noise of ≈ 1e-5 and floor of 1e-2.
        let f = |x: &f32| (x + 0.1).cos() + x * 0.1_f32.sin();
        let r = check(f, 0.0_f32, 0.0);
        assert!(r.max_rel_error() < 1e-2, "{r}");
        assert!(check(f, 0.0_f32, 0.1).max_rel_error() > 0.99);
    }

    #[test]
    fn test_check_rel_error_definition() {
        assert_eq!(rel_error(1.0, 1.0, 1e-6), 0.0);
        assert_eq!(rel_error(f64::INFINITY, f64::INFINITY, 1e-6), 0.0);
        assert_eq!(rel_error(2.0, 1.0, 1e-6), 0.5);
        assert_eq!(rel_error(-1.0, 1.0, 1e-6), 2.0);
        assert_eq!(rel_error(0.0, 1e-12, 1e-6), 1e-12 / 1e-6);
        assert_eq!(rel_error(f64::NAN, 1.0, 1e-6), f64::INFINITY);
        assert_eq!(rel_error(f64::NAN, f64::NAN, 1e-6), f64::INFINITY);
        assert_eq!(rel_error(f64::INFINITY, 1.0, 1e-6), f64::INFINITY);
        assert_eq!(
            rel_error(f64::INFINITY, f64::NEG_INFINITY, 1e-6),
            f64::INFINITY
        );
    }

    #[test]
    fn test_check_length_mismatch_reported() {
        let f = |x: &Vec<f64>| x.iter().sum::<f64>();
        let r = check(f, vec![1.0, 2.0, 3.0], vec![1.0, 1.0]);
        assert_eq!(r.max_rel_error(), f64::INFINITY);
        assert_eq!(r.worst(0), None);
        assert!(
            r.to_string()
                .contains("gradient has 2 elements, point has 3"),
            "{r}"
        );
        let msg = std::panic::catch_unwind(|| r.assert_close(1.0))
            .unwrap_err()
            .downcast::<String>()
            .unwrap();
        assert!(
            msg.contains("parameter 0: the gradient has 2 elements but the point has 3"),
            "{msg}"
        );
    }

    #[test]
    fn test_check_assert_close_message() {
        let f = |&(a, b): &(f64, f64)| a * b;
        let r = check(f, (2.0, 5.0), (5.0, 3.0));
        let msg = std::panic::catch_unwind(|| r.assert_close(1e-6))
            .unwrap_err()
            .downcast::<String>()
            .unwrap();
        assert!(msg.contains("parameter 1, element 0"), "{msg}");
        assert!(msg.contains("finite difference 2"), "{msg}");
        assert!(msg.contains("gradient 3"), "{msg}");
        assert!(!msg.contains("parameter 0"), "{msg}");
    }

    #[test]
    fn test_check_nan_is_an_error() {
        assert_eq!(
            check(|x: &f64| x * 2.0, 1.0, f64::NAN).max_rel_error(),
            f64::INFINITY
        );
        // NaN in the function.
        assert_eq!(
            check(|x: &f64| x.sqrt(), -1.0, 0.0).max_rel_error(),
            f64::INFINITY
        );
    }

    #[test]
    fn test_check_empty_and_restored_point() {
        let r = check(|x: &Vec<f64>| x.len() as f64, Vec::new(), Vec::new());
        assert_eq!(r.max_rel_error(), 0.0);
        assert_eq!(r.worst(0), None);
        // The function always sees the unperturbed value of other elements.
        let f = |x: &[f64; 2]| {
            assert!(
                x[0] == 0.1 || x[1] == 0.2,
                "two elements moved at once: {x:?}"
            );
            x[0] * x[1]
        };
        check(f, [0.1, 0.2], [0.2, 0.1]).assert_close(1e-9);
    }

    #[test]
    fn test_check_relative_step() {
        // At x = 1e8 in f32 an absolute step of 5e-3 would vanish (ulp = 8).
        let r = check(|x: &f32| x * x, 1e8_f32, 2e8_f32);
        r.assert_close(1e-2);
        // In f64 at x = 1e12 likewise (ulp = 1.2e-4 > 1e-5).
        check(|x: &f64| x * x, 1e12, 2e12).assert_close(1e-9);
    }

    #[test]
    fn test_check_divides_by_rounded_step() {
        // In f32, 1 ± 1.5e-7 rounds to 1 + 2⁻²³ and 1 − 2⁻²³ (or 1 − 1.5·2⁻²³):
        // not 3e-7 apart. Dividing by the stored distance keeps the slope of
        // the identity exact; dividing by the nominal 2h would be off by ~20%.
        let r = check_with(1.5e-7, |x: &f32| f64::from(*x), 1.0_f32, 1.0_f32);
        assert_eq!(r.max_rel_error(), 0.0, "{r}");
    }

    #[test]
    fn test_check_f32_defaults() {
        // f32 output, f32 point: default step 5e-3 gives ≈1e-5 accuracy.
        let x = 0.7_f32;
        let r = check(
            |x: &f32| x.sin() * x.exp(),
            x,
            x.exp() * (x.sin() + x.cos()),
        );
        assert!(r.max_rel_error() < 1e-3, "{r}");
        // f64 point, f32 output: still the coarse defaults.
        let r = check(|x: &f64| (*x as f32).sin(), 0.7_f64, 0.7_f64.cos());
        assert!(r.max_rel_error() < 1e-3, "{r}");
        // The same with the f64 step would be ruined by f32 rounding.
        let r = check_with(1e-9, |x: &f64| (*x as f32).sin(), 0.7_f64, 0.7_f64.cos());
        assert!(r.max_rel_error() > 1e-2, "{r}");
    }

    #[test]
    fn test_check_with_step() {
        // A large step shows truncation error ε²·f‴/6 / f' = ε²/6 for exp.
        let r = check_with(1e-1, |x: &f64| x.exp(), 0.0, 1.0);
        let err = r.max_rel_error();
        assert!((err - 1e-2 / 6.0).abs() < 1e-5, "{r}");
    }

    #[test]
    fn test_check_display() {
        let r = check(|&(a, b): &(f64, f64)| a - b, (1.0, 2.0), (1.0, -1.0));
        let s = r.to_string();
        assert!(
            s.starts_with("gradient check (central differences): worst relative error"),
            "{s}"
        );
        assert!(s.contains("parameter 0: "), "{s}");
        assert!(s.contains("parameter 1: "), "{s}");
    }
}
