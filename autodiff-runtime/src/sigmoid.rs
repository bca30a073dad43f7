//! The logistic function σ(x) = 1 / (1 + e^(−x)) and its rule.

use crate::tangent::Differentiable;

/// Types [`sigmoid`] applies to (elementwise for arrays). Implemented for
/// `f32` and `f64`.
///
/// ```
/// use autodiff_runtime::Sigmoid;
/// assert_eq!(0.0_f32.sigmoid(), 0.5);
/// assert_eq!((-800.0_f64).sigmoid(), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`sigmoid` is not defined for `{Self}`",
    label = "`sigmoid` of this value",
    note = "`sigmoid` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
)]
pub trait Sigmoid {
    /// The type of σ(x).
    type Output;
    /// σ(x) = 1 / (1 + e^(−x)), within a few ulp for every `x`, never NaN
    /// for a non-NaN `x`: `σ(−∞) = 0`, `σ(+∞) = 1`.
    fn sigmoid(self) -> Self::Output;
}

/// Rule of [`sigmoid`]: `d · σ(x) · σ(−x)`, within 4 ulp everywhere.
///
/// For `x ≤ 1` it is `d · y · (1 − y)` from the forward value `y = σ(x)`:
/// there `1 − y ≥ 0.26` is exact, and no `exp` is needed. Above, `1 − y`
/// would cancel (≈ 300 ulp lost at `x = 7`), so it is `d · e / (1 + e)²`
/// with `e = e^(−x)`: no cancellation, and `0` rather than NaN as `x → ∞`.
///
/// ```
/// use autodiff_runtime::rules_traits::SigmoidRule;
/// let x = 0.0_f64;
/// assert_eq!(x.sigmoid_pullback(&0.5, &1.0), 0.25);
/// assert_eq!(800.0_f64.sigmoid_pullback(&1.0, &1.0), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `sigmoid` on `{Self}`",
    note = "`sigmoid` is differentiated on `f32` and `f64`"
)]
pub trait SigmoidRule: Differentiable {
    /// Gradient contribution to `x`, given `y = σ(x)` and its adjoint `d`.
    fn sigmoid_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// As [`Self::sigmoid_pullback`], given the adjoint by value: it is dead
    /// afterwards, so an implementation may overwrite it with the result.
    #[inline]
    fn sigmoid_pullback_into(&self, y: &Self::Tangent, d: Self::Tangent) -> Self::Tangent {
        self.sigmoid_pullback(y, &d)
    }
}

/// The logistic function σ(x) = 1 / (1 + e^(−x)).
///
/// ```
/// let y = autodiff_runtime::sigmoid(7.0_f64);
/// assert!((y - 0.999_088_948_805_599_4).abs() < 1e-15);
/// ```
#[inline]
pub fn sigmoid<T: Sigmoid>(x: T) -> T::Output {
    x.sigmoid()
}

/// σ and its derivative, written once for `f32`, `f64` and [`crate::Dual`]
/// (whose σ takes its ε part from [`rule::pullback`]).
pub(crate) mod rule {
    use num_traits::Float;

    /// σ(x): with e = e^(−|x|) ∈ [0, 1], which never overflows, 1/(1 + e)
    /// for x ≥ 0 and e/(1 + e) below.
    #[inline]
    pub fn value<T: Float>(x: T) -> T {
        let e = (-x.abs()).exp();
        let numerator = if x >= T::zero() { T::one() } else { e };
        numerator / (T::one() + e)
    }

    /// `d · σ′(x)`, σ′(x) = σ(x)·σ(−x). For x ≤ 1, y = σ(x) ≤ 0.74, so
    /// 1 − y ≥ 0.26 is exact (Sterbenz) up to y's own rounding: y·(1 − y) is
    /// within a few ulp, and costs no `exp`. Above 1, 1 − y cancels (≈ 300
    /// ulp lost at x = 7), so σ(−x) comes from e = e^(−x) instead:
    /// σ′(x) = e/(1 + e)² (the forward's `exp`, shared once inlined).
    #[inline]
    pub fn pullback<T: Float>(x: T, y: T, d: T) -> T {
        if x <= T::one() {
            d * (y * (T::one() - y))
        } else {
            let e = (-x.abs()).exp();
            let one_e = T::one() + e;
            d * (e / (one_e * one_e))
        }
    }
}

