//! The rectifier relu(x) = max(x, 0) and its rule.

use crate::tangent::Differentiable;

/// Types [`relu`] applies to (elementwise for arrays). Implemented for `f32`
/// and `f64`.
///
/// ```
/// use autodiff_runtime::Relu;
/// assert_eq!(1.5_f32.relu(), 1.5);
/// assert_eq!((-1.5_f64).relu(), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`relu` is not defined for `{Self}`",
    label = "`relu` of this value",
    note = "`relu` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
)]
pub trait Relu {
    /// The type of relu(x).
    type Output;
    /// relu(x) = max(x, 0); a NaN `x` gives NaN.
    fn relu(self) -> Self::Output;
}

/// Rule of [`relu`]: `d` where `x > 0`, `0` elsewhere (the derivative at the
/// kink `x = 0` is taken as `0`; a NaN `x` gives NaN).
///
/// ```
/// use autodiff_runtime::rules_traits::ReluRule;
/// assert_eq!(2.0_f64.relu_pullback(&2.0, &0.5), 0.5);
/// assert_eq!(0.0_f64.relu_pullback(&0.0, &0.5), 0.0); // the kink
/// assert_eq!((-2.0_f32).relu_pullback(&0.0, &0.5), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `relu` on `{Self}`",
    note = "`relu` is differentiated on `f32` and `f64`"
)]
pub trait ReluRule: Differentiable {
    /// Gradient contribution to `x`, given `y = relu(x)` and its adjoint `d`.
    fn relu_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// As [`Self::relu_pullback`], given the adjoint by value: it is dead
    /// afterwards, so an implementation may overwrite it with the result.
    #[inline]
    fn relu_pullback_into(&self, y: &Self::Tangent, d: Self::Tangent) -> Self::Tangent {
        self.relu_pullback(y, &d)
    }
}

/// The rectifier relu(x) = max(x, 0).
///
/// ```
/// assert_eq!(autodiff_runtime::relu(-2.0_f64), 0.0);
/// assert_eq!(autodiff_runtime::relu(3.0_f32), 3.0);
/// ```
#[inline]
pub fn relu<T: Relu>(x: T) -> T::Output {
    x.relu()
}

macro_rules! float_relu {
    ($($t:ty),*) => {$(
        /// By reference too, as for arrays: generated code borrows values
        /// it still needs.
        impl Relu for &$t {
            type Output = $t;
            #[inline]
            fn relu(self) -> $t {
                (*self).relu()
            }
        }

        impl Relu for $t {
            type Output = $t;
            #[inline]
            fn relu(self) -> $t {
                // `self.max(0.0)` would turn NaN into 0; keep it visible.
                if self > 0.0 || self.is_nan() { self } else { 0.0 }
            }
        }

        impl ReluRule for $t {
            #[inline]
            fn relu_pullback(&self, _y: &$t, d: &$t) -> $t {
                if *self > 0.0 {
                    *d
                } else if self.is_nan() {
                    *self
                } else {
                    0.0
                }
            }
        }
    )*};
}

float_relu!(f32, f64);

// Arrays, elementwise by the element type's rule (see
// `crate::array::elementwise_activation`).
crate::array::elementwise_activation! {
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::relu;
    /// let x = ndarray::array![-1.0_f32, 0.0, 2.0];
    /// assert_eq!(relu(&x), ndarray::array![0.0, 0.0, 2.0]);
    /// assert_eq!(relu(x.view()), relu(x), "by view and in place");
    /// ```
    Relu::relu, ReluRule::relu_pullback, relu_pullback_into
}

#[cfg(test)]
// Exact values (kinks, ±∞, ties) are what many asserts check.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::rules;

    #[test]
    fn test_relu() {
        assert_eq!(relu(2.5_f64), 2.5);
        assert_eq!(relu(-2.5_f64), 0.0);
        assert_eq!(relu(0.0_f64), 0.0);
        assert_eq!(relu(f64::INFINITY), f64::INFINITY);
        assert_eq!(relu(f64::NEG_INFINITY), 0.0);
        assert!(relu(f64::NAN).is_nan());
        assert_eq!(relu(-1.0_f32), 0.0);
        assert_eq!(relu(1e-30_f32), 1e-30);
    }

    #[test]
    fn test_relu_pullback() {
        for x in [-2.0_f64, -0.1, 0.3, 5.0, 1e6] {
            for d in [1.0, -0.7] {
                let g = rules::relu_pullback(&x, &relu(x), &d);
                let r = check(|x: &f64| d * relu(*x), x, g);
                assert!(r.is_close(1e-9), "at x = {x}, d = {d}: {r}");
            }
        }
        for x in [-2.0_f32, 0.5, 3.0] {
            let r = check(|x: &f32| relu(*x), x, x.relu_pullback(&relu(x), &1.0));
            assert!(r.is_close(1e-2), "at x = {x}: {r}");
        }
        assert_eq!(3.0_f64.relu_pullback(&3.0, &-2.0), -2.0);
        // The kink x = 0 (either sign): 0.
        assert_eq!(0.0_f64.relu_pullback(&0.0, &1.0), 0.0);
        assert_eq!((-0.0_f64).relu_pullback(&0.0, &1.0), 0.0);
        assert_eq!(0.0_f32.relu_pullback(&0.0, &1.0), 0.0);
        assert!(f64::NAN.relu_pullback(&f64::NAN, &1.0).is_nan());
    }

    #[test]
    fn test_relu_array() {
        use crate::array::testing::{random, weighted};
        use ndarray::{Array2, array};
        let x = random((3, 4), 3);
        let y = relu(&x);
        assert_eq!(y, x.mapv(relu));
        assert_eq!(relu(x.view()), y);
        let again = x.clone();
        let p = again.as_ptr();
        let owned = relu(again);
        assert_eq!(owned.as_ptr(), p, "the owned buffer is reused");
        assert_eq!(owned, y);
        let w = random((3, 4), 4);
        let g = rules::relu_pullback(&x, &y, &w);
        check(|x: &Array2<f64>| weighted(&w, &relu(x)), x.clone(), g).assert_close(1e-9);
        // The kink: 0.
        let x = array![0.0_f64, -0.0, 1.0];
        assert_eq!(
            rules::relu_pullback(&x, &relu(&x), &array![2.0, 2.0, 2.0]),
            array![0.0, 0.0, 2.0]
        );
    }
}

#[cfg(test)]
mod by_reference {
    #[test]
    fn test_relu_by_reference() {
        for x in [-3.0_f64, 0.0, 0.5, 800.0] {
            assert_eq!(super::relu(&x).to_bits(), super::relu(x).to_bits());
            let y = x as f32;
            assert_eq!(super::relu(&y).to_bits(), super::relu(y).to_bits());
        }
    }
}
