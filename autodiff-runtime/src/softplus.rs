//! softplus(x) = ln(1 + eˣ) and its rule.

use crate::tangent::Differentiable;

/// Types [`softplus`] applies to (elementwise for arrays). Implemented for
/// `f32` and `f64`.
///
/// ```
/// use autodiff_runtime::Softplus;
/// assert_eq!(800.0_f32.softplus(), 800.0); // e^800 would overflow: not computed
/// assert_eq!((-800.0_f64).softplus(), 0.0);
/// assert_eq!(80.0_f32.softplus(), 80.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`softplus` is not defined for `{Self}`",
    label = "`softplus` of this value",
    note = "`softplus` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
)]
pub trait Softplus {
    /// The type of softplus(x).
    type Output;
    /// softplus(x) = ln(1 + eˣ), finite for every finite `x`, computed as
    /// `max(x, 0) + ln_1p(e^(−|x|))`; `softplus(−∞) = 0`, `softplus(+∞) = +∞`.
    fn softplus(self) -> Self::Output;
}

/// Rule of [`softplus`]: `d · σ(x)`, with σ computed as by
/// [`sigmoid`](crate::sigmoid) (finite for every `x`).
///
/// ```
/// use autodiff_runtime::rules_traits::SoftplusRule;
/// let x = 0.0_f64;
/// assert_eq!(x.softplus_pullback(&std::f64::consts::LN_2, &2.0), 1.0);
/// assert_eq!((-800.0_f64).softplus_pullback(&0.0, &1.0), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `softplus` on `{Self}`",
    note = "`softplus` is differentiated on `f32` and `f64`"
)]
pub trait SoftplusRule: Differentiable {
    /// Gradient contribution to `x`, given `y = softplus(x)` and its adjoint `d`.
    fn softplus_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// As [`Self::softplus_pullback`], given the adjoint by value: it is dead
    /// afterwards, so an implementation may overwrite it with the result.
    #[inline]
    fn softplus_pullback_into(&self, y: &Self::Tangent, d: Self::Tangent) -> Self::Tangent {
        self.softplus_pullback(y, &d)
    }
}

/// softplus(x) = ln(1 + eˣ), computed without overflow.
///
/// ```
/// assert!((autodiff_runtime::softplus(0.0_f64) - std::f64::consts::LN_2).abs() < 1e-15);
/// assert_eq!(autodiff_runtime::softplus(800.0_f64), 800.0);
/// ```
#[inline]
pub fn softplus<T: Softplus>(x: T) -> T::Output {
    x.softplus()
}

/// softplus and its derivative, written once for `f32`, `f64` and
/// [`crate::Dual`].
pub(crate) mod rule {
    use num_traits::Float;

    /// ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)): the exponential is in
    /// [0, 1], so nothing overflows, and `ln_1p` keeps the small tail.
    #[inline]
    pub fn value<T: Float>(x: T) -> T {
        x.max(T::zero()) + (-x.abs()).exp().ln_1p()
    }

    /// `d · σ(x)`.
    #[inline]
    pub fn pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d * crate::sigmoid::rule::value(x)
    }
}

macro_rules! float_softplus {
    ($($t:ty),*) => {$(
        /// By reference too, as for arrays: generated code borrows values
        /// it still needs.
        impl Softplus for &$t {
            type Output = $t;
            #[inline]
            fn softplus(self) -> $t {
                (*self).softplus()
            }
        }

        impl Softplus for $t {
            type Output = $t;
            // ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)): the exponential is in
            // [0, 1], so nothing overflows, and ln_1p keeps the small tail.
            #[inline]
            fn softplus(self) -> $t {
                rule::value(self)
            }
        }

        impl SoftplusRule for $t {
            #[inline]
            fn softplus_pullback(&self, y: &$t, d: &$t) -> $t {
                rule::pullback(*self, *y, *d)
            }
        }
    )*};
}

float_softplus!(f32, f64);

// Arrays, elementwise by the element type's rule (see
// `crate::array::elementwise_activation`).
crate::array::elementwise_activation! {
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::softplus;
    /// let x = ndarray::array![800.0_f64, -800.0];
    /// assert_eq!(softplus(&x), ndarray::array![800.0, 0.0]);
    /// assert_eq!(softplus(x.view()), softplus(x), "by view and in place");
    /// ```
    Softplus::softplus, SoftplusRule::softplus_pullback, softplus_pullback_into
}

