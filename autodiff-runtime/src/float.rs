//! Rules of the float methods `exp ln sqrt powi powf sin cos … max min`.
//!
//! For `f32`/`f64` the value `y` of the method and the adjoint `d` have the
//! type `Self::Tangent` (the same float); an elementwise array type uses its
//! owned array for both.

use crate::tangent::Differentiable;

/// Derivative rules of the float methods, each given the input `self`, the
/// method's output `y` and the adjoint `d` of `y`; each returns `d · ∂y/∂input`.
///
/// Implemented for `f32` (computed in `f32`) and `f64`. Where the derivative
/// is not defined at a kink, the choice made is stated on the method:
/// `abs` at `0` gives `0`, `max`/`min` ties give the whole adjoint to the
/// receiver, `powi` with `n = 0` gives `0`, `sqrt` at `0` gives `+∞`,
/// `copysign` at `x = 0` gives `0`, `clamp` ties with a bound give the whole
/// adjoint to the receiver, `rem_euclid` at its jumps follows the branch the
/// value took; the piecewise-constant `floor ceil round trunc signum` give
/// `0` everywhere, their jumps included, and `fract` gives `d` everywhere.
///
/// ```
/// use autodiff_runtime::rules_traits::FloatRules;
/// let x = 4.0_f64;
/// let y = x.sqrt();
/// assert_eq!(x.sqrt_pullback(&y, &1.0), 0.25);
/// assert_eq!(3.0_f64.max_pullback_lhs(&3.0, &3.0, &1.0), 1.0); // tie: receiver
/// assert_eq!(3.0_f64.max_pullback_rhs(&3.0, &3.0, &1.0), 0.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rules for float methods on `{Self}`",
    label = "a float method is differentiated here",
    note = "float methods are differentiated on `f32` and `f64`; implement `autodiff::rules_traits::FloatRules` for `{Self}` to add a type"
)]
pub trait FloatRules: Differentiable {
    /// `d · eˣ`, computed as `d · y`.
    fn exp_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · 2ˣ · ln 2`, computed as `d · y · ln 2`.
    fn exp2_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / x` (`±∞` at `x = 0`, as the true derivative).
    fn ln_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (x · ln 2)`.
    fn log2_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (x · ln 10)`.
    fn log10_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (2√x)`, computed as `d · 0.5 / y`.
    ///
    /// At `x = 0` this is `+∞` for `d > 0`, as the true (one-sided) derivative is;
    /// `d = 0` there gives NaN (`0 · ∞`).
    fn sqrt_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (3 ∛x²)`, computed as `d / (3 y²)` (`+∞` at `x = 0`).
    fn cbrt_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · cos x`.
    fn sin_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `−d · sin x`.
    fn cos_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · (1 + tan² x)`, computed as `d · (1 + y²)`.
    fn tan_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / √(1 − x²)`, computed as `d / √((1 − x)(1 + x))` (`+∞` at `|x| = 1`).
    fn asin_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `−d / √(1 − x²)`, computed as `−d / √((1 − x)(1 + x))` (`−∞` at `|x| = 1`).
    fn acos_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (1 + x²)`, computed as `d · r² / (1 + r²)` with `r = 1/x` when `|x| > 1`
    /// so that `x²` cannot overflow.
    fn atan_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · cosh x`.
    fn sinh_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · sinh x`.
    fn cosh_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · (1 − tanh² x)`.
    ///
    /// `d · (1 − y²)` while `|y| ≤ ½`, `d · 4e/(1 + e)²` with `e = e^(−2|x|)`
    /// beyond: a few ulp everywhere, and non-zero wherever sech² x is.
    fn tanh_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · sign x`; at the kink `x = 0` (either sign of zero) the derivative
    /// is taken as `0`. NaN for a NaN `x`.
    fn abs_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `−d / x²`, computed as `−d · y²`.
    fn recip_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (1 + x)` (`+∞` at `x = −1`, as the true derivative).
    fn ln_1p_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · eˣ`, computed from `x`: not as `d · (y + 1)`, which cancels where
    /// `y = eˣ − 1` is near `−1` (`0` instead of `4e-18` at `x = −40`).
    fn exp_m1_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / √(x² + 1)`, computed as `d / hypot(x, 1)` so that `x²` cannot
    /// overflow.
    fn asinh_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / √(x² − 1)`, computed as `d / (√(x − 1) · √(x + 1))`: no
    /// cancellation near `x = 1`, no overflow (`+∞` at `x = 1`; NaN below,
    /// outside the domain).
    fn acosh_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d / (1 − x²)`, computed as `d / ((1 − x)(1 + x))` (`+∞` at `|x| = 1`).
    fn atanh_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · π/180`, computed as `d.to_radians()` (the method is linear: the
    /// same constant, rounded the same way).
    fn to_radians_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · 180/π`, computed as `d.to_degrees()`.
    fn to_degrees_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `0`: `x.floor()` is constant between integers. At the jumps (the
    /// integers), where the derivative does not exist, it is taken as `0`
    /// too, and so at `±∞` and NaN: nothing flows back through a rounded
    /// value.
    fn floor_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `0`, also at the jumps (the integers), as for
    /// [`floor_pullback`](Self::floor_pullback).
    fn ceil_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `0`, also at the jumps (the half-integers), as for
    /// [`floor_pullback`](Self::floor_pullback).
    fn round_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `0`, also at the jumps (the non-zero integers), as for
    /// [`floor_pullback`](Self::floor_pullback).
    fn trunc_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `0`: `x.signum()` is `±1` on either side of `0`. At the jump `x = ±0`
    /// the derivative is taken as `0` too (as `abs` takes its kink there),
    /// and so for NaN.
    fn signum_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d`: `x.fract() = x − x.trunc()` has slope `1` between its jumps. At
    /// the jumps (the non-zero integers) both one-sided derivatives are `1`,
    /// and the derivative is taken as `1` there too; the adjoint passes
    /// unchanged, also for a NaN or infinite `x`.
    fn fract_pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// `d · n · xⁿ⁻¹`; `0` for `n = 0` (also at `x = 0`, where `0 · 0⁻¹`
    /// would be NaN).
    fn powi_pullback(&self, n: i32, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the base `x` of `y = x.powf(p)`: `d · p · xᵖ⁻¹`, computed from `x`
    /// (correct at `x = 0`); `0` for `p = 0`.
    fn powf_pullback_lhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the exponent `p` of `y = x.powf(p)`: `d · y · ln x`; `0` where `y = 0`
    /// (e.g. `x = 0`, `p > 0`, where `xᵖ` is constant in `p`). NaN for `x < 0`,
    /// where `xᵖ` is not differentiable in `p`.
    fn powf_pullback_rhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the receiver `x` of `y = x.max(p)`: `d` if `x` was selected, else `0`.
    ///
    /// On a tie `x == p` the whole adjoint goes to the receiver `x` and `0` to `p`.
    /// As `max` ignores a NaN operand, so does its rule: the adjoint goes to the
    /// other operand (to `x` if both are NaN).
    fn max_pullback_lhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the argument `p` of `y = x.max(p)`: `d` if `p` was selected, else `0`
    /// (`0` on a tie `x == p`; see [`max_pullback_lhs`](Self::max_pullback_lhs)).
    fn max_pullback_rhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the receiver `x` of `y = x.min(p)`: `d` if `x` was selected, else `0`.
    ///
    /// On a tie `x == p` the whole adjoint goes to the receiver `x` and `0` to `p`.
    /// As `min` ignores a NaN operand, so does its rule: the adjoint goes to the
    /// other operand (to `x` if both are NaN).
    fn min_pullback_lhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the argument `p` of `y = x.min(p)`: `d` if `p` was selected, else `0`
    /// (`0` on a tie `x == p`; see [`min_pullback_lhs`](Self::min_pullback_lhs)).
    fn min_pullback_rhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To `x` in `y = x.atan2(p)` (the angle of the point `(p, x)`):
    /// `d · p / (x² + p²)`, computed with `hypot` so it cannot overflow. NaN at
    /// the origin, where the derivative is unbounded.
    fn atan2_pullback_lhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To `p` in `y = x.atan2(p)`: `−d · x / (x² + p²)`, computed with `hypot`.
    /// NaN at the origin.
    fn atan2_pullback_rhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To `x` in `y = x.hypot(p)`: `d · x / y`; `0` at the kink `x = p = 0`
    /// (as for `abs`).
    fn hypot_pullback_lhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To `p` in `y = x.hypot(p)`: `d · p / y`; `0` at `x = p = 0`.
    fn hypot_pullback_rhs(&self, p: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To `x` in `y = x.log(b)` (`ln x / ln b`): `d / (x · ln b)` (`±∞` at
    /// `x = 0` and at `b = 1`, as the true derivative).
    fn log_pullback_lhs(&self, b: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the base `b` in `y = x.log(b)`: `−d · ln x / (b · ln² b)`, computed
    /// as `−d · y / (b · ln b)`; `0` at `x = 1`, where `y` is `0` for every base.
    fn log_pullback_rhs(&self, b: &Self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To `x` in `y = x.copysign(sign)` (`|x|` with the sign of `sign`):
    /// `d` where the signs of `x` and `sign` agree, `−d` where they differ
    /// (`sgn x · sgn sign`). A sign is read from the sign bit, as `copysign`
    /// does: `−0.0` and a NaN with its sign bit set count as negative. At the
    /// kink `x = ±0` the derivative is taken as `0`, as for `abs` (which is
    /// `x.copysign(1.0)`); NaN for a NaN `x`.
    fn copysign_pullback_lhs(
        &self,
        sign: &Self,
        y: &Self::Tangent,
        d: &Self::Tangent,
    ) -> Self::Tangent;
    /// To `sign` in `y = x.copysign(sign)`: `0`. Only the sign of `sign` is
    /// read; where it flips (at `sign = ±0`) the value jumps from `|x|` to
    /// `−|x|`, and the derivative is taken as `0` there too.
    fn copysign_pullback_rhs(
        &self,
        sign: &Self,
        y: &Self::Tangent,
        d: &Self::Tangent,
    ) -> Self::Tangent;
    /// To `x` in `y = x.rem_euclid(r)` (`x − r·q`, `q` the Euclidean
    /// quotient): `d`. At the jumps, where `x` crosses a multiple of `r` and
    /// the value drops from `|r|` to `0`, the derivative is taken as `1` too
    /// (both one-sided derivatives are `1`).
    fn rem_euclid_pullback_lhs(
        &self,
        r: &Self,
        y: &Self::Tangent,
        d: &Self::Tangent,
    ) -> Self::Tangent;
    /// To `r` in `y = x.rem_euclid(r)`: `−d · q`, the quotient of the branch
    /// the value took, recovered from the value as `q = round((x − y) / r)`
    /// (so that it agrees with `y` where `x.div_euclid(r)`, computed from the
    /// rounded `x / r`, would not). At the jumps the quotient steps by one and
    /// the derivative is that of the branch taken. NaN where the value is not
    /// finite (`r = 0`, an infinite `x`).
    fn rem_euclid_pullback_rhs(
        &self,
        r: &Self,
        y: &Self::Tangent,
        d: &Self::Tangent,
    ) -> Self::Tangent;
    /// To the receiver `x` of `x.mul_add(a, b) = x·a + b`: `d · a`.
    fn mul_add_pullback_x(&self, a: &Self, b: &Self, d: &Self::Tangent) -> Self::Tangent;
    /// To `a` in `x.mul_add(a, b)`: `d · x`.
    fn mul_add_pullback_a(&self, a: &Self, b: &Self, d: &Self::Tangent) -> Self::Tangent;
    /// To `b` in `x.mul_add(a, b)`: `d`.
    fn mul_add_pullback_b(&self, a: &Self, b: &Self, d: &Self::Tangent) -> Self::Tangent;
    /// To the receiver `x` of `x.clamp(lo, hi)`: `d` where the value is `x`
    /// itself, `lo ≤ x ≤ hi`, else `0`.
    ///
    /// On a tie with a bound (`x == lo` or `x == hi`) the whole adjoint goes
    /// to the receiver `x` and `0` to the bound, as for `max`/`min` ties (and
    /// as `clamp` returns `x` there): `x.clamp(lo, hi)` routes its adjoint as
    /// `x.max(lo).min(hi)` does. A NaN `x`, which `clamp` returns as is, gets
    /// the adjoint too.
    fn clamp_pullback_x(&self, lo: &Self, hi: &Self, d: &Self::Tangent) -> Self::Tangent;
    /// To `lo` in `x.clamp(lo, hi)`: `d` where `x < lo` (the value is `lo`),
    /// else `0` (also on the tie `x == lo`; see
    /// [`clamp_pullback_x`](Self::clamp_pullback_x)).
    fn clamp_pullback_lo(&self, lo: &Self, hi: &Self, d: &Self::Tangent) -> Self::Tangent;
    /// To `hi` in `x.clamp(lo, hi)`: `d` where `x > hi` (the value is `hi`),
    /// else `0` (also on the tie `x == hi`).
    fn clamp_pullback_hi(&self, lo: &Self, hi: &Self, d: &Self::Tangent) -> Self::Tangent;
}

/// Each float method's derivative, written once for every float type:
/// `f32` (computed in `f32`), `f64` and [`crate::Dual`] (whose forward-mode
/// methods call these too, so `f_hvp` follows the same conventions at the
/// kinks and keeps the same precision in the tails as `f_grad`). Each takes
/// the input `x`, the method's output `y` and the adjoint `d`, and returns
/// `d · ∂y/∂input`; [`FloatRules`] documents the choices at the kinks.
pub mod rule {
    use num_traits::{Float, NumCast};

    /// `v` in the float type `T` (exact for the constants the rules use).
    #[inline(always)]
    pub(crate) fn lit<T: NumCast>(v: f64) -> T {
        <T as NumCast>::from(v).expect("a float constant converts to every float type")
    }

    #[inline]
    pub fn exp_pullback<T: Float>(_x: T, y: T, d: T) -> T {
        d * y
    }
    #[inline]
    pub fn exp2_pullback<T: Float>(_x: T, y: T, d: T) -> T {
        d * y * lit::<T>(core::f64::consts::LN_2)
    }
    #[inline]
    pub fn ln_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / x
    }
    #[inline]
    pub fn log2_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / (x * lit::<T>(core::f64::consts::LN_2))
    }
    #[inline]
    pub fn log10_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / (x * lit::<T>(core::f64::consts::LN_10))
    }
    #[inline]
    pub fn sqrt_pullback<T: Float>(_x: T, y: T, d: T) -> T {
        d * lit::<T>(0.5) / y
    }
    #[inline]
    pub fn cbrt_pullback<T: Float>(_x: T, y: T, d: T) -> T {
        d / (lit::<T>(3.0) * y * y)
    }
    #[inline]
    pub fn sin_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d * x.cos()
    }
    #[inline]
    pub fn cos_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        -d * x.sin()
    }
    #[inline]
    pub fn tan_pullback<T: Float>(_x: T, y: T, d: T) -> T {
        d * (lit::<T>(1.0) + y * y)
    }
    // (1 − x)(1 + x) rather than 1 − x²: exact-ish near |x| = 1.
    #[inline]
    pub fn asin_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / ((lit::<T>(1.0) - x) * (lit::<T>(1.0) + x)).sqrt()
    }
    #[inline]
    pub fn acos_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        -d / ((lit::<T>(1.0) - x) * (lit::<T>(1.0) + x)).sqrt()
    }
    #[inline]
    pub fn atan_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        if x.abs() > lit::<T>(1.0) {
            let r = x.recip();
            d * (r * r / (lit::<T>(1.0) + r * r))
        } else {
            d / (lit::<T>(1.0) + x * x)
        }
    }
    #[inline]
    pub fn sinh_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d * x.cosh()
    }
    #[inline]
    pub fn cosh_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d * x.sinh()
    }
    // 1 − y² = (1 − y)(1 + y) is accurate while |y| ≤ ½ (|x| ≤ 0.54):
    // both factors are ≥ ½. Beyond, it inherits the rounding of y
    // near ±1 (a few 1e-11 at |x| = 7, and 0 past |x| ≈ 19), so
    // sech² x = 4e/(1 + e)², e = e^(−2|x|), is computed instead: no
    // cancellation, and tiny but non-zero in the tails.
    #[inline]
    pub fn tanh_pullback<T: Float>(x: T, y: T, d: T) -> T {
        if y.abs() <= lit::<T>(0.5) {
            d * ((lit::<T>(1.0) - y) * (lit::<T>(1.0) + y))
        } else {
            let e = (-lit::<T>(2.0) * x.abs()).exp();
            let one_e = lit::<T>(1.0) + e;
            d * (lit::<T>(4.0) * e / (one_e * one_e))
        }
    }
    #[inline]
    pub fn abs_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        if x > lit::<T>(0.0) {
            d
        } else if x < lit::<T>(0.0) {
            -d
        } else if x == lit::<T>(0.0) {
            lit::<T>(0.0)
        } else {
            x // NaN
        }
    }
    #[inline]
    pub fn recip_pullback<T: Float>(_x: T, y: T, d: T) -> T {
        -d * (y * y)
    }
    #[inline]
    pub fn ln_1p_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / (lit::<T>(1.0) + x)
    }
    #[inline]
    pub fn exp_m1_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d * x.exp()
    }
    #[inline]
    pub fn asinh_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / x.hypot(lit::<T>(1.0))
    }
    // x − 1 is exact for x in [1, 2] (Sterbenz), and the product of
    // the two roots cannot overflow where x² would.
    #[inline]
    pub fn acosh_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / ((x - lit::<T>(1.0)).sqrt() * (x + lit::<T>(1.0)).sqrt())
    }
    // (1 − x)(1 + x): each factor is exact where it is small.
    #[inline]
    pub fn atanh_pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d / ((lit::<T>(1.0) - x) * (lit::<T>(1.0) + x))
    }
    #[inline]
    pub fn to_radians_pullback<T: Float>(_x: T, _y: T, d: T) -> T {
        d.to_radians()
    }
    #[inline]
    pub fn to_degrees_pullback<T: Float>(_x: T, _y: T, d: T) -> T {
        d.to_degrees()
    }
    #[inline]
    pub fn floor_pullback<T: Float>(_x: T, _y: T, _d: T) -> T {
        lit::<T>(0.0)
    }
    #[inline]
    pub fn ceil_pullback<T: Float>(_x: T, _y: T, _d: T) -> T {
        lit::<T>(0.0)
    }
    #[inline]
    pub fn round_pullback<T: Float>(_x: T, _y: T, _d: T) -> T {
        lit::<T>(0.0)
    }
    #[inline]
    pub fn trunc_pullback<T: Float>(_x: T, _y: T, _d: T) -> T {
        lit::<T>(0.0)
    }
    #[inline]
    pub fn signum_pullback<T: Float>(_x: T, _y: T, _d: T) -> T {
        lit::<T>(0.0)
    }
    #[inline]
    pub fn fract_pullback<T: Float>(_x: T, _y: T, d: T) -> T {
        d
    }
    #[inline]
    pub fn powi_pullback<T: Float>(x: T, n: i32, _y: T, d: T) -> T {
        if n == 0 {
            return lit::<T>(0.0);
        }
        // x^(n−1); n − 1 overflows only for n = i32::MIN.
        let x_nm1 = match n.checked_sub(1) {
            Some(m) => x.powi(m),
            None => x.powi(n) / x,
        };
        // n as a float is the derivative's factor (exact in f64,
        // rounded in f32 above 2²⁴, as x^(n−1) is anyway).
        let n = lit::<T>(<f64 as From<i32>>::from(n));
        d * n * x_nm1
    }
    #[inline]
    pub fn powf_pullback_lhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        if p.is_zero() {
            return lit::<T>(0.0);
        }
        d * p * x.powf(p - lit::<T>(1.0))
    }
    #[inline]
    pub fn powf_pullback_rhs<T: Float>(x: T, _p: T, y: T, d: T) -> T {
        if y == lit::<T>(0.0) {
            return lit::<T>(0.0);
        }
        d * y * x.ln()
    }
    #[inline]
    pub fn max_pullback_lhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        if x >= p || p.is_nan() {
            d
        } else {
            lit::<T>(0.0)
        }
    }
    #[inline]
    pub fn max_pullback_rhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        if x >= p || p.is_nan() {
            lit::<T>(0.0)
        } else {
            d
        }
    }
    #[inline]
    pub fn min_pullback_lhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        if x <= p || p.is_nan() {
            d
        } else {
            lit::<T>(0.0)
        }
    }
    #[inline]
    pub fn min_pullback_rhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        if x <= p || p.is_nan() {
            lit::<T>(0.0)
        } else {
            d
        }
    }
    // p / (x² + p²) = (p / h) / h with h = hypot(x, p): no overflow.
    #[inline]
    pub fn atan2_pullback_lhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        let h = x.hypot(p);
        d * (p / h) / h
    }
    #[inline]
    pub fn atan2_pullback_rhs<T: Float>(x: T, p: T, _y: T, d: T) -> T {
        let h = x.hypot(p);
        -d * (x / h) / h
    }
    #[inline]
    pub fn hypot_pullback_lhs<T: Float>(x: T, _p: T, y: T, d: T) -> T {
        if y == lit::<T>(0.0) {
            lit::<T>(0.0)
        } else {
            d * (x / y)
        }
    }
    #[inline]
    pub fn hypot_pullback_rhs<T: Float>(_x: T, p: T, y: T, d: T) -> T {
        if y == lit::<T>(0.0) {
            lit::<T>(0.0)
        } else {
            d * (p / y)
        }
    }
    #[inline]
    pub fn log_pullback_lhs<T: Float>(x: T, b: T, _y: T, d: T) -> T {
        d / (x * b.ln())
    }
    #[inline]
    pub fn log_pullback_rhs<T: Float>(_x: T, b: T, y: T, d: T) -> T {
        -d * y / (b * b.ln())
    }
    #[inline]
    pub fn copysign_pullback_lhs<T: Float>(x: T, sign: T, _y: T, d: T) -> T {
        if x == lit::<T>(0.0) {
            lit::<T>(0.0)
        } else if x.is_nan() {
            x
        } else if x.is_sign_negative() == sign.is_sign_negative() {
            d
        } else {
            -d
        }
    }
    #[inline]
    pub fn copysign_pullback_rhs<T: Float>(_x: T, _sign: T, _y: T, _d: T) -> T {
        lit::<T>(0.0)
    }
    #[inline]
    pub fn rem_euclid_pullback_lhs<T: Float>(_x: T, _r: T, _y: T, d: T) -> T {
        d
    }
    // y is x − q·r up to one rounding (of `x % r + |r|` where
    // `x % r < 0`), so (x − y)/r is within rounding of the integer q.
    #[inline]
    pub fn rem_euclid_pullback_rhs<T: Float>(x: T, r: T, y: T, d: T) -> T {
        -d * ((x - y) / r).round()
    }
    #[inline]
    pub fn mul_add_pullback_x<T: Float>(_x: T, a: T, _b: T, d: T) -> T {
        d * a
    }
    #[inline]
    pub fn mul_add_pullback_a<T: Float>(x: T, _a: T, _b: T, d: T) -> T {
        d * x
    }
    #[inline]
    pub fn mul_add_pullback_b<T: Float>(_x: T, _a: T, _b: T, d: T) -> T {
        d
    }
    // `clamp` is `if x < lo { lo } else if x > hi { hi } else { x }`
    // (it panics unless lo ≤ hi): the adjoint goes where the value
    // came from.
    #[inline]
    pub fn clamp_pullback_x<T: Float>(x: T, lo: T, hi: T, d: T) -> T {
        if x < lo || x > hi { lit::<T>(0.0) } else { d }
    }
    #[inline]
    pub fn clamp_pullback_lo<T: Float>(x: T, lo: T, _hi: T, d: T) -> T {
        if x < lo { d } else { lit::<T>(0.0) }
    }
    #[inline]
    pub fn clamp_pullback_hi<T: Float>(x: T, _lo: T, hi: T, d: T) -> T {
        if x > hi { d } else { lit::<T>(0.0) }
    }
}

