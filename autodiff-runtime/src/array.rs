//! ndarray arrays as differentiable values.
//!
//! Any `ArrayBase<S, D>` of `f32` or `f64` (owned `Array`, `ArrayView`, …) is
//! [`Differentiable`] with the owned `Array<A, D>` as its gradient; gradients
//! [`Accumulate`] in place. (An `Array<A, D>` is a set of
//! [`Params`](crate::Params), so a [`Leaf`](crate::check::Leaf) of the
//! finite-difference check: `autodiff::check` takes array parameters and
//! tuples of them.)

use core::fmt::Debug;
use core::iter::Sum;

use ndarray::{Array, ArrayBase, Data, Dimension, LinalgScalar, ScalarOperand, Zip};
use num_traits::Float;

use crate::activation::Activations;
use crate::float::FloatRules;
use crate::tangent::IsGradient;

use crate::tangent::{Accumulate, Differentiable};

/// The element types of differentiated arrays: `f32` and `f64`.
///
/// Everything an array rule needs of its elements, including the scalar rules
/// it applies elementwise. Not nameable outside the crate: the set of element
/// types is closed.
pub trait Element:
    Float
    + LinalgScalar
    + ScalarOperand
    + Sum
    + Debug
    + Send
    + Sync
    + Differentiable<Tangent = Self>
    + FloatRules
    + Activations
{
}

impl Element for f32 {}
impl Element for f64 {}

/// An array's gradient is an owned array of its shape.
///
/// ```
/// use autodiff_runtime::Differentiable;
/// let a = ndarray::array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(a.view().zero_tangent(), ndarray::Array2::<f64>::zeros((2, 2)));
/// ```
impl<S, D> Differentiable for ArrayBase<S, D>
where
    S: Data,
    S::Elem: Element,
    D: Dimension,
{
    type Tangent = Array<S::Elem, D>;
    #[inline]
    fn zero_tangent(&self) -> Self::Tangent {
        Array::zeros(self.raw_dim())
    }
}

/// `self += rhs`, in place; the shapes must be equal.
/// One array per element, 1 there and 0 elsewhere, in logical order.
impl<A: Element, D: Dimension> crate::tangent::Basis for Array<A, D> {
    fn basis(&self) -> Vec<Self> {
        (0..self.len())
            .map(|i| {
                let mut e = Array::zeros(self.raw_dim());
                if let Some(slot) = e.iter_mut().nth(i) {
                    *slot = A::one();
                }
                e
            })
            .collect()
    }
}

impl<A: Element, D: Dimension> crate::tangent::Scale<A> for Array<A, D> {
    #[inline]
    fn scale(&mut self, by: &A) {
        let by = *by;
        self.mapv_inplace(|g| g * by);
    }
}

impl<A: Element, D: Dimension> Accumulate for Array<A, D> {
    #[inline]
    fn accumulate(&mut self, rhs: Array<A, D>) {
        self.accumulate(&rhs);
    }
}

/// `self += rhs`, in place; the shapes must be equal.
impl<A: Element, D: Dimension> Accumulate<&Array<A, D>> for Array<A, D> {
    #[inline]
    fn accumulate(&mut self, rhs: &Array<A, D>) {
        Zip::from(self).and(rhs).for_each(|a, &b| *a = *a + b);
    }
}

impl<A: Element, D: Dimension> IsGradient for Array<A, D> {}

/// Deterministic test data and the finite-difference check of array rules.
#[cfg(test)]
pub(crate) mod testing {
    use ndarray::{Array, Dimension, IntoDimension};

