//! Reductions to a scalar: [`sum`], [`mean`], [`norm`], [`norm_sq`], and their
//! rules for ndarray arrays.

use ndarray::{Array, ArrayBase, Data, Dimension};
use num_traits::{Float, NumCast};

use crate::array::Element;
use crate::linalg::inner;
use crate::tangent::Differentiable;

/// Rules of the reductions of an array to its element type `Elem`.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for reductions of `{Self}`",
    note = "`sum`, `mean`, `norm` and `norm_sq` are differentiated for ndarray arrays"
)]
pub trait ReduceRule: Differentiable {
    /// The element (and result) type.
    type Elem;
    /// `s = Σ xᵢ`: `dx = d` everywhere.
    fn sum_pullback(&self, d: &Self::Elem) -> Self::Tangent;
    /// `m = Σ xᵢ / n`: `dx = d / n` everywhere.
    fn mean_pullback(&self, d: &Self::Elem) -> Self::Tangent;
    /// `y = ‖x‖₂`: `dx = d · x / y`, and `0` at `x = 0`.
    fn norm_pullback(&self, y: &Self::Elem, d: &Self::Elem) -> Self::Tangent;
    /// `y = ‖x‖₂²`: `dx = 2 · d · x`.
    fn norm_sq_pullback(&self, d: &Self::Elem) -> Self::Tangent;
    /// As [`Self::norm_sq_pullback`], given `x` by value because nothing
    /// reads it afterwards: an owned array becomes its own gradient.
    #[inline]
    fn norm_sq_pullback_into(self, d: &Self::Elem) -> Self::Tangent
    where
        Self: Sized,
    {
        self.norm_sq_pullback(d)
    }
}

/// `Σ xᵢ` over every element.
///
/// ```
/// let x = ndarray::array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(autodiff_runtime::sum(&x), 10.0);
/// ```
#[inline]
pub fn sum<S, D>(x: &ArrayBase<S, D>) -> S::Elem
where
    S: Data,
    S::Elem: Element,
    D: Dimension,
{
    x.sum()
}

/// The mean `Σ xᵢ / n` of every element (NaN for an empty array).
///
/// ```
/// let x = ndarray::array![[1.0_f32, 2.0], [3.0, 4.0]];
/// assert_eq!(autodiff_runtime::mean(&x), 2.5);
/// ```
#[inline]
pub fn mean<S, D>(x: &ArrayBase<S, D>) -> S::Elem
where
    S: Data,
    S::Elem: Element,
    D: Dimension,
{
    x.sum() / count(x.len())
}

/// The Euclidean norm `‖x‖₂ = √(Σ xᵢ²)` of every element, without overflow or
/// underflow: when `Σ xᵢ²` leaves the normal range, the elements are rescaled
/// by the largest magnitude. `0` for the zero array, `+∞` if an element is
/// infinite, NaN if one is NaN.
///
/// ```
/// let x = ndarray::array![3e200_f64, -4e200]; // Σ xᵢ² would overflow
/// assert!((autodiff_runtime::norm(&x) / 5e200 - 1.0).abs() < 1e-15);
/// assert_eq!(autodiff_runtime::norm(&ndarray::array![0.0_f32, 0.0]), 0.0);
/// ```
pub fn norm<S, D>(x: &ArrayBase<S, D>) -> S::Elem
where
    S: Data,
    S::Elem: Element,
    D: Dimension,
{
    let zero = <S::Elem as num_traits::Zero>::zero();
    let s = inner(x, x);
    // Below this, squares that underflowed may matter; above, they cannot.
    let tiny = <S::Elem as Float>::min_positive_value() / <S::Elem as Float>::epsilon();
    if s.is_finite() && s >= tiny {
        return s.sqrt();
    }
    if s.is_nan() {
        return s;
    }
    let scale = x.fold(zero, |m, &v| m.max(v.abs()));
    if scale == zero || scale.is_infinite() {
        return scale;
    }
    let t = x.fold(zero, |acc, &v| {
        let r = v / scale;
        acc + r * r
    });
    scale * t.sqrt()
}