#[cfg(test)]
// Reference values keep the digits mpmath printed; rustc rounds them
// correctly. Exact values (kinks, ±∞, ties) are what many asserts check.
#[allow(clippy::excessive_precision, clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::rules;

    #[track_caller]
    fn assert_rel(got: f64, want: f64, tol: f64) {
        assert!(
            (got - want).abs() <= tol * want.abs(),
            "got {got:e}, want {want:e}"
        );
    }

    #[test]
    fn test_softplus() {
        // Reference values: mpmath, `mp.dps = 40; log(1 + exp(mpf(x)))`.
        assert_rel(softplus(0.0_f64), core::f64::consts::LN_2, 1e-16);
        assert_rel(softplus(1.0_f64), 1.313_261_687_518_222_834_048_995, 4e-16);
        assert_rel(
            softplus(-1.0_f64),
            0.313_261_687_518_222_834_048_995_5,
            4e-16,
        );
        assert_rel(softplus(7.0_f64), 7.000_911_466_453_774_244_691_702, 4e-16);
        assert_rel(
            softplus(-7.0_f64),
            9.114_664_537_742_446_917_024_938e-4,
            4e-16,
        );
        assert_rel(softplus(2.5_f64), 2.578_889_734_292_549_623_344_044, 4e-16);
        // ln(1 + e⁻³⁰) without ln_1p would lose 3 digits in 1 + 9.4e-14.
        assert_rel(
            softplus(-30.0_f64),
            9.357_622_968_839_736_779_377_697e-14,
            4e-16,
        );
        assert_rel(softplus(30.0_f64), 30.000_000_000_000_093_576_229_69, 4e-16);
        assert_rel(
            f64::from(softplus(1.0_f32)),
            1.313_261_687_518_222_834,
            2e-7,
        );
        assert_rel(
            f64::from(softplus(-7.0_f32)),
            9.114_664_537_742_446_917e-4,
            4e-7,
        );
    }

    #[test]
    fn test_softplus_extremes() {
        assert_eq!(softplus(800.0_f64), 800.0);
        assert_eq!(softplus(-800.0_f64), 0.0);
        assert_eq!(softplus(f64::INFINITY), f64::INFINITY);
        assert_eq!(softplus(f64::NEG_INFINITY), 0.0);
        assert_eq!(softplus(800.0_f32), 800.0);
        assert_eq!(softplus(-800.0_f32), 0.0);
        assert_eq!(softplus(f32::INFINITY), f32::INFINITY);
        assert_eq!(softplus(f32::NEG_INFINITY), 0.0);
        assert!(softplus(f64::NAN).is_nan());
        for (x, want) in [
            (800.0_f64, 1.0),
            (-800.0, 0.0),
            (f64::INFINITY, 1.0),
            (f64::NEG_INFINITY, 0.0),
        ] {
            assert_eq!(
                rules::softplus_pullback(&x, &softplus(x), &1.0),
                want,
                "at {x}"
            );
        }
        for (x, want) in [
            (800.0_f32, 1.0),
            (-800.0, 0.0),
            (f32::INFINITY, 1.0),
            (f32::NEG_INFINITY, 0.0),
        ] {
            assert_eq!(
                rules::softplus_pullback(&x, &softplus(x), &1.0),
                want,
                "at {x}"
            );
        }
    }

    #[test]
    fn test_softplus_pullback() {
        for x in [-30.0_f64, -6.0, -0.3, 0.0, 0.5, 3.0, 40.0] {
            for d in [1.0, -0.7] {
                let g = rules::softplus_pullback(&x, &softplus(x), &d);
                let r = check(|x: &f64| d * softplus(*x), x, g);
                assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
            }
        }
        for x in [-3.0_f32, 0.0, 0.5, 4.0] {
            let r = check(
                |x: &f32| softplus(*x),
                x,
                x.softplus_pullback(&softplus(x), &1.0),
            );
            assert!(r.is_close(1e-2), "at x = {x}: {r}");
        }
        // softplus' = σ: σ(0) = ½, σ(1) and σ(−7) from mpmath.
        assert_eq!(0.0_f64.softplus_pullback(&0.0, &1.0), 0.5);
        assert_rel(
            1.0_f64.softplus_pullback(&0.0, &1.0),
            0.731_058_578_630_004_879_251_159,
            4e-16,
        );
        assert_rel(
            (-7.0_f64).softplus_pullback(&0.0, &1.0),
            9.110_511_944_006_453_578_633e-4,
            4e-16,
        );
    }

    #[test]
    fn test_softplus_array() {
        use crate::array::testing::{random, weighted};
        use ndarray::{Array2, array};
        let x = random((3, 4), 5).mapv(|v| 4.0 * v);
        let y = softplus(&x);
        assert_eq!(y, x.mapv(softplus));
        assert_eq!(softplus(x.view()), y);
        let again = x.clone();
        let p = again.as_ptr();
        let owned = softplus(again);
        assert_eq!(owned.as_ptr(), p, "the owned buffer is reused");
        assert_eq!(owned, y);
        let w = random((3, 4), 6);
        let g = rules::softplus_pullback(&x, &y, &w);
        check(|x: &Array2<f64>| weighted(&w, &softplus(x)), x.clone(), g).assert_close(1e-7);
        let x = array![-800.0_f32, 0.0, 800.0];
        let g = rules::softplus_pullback(&x, &softplus(&x), &array![1.0, 1.0, 1.0]);
        assert_eq!(g, array![0.0, 0.5, 1.0]);
    }
}

#[cfg(test)]
mod by_reference {
    #[test]
    fn test_softplus_by_reference() {
        for x in [-3.0_f64, 0.0, 0.5, 800.0] {
            assert_eq!(super::softplus(&x).to_bits(), super::softplus(x).to_bits());
            let y = x as f32;
            assert_eq!(super::softplus(&y).to_bits(), super::softplus(y).to_bits());
        }
    }
}
