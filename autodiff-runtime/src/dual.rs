//! Dual numbers `a + b·ε` (ε² = 0), for forward-over-reverse second
//! derivatives: a generic `#[grad]` function's gradient evaluated at
//! `Dual<T>`, with the direction `v` in the ε parts, carries the
//! Hessian-vector product `H·v` in the ε parts of its result.

use core::cmp::Ordering;
use core::num::FpCategory;
use core::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

use num_traits::{Float, Num, NumCast, One, ToPrimitive, Zero};

use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
use crate::float::{FloatRules, PowfRule, rule};
use crate::tangent::{Accumulate, Basis, Differentiable, IsGradient, ScalarOutput, Scale};

/// `re + eps·ε` with ε² = 0: a value and its derivative along one direction.
///
/// ```
/// use autodiff_runtime::Dual;
/// use num_traits::Float;
/// let x = Dual::new(2.0_f64, 1.0); // x = 2, dx = 1
/// let y = x * x.sin();
/// assert_eq!(y.re, 2.0 * 2.0_f64.sin());
/// assert_eq!(y.eps, 2.0_f64.sin() + 2.0 * 2.0_f64.cos());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Dual<F> {
    /// The value.
    pub re: F,
    /// The derivative along the direction the computation started with.
    pub eps: F,
}

impl<F: Float> Dual<F> {
    /// `re + eps·ε`.
    pub fn new(re: F, eps: F) -> Self {
        Dual { re, eps }
    }

    /// A constant: `re + 0·ε`.
    pub fn constant(re: F) -> Self {
        Dual { re, eps: F::zero() }
    }

    /// `f(self)`, its ε part by `f`'s derivative rule (`rule(x, y, d)` is
    /// `d · f′(x)`, here with `d` the ε part): one definition per rule
    /// for floats and dual numbers.
    #[inline]
    pub(crate) fn unary(self, f: fn(F) -> F, rule: fn(F, F, F) -> F) -> Self {
        let re = f(self.re);
        Dual::new(re, rule(self.re, re, self.eps))
    }

    /// `f(self, other)`, its ε part by `f`'s rules for each operand.
    #[inline]
    fn binary(
        self,
        other: Self,
        f: fn(F, F) -> F,
        lhs: fn(F, F, F, F) -> F,
        rhs: fn(F, F, F, F) -> F,
    ) -> Self {
        let re = f(self.re, other.re);
        // (A constant operand adds nothing; skipping it keeps a finite
        // ε part where its rule is infinite times zero.)
        let mut eps = F::zero();
        if !self.eps.is_zero() {
            eps = eps + lhs(self.re, other.re, re, self.eps);
        }
        if !other.eps.is_zero() {
            eps = eps + rhs(self.re, other.re, re, other.eps);
        }
        Dual::new(re, eps)
    }
}