/// The squared Euclidean norm `Σ xᵢ²`.
///
/// ```
/// let x = ndarray::array![3.0_f64, -4.0];
/// assert_eq!(autodiff_runtime::norm_sq(&x), 25.0);
/// ```
#[inline]
pub fn norm_sq<S, D>(x: &ArrayBase<S, D>) -> S::Elem
where
    S: Data,
    S::Elem: Element,
    D: Dimension,
{
    inner(x, x)
}

/// An element count as a float.
#[inline]
fn count<A: Element>(n: usize) -> A {
    <A as NumCast>::from(n).expect("a count converts to a float")
}

/// The reductions' rules, each one pass into a fresh array of `x`'s shape.
///
/// ```
/// use autodiff_runtime::rules::{norm_pullback, sum_pullback};
/// use ndarray::array;
/// let x = array![3.0_f64, 4.0];
/// assert_eq!(sum_pullback(&x, &2.0), array![2.0, 2.0]);
/// let g = norm_pullback(&x, &5.0, &1.0); // x / ‖x‖
/// assert!((g[0] - 0.6).abs() < 1e-15 && (g[1] - 0.8).abs() < 1e-15);
/// assert_eq!(norm_pullback(&(&x * 0.0), &0.0, &1.0), array![0.0, 0.0]);
/// ```
impl<A, S, D> ReduceRule for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    type Elem = A;
    #[inline]
    fn sum_pullback(&self, d: &A) -> Array<A, D> {
        Array::from_elem(self.raw_dim(), *d)
    }
    #[inline]
    fn mean_pullback(&self, d: &A) -> Array<A, D> {
        Array::from_elem(self.raw_dim(), *d / count(self.len()))
    }
    // d · x / y; at the zero array (y = 0) the gradient is taken as 0.
    #[inline]
    fn norm_pullback(&self, y: &A, d: &A) -> Array<A, D> {
        let (y, d) = (*y, *d);
        if y == A::zero() {
            return Array::zeros(self.raw_dim());
        }
        let k = d / y;
        if k.is_finite() {
            self.mapv(|x| x * k)
        } else {
            // y so small that d / y overflows: x / y ≤ 1 first.
            self.mapv(|x| d * (x / y))
        }
    }
    #[inline]
    fn norm_sq_pullback(&self, d: &A) -> Array<A, D> {
        let k = *d + *d;
        self.mapv(|x| x * k)
    }
    /// `into_owned` is free for an owned array (a view is copied, as the
    /// borrowing rule would): scaled in place, no new array.
    #[inline]
    fn norm_sq_pullback_into(self, d: &A) -> Array<A, D> {
        let k = *d + *d;
        let mut x = self.into_owned();
        x.mapv_inplace(|x| x * k);
        x
    }
}

#[cfg(test)]
mod into {
    use super::ReduceRule;
    use ndarray::array;