// [`FloatRules`] for a float type, each method calling its [`rule`].
macro_rules! float_rules {
    () => {
        #[inline]
        fn exp_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::exp_pullback(*self, *y, *d)
        }
        #[inline]
        fn exp2_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::exp2_pullback(*self, *y, *d)
        }
        #[inline]
        fn ln_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::ln_pullback(*self, *_y, *d)
        }
        #[inline]
        fn log2_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::log2_pullback(*self, *_y, *d)
        }
        #[inline]
        fn log10_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::log10_pullback(*self, *_y, *d)
        }
        #[inline]
        fn sqrt_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::sqrt_pullback(*self, *y, *d)
        }
        #[inline]
        fn cbrt_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::cbrt_pullback(*self, *y, *d)
        }
        #[inline]
        fn sin_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::sin_pullback(*self, *_y, *d)
        }
        #[inline]
        fn cos_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::cos_pullback(*self, *_y, *d)
        }
        #[inline]
        fn tan_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::tan_pullback(*self, *y, *d)
        }
        #[inline]
        fn asin_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::asin_pullback(*self, *_y, *d)
        }
        #[inline]
        fn acos_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::acos_pullback(*self, *_y, *d)
        }
        #[inline]
        fn atan_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::atan_pullback(*self, *_y, *d)
        }
        #[inline]
        fn sinh_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::sinh_pullback(*self, *_y, *d)
        }
        #[inline]
        fn cosh_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::cosh_pullback(*self, *_y, *d)
        }
        #[inline]
        fn tanh_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::tanh_pullback(*self, *y, *d)
        }
        #[inline]
        fn abs_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::abs_pullback(*self, *_y, *d)
        }
        #[inline]
        fn recip_pullback(&self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::recip_pullback(*self, *y, *d)
        }
        #[inline]
        fn ln_1p_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::ln_1p_pullback(*self, *_y, *d)
        }
        #[inline]
        fn exp_m1_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::exp_m1_pullback(*self, *_y, *d)
        }
        #[inline]
        fn asinh_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::asinh_pullback(*self, *_y, *d)
        }
        #[inline]
        fn acosh_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::acosh_pullback(*self, *_y, *d)
        }
        #[inline]
        fn atanh_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::atanh_pullback(*self, *_y, *d)
        }
        #[inline]
        fn to_radians_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::to_radians_pullback(*self, *_y, *d)
        }
        #[inline]
        fn to_degrees_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::to_degrees_pullback(*self, *_y, *d)
        }
        #[inline]
        fn floor_pullback(&self, _y: &Self, _d: &Self) -> Self {
            $crate::float::rule::floor_pullback(*self, *_y, *_d)
        }
        #[inline]
        fn ceil_pullback(&self, _y: &Self, _d: &Self) -> Self {
            $crate::float::rule::ceil_pullback(*self, *_y, *_d)
        }
        #[inline]
        fn round_pullback(&self, _y: &Self, _d: &Self) -> Self {
            $crate::float::rule::round_pullback(*self, *_y, *_d)
        }
        #[inline]
        fn trunc_pullback(&self, _y: &Self, _d: &Self) -> Self {
            $crate::float::rule::trunc_pullback(*self, *_y, *_d)
        }
        #[inline]
        fn signum_pullback(&self, _y: &Self, _d: &Self) -> Self {
            $crate::float::rule::signum_pullback(*self, *_y, *_d)
        }
        #[inline]
        fn fract_pullback(&self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::fract_pullback(*self, *_y, *d)
        }
        #[inline]
        fn powi_pullback(&self, n: i32, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::powi_pullback(*self, n, *_y, *d)
        }
        #[inline]
        fn powf_pullback_lhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::powf_pullback_lhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn powf_pullback_rhs(&self, _p: &Self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::powf_pullback_rhs(*self, *_p, *y, *d)
        }
        #[inline]
        fn max_pullback_lhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::max_pullback_lhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn max_pullback_rhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::max_pullback_rhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn min_pullback_lhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::min_pullback_lhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn min_pullback_rhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::min_pullback_rhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn atan2_pullback_lhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::atan2_pullback_lhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn atan2_pullback_rhs(&self, p: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::atan2_pullback_rhs(*self, *p, *_y, *d)
        }
        #[inline]
        fn hypot_pullback_lhs(&self, _p: &Self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::hypot_pullback_lhs(*self, *_p, *y, *d)
        }
        #[inline]
        fn hypot_pullback_rhs(&self, p: &Self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::hypot_pullback_rhs(*self, *p, *y, *d)
        }
        #[inline]
        fn log_pullback_lhs(&self, b: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::log_pullback_lhs(*self, *b, *_y, *d)
        }
        #[inline]
        fn log_pullback_rhs(&self, b: &Self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::log_pullback_rhs(*self, *b, *y, *d)
        }
        #[inline]
        fn copysign_pullback_lhs(&self, sign: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::copysign_pullback_lhs(*self, *sign, *_y, *d)
        }
        #[inline]
        fn copysign_pullback_rhs(&self, _sign: &Self, _y: &Self, _d: &Self) -> Self {
            $crate::float::rule::copysign_pullback_rhs(*self, *_sign, *_y, *_d)
        }
        #[inline]
        fn rem_euclid_pullback_lhs(&self, _r: &Self, _y: &Self, d: &Self) -> Self {
            $crate::float::rule::rem_euclid_pullback_lhs(*self, *_r, *_y, *d)
        }
        #[inline]
        fn rem_euclid_pullback_rhs(&self, r: &Self, y: &Self, d: &Self) -> Self {
            $crate::float::rule::rem_euclid_pullback_rhs(*self, *r, *y, *d)
        }
        #[inline]
        fn mul_add_pullback_x(&self, a: &Self, _b: &Self, d: &Self) -> Self {
            $crate::float::rule::mul_add_pullback_x(*self, *a, *_b, *d)
        }
        #[inline]
        fn mul_add_pullback_a(&self, _a: &Self, _b: &Self, d: &Self) -> Self {
            $crate::float::rule::mul_add_pullback_a(*self, *_a, *_b, *d)
        }
        #[inline]
        fn mul_add_pullback_b(&self, _a: &Self, _b: &Self, d: &Self) -> Self {
            $crate::float::rule::mul_add_pullback_b(*self, *_a, *_b, *d)
        }
        #[inline]
        fn clamp_pullback_x(&self, lo: &Self, hi: &Self, d: &Self) -> Self {
            $crate::float::rule::clamp_pullback_x(*self, *lo, *hi, *d)
        }
        #[inline]
        fn clamp_pullback_lo(&self, lo: &Self, _hi: &Self, d: &Self) -> Self {
            $crate::float::rule::clamp_pullback_lo(*self, *lo, *_hi, *d)
        }
        #[inline]
        fn clamp_pullback_hi(&self, _lo: &Self, hi: &Self, d: &Self) -> Self {
            $crate::float::rule::clamp_pullback_hi(*self, *_lo, *hi, *d)
        }
    };
}
pub(crate) use float_rules;