impl<F: Float> PartialEq for Dual<F> {
    /// Compares the values only, as branches in the differentiated code do.
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<F: Float> PartialOrd for Dual<F> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

macro_rules! binary_ops {
    ($($trait:ident $method:ident $assign:ident $assign_method:ident, |$a:ident, $b:ident| $body:expr;)*) => {$(
        impl<F: Float> $trait for Dual<F> {
            type Output = Dual<F>;
            #[inline]
            fn $method(self, rhs: Dual<F>) -> Dual<F> {
                let ($a, $b) = (self, rhs);
                $body
            }
        }
        impl<'a, F: Float> $trait<&'a Dual<F>> for Dual<F> {
            type Output = Dual<F>;
            #[inline]
            fn $method(self, rhs: &'a Dual<F>) -> Dual<F> {
                $trait::$method(self, *rhs)
            }
        }
        impl<'a, F: Float> $trait<Dual<F>> for &'a Dual<F> {
            type Output = Dual<F>;
            #[inline]
            fn $method(self, rhs: Dual<F>) -> Dual<F> {
                $trait::$method(*self, rhs)
            }
        }
        impl<'a, 'b, F: Float> $trait<&'b Dual<F>> for &'a Dual<F> {
            type Output = Dual<F>;
            #[inline]
            fn $method(self, rhs: &'b Dual<F>) -> Dual<F> {
                $trait::$method(*self, *rhs)
            }
        }
        impl<F: Float> $assign for Dual<F> {
            #[inline]
            fn $assign_method(&mut self, rhs: Dual<F>) {
                *self = $trait::$method(*self, rhs);
            }
        }
    )*};
}

binary_ops! {
    Add add AddAssign add_assign, |a, b| Dual::new(a.re + b.re, a.eps + b.eps);
    Sub sub SubAssign sub_assign, |a, b| Dual::new(a.re - b.re, a.eps - b.eps);
    Mul mul MulAssign mul_assign, |a, b| Dual::new(a.re * b.re, a.eps * b.re + a.re * b.eps);
    Div div DivAssign div_assign, |a, b| {
        let re = a.re / b.re;
        Dual::new(re, (a.eps - re * b.eps) / b.re)
    };
    Rem rem RemAssign rem_assign, |a, b| {
        Dual::new(a.re % b.re, a.eps - (a.re / b.re).trunc() * b.eps)
    };
}

impl<F: Float> Neg for Dual<F> {
    type Output = Dual<F>;
    #[inline]
    fn neg(self) -> Dual<F> {
        Dual::new(-self.re, -self.eps)
    }
}

impl<F: Float> Neg for &Dual<F> {
    type Output = Dual<F>;
    #[inline]
    fn neg(self) -> Dual<F> {
        -*self
    }
}

impl<F: Float> Zero for Dual<F> {
    fn zero() -> Self {
        Dual::constant(F::zero())
    }
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.is_zero()
    }
}

impl<F: Float> One for Dual<F> {
    fn one() -> Self {
        Dual::constant(F::one())
    }
}

impl<F: Float> Num for Dual<F> {
    type FromStrRadixErr = F::FromStrRadixErr;
    fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        F::from_str_radix(s, radix).map(Dual::constant)
    }
}

impl<F: Float> ToPrimitive for Dual<F> {
    fn to_i64(&self) -> Option<i64> {
        self.re.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.re.to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        self.re.to_f64()
    }
}

impl<F: Float> NumCast for Dual<F> {
    fn from<T: ToPrimitive>(n: T) -> Option<Self> {
        F::from(n).map(Dual::constant)
    }
}