macro_rules! float_sigmoid {
    ($($t:ty),*) => {$(
        /// By reference too, as for arrays: generated code borrows values
        /// it still needs.
        impl Sigmoid for &$t {
            type Output = $t;
            #[inline]
            fn sigmoid(self) -> $t {
                (*self).sigmoid()
            }
        }

        impl Sigmoid for $t {
            type Output = $t;
            // e = e^(−|x|) ∈ [0, 1] never overflows; σ(x) = 1/(1 + e) for
            // x ≥ 0 and e/(1 + e) below. The pullback computes the same `e`
            // from the same `x`, so once both are inlined the compiler keeps
            // one `exp` for the value and the derivative.
            #[inline]
            fn sigmoid(self) -> $t {
                rule::value(self)
            }
        }

        impl SigmoidRule for $t {
            // σ'(x) = σ(x)·σ(−x). For x ≤ 1, y = σ(x) ≤ 0.74, so 1 − y ≥ 0.26
            // is exact (Sterbenz) up to y's own rounding: y·(1 − y) is within
            // a few ulp, and costs no `exp`. Above 1, 1 − y cancels (≈ 300
            // ulp lost at x = 7), so σ(−x) comes from e = e^(−x) instead:
            // σ'(x) = e/(1 + e)².
            #[inline]
            fn sigmoid_pullback(&self, y: &$t, d: &$t) -> $t {
                rule::pullback(*self, *y, *d)
            }
        }
    )*};
}

float_sigmoid!(f32, f64);

// Arrays, elementwise by the element type's rule (see
// `crate::array::elementwise_activation`).
crate::array::elementwise_activation! {
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::sigmoid;
    /// let x = ndarray::array![0.0_f64, 800.0, -800.0];
    /// assert_eq!(sigmoid(&x), ndarray::array![0.5, 1.0, 0.0]);
    /// assert_eq!(sigmoid(x.view()), sigmoid(x), "by view and in place");
    /// ```
    Sigmoid::sigmoid, SigmoidRule::sigmoid_pullback, sigmoid_pullback_into
}

#[cfg(test)]
// Reference values keep the digits mpmath printed; rustc rounds them
// correctly. Exact values (kinks, ±∞, ties) are what many asserts check.
#[allow(clippy::excessive_precision, clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::rules;

    /// The distance in units in the last place between two positive `f64`.
    fn ulps(a: f64, b: f64) -> u64 {
        assert!(a > 0.0 && b > 0.0, "{a}, {b}");
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn test_sigmoid() {
        // Reference values: mpmath, `mp.dps = 40; 1/(1 + exp(-mpf(x)))`.
        assert_eq!(sigmoid(0.0_f64), 0.5);
        assert!(
            ulps(
                sigmoid(7.0_f64),
                0.999_088_948_805_599_354_642_136_676_225_3
            ) <= 1
        );
        assert!(ulps(sigmoid(-7.0_f64), 9.110_511_944_006_453_578_633_238e-4) <= 2);
        assert!(ulps(sigmoid(-40.0_f64), 4.248_354_255_291_588_977_280_721e-18) <= 2);
        assert!(ulps(sigmoid(2.5_f64), 0.924_141_819_978_756_448_806_693_8) <= 1);
        assert_eq!(sigmoid(0.0_f32), 0.5);
        assert!((sigmoid(-7.0_f32) - 9.110_512e-4).abs() < 2.0 * f32::EPSILON * 9.11e-4);
    }

    #[test]
    fn test_sigmoid_extremes() {
        // Finite (no exp overflow, no ∞/∞) at ±800 and ±∞.
        assert_eq!(sigmoid(800.0_f64), 1.0);
        assert_eq!(sigmoid(-800.0_f64), 0.0);
        assert_eq!(sigmoid(f64::INFINITY), 1.0);
        assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
        assert_eq!(sigmoid(800.0_f32), 1.0);
        assert_eq!(sigmoid(-800.0_f32), 0.0);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
        assert!(sigmoid(f64::NAN).is_nan());
        for x in [800.0_f64, -800.0, f64::INFINITY, f64::NEG_INFINITY] {
            let g = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
            assert_eq!(g, 0.0, "σ'({x}) = {g}");
        }
        for x in [800.0_f32, -800.0, f32::INFINITY, f32::NEG_INFINITY] {
            let g = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
            assert_eq!(g, 0.0, "σ'({x}) = {g}");
        }
    }

    #[test]
    fn test_sigmoid_pullback() {
        for x in [-6.0_f64, -2.0, -0.3, 0.0, 0.5, 3.0, 7.0] {
            for d in [1.0, -0.7] {
                let g = rules::sigmoid_pullback(&x, &sigmoid(x), &d);
                let r = check(|x: &f64| d * sigmoid(*x), x, g);
                assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
            }
        }
        for x in [-3.0_f32, 0.0, 0.5, 4.0] {
            let g = x.sigmoid_pullback(&sigmoid(x), &1.0);
            let r = check(|x: &f32| sigmoid(*x), x, g);
            assert!(r.is_close(1e-2), "at x = {x}: {r}");
        }
        // The analytic value: σ(0)·σ(−0) = ¼.
        assert_eq!(0.0_f64.sigmoid_pullback(&0.5, &1.0), 0.25);
    }

    #[test]
    fn test_sigmoid_pullback_precision() {
        // σ'(7) = e⁻⁷/(1 + e⁻⁷)², from
        //   python3 -c "from mpmath import mp, exp, mpf; mp.dps = 40; \
        //               x = mpf(7); print(exp(-x) / (1 + exp(-x))**2)"
        // (the same digits from Python's `decimal` at 60 digits). The f64
        // formula y·(1 − y) gives 0.000910221180121784, ≈ 390 ulp away.
        let exact = 0.000_910_221_180_121_826_515_363_859_381_163_876_524_5_f64;
        let x = 7.0_f64;
        let got = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
        assert!(
            ulps(got, exact) <= 4,
            "σ'(7) = {got:e}, exact {exact:e}: {} ulp",
            ulps(got, exact)
        );
        let got = (-x).sigmoid_pullback(&sigmoid(-x), &1.0);
        assert!(
            ulps(got, exact) <= 4,
            "σ'(−7) = {got:e}: {} ulp",
            ulps(got, exact)
        );
        // Deep in the tail, where y·(1 − y) has no digits left: σ'(±30).
        let exact = 9.357_622_968_838_423_302_763_293e-14_f64;
        for x in [30.0_f64, -30.0] {
            let got = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
            assert!(
                ulps(got, exact) <= 4,
                "σ'({x}) = {got:e}: {} ulp",
                ulps(got, exact)
            );
        }
        // f32, computed in f32.
        let got = rules::sigmoid_pullback(&7.0_f32, &sigmoid(7.0_f32), &1.0);
        #[allow(clippy::cast_possible_truncation)]
        let exact = 0.000_910_221_180_121_826_5_f64 as f32;
        assert!(
            got.to_bits().abs_diff(exact.to_bits()) <= 4,
            "σ'(7) = {got:e} in f32"
        );
    }

    #[test]
    fn test_sigmoid_array() {
        use crate::array::testing::{random, weighted};
        use ndarray::{Array2, array};
        let x = random((3, 4), 1).mapv(|v| 4.0 * v);
        let y = sigmoid(&x);
        assert_eq!(y, x.mapv(sigmoid));
        assert_eq!(sigmoid(x.view()), y);
        let owned = sigmoid(x.clone());
        assert_eq!(owned, y);
        let again = x.clone();
        let p = again.as_ptr();
        assert_eq!(sigmoid(again).as_ptr(), p, "the owned buffer is reused");
        let w = random((3, 4), 2);
        let g = rules::sigmoid_pullback(&x, &y, &w);
        check(|x: &Array2<f64>| weighted(&w, &sigmoid(x)), x.clone(), g).assert_close(1e-7);
        // Same numerics as the scalar rule, finite in the tails.
        let x = array![-800.0_f32, 0.0, 7.0, 800.0];
        let g = rules::sigmoid_pullback(&x.view(), &sigmoid(&x), &array![1.0, 1.0, 1.0, 1.0]);
        assert_eq!(g, x.mapv(|x| x.sigmoid_pullback(&sigmoid(x), &1.0)));
        assert_eq!(g[0], 0.0);
        assert_eq!(g[1], 0.25);
    }
}