    #[test]
    fn test_norm_sq_pullback_into_reuses_an_owned_array() {
        let x = array![1.0_f64, -2.0, 3.0];
        let want = x.norm_sq_pullback(&0.5);
        let p = x.as_ptr();
        let got = x.norm_sq_pullback_into(&0.5);
        assert_eq!(got, want);
        assert_eq!(got.as_ptr(), p, "the buffer is reused");
        let y = array![[1.0_f32, 2.0], [3.0, 4.0]];
        assert_eq!(y.view().norm_sq_pullback_into(&2.0), y.mapv(|v| 4.0 * v));
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::array::testing::random;
    use crate::check::check;
    use crate::rules;
    use ndarray::{Array1, Array2, ArrayD, IxDyn, array};

    const TOL: f64 = 1e-8;
    const ADJOINTS: [f64; 2] = [1.0, -0.7];

    #[test]
    fn test_sum() {
        let x = random((3, 4), 1);
        assert!((sum(&x) - x.iter().sum::<f64>()).abs() < 1e-14);
        for d in ADJOINTS {
            let g = rules::sum_pullback(&x, &d);
            check(|x: &Array2<f64>| d * sum(x), x.clone(), g).assert_close(TOL);
        }
        let x = random(IxDyn(&[2, 2, 2]), 2);
        check(
            |x: &ArrayD<f64>| sum(x),
            x.clone(),
            rules::sum_pullback(&x.view(), &1.0),
        )
        .assert_close(TOL);
        assert_eq!(sum(&array![1.0_f32, 2.0].t()), 3.0);
    }

    #[test]
    fn test_mean() {
        let x = random((3, 4), 3);
        assert!((mean(&x) - x.mean().unwrap()).abs() < 1e-15);
        for d in ADJOINTS {
            let g = rules::mean_pullback(&x, &d);
            check(|x: &Array2<f64>| d * mean(x), x.clone(), g).assert_close(TOL);
        }
        assert!(mean(&Array1::<f64>::zeros(0)).is_nan());
    }

    #[test]
    fn test_norm_sq() {
        let x = random(7, 4);
        assert!((norm_sq(&x) - x.iter().map(|v| v * v).sum::<f64>()).abs() < 1e-14);
        for d in ADJOINTS {
            let g = rules::norm_sq_pullback(&x, &d);
            check(|x: &Array1<f64>| d * norm_sq(x), x.clone(), g).assert_close(TOL);
        }
        let xt = random((3, 2), 5).reversed_axes();
        let g = rules::norm_sq_pullback(&xt.view(), &1.0);
        check(|x: &Array2<f64>| norm_sq(x), xt, g).assert_close(TOL);
    }

    #[test]
    fn test_norm() {
        let x = random((2, 3), 6);
        let want = x.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm(&x) - want).abs() < 1e-15 * want);
        for d in ADJOINTS {
            let g = rules::norm_pullback(&x, &norm(&x), &d);
            check(|x: &Array2<f64>| d * norm(x), x.clone(), g).assert_close(TOL);
        }
        let x = random(3, 7).mapv(|v| v as f32);
        let g = rules::norm_pullback(&x, &norm(&x), &1.0);
        let r = check(|x: &Array1<f32>| norm(x), x, g);
        assert!(r.is_close(1e-2), "{r}");
    }

    #[test]
    fn test_norm_scale() {
        // ‖(3s, 4s)‖ = 5s across the range: straightforward near 1,
        // rescaled where s² overflows or underflows.
        for s in [1.0_f64, 1e30, 1e-30, 1e250, 1e-250, 1e-300] {
            let x = array![3.0 * s, -4.0 * s];
            let y = norm(&x);
            assert!(
                (y - 5.0 * s).abs() <= 4.0 * f64::EPSILON * 5.0 * s,
                "‖x‖ = {y:e} at s = {s:e}"
            );
            let g = rules::norm_pullback(&x, &y, &1.0);
            assert!(
                (g[0] - 0.6).abs() < 1e-12 && (g[1] + 0.8).abs() < 1e-12,
                "∇ = {g} at s = {s:e}"
            );
        }
        for s in [1.0_f32, 1e30, 1e-30, 1e-35] {
            let x = array![3.0 * s, 4.0 * s];
            let y = norm(&x);
            assert!(
                (y - 5.0 * s).abs() <= 8.0 * f32::EPSILON * 5.0 * s,
                "‖x‖ = {y:e} at s = {s:e}"
            );
            let g = rules::norm_pullback(&x, &y, &2.0);
            assert!(
                (g[0] - 1.2).abs() < 1e-5 && (g[1] - 1.6).abs() < 1e-5,
                "∇ = {g} at s = {s:e}"
            );
        }
        // Exactly 0 at the zero vector, with a zero (not NaN) gradient.
        let z = Array1::<f64>::zeros(3);
        assert_eq!(norm(&z), 0.0);
        assert_eq!(rules::norm_pullback(&z, &norm(&z), &1.0), z);
        assert_eq!(norm(&Array1::<f64>::zeros(0)), 0.0);
        // Non-finite elements.
        assert_eq!(norm(&array![1.0, f64::INFINITY]), f64::INFINITY);
        assert_eq!(norm(&array![1.0, f64::NEG_INFINITY]), f64::INFINITY);
        assert!(norm(&array![1.0, f64::NAN]).is_nan());
        assert!(norm(&array![f64::INFINITY, f64::NAN]).is_nan());
    }
}