impl<F: Float> Float for Dual<F> {
    fn nan() -> Self {
        Dual::constant(F::nan())
    }
    fn infinity() -> Self {
        Dual::constant(F::infinity())
    }
    fn neg_infinity() -> Self {
        Dual::constant(F::neg_infinity())
    }
    fn neg_zero() -> Self {
        Dual::constant(F::neg_zero())
    }
    fn min_value() -> Self {
        Dual::constant(F::min_value())
    }
    fn min_positive_value() -> Self {
        Dual::constant(F::min_positive_value())
    }
    fn max_value() -> Self {
        Dual::constant(F::max_value())
    }
    fn is_nan(self) -> bool {
        self.re.is_nan()
    }
    fn is_infinite(self) -> bool {
        self.re.is_infinite()
    }
    fn is_finite(self) -> bool {
        self.re.is_finite()
    }
    fn is_normal(self) -> bool {
        self.re.is_normal()
    }
    fn classify(self) -> FpCategory {
        self.re.classify()
    }
    fn floor(self) -> Self {
        Dual::constant(self.re.floor())
    }
    fn ceil(self) -> Self {
        Dual::constant(self.re.ceil())
    }
    fn round(self) -> Self {
        Dual::constant(self.re.round())
    }
    fn trunc(self) -> Self {
        Dual::constant(self.re.trunc())
    }
    fn fract(self) -> Self {
        Dual::new(self.re.fract(), self.eps)
    }
    fn abs(self) -> Self {
        self.unary(F::abs, rule::abs_pullback)
    }
    fn signum(self) -> Self {
        Dual::constant(self.re.signum())
    }
    fn is_sign_positive(self) -> bool {
        self.re.is_sign_positive()
    }
    fn is_sign_negative(self) -> bool {
        self.re.is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    fn recip(self) -> Self {
        self.unary(F::recip, rule::recip_pullback)
    }
    fn powi(self, n: i32) -> Self {
        let re = self.re.powi(n);
        Dual::new(re, rule::powi_pullback(self.re, n, re, self.eps))
    }
    fn powf(self, p: Self) -> Self {
        self.binary(p, F::powf, rule::powf_pullback_lhs, rule::powf_pullback_rhs)
    }
    fn sqrt(self) -> Self {
        self.unary(F::sqrt, rule::sqrt_pullback)
    }
    fn exp(self) -> Self {
        self.unary(F::exp, rule::exp_pullback)
    }
    fn exp2(self) -> Self {
        self.unary(F::exp2, rule::exp2_pullback)
    }
    fn ln(self) -> Self {
        self.unary(F::ln, rule::ln_pullback)
    }
    fn log(self, base: Self) -> Self {
        self.binary(base, F::log, rule::log_pullback_lhs, rule::log_pullback_rhs)
    }
    fn log2(self) -> Self {
        self.unary(F::log2, rule::log2_pullback)
    }
    fn log10(self) -> Self {
        self.unary(F::log10, rule::log10_pullback)
    }
    fn max(self, other: Self) -> Self {
        if other.re > self.re || self.re.is_nan() {
            other
        } else {
            self
        }
    }
    fn min(self, other: Self) -> Self {
        if other.re < self.re || self.re.is_nan() {
            other
        } else {
            self
        }
    }
    fn abs_sub(self, other: Self) -> Self {
        (self - other).max(Dual::zero())
    }
    fn cbrt(self) -> Self {
        self.unary(F::cbrt, rule::cbrt_pullback)
    }
    fn hypot(self, other: Self) -> Self {
        self.binary(
            other,
            F::hypot,
            rule::hypot_pullback_lhs,
            rule::hypot_pullback_rhs,
        )
    }
    fn sin(self) -> Self {
        self.unary(F::sin, rule::sin_pullback)
    }
    fn cos(self) -> Self {
        self.unary(F::cos, rule::cos_pullback)
    }
    fn tan(self) -> Self {
        self.unary(F::tan, rule::tan_pullback)
    }
    fn asin(self) -> Self {
        self.unary(F::asin, rule::asin_pullback)
    }
    fn acos(self) -> Self {
        self.unary(F::acos, rule::acos_pullback)
    }
    fn atan(self) -> Self {
        self.unary(F::atan, rule::atan_pullback)
    }
    fn atan2(self, other: Self) -> Self {
        self.binary(
            other,
            F::atan2,
            rule::atan2_pullback_lhs,
            rule::atan2_pullback_rhs,
        )
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    fn exp_m1(self) -> Self {
        self.unary(F::exp_m1, rule::exp_m1_pullback)
    }
    fn ln_1p(self) -> Self {
        self.unary(F::ln_1p, rule::ln_1p_pullback)
    }
    fn sinh(self) -> Self {
        self.unary(F::sinh, rule::sinh_pullback)
    }
    fn cosh(self) -> Self {
        self.unary(F::cosh, rule::cosh_pullback)
    }
    fn tanh(self) -> Self {
        self.unary(F::tanh, rule::tanh_pullback)
    }
    fn asinh(self) -> Self {
        self.unary(F::asinh, rule::asinh_pullback)
    }
    fn acosh(self) -> Self {
        self.unary(F::acosh, rule::acosh_pullback)
    }
    fn atanh(self) -> Self {
        self.unary(F::atanh, rule::atanh_pullback)
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.re.integer_decode()
    }
}

// The derivative rules, written once with dual arithmetic: every rule of
// the plain floats, differentiated once more by the ε parts.

impl<F: Float> Differentiable for Dual<F> {
    type Tangent = Dual<F>;
    fn zero_tangent(&self) -> Dual<F> {
        Dual::zero()
    }
}

impl<F: Float> Accumulate for Dual<F> {
    fn accumulate(&mut self, rhs: Dual<F>) {
        *self += rhs;
    }
}

impl<F: Float> Accumulate<&Dual<F>> for Dual<F> {
    fn accumulate(&mut self, rhs: &Dual<F>) {
        *self += *rhs;
    }
}

impl<F: Float> ScalarOutput for Dual<F> {
    fn seed_one() -> Self {
        Dual::one()
    }
}

impl<F: Float> Scale<Dual<F>> for Dual<F> {
    fn scale(&mut self, by: &Dual<F>) {
        *self *= *by;
    }
}

impl<F: Float> Basis for Dual<F> {
    fn basis(&self) -> Vec<Self> {
        vec![Dual::one()]
    }
}

impl<F: Float> IsGradient for Dual<F> {}

macro_rules! dual_binary_rule {
    ($trait:ident, $lhs:ident, |$a:ident, $b:ident, $d:ident| $l:expr, $rhs:ident, |$a2:ident, $b2:ident, $d2:ident| $r:expr) => {
        impl<F: Float> $trait for Dual<F> {
            type DOut = Dual<F>;
            fn $lhs(&self, rhs: &Dual<F>, d: &Dual<F>) -> Dual<F> {
                let ($a, $b, $d) = (*self, *rhs, *d);
                let _ = ($a, $b);
                $l
            }
            fn $rhs(&self, rhs: &Dual<F>, d: &Dual<F>) -> Dual<F> {
                let ($a2, $b2, $d2) = (*self, *rhs, *d);
                let _ = ($a2, $b2);
                $r
            }
        }
    };
}

dual_binary_rule!(
    AddRule,
    add_pullback_lhs,
    |a, b, d| d,
    add_pullback_rhs,
    |a, b, d| d
);
dual_binary_rule!(
    SubRule,
    sub_pullback_lhs,
    |a, b, d| d,
    sub_pullback_rhs,
    |a, b, d| -d
);
dual_binary_rule!(
    MulRule,
    mul_pullback_lhs,
    |a, b, d| d * b,
    mul_pullback_rhs,
    |a, b, d| a * d
);

impl<F: Float> DivRule for Dual<F> {
    type DOut = Dual<F>;
    fn div_pullback_lhs(&self, rhs: &Dual<F>, d: &Dual<F>) -> Dual<F> {
        *d / *rhs
    }
    fn div_pullback_rhs(&self, rhs: &Dual<F>, y: &Dual<F>, d: &Dual<F>) -> Dual<F> {
        -*d * (*y / *rhs)
    }
}

impl<F: Float> NegRule for Dual<F> {
    type DOut = Dual<F>;
    fn neg_pullback(&self, d: &Dual<F>) -> Dual<F> {
        -*d
    }
}

// The same rules as floats' (`float.rs`), at dual numbers.
impl<F: Float> PowfRule<Dual<F>> for Dual<F> {
    type PTangent = Self;
    #[inline]
    fn powf_lhs(&self, p: &Self, y: &Self, d: &Self) -> Self {
        self.powf_pullback_lhs(p, y, d)
    }
    #[inline]
    fn powf_rhs(&self, p: &Self, y: &Self, d: &Self) -> Self {
        self.powf_pullback_rhs(p, y, d)
    }
}

impl<F: Float> FloatRules for Dual<F> {
    crate::float::float_rules!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::{Sigmoid, SigmoidRule, Softplus, SoftplusRule};

    /// A function at dual numbers, and the same at floats.
    type Unary = (&'static str, fn(Dual<f64>) -> Dual<f64>, fn(f64) -> f64);
    type Binary = (
        &'static str,
        fn(Dual<f64>, Dual<f64>) -> Dual<f64>,
        fn(f64, f64) -> f64,
    );
    type Pullback = (&'static str, fn(&Dual<f64>) -> Dual<f64>, fn(f64) -> f64);

    /// Central difference of `f` at `x`.
    fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
        let h = 1e-6 * x.abs().max(1.0);
        (f(x + h) - f(x - h)) / (2.0 * h)
    }

    fn close(a: f64, b: f64, what: &str) {
        assert!(
            (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0),
            "{what}: {a} vs {b}"
        );
    }

    /// Every unary function of `Float`: the ε part is the derivative.
    #[test]
    fn test_unary_derivatives_against_finite_differences() {
        let functions: &[Unary] = &[
            ("exp", Float::exp, f64::exp),
            ("exp2", Float::exp2, f64::exp2),
            ("ln", Float::ln, f64::ln),
            ("log2", Float::log2, f64::log2),
            ("log10", Float::log10, f64::log10),
            ("sqrt", Float::sqrt, f64::sqrt),
            ("cbrt", Float::cbrt, f64::cbrt),
            ("sin", Float::sin, f64::sin),
            ("cos", Float::cos, f64::cos),
            ("tan", Float::tan, f64::tan),
            ("asin", Float::asin, f64::asin),
            ("acos", Float::acos, f64::acos),
            ("atan", Float::atan, f64::atan),
            ("sinh", Float::sinh, f64::sinh),
            ("cosh", Float::cosh, f64::cosh),
            ("tanh", Float::tanh, f64::tanh),
            ("asinh", Float::asinh, f64::asinh),
            ("atanh", Float::atanh, f64::atanh),
            ("abs", Float::abs, f64::abs),
            ("recip", Float::recip, f64::recip),
            ("exp_m1", Float::exp_m1, f64::exp_m1),
            ("ln_1p", Float::ln_1p, f64::ln_1p),
            ("to_radians", Float::to_radians, f64::to_radians),
            ("to_degrees", Float::to_degrees, f64::to_degrees),
            ("floor", Float::floor, f64::floor),
            ("ceil", Float::ceil, f64::ceil),
            ("round", Float::round, f64::round),
            ("trunc", Float::trunc, f64::trunc),
            ("fract", Float::fract, f64::fract),
            ("signum", Float::signum, f64::signum),
            ("powi3", |x| x.powi(3), |x| x.powi(3)),
            ("powf", |x| x.powf(Dual::constant(1.7)), |x| x.powf(1.7)),
            ("sigmoid", Sigmoid::sigmoid, crate::sigmoid),
            ("softplus", Softplus::softplus, crate::softplus),
        ];
        for &(name, dual, plain) in functions {
            for x in [0.3, 0.7, -0.4] {
                if (name == "ln"
                    || name == "log2"
                    || name == "log10"
                    || name == "sqrt"
                    || name == "powf")
                    && x < 0.0
                {
                    continue;
                }
                let y = dual(Dual::new(x, 1.0));
                close(y.re, plain(x), name);
                close(y.eps, central(plain, x), name);
            }
        }
        let acosh = Dual::new(1.5_f64, 1.0).acosh();
        close(acosh.eps, central(f64::acosh, 1.5), "acosh");
    }

    /// The binary operations and functions, along each operand.
    #[test]
    fn test_binary_derivatives_against_finite_differences() {
        let (a, b) = (0.8_f64, -1.3_f64);
        let ops: &[Binary] = &[
            ("+", |x, y| x + y, |x, y| x + y),
            ("-", |x, y| x - y, |x, y| x - y),
            ("*", |x, y| x * y, |x, y| x * y),
            ("/", |x, y| x / y, |x, y| x / y),
            ("atan2", Float::atan2, f64::atan2),
            ("hypot", Float::hypot, f64::hypot),
            ("mul_add", |x, y| x.mul_add(y, x), |x, y| x.mul_add(y, x)),
            ("copysign", Float::copysign, f64::copysign),
            ("log", |x, y| x.log(-y), |x, y| x.log(-y)),
            (
                "clamp",
                |x, y| x.clamp(y, Dual::constant(2.0)),
                |x, y| x.clamp(y, 2.0),
            ),
        ];
        for &(name, dual, plain) in ops {
            let da = dual(Dual::new(a, 1.0), Dual::constant(b)).eps;
            let db = dual(Dual::constant(a), Dual::new(b, 1.0)).eps;
            close(da, central(|x| plain(x, b), a), name);
            close(db, central(|y| plain(a, y), b), name);
        }
    }

    /// The two-operand pullbacks at dual numbers, along each operand: their
    /// values are the plain pullbacks, their ε parts the pullbacks'
    /// derivatives.
    #[test]
    fn test_binary_pullbacks_at_dual_numbers() {
        type BinaryPullback = (
            &'static str,
            fn(&Dual<f64>, &Dual<f64>) -> Dual<f64>,
            fn(f64, f64) -> f64,
        );
        let (a, b) = (0.8_f64, 1.3_f64);
        let pullbacks: &[BinaryPullback] = &[
            (
                "log_lhs",
                |x, p| x.log_pullback_lhs(p, &x.log(*p), &Dual::one()),
                |x, p| x.log_pullback_lhs(&p, &x.log(p), &1.0),
            ),
            (
                "log_rhs",
                |x, p| x.log_pullback_rhs(p, &x.log(*p), &Dual::one()),
                |x, p| x.log_pullback_rhs(&p, &x.log(p), &1.0),
            ),
            (
                "copysign_lhs",
                |x, p| x.copysign_pullback_lhs(&-*p, &x.copysign(-*p), &Dual::one()),
                |x, p| x.copysign_pullback_lhs(&-p, &x.copysign(-p), &1.0),
            ),
            (
                "copysign_rhs",
                |x, p| x.copysign_pullback_rhs(p, &x.copysign(*p), &Dual::one()),
                |x, p| x.copysign_pullback_rhs(&p, &x.copysign(p), &1.0),
            ),
            (
                "rem_euclid_lhs",
                |x, p| x.rem_euclid_pullback_lhs(p, &Dual::zero(), &Dual::one()),
                |x, p| x.rem_euclid_pullback_lhs(&p, &0.0, &1.0),
            ),
            (
                "rem_euclid_rhs",
                // -x.rem_euclid(p) at x = −0.8, p = 1.3: the value x + p.
                |x, p| {
                    let x = -*x;
                    x.rem_euclid_pullback_rhs(p, &(x + *p), &Dual::one())
                },
                |x, p| (-x).rem_euclid_pullback_rhs(&p, &(-x).rem_euclid(p), &1.0),
            ),
            (
                "clamp_x",
                |x, p| x.clamp_pullback_x(&-*p, p, &Dual::one()),
                |x, p| x.clamp_pullback_x(&-p, &p, &1.0),
            ),
            (
                "clamp_lo",
                |x, p| x.clamp_pullback_lo(p, &(*p + Dual::one()), &Dual::one()),
                |x, p| x.clamp_pullback_lo(&p, &(p + 1.0), &1.0),
            ),
            (
                "clamp_hi",
                |x, p| x.clamp_pullback_hi(&-*p, &(*p - Dual::one()), &Dual::one()),
                |x, p| x.clamp_pullback_hi(&-p, &(p - 1.0), &1.0),
            ),
        ];
        for &(name, dual, plain) in pullbacks {
            let along_x = dual(&Dual::new(a, 1.0), &Dual::constant(b));
            let along_p = dual(&Dual::constant(a), &Dual::new(b, 1.0));
            close(along_x.re, plain(a, b), name);
            close(along_x.eps, central(|x| plain(x, b), a), name);
            close(along_p.eps, central(|p| plain(a, p), b), name);
        }
        // The routing at dual numbers is the plain one (the value decides).
        let (x, lo, hi) = (
            Dual::new(2.0_f64, 1.0),
            Dual::constant(-1.0),
            Dual::constant(2.0),
        );
        assert_eq!(x.clamp_pullback_x(&lo, &hi, &Dual::one()).re, 1.0);
        assert_eq!(x.clamp_pullback_hi(&lo, &hi, &Dual::one()).re, 0.0);
        let zero = Dual::new(0.0_f64, 1.0);
        assert!(
            zero.copysign_pullback_lhs(&Dual::one(), &zero, &Dual::one())
                .is_zero()
        );
    }

    /// The pullbacks at dual numbers: their values are the plain pullbacks,
    /// their ε parts the pullbacks' derivatives.
    #[test]
    fn test_pullbacks_are_the_plain_ones_differentiated_once_more() {
        let x = 0.6_f64;
        let d = 1.0_f64;
        let pullbacks: &[Pullback] = &[
            (
                "exp",
                |x| x.exp_pullback(&x.exp(), &Dual::one()),
                |x| x.exp_pullback(&x.exp(), &1.0),
            ),
            (
                "sin",
                |x| x.sin_pullback(&x.sin(), &Dual::one()),
                |x| x.sin_pullback(&x.sin(), &1.0),
            ),
            (
                "tanh",
                |x| x.tanh_pullback(&x.tanh(), &Dual::one()),
                |x| x.tanh_pullback(&x.tanh(), &1.0),
            ),
            (
                "sqrt",
                |x| x.sqrt_pullback(&x.sqrt(), &Dual::one()),
                |x| x.sqrt_pullback(&x.sqrt(), &1.0),
            ),
            (
                "sigmoid",
                |x| x.sigmoid_pullback(&Sigmoid::sigmoid(*x), &Dual::one()),
                |x| x.sigmoid_pullback(&crate::sigmoid(x), &1.0),
            ),
            (
                "softplus",
                |x| x.softplus_pullback(&Softplus::softplus(*x), &Dual::one()),
                |x| x.softplus_pullback(&crate::softplus(x), &1.0),
            ),
            (
                "powi",
                |x| x.powi_pullback(3, &x.powi(3), &Dual::one()),
                |x| x.powi_pullback(3, &x.powi(3), &1.0),
            ),
            (
                "ln_1p",
                |x| x.ln_1p_pullback(&x.ln_1p(), &Dual::one()),
                |x| x.ln_1p_pullback(&x.ln_1p(), &1.0),
            ),
            (
                "exp_m1",
                |x| x.exp_m1_pullback(&x.exp_m1(), &Dual::one()),
                |x| x.exp_m1_pullback(&x.exp_m1(), &1.0),
            ),
            (
                "asinh",
                |x| x.asinh_pullback(&x.asinh(), &Dual::one()),
                |x| x.asinh_pullback(&x.asinh(), &1.0),
            ),
            (
                "acosh",
                // At 1 + x: acosh lives on [1, ∞).
                |x| {
                    let x = *x + Dual::one();
                    x.acosh_pullback(&x.acosh(), &Dual::one())
                },
                |x| (x + 1.0).acosh_pullback(&(x + 1.0).acosh(), &1.0),
            ),
            (
                "atanh",
                |x| x.atanh_pullback(&x.atanh(), &Dual::one()),
                |x| x.atanh_pullback(&x.atanh(), &1.0),
            ),
            (
                "to_radians",
                |x| x.to_radians_pullback(&x.to_radians(), &Dual::constant(2.0)),
                |x| x.to_radians_pullback(&x.to_radians(), &2.0),
            ),
            (
                "to_degrees",
                |x| x.to_degrees_pullback(&x.to_degrees(), &Dual::constant(2.0)),
                |x| x.to_degrees_pullback(&x.to_degrees(), &2.0),
            ),
        ];
        for &(name, dual, plain) in pullbacks {
            let y = dual(&Dual::new(x, d));
            close(y.re, plain(x), name);
            close(y.eps, central(plain, x), name);
        }
    }
}