#[cfg(test)]
mod by_reference {
    #[test]
    fn test_sigmoid_by_reference() {
        for x in [-3.0_f64, 0.0, 0.5, 800.0] {
            assert_eq!(super::sigmoid(&x).to_bits(), super::sigmoid(x).to_bits());
            let y = x as f32;
            assert_eq!(super::sigmoid(&y).to_bits(), super::sigmoid(y).to_bits());
        }
    }
}

#[cfg(test)]
mod cheap_branch {
    use crate::rules_traits::SigmoidRule;
    use crate::sigmoid;

    /// σ'(x) as e/(1 + e)², e = e^(−|x|): the formula with no cancellation.
    fn reference(x: f64) -> f64 {
        let e = (-x.abs()).exp();
        e / ((1.0 + e) * (1.0 + e))
    }

    #[test]
    fn test_sigmoid_pullback_without_exp_stays_within_4_ulp() {
        let mut worst = 0;
        for i in 0..=200_000 {
            let x = -40.0 + 41.0 * f64::from(i) / 200_000.0; // up to the branch at 1
            let got = x.sigmoid_pullback(&sigmoid(x), &1.0);
            let want = reference(x);
            worst = worst.max(got.to_bits().abs_diff(want.to_bits()));
        }
        assert!(worst <= 4, "worst {worst} ulp from e/(1 + e)²");
    }

    #[test]
    fn test_sigmoid_pullback_above_the_branch_is_the_exp_formula() {
        for x in [1.0000001, 2.0, 7.0, 30.0, 700.0] {
            assert_eq!(x.sigmoid_pullback(&sigmoid(x), &1.0), reference(x));
        }
    }
}