impl FloatRules for f32 {
    float_rules!();
}

impl FloatRules for f64 {
    float_rules!();
}

#[cfg(test)]
// Exact values (kinks, ±∞, ties) are what many asserts check; references
// are the digits mpmath computed, which rustc rounds.
#[allow(
    clippy::float_cmp,
    clippy::many_single_char_names,
    clippy::excessive_precision
)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::rules;
    use core::f64::consts::{E, FRAC_PI_2, FRAC_PI_4, LN_2, LN_10, PI};

    type Unary64 = fn(&f64, &f64, &f64) -> f64;
    type Binary64 = fn(&f64, &f64, &f64, &f64) -> f64;

    // Adjoints other than 1, so that a rule which ignores `d` fails.
    const ADJOINTS: [f64; 2] = [1.0, -0.7];

    /// Compares `pullback(x, f(x), d)` with central finite differences of
    /// `d · f(x)` at every `x` and adjoint.
    fn fd_unary(f: fn(f64) -> f64, pullback: Unary64, xs: &[f64]) {
        for &x in xs {
            for d in ADJOINTS {
                let g = pullback(&x, &f(x), &d);
                let r = check(|x: &f64| d * f(*x), x, g);
                assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
            }
        }
    }

    /// The `f32` counterpart, computed in `f32` throughout.
    fn fd_unary_f32(f: fn(f32) -> f32, pullback: fn(&f32, &f32, &f32) -> f32, xs: &[f32]) {
        for &x in xs {
            let d = -0.7_f32;
            let g = pullback(&x, &f(x), &d);
            let r = check(|x: &f32| d * f(*x), x, g);
            assert!(r.is_close(1e-2), "at x = {x}, d = {d}: {r}");
        }
    }

    /// Both pullbacks of `y = f(x, p)` against finite differences in `(x, p)`.
    fn fd_binary(f: fn(f64, f64) -> f64, lhs: Binary64, rhs: Binary64, points: &[(f64, f64)]) {
        for &(x, p) in points {
            for d in ADJOINTS {
                let y = f(x, p);
                let g = (lhs(&x, &p, &y, &d), rhs(&x, &p, &y, &d));
                let r = check(|&(x, p): &(f64, f64)| d * f(x, p), (x, p), g);
                assert!(r.is_close(1e-7), "at ({x}, {p}), d = {d}: {r}");
            }
        }
    }

    fn fd_binary_f32(
        f: fn(f32, f32) -> f32,
        lhs: fn(&f32, &f32, &f32, &f32) -> f32,
        rhs: fn(&f32, &f32, &f32, &f32) -> f32,
        points: &[(f32, f32)],
    ) {
        for &(x, p) in points {
            let d = -0.7_f32;
            let y = f(x, p);
            let g = (lhs(&x, &p, &y, &d), rhs(&x, &p, &y, &d));
            let r = check(|&(x, p): &(f32, f32)| d * f(x, p), (x, p), g);
            assert!(r.is_close(1e-2), "at ({x}, {p}), d = {d}: {r}");
        }
    }

    /// `|got − want| ≤ tol · |want|`.
    #[track_caller]
    fn assert_rel(got: f64, want: f64, tol: f64) {
        assert!(
            (got - want).abs() <= tol * want.abs(),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn test_exp() {
        fd_unary(f64::exp, rules::exp_pullback, &[-3.0, -0.5, 0.0, 0.7, 4.0]);
        fd_unary_f32(f32::exp, rules::exp_pullback, &[-2.0, 0.0, 1.5]);
        assert_rel(1.0_f64.exp_pullback(&1.0_f64.exp(), &1.0), E, 1e-15);
    }

    #[test]
    fn test_exp2() {
        fd_unary(
            f64::exp2,
            rules::exp2_pullback,
            &[-3.0, -0.5, 0.0, 0.7, 4.0],
        );
        fd_unary_f32(f32::exp2, rules::exp2_pullback, &[-2.0, 0.0, 1.5]);
        assert_rel(3.0_f64.exp2_pullback(&8.0, &1.0), 8.0 * LN_2, 1e-15);
    }

    #[test]
    fn test_ln() {
        fd_unary(f64::ln, rules::ln_pullback, &[0.1, 0.3, 1.0, 2.5, 100.0]);
        fd_unary_f32(f32::ln, rules::ln_pullback, &[0.5, 1.0, 20.0]);
        assert_eq!(2.0_f64.ln_pullback(&LN_2, &1.0), 0.5);
        assert_eq!(0.0_f64.ln_pullback(&f64::NEG_INFINITY, &1.0), f64::INFINITY);
    }

    #[test]
    fn test_log2() {
        fd_unary(
            f64::log2,
            rules::log2_pullback,
            &[0.1, 0.3, 1.0, 2.5, 100.0],
        );
        fd_unary_f32(f32::log2, rules::log2_pullback, &[0.5, 1.0, 20.0]);
        assert_rel(1.0_f64.log2_pullback(&0.0, &1.0), 1.0 / LN_2, 1e-15);
    }

    #[test]
    fn test_log10() {
        fd_unary(
            f64::log10,
            rules::log10_pullback,
            &[0.1, 0.3, 1.0, 2.5, 100.0],
        );
        fd_unary_f32(f32::log10, rules::log10_pullback, &[0.5, 1.0, 20.0]);
        assert_rel(
            10.0_f64.log10_pullback(&1.0, &1.0),
            1.0 / (10.0 * LN_10),
            1e-15,
        );
    }

    #[test]
    fn test_sqrt() {
        fd_unary(f64::sqrt, rules::sqrt_pullback, &[0.1, 1.0, 2.0, 9.0, 1e4]);
        fd_unary_f32(f32::sqrt, rules::sqrt_pullback, &[0.5, 2.0, 100.0]);
        assert_eq!(4.0_f64.sqrt_pullback(&2.0, &1.0), 0.25);
        // The kink x = 0: +∞, as the true one-sided derivative.
        assert_eq!(0.0_f64.sqrt_pullback(&0.0, &1.0), f64::INFINITY);
        assert_eq!(0.0_f32.sqrt_pullback(&0.0, &1.0), f32::INFINITY);
    }

    #[test]
    fn test_cbrt() {
        fd_unary(
            f64::cbrt,
            rules::cbrt_pullback,
            &[-8.0, -0.5, 0.3, 1.0, 27.0],
        );
        fd_unary_f32(f32::cbrt, rules::cbrt_pullback, &[-2.0, 0.5, 8.0]);
        assert_rel(8.0_f64.cbrt_pullback(&2.0, &1.0), 1.0 / 12.0, 1e-15);
        assert_eq!(0.0_f64.cbrt_pullback(&0.0, &1.0), f64::INFINITY);
    }

    #[test]
    fn test_sin() {
        fd_unary(f64::sin, rules::sin_pullback, &[-2.0, -0.3, 0.0, 1.0, 3.0]);
        fd_unary_f32(f32::sin, rules::sin_pullback, &[-1.0, 0.0, 2.0]);
        assert_eq!(0.0_f64.sin_pullback(&0.0, &1.0), 1.0);
        assert_rel(PI.sin_pullback(&PI.sin(), &1.0), -1.0, 1e-15);
    }

    #[test]
    fn test_cos() {
        fd_unary(f64::cos, rules::cos_pullback, &[-2.0, -0.3, 0.0, 1.0, 3.0]);
        fd_unary_f32(f32::cos, rules::cos_pullback, &[-1.0, 0.5, 2.0]);
        assert_rel(FRAC_PI_2.cos_pullback(&0.0, &1.0), -1.0, 1e-15);
    }

    #[test]
    fn test_tan() {
        fd_unary(f64::tan, rules::tan_pullback, &[-1.2, -0.3, 0.0, 0.5, 1.3]);
        fd_unary_f32(f32::tan, rules::tan_pullback, &[-1.0, 0.0, 0.7]);
        assert_rel(FRAC_PI_4.tan_pullback(&FRAC_PI_4.tan(), &1.0), 2.0, 1e-15);
    }

    #[test]
    fn test_asin() {
        fd_unary(
            f64::asin,
            rules::asin_pullback,
            &[-0.9, -0.3, 0.0, 0.5, 0.95],
        );
        fd_unary_f32(f32::asin, rules::asin_pullback, &[-0.5, 0.0, 0.6]);
        assert_rel(
            0.5_f64.asin_pullback(&0.0, &1.0),
            2.0 / 3.0_f64.sqrt(),
            1e-15,
        );
        assert_eq!(1.0_f64.asin_pullback(&FRAC_PI_2, &1.0), f64::INFINITY);
    }

    #[test]
    fn test_acos() {
        fd_unary(
            f64::acos,
            rules::acos_pullback,
            &[-0.9, -0.3, 0.0, 0.5, 0.95],
        );
        fd_unary_f32(f32::acos, rules::acos_pullback, &[-0.5, 0.0, 0.6]);
        assert_rel(
            0.5_f64.acos_pullback(&0.0, &1.0),
            -2.0 / 3.0_f64.sqrt(),
            1e-15,
        );
        // Near |x| = 1, (1 − x)(1 + x) keeps the digits 1 − x² loses:
        // 1 − x² = 2e-12 − 1e-24 for x = 1 − 1e-12.
        let x = 1.0 - 1e-12_f64;
        let want = -1.0 / (2e-12_f64 - 1e-24).sqrt();
        let got = x.acos_pullback(&0.0, &1.0);
        assert!(
            (got - want).abs() < 1e-4 * want.abs(),
            "got {got}, want {want}"
        );
    }

    #[test]
    fn test_atan() {
        fd_unary(
            f64::atan,
            rules::atan_pullback,
            &[-50.0, -2.0, -0.5, 0.0, 0.5, 1.5, 1e3],
        );
        fd_unary_f32(f32::atan, rules::atan_pullback, &[-3.0, 0.0, 0.5, 10.0]);
        assert_eq!(1.0_f64.atan_pullback(&FRAC_PI_4, &1.0), 0.5);
        // x² would overflow: 1/(1 + 1e300) = 1e-300.
        assert_rel(1e150_f64.atan_pullback(&FRAC_PI_2, &1.0), 1e-300, 1e-14);
        assert_rel((-1e20_f32).atan_pullback(&-1.5, &1.0).into(), 1e-40, 1e-2); // subnormal f32
    }

    #[test]
    fn test_sinh() {
        fd_unary(
            f64::sinh,
            rules::sinh_pullback,
            &[-3.0, -0.5, 0.0, 0.8, 5.0],
        );
        fd_unary_f32(f32::sinh, rules::sinh_pullback, &[-2.0, 0.0, 1.0]);
        assert_eq!(0.0_f64.sinh_pullback(&0.0, &1.0), 1.0);
    }

    #[test]
    fn test_cosh() {
        fd_unary(
            f64::cosh,
            rules::cosh_pullback,
            &[-3.0, -0.5, 0.0, 0.8, 5.0],
        );
        fd_unary_f32(f32::cosh, rules::cosh_pullback, &[-2.0, 0.5, 1.0]);
        assert_eq!(0.0_f64.cosh_pullback(&1.0, &1.0), 0.0);
    }

    #[test]
    fn test_tanh() {
        fd_unary(
            f64::tanh,
            rules::tanh_pullback,
            &[-4.0, -0.5, 0.0, 0.8, 3.0],
        );
        fd_unary_f32(f32::tanh, rules::tanh_pullback, &[-2.0, 0.0, 1.0]);
        assert_eq!(0.0_f64.tanh_pullback(&0.0, &1.0), 1.0);
        // 1/cosh²(7), mpmath at 40 digits: the precision the doc promises.
        assert_rel(
            7.0_f64.tanh_pullback(&7.0_f64.tanh(), &1.0),
            3.326_109_344_901_085_4e-6,
            1e-10,
        );
    }

    #[test]
    fn test_abs() {
        fd_unary(f64::abs, rules::abs_pullback, &[-3.0, -0.2, 0.4, 5.0]);
        fd_unary_f32(f32::abs, rules::abs_pullback, &[-2.0, 1.0]);
        assert_eq!((-3.0_f64).abs_pullback(&3.0, &2.0), -2.0);
        // The kink: 0 at either zero.
        assert_eq!(0.0_f64.abs_pullback(&0.0, &2.0), 0.0);
        assert_eq!((-0.0_f64).abs_pullback(&0.0, &2.0), 0.0);
        assert_eq!(0.0_f32.abs_pullback(&0.0, &2.0), 0.0);
        assert!(f64::NAN.abs_pullback(&f64::NAN, &1.0).is_nan());
    }

    #[test]
    fn test_recip() {
        fd_unary(
            f64::recip,
            rules::recip_pullback,
            &[-4.0, -0.5, 0.3, 2.0, 1e3],
        );
        fd_unary_f32(f32::recip, rules::recip_pullback, &[-2.0, 0.5, 3.0]);
        assert_eq!(2.0_f64.recip_pullback(&0.5, &1.0), -0.25);
    }

    /// Units in the last place between `got` and `want` (same sign, finite).
    fn ulps(got: f64, want: f64) -> u64 {
        assert!(
            got.is_finite() && want.is_finite() && got.signum() == want.signum(),
            "{got:e} vs {want:e}"
        );
        got.to_bits().abs_diff(want.to_bits())
    }

    /// `pullback(x, f(x), 1)` is within 4 ulp of each reference `(x, f'(x))`
    /// (40-digit values from mpmath, at the float `x` exactly).
    #[track_caller]
    fn within_4_ulp(f: fn(f64) -> f64, pullback: Unary64, cases: &[(f64, f64)]) {
        for &(x, want) in cases {
            let got = pullback(&x, &f(x), &1.0);
            let n = ulps(got, want);
            assert!(n <= 4, "at x = {x:e}: {got:e}, want {want:e} ({n} ulp)");
        }
    }

    /// The `f32` rule within 4 `f32` ulp of the derivative computed in
    /// `f64` (`exact`), at `n` points evenly spread over `[lo, hi]`.
    #[track_caller]
    fn f32_within_4_ulp(
        f: fn(f32) -> f32,
        pullback: fn(&f32, &f32, &f32) -> f32,
        exact: fn(f64) -> f64,
        (lo, hi): (f32, f32),
    ) {
        let n = 2000_u16;
        for i in 0..=n {
            let x = lo + (hi - lo) * f32::from(i) / f32::from(n);
            let got = pullback(&x, &f(x), &1.0);
            #[allow(clippy::cast_possible_truncation)]
            let want = exact(f64::from(x)) as f32;
            let n = got.to_bits().abs_diff(want.to_bits());
            assert!(
                got.signum() == want.signum() && n <= 4,
                "at x = {x:e}: {got:e}, want {want:e} ({n} ulp)"
            );
        }
    }

    #[test]
    fn test_ln_1p() {
        fd_unary(
            f64::ln_1p,
            rules::ln_1p_pullback,
            &[-0.9, -0.3, 0.0, 1e-9, 2.5, 100.0],
        );
        fd_unary_f32(f32::ln_1p, rules::ln_1p_pullback, &[-0.5, 0.0, 3.0]);
        within_4_ulp(
            f64::ln_1p,
            rules::ln_1p_pullback,
            &[
                (1e-10, 0.999_999_999_900_000_000_01),
                (-0.75, 4.0),
                (3.0, 0.25),
                (1e10, 9.999_999_999_000_000_000_1e-11),
            ],
        );
        f32_within_4_ulp(
            f32::ln_1p,
            rules::ln_1p_pullback,
            |x| 1.0 / (1.0 + x),
            (-0.99, 50.0),
        );
        // x = −1: +∞, the true derivative.
        assert_eq!(
            (-1.0_f64).ln_1p_pullback(&f64::NEG_INFINITY, &1.0),
            f64::INFINITY
        );
    }

    #[test]
    fn test_exp_m1() {
        fd_unary(
            f64::exp_m1,
            rules::exp_m1_pullback,
            &[-30.0, -1.0, 0.0, 1e-9, 0.7, 5.0],
        );
        fd_unary_f32(f32::exp_m1, rules::exp_m1_pullback, &[-3.0, 0.0, 1.5]);
        within_4_ulp(
            f64::exp_m1,
            rules::exp_m1_pullback,
            &[
                // y + 1 would be exactly 0 here.
                (-40.0, 4.248_354_255_291_588_995_329_235e-18),
                (-1e-8, 0.999_999_990_000_000_049_999_999_6),
                (0.7, 2.013_752_707_470_476_432_195_965),
                (30.0, 10_686_474_581_524.462_146_990_47),
            ],
        );
        f32_within_4_ulp(f32::exp_m1, rules::exp_m1_pullback, f64::exp, (-20.0, 20.0));
    }

    #[test]
    fn test_asinh() {
        fd_unary(
            f64::asinh,
            rules::asinh_pullback,
            &[-50.0, -2.0, -0.5, 0.0, 0.5, 1.5, 1e3],
        );
        fd_unary_f32(f32::asinh, rules::asinh_pullback, &[-3.0, 0.0, 0.5, 10.0]);
        within_4_ulp(
            f64::asinh,
            rules::asinh_pullback,
            &[
                // x² would overflow.
                (-1e200, 1.000_000_000_000_000_030_266_878e-200),
                (-0.5, 0.894_427_190_999_915_878_563_669_5),
                (1e-8, 0.999_999_999_999_999_95),
                (3.0, 0.316_227_766_016_837_933_199_889_4),
            ],
        );
        f32_within_4_ulp(
            f32::asinh,
            rules::asinh_pullback,
            |x| 1.0 / x.hypot(1.0),
            (-100.0, 100.0),
        );
    }

    #[test]
    fn test_acosh() {
        fd_unary(
            f64::acosh,
            rules::acosh_pullback,
            &[1.1, 1.5, 2.0, 10.0, 1e3],
        );
        fd_unary_f32(f32::acosh, rules::acosh_pullback, &[1.5, 3.0, 20.0]);
        within_4_ulp(
            f64::acosh,
            rules::acosh_pullback,
            &[
                // x² − 1 would cancel: 2⁻³⁹ + 2⁻⁸⁰ from 1 + 2⁻⁴⁰ squared.
                (1.0 + 2e0_f64.powi(-40), 741_455.200_189_296_669_552_096_3),
                (1.5, 0.894_427_190_999_915_878_563_669_5),
                // x² would overflow.
                (1e200, 1.000_000_000_000_000_030_266_878e-200),
            ],
        );
        f32_within_4_ulp(
            f32::acosh,
            rules::acosh_pullback,
            |x| 1.0 / ((x - 1.0) * (x + 1.0)).sqrt(),
            (1.001, 100.0),
        );
        // x = 1: +∞, the true (one-sided) derivative; below 1, outside the
        // domain: NaN.
        assert_eq!(1.0_f64.acosh_pullback(&0.0, &1.0), f64::INFINITY);
        assert!(0.5_f64.acosh_pullback(&f64::NAN, &1.0).is_nan());
    }

    #[test]
    fn test_atanh() {
        fd_unary(
            f64::atanh,
            rules::atanh_pullback,
            &[-0.95, -0.5, 0.0, 0.3, 0.9],
        );
        fd_unary_f32(f32::atanh, rules::atanh_pullback, &[-0.5, 0.0, 0.7]);
        within_4_ulp(
            f64::atanh,
            rules::atanh_pullback,
            &[
                (-0.999_999, 500_000.249_985_747_167_804_811_4),
                (-1e-8, 1.000_000_000_000_000_1),
                (0.5, 1.333_333_333_333_333_333_333_333),
                // 1 − x² would lose the low digits.
                (1.0 - 2e0_f64.powi(-40), 549_755_813_888.250_000_000_000_1),
            ],
        );
        f32_within_4_ulp(
            f32::atanh,
            rules::atanh_pullback,
            |x| 1.0 / ((1.0 - x) * (1.0 + x)),
            (-0.999, 0.999),
        );
        assert_eq!(1.0_f64.atanh_pullback(&f64::INFINITY, &1.0), f64::INFINITY);
        assert_eq!(
            (-1.0_f64).atanh_pullback(&f64::NEG_INFINITY, &1.0),
            f64::INFINITY
        );
    }

    #[test]
    fn test_to_radians_and_to_degrees() {
        let xs = [-720.0, -1.0, 0.0, 45.0, 1e6];
        fd_unary(f64::to_radians, rules::to_radians_pullback, &xs);
        fd_unary(f64::to_degrees, rules::to_degrees_pullback, &xs);
        fd_unary_f32(
            f32::to_radians,
            rules::to_radians_pullback,
            &[-90.0, 0.0, 30.0],
        );
        fd_unary_f32(
            f32::to_degrees,
            rules::to_degrees_pullback,
            &[-3.0, 0.0, 1.5],
        );
        within_4_ulp(
            f64::to_radians,
            rules::to_radians_pullback,
            &[(7.0, 0.017_453_292_519_943_295_769_236_91)],
        );
        within_4_ulp(
            f64::to_degrees,
            rules::to_degrees_pullback,
            &[(-0.1, 57.295_779_513_082_320_876_798_15)],
        );
        // Linear: the pullback is the method applied to the adjoint.
        for d in [1.0_f32, -0.7, 3e30] {
            assert_eq!(0.0_f32.to_radians_pullback(&0.0, &d), d.to_radians());
            assert_eq!(0.0_f32.to_degrees_pullback(&0.0, &d), d.to_degrees());
        }
    }

    /// `floor ceil round trunc signum`: `0` everywhere, and `fract`: `d`,
    /// also at their jumps, at `±∞` and NaN (documented).
    #[test]
    fn test_piecewise_constant() {
        type Rule = (&'static str, fn(f64) -> f64, Unary64, f64);
        let rules: [Rule; 6] = [
            ("floor", f64::floor, rules::floor_pullback, 0.0),
            ("ceil", f64::ceil, rules::ceil_pullback, 0.0),
            ("round", f64::round, rules::round_pullback, 0.0),
            ("trunc", f64::trunc, rules::trunc_pullback, 0.0),
            ("signum", f64::signum, rules::signum_pullback, 0.0),
            ("fract", f64::fract, rules::fract_pullback, 1.0),
        ];
        // Between the jumps: the slope of the finite differences.
        for &(_, f, pullback, _) in &rules {
            fd_unary(f, pullback, &[-2.7, -0.3, 0.2, 1.7, 1e3 + 0.25]);
        }
        fd_unary_f32(f32::floor, rules::floor_pullback, &[-2.7, 1.7]);
        fd_unary_f32(f32::ceil, rules::ceil_pullback, &[-2.7, 1.7]);
        fd_unary_f32(f32::round, rules::round_pullback, &[-2.7, 1.7]);
        fd_unary_f32(f32::trunc, rules::trunc_pullback, &[-2.7, 1.7]);
        fd_unary_f32(f32::signum, rules::signum_pullback, &[-2.7, 1.7]);
        fd_unary_f32(f32::fract, rules::fract_pullback, &[-2.7, 1.7]);
        // At the jumps, ±0, ±∞ and NaN: the same, exactly.
        for &(name, f, pullback, slope) in &rules {
            for x in [
                -2.0,
                -0.5,
                -0.0,
                0.0,
                0.5,
                3.0,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NAN,
            ] {
                for d in [1.0, -0.7, f64::INFINITY] {
                    let got = pullback(&x, &f(x), &d);
                    let want = if slope == 0.0 { 0.0 } else { d };
                    assert_eq!(got, want, "{name}_pullback at x = {x}, d = {d}");
                }
            }
        }
        assert_eq!(2.5_f32.floor_pullback(&2.0, &1.0), 0.0);
        assert_eq!(2.5_f32.fract_pullback(&0.5, &-3.0), -3.0);
    }

    #[test]
    fn test_powi() {
        for n in [-3, -1, 1, 2, 3, 5] {
            for &x in &[-1.5_f64, -0.4, 0.6, 2.0] {
                for d in ADJOINTS {
                    let g = rules::powi_pullback(&x, n, &x.powi(n), &d);
                    let r = check(|x: &f64| d * x.powi(n), x, g);
                    assert!(r.is_close(1e-7), "n = {n}, x = {x}, d = {d}: {r}");
                }
            }
            let x = 1.3_f32;
            let r = check(|x: &f32| x.powi(n), x, x.powi_pullback(n, &x.powi(n), &1.0));
            assert!(r.is_close(1e-2), "n = {n}, x = {x}: {r}");
        }
        assert_eq!(2.0_f64.powi_pullback(3, &8.0, &1.0), 12.0);
        // n = 0: 0, also at x = 0.
        assert_eq!(0.0_f64.powi_pullback(0, &1.0, &1.0), 0.0);
        assert_eq!(5.0_f64.powi_pullback(0, &1.0, &1.0), 0.0);
        assert_eq!(0.0_f32.powi_pullback(0, &1.0, &1.0), 0.0);
        // n = 1 and n = 2 at x = 0.
        assert_eq!(0.0_f64.powi_pullback(1, &0.0, &1.0), 1.0);
        assert_eq!(0.0_f64.powi_pullback(2, &0.0, &1.0), 0.0);
        // n = i32::MIN does not overflow n − 1.
        assert_eq!(
            1.0_f64.powi_pullback(i32::MIN, &1.0, &1.0),
            -2_147_483_648.0
        );
    }

    #[test]
    fn test_powf() {
        let points = [(0.5, 2.5), (2.0, -1.3), (3.0, 0.5), (1.7, 3.0), (0.2, 0.0)];
        fd_binary(
            f64::powf,
            rules::powf_pullback_lhs,
            rules::powf_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::powf,
            rules::powf_pullback_lhs,
            rules::powf_pullback_rhs,
            &[(0.5, 2.5), (2.0, -1.3)],
        );
        // y = 2³: ∂/∂x = 3·2² = 12, ∂/∂p = 8 ln 2.
        assert_eq!(2.0_f64.powf_pullback_lhs(&3.0, &8.0, &1.0), 12.0);
        assert_rel(
            2.0_f64.powf_pullback_rhs(&3.0, &8.0, &1.0),
            8.0 * LN_2,
            1e-15,
        );
        // At x = 0: x² has slope 0, x¹ slope 1, and 0ᵖ is flat in p > 0.
        assert_eq!(0.0_f64.powf_pullback_lhs(&2.0, &0.0, &1.0), 0.0);
        assert_eq!(0.0_f64.powf_pullback_lhs(&1.0, &0.0, &1.0), 1.0);
        assert_eq!(0.0_f64.powf_pullback_rhs(&2.0, &0.0, &1.0), 0.0);
        // p = 0 gives 0 even at x = 0.
        assert_eq!(0.0_f64.powf_pullback_lhs(&0.0, &1.0, &1.0), 0.0);
        // Integral powers of a negative base are differentiable in x.
        assert_eq!((-2.0_f64).powf_pullback_lhs(&2.0, &4.0, &1.0), -4.0);
    }

    #[test]
    fn test_max() {
        let points = [(1.0, 2.0), (3.0, -1.0), (-2.0, -5.0), (-0.5, 0.5)];
        fd_binary(
            f64::max,
            rules::max_pullback_lhs,
            rules::max_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::max,
            rules::max_pullback_lhs,
            rules::max_pullback_rhs,
            &[(1.0, 2.0), (3.0, -1.0)],
        );
        // A tie gives the whole adjoint to the receiver.
        assert_eq!(rules::max_pullback_lhs(&2.0_f64, &2.0, &2.0, &3.0), 3.0);
        assert_eq!(rules::max_pullback_rhs(&2.0_f64, &2.0, &2.0, &3.0), 0.0);
        assert_eq!(0.0_f64.max_pullback_lhs(&-0.0, &0.0, &3.0), 3.0);
        assert_eq!(0.0_f64.max_pullback_rhs(&-0.0, &0.0, &3.0), 0.0);
        // `max` ignores a NaN operand, and so does the adjoint.
        let nan = f64::NAN;
        assert_eq!(nan.max_pullback_lhs(&1.0, &1.0, &3.0), 0.0);
        assert_eq!(nan.max_pullback_rhs(&1.0, &1.0, &3.0), 3.0);
        assert_eq!(1.0_f64.max_pullback_lhs(&nan, &1.0, &3.0), 3.0);
        assert_eq!(1.0_f64.max_pullback_rhs(&nan, &1.0, &3.0), 0.0);
    }

    #[test]
    fn test_min() {
        let points = [(1.0, 2.0), (3.0, -1.0), (-2.0, -5.0), (-0.5, 0.5)];
        fd_binary(
            f64::min,
            rules::min_pullback_lhs,
            rules::min_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::min,
            rules::min_pullback_lhs,
            rules::min_pullback_rhs,
            &[(1.0, 2.0), (3.0, -1.0)],
        );
        assert_eq!(rules::min_pullback_lhs(&2.0_f32, &2.0, &2.0, &3.0), 3.0);
        assert_eq!(rules::min_pullback_rhs(&2.0_f32, &2.0, &2.0, &3.0), 0.0);
        let nan = f64::NAN;
        assert_eq!(nan.min_pullback_rhs(&1.0, &1.0, &3.0), 3.0);
        assert_eq!(1.0_f64.min_pullback_lhs(&nan, &1.0, &3.0), 3.0);
    }

    #[test]
    fn test_atan2() {
        let points = [
            (1.0, 2.0),
            (-1.0, 0.5),
            (0.3, -2.0),
            (-2.0, -1.0),
            (0.0, 1.0),
        ];
        fd_binary(
            f64::atan2,
            rules::atan2_pullback_lhs,
            rules::atan2_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::atan2,
            rules::atan2_pullback_lhs,
            rules::atan2_pullback_rhs,
            &[(1.0, 2.0), (-2.0, -1.0)],
        );
        // At (1, 1): ∂/∂x = p/(x² + p²) = ½, ∂/∂p = −½.
        assert_rel(
            1.0_f64.atan2_pullback_lhs(&1.0, &FRAC_PI_4, &1.0),
            0.5,
            1e-15,
        );
        assert_rel(
            1.0_f64.atan2_pullback_rhs(&1.0, &FRAC_PI_4, &1.0),
            -0.5,
            1e-15,
        );
        // x² + p² would overflow: 1e200 / 2e400 = 5e-201.
        assert_rel(
            1e200_f64.atan2_pullback_lhs(&1e200, &FRAC_PI_4, &1.0),
            5e-201,
            1e-14,
        );
    }

    #[test]
    fn test_hypot() {
        let points = [(3.0, 4.0), (-1.0, 2.0), (0.5, -0.2), (0.0, 1.0)];
        fd_binary(
            f64::hypot,
            rules::hypot_pullback_lhs,
            rules::hypot_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::hypot,
            rules::hypot_pullback_lhs,
            rules::hypot_pullback_rhs,
            &[(3.0, 4.0), (-1.0, 2.0)],
        );
        assert_eq!(3.0_f64.hypot_pullback_lhs(&4.0, &5.0, &1.0), 0.6);
        assert_eq!(3.0_f64.hypot_pullback_rhs(&4.0, &5.0, &1.0), 0.8);
        // The kink at the origin: 0, as for `abs`.
        assert_eq!(0.0_f64.hypot_pullback_lhs(&0.0, &0.0, &1.0), 0.0);
        assert_eq!(0.0_f64.hypot_pullback_rhs(&0.0, &0.0, &1.0), 0.0);
    }

    #[test]
    fn test_log() {
        let points = [
            (0.5, 2.0),
            (3.0, 10.0),
            (2.0, 0.5),
            (1.0, 3.0),
            (100.0, 1.5),
        ];
        fd_binary(
            f64::log,
            rules::log_pullback_lhs,
            rules::log_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::log,
            rules::log_pullback_lhs,
            rules::log_pullback_rhs,
            &[(0.5, 2.0), (3.0, 10.0)],
        );
        // Within 4 ulp of ∂/∂x = 1/(x ln b), ∂/∂b = −ln x / (b ln² b)
        // (mpmath, 40 digits).
        for (x, b, dx, db) in [
            (
                3.0,
                10.0,
                0.144_764_827_301_083_942_550_376_3,
                -0.020_721_112_812_350_524_403_697_41,
            ),
            (
                0.5,
                2.0,
                2.885_390_081_777_926_814_719_849,
                0.721_347_520_444_481_703_679_962_3,
            ),
            (
                100.0,
                1.5,
                0.024_663_034_623_764_316_860_079_1,
                -18.674_434_120_901_442_516_577_25,
            ),
        ] {
            let y = f64::log(x, b);
            for (got, want) in [
                (rules::log_pullback_lhs(&x, &b, &y, &1.0), dx),
                (rules::log_pullback_rhs(&x, &b, &y, &1.0), db),
            ] {
                let n = ulps(got, want);
                assert!(n <= 4, "at ({x}, {b}): {got:e}, want {want:e} ({n} ulp)");
            }
        }
        // x = 1: log is 0 in every base.
        assert_eq!(1.0_f64.log_pullback_rhs(&7.0, &0.0, &1.0), 0.0);
    }

    #[test]
    fn test_copysign() {
        let points = [
            (1.5, 2.0),
            (1.5, -2.0),
            (-0.3, 0.7),
            (-0.3, -4.0),
            (8.0, 1e-3),
        ];
        fd_binary(
            f64::copysign,
            rules::copysign_pullback_lhs,
            rules::copysign_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::copysign,
            rules::copysign_pullback_lhs,
            rules::copysign_pullback_rhs,
            &[(1.5, -2.0), (-0.3, 0.7)],
        );
        let d = 3.0_f64;
        // Signs agree: d; differ: −d; the sign bit decides (−0.0, −NaN).
        assert_eq!(2.0_f64.copysign_pullback_lhs(&5.0, &2.0, &d), d);
        assert_eq!((-2.0_f64).copysign_pullback_lhs(&5.0, &2.0, &d), -d);
        assert_eq!(2.0_f64.copysign_pullback_lhs(&-0.0, &-2.0, &d), -d);
        assert_eq!(2.0_f64.copysign_pullback_lhs(&0.0, &2.0, &d), d);
        assert_eq!(2.0_f64.copysign_pullback_lhs(&-f64::NAN, &-2.0, &d), -d);
        assert_eq!(2.0_f32.copysign_pullback_lhs(&-1.0, &-2.0, &1.0), -1.0);
        // The kink x = ±0: 0, as for `abs`.
        for zero in [0.0_f64, -0.0] {
            for sign in [1.0, -1.0] {
                assert_eq!(
                    zero.copysign_pullback_lhs(&sign, &zero.copysign(sign), &d),
                    0.0
                );
            }
        }
        assert!(f64::NAN.copysign_pullback_lhs(&1.0, &f64::NAN, &d).is_nan());
        // Nothing flows to `sign`, also where it flips.
        for sign in [-2.0, -0.0, 0.0, 2.0, f64::NAN] {
            assert_eq!(1.5_f64.copysign_pullback_rhs(&sign, &1.5, &d), 0.0);
        }
    }

    #[test]
    fn test_rem_euclid() {
        let points = [
            (5.3, 2.0),
            (-5.3, 2.0),
            (5.3, -2.0),
            (-5.3, -2.0),
            (0.5, 3.0),
            (1e3, 0.7),
        ];
        fd_binary(
            f64::rem_euclid,
            rules::rem_euclid_pullback_lhs,
            rules::rem_euclid_pullback_rhs,
            &points,
        );
        fd_binary_f32(
            f32::rem_euclid,
            rules::rem_euclid_pullback_lhs,
            rules::rem_euclid_pullback_rhs,
            &[(5.3, 2.0), (-5.3, -2.0)],
        );
        // ∂/∂r = −q: −5.3 = 2·(−3) + 0.7, and 5.3 = (−2)·(−2) + 1.3.
        let y = (-5.3_f64).rem_euclid(2.0);
        assert_eq!((-5.3_f64).rem_euclid_pullback_rhs(&2.0, &y, &1.0), 3.0);
        let y = 5.3_f64.rem_euclid(-2.0);
        assert_eq!(5.3_f64.rem_euclid_pullback_rhs(&-2.0, &y, &1.0), 2.0);
        // The quotient of the value, not of the rounded x / r: here x / r
        // rounds to 3, `div_euclid` says 3, yet the value is x − 2r.
        let (x, r) = (1.0 - f64::EPSILON / 2.0, 1.0 / 3.0);
        let y = x.rem_euclid(r);
        assert_eq!(x.div_euclid(r), 3.0);
        assert_eq!(y, x - 2.0 * r);
        assert_eq!(x.rem_euclid_pullback_rhs(&r, &y, &1.0), -2.0);
        // A huge quotient, still an integer.
        let y = 1e300_f64.rem_euclid(0.1);
        let g = 1e300_f64.rem_euclid_pullback_rhs(&0.1, &y, &1.0);
        assert!(g.fract() == 0.0 && (g + 1e301).abs() < 1e287, "{g:e}");
        // r = 0: no value, NaN.
        assert!(
            1.0_f64
                .rem_euclid_pullback_rhs(&0.0, &f64::NAN, &1.0)
                .is_nan()
        );
    }

    #[test]
    fn test_clamp() {
        let (lo, hi) = (-1.0_f64, 2.0);
        for x in [-3.0, -0.5, 0.0, 1.5, 4.0] {
            for d in ADJOINTS {
                let g = (
                    rules::clamp_pullback_x(&x, &lo, &hi, &d),
                    rules::clamp_pullback_lo(&x, &lo, &hi, &d),
                    rules::clamp_pullback_hi(&x, &lo, &hi, &d),
                );
                let r = check(
                    |&(x, lo, hi): &(f64, f64, f64)| d * x.clamp(lo, hi),
                    (x, lo, hi),
                    g,
                );
                assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
                // Exactly one of the three gets the adjoint.
                assert_eq!(g.0 + g.1 + g.2, d);
            }
        }
        let (lo32, hi32) = (-1.0_f32, 2.0_f32);
        for x in [-3.0_f32, 0.5, 4.0] {
            let g = (
                x.clamp_pullback_x(&lo32, &hi32, &-0.7),
                x.clamp_pullback_lo(&lo32, &hi32, &-0.7),
                x.clamp_pullback_hi(&lo32, &hi32, &-0.7),
            );
            let r = check(
                |&(x, lo, hi): &(f32, f32, f32)| -0.7 * x.clamp(lo, hi),
                (x, lo32, hi32),
                g,
            );
            assert!(r.is_close(1e-2), "at x = {x}: {r}");
        }
        // Ties go to the receiver, as `x.max(lo).min(hi)` routes them.
        for x in [lo, hi] {
            assert_eq!(x.clamp_pullback_x(&lo, &hi, &3.0), 3.0);
            assert_eq!(x.clamp_pullback_lo(&lo, &hi, &3.0), 0.0);
            assert_eq!(x.clamp_pullback_hi(&lo, &hi, &3.0), 0.0);
            let via_min_max = rules::max_pullback_lhs(&x, &lo, &x.max(lo), &3.0)
                * rules::min_pullback_lhs(&x.max(lo), &hi, &x.max(lo).min(hi), &1.0);
            assert_eq!(via_min_max, 3.0);
        }
        // lo == hi: the value is x itself.
        assert_eq!(1.0_f64.clamp_pullback_x(&1.0, &1.0, &3.0), 3.0);
        // A NaN x is returned as is: the adjoint goes to it.
        assert_eq!(f64::NAN.clamp_pullback_x(&lo, &hi, &3.0), 3.0);
        assert_eq!(f64::NAN.clamp_pullback_lo(&lo, &hi, &3.0), 0.0);
        assert_eq!(f64::NAN.clamp_pullback_hi(&lo, &hi, &3.0), 0.0);
        // Infinite bounds: never taken by a finite x.
        assert_eq!(
            5.0_f64.clamp_pullback_x(&f64::NEG_INFINITY, &f64::INFINITY, &3.0),
            3.0
        );
    }

    #[test]
    fn test_mul_add() {
        let points = [(2.0, 3.0, -1.0), (-0.5, 0.25, 4.0), (1e3, -7.0, 0.0)];
        for &(x, a, b) in &points {
            for d in ADJOINTS {
                let g = (
                    rules::mul_add_pullback_x(&x, &a, &b, &d),
                    rules::mul_add_pullback_a(&x, &a, &b, &d),
                    rules::mul_add_pullback_b(&x, &a, &b, &d),
                );
                let r = check(
                    |&(x, a, b): &(f64, f64, f64)| d * x.mul_add(a, b),
                    (x, a, b),
                    g,
                );
                assert!(r.is_close(1e-7), "at ({x}, {a}, {b}), d = {d}: {r}");
            }
        }
        let (x, a, b) = (1.5_f32, -2.0_f32, 0.5_f32);
        let g = (
            x.mul_add_pullback_x(&a, &b, &1.0),
            x.mul_add_pullback_a(&a, &b, &1.0),
            x.mul_add_pullback_b(&a, &b, &1.0),
        );
        check(|&(x, a, b): &(f32, f32, f32)| x.mul_add(a, b), (x, a, b), g).assert_close(1e-2);
        assert_eq!(g, (-2.0, 1.5, 1.0));
    }
}

#[cfg(test)]
mod tanh_accuracy {
    use crate::rules_traits::FloatRules;

    #[test]
    fn test_tanh_pullback_keeps_relative_precision_in_the_tails() {
        // sech² x = 1/cosh² x, from cosh, which has no cancellation.
        let mut worst = 0.0_f64;
        for i in 0..=40_000 {
            let x = -30.0 + 60.0 * f64::from(i) / 40_000.0;
            let want = 1.0 / (x.cosh() * x.cosh());
            let got = x.tanh_pullback(&x.tanh(), &1.0);
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 1e-14, "worst relative error {worst:e}");
        // Past |x| ≈ 19, 1 − y² was exactly 0; the derivative is not (sech² 20
        // from mpmath, 30 digits).
        let g = 20.0_f64.tanh_pullback(&20.0_f64.tanh(), &1.0);
        assert!(
            g > 0.0 && (g / 1.699_341_702_116_636e-17 - 1.0).abs() < 1e-12,
            "{g:e}"
        );
    }
}

/// `x.powf(p)`'s pullbacks for an exponent of type `P`: the operand's own
/// type for a float, the element type for an ndarray array (ndarray's
/// `powf(n: A)` raises every element to one exponent).
pub trait PowfRule<P>: Differentiable {
    /// The exponent's gradient.
    type PTangent;
    /// To the receiver: `d · p · xᵖ⁻¹`, elementwise ([`FloatRules::powf_pullback_lhs`]).
    fn powf_lhs(&self, p: &P, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
    /// To the exponent: `d · y · ln x`, summed over an array's elements
    /// ([`FloatRules::powf_pullback_rhs`]).
    fn powf_rhs(&self, p: &P, y: &Self::Tangent, d: &Self::Tangent) -> Self::PTangent;
}

macro_rules! powf_same {
    ($($t:ty),*) => {$(
        impl PowfRule<$t> for $t {
            type PTangent = $t;
            #[inline]
            fn powf_lhs(&self, p: &$t, y: &$t, d: &$t) -> $t {
                self.powf_pullback_lhs(p, y, d)
            }
            #[inline]
            fn powf_rhs(&self, p: &$t, y: &$t, d: &$t) -> $t {
                self.powf_pullback_rhs(p, y, d)
            }
        }
    )*};
}

powf_same!(f32, f64);