    /// Pseudo-random elements in `[-1.5, 1.5]` (never exactly `0`), from a
    /// linear congruential generator seeded with `seed`.
    pub(crate) fn random<Sh: IntoDimension>(shape: Sh, seed: u64) -> Array<f64, Sh::Dim> {
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        Array::from_shape_simple_fn(shape, || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            // The top 53 bits as a fraction in [0, 1).
            #[allow(clippy::cast_precision_loss)]
            let u = (state >> 11) as f64 / (1_u64 << 53) as f64;
            let v = 3.0 * u - 1.5;
            if v.abs() < 0.05 { 0.75 } else { v }
        })
    }

    /// `Σ w ⊙ y`: the scalar whose gradient with respect to `y` is `w`, so
    /// checking it checks a pullback at the adjoint `w`.
    pub(crate) fn weighted<D: Dimension>(w: &Array<f64, D>, y: &Array<f64, D>) -> f64 {
        assert_eq!(w.shape(), y.shape());
        w.iter().zip(y).map(|(a, b)| a * b).sum()
    }

    /// The same for `f32`, accumulated in `f64`.
    pub(crate) fn weighted_f32<D: Dimension>(w: &Array<f32, D>, y: &Array<f32, D>) -> f64 {
        assert_eq!(w.shape(), y.shape());
        w.iter()
            .zip(y)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum()
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::testing::random;
    use super::*;
    use crate::check::check;
    use crate::rules;
    use ndarray::{Array2, ArrayView2, array};

    #[test]
    fn test_differentiable() {
        let a = random((2, 3), 1);
        assert_eq!(a.zero_tangent(), Array2::<f64>::zeros((2, 3)));
        let v: ArrayView2<'_, f64> = a.t();
        assert_eq!(rules::zero(&v).shape(), &[3, 2]);
        assert_eq!(rules::zero(&&a).shape(), &[2, 3]);
        let b = array![1.0_f32, 2.0].into_dyn();
        assert_eq!(b.zero_tangent().shape(), &[2]);
    }

    #[test]
    fn test_accumulate() {
        let mut g = array![[1.0_f64, 2.0], [3.0, 4.0]];
        rules::accumulate(&mut g, array![[0.5, 0.5], [0.5, 0.5]]);
        rules::accumulate(&mut g, &array![[1.0, 0.0], [0.0, 1.0]]);
        assert_eq!(g, array![[2.5, 2.5], [3.5, 5.5]]);
        // A transposed (column-major) gradient adds by index, not by memory.
        let t = array![[1.0, 2.0], [3.0, 4.0]].reversed_axes();
        rules::accumulate(&mut g, &t);
        assert_eq!(g, array![[3.5, 5.5], [5.5, 9.5]]);
        fn is_gradient<G: IsGradient>(_: &G) {}
        is_gradient(&g);
    }

    #[test]
    #[should_panic = "mismatch"]
    fn test_accumulate_shape_mismatch() {
        let mut g = Array2::<f64>::zeros((2, 2));
        g.accumulate(Array2::zeros((2, 3)));
    }

    #[test]
    fn test_check_arrays() {
        // f(a, x) = Σᵢⱼ aᵢⱼ xⱼ²: ∂/∂a = 1 xᵀ², ∂/∂x = 2 x ⊙ Σᵢ aᵢ.
        let f = |(a, x): &(Array2<f64>, ndarray::Array1<f64>)| {
            a.outer_iter()
                .map(|row| row.iter().zip(x).map(|(a, x)| a * x * x).sum::<f64>())
                .sum::<f64>()
        };
        let (a, x) = (random((3, 2), 2), random(2, 3));
        let ga = Array2::from_shape_fn((3, 2), |(_, j)| x[j] * x[j]);
        let gx = 2.0 * &x * &a.sum_axis(ndarray::Axis(0));
        check(f, (a.clone(), x.clone()), (ga.clone(), gx.clone())).assert_close(1e-8);
        // A wrong gradient (one element off) fails.
        let mut bad = ga;
        bad[[2, 1]] += 0.1;
        let r = check(f, (a, x), (bad, gx));
        assert!(!r.is_close(1e-3), "{r}");
        assert_eq!(r.worst(0).unwrap().index, 5);
        // Tuples of a scalar and a dynamic-dimensional array.
        let f = |(s, v): &(f64, ndarray::ArrayD<f64>)| s * v.sum();
        let v = random(vec![2, 2], 4);
        let gs = v.sum();
        check(f, (2.0, v.clone()), (gs, v.mapv(|_| 2.0))).assert_close(1e-9);
    }
}
