//! Rules of the arithmetic operators `+ - * /` and unary `-`.
//!
//! `Self` is the left operand, `Rhs` the right one; `DOut` is the type of the
//! adjoint of the result. Implemented for `f32` and `f64`.

use crate::tangent::Differentiable;

/// Rules of `a + b`: `da = d`, `db = d`.
///
/// ```
/// use autodiff_runtime::rules_traits::AddRule;
/// let (a, b, d) = (2.0_f64, 3.0, 0.5);
/// assert_eq!((a.add_pullback_lhs(&b, &d), a.add_pullback_rhs(&b, &d)), (0.5, 0.5));
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} + {Rhs}`",
    label = "`+` is differentiated here",
    note = "implement `autodiff::rules_traits::AddRule<{Rhs}>` for `{Self}` to differentiate it"
)]
pub trait AddRule<Rhs: Differentiable + ?Sized = Self>: Differentiable {
    /// The adjoint type of `a + b`.
    type DOut;
    /// Gradient contribution to `a` (`self`).
    fn add_pullback_lhs(&self, rhs: &Rhs, d: &Self::DOut) -> Self::Tangent;
    /// As [`Self::add_pullback_lhs`], given the adjoint by value: it is
    /// dead afterwards, so an implementation may reuse its buffer.
    #[inline]
    fn add_pullback_lhs_into(&self, rhs: &Rhs, d: Self::DOut) -> Self::Tangent {
        self.add_pullback_lhs(rhs, &d)
    }
    /// Gradient contribution to `b` (`rhs`).
    fn add_pullback_rhs(&self, rhs: &Rhs, d: &Self::DOut) -> Rhs::Tangent;
    /// As [`Self::add_pullback_rhs`], given the adjoint by value: it is
    /// dead afterwards, so an implementation may reuse its buffer.
    #[inline]
    fn add_pullback_rhs_into(&self, rhs: &Rhs, d: Self::DOut) -> Rhs::Tangent {
        self.add_pullback_rhs(rhs, &d)
    }
}

/// Rules of `a - b`: `da = d`, `db = −d`.
///
/// ```
/// use autodiff_runtime::rules_traits::SubRule;
/// let (a, b, d) = (2.0_f64, 3.0, 0.5);
/// assert_eq!((a.sub_pullback_lhs(&b, &d), a.sub_pullback_rhs(&b, &d)), (0.5, -0.5));
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} - {Rhs}`",
    label = "`-` is differentiated here",
    note = "implement `autodiff::rules_traits::SubRule<{Rhs}>` for `{Self}` to differentiate it"
)]
pub trait SubRule<Rhs: Differentiable + ?Sized = Self>: Differentiable {
    /// The adjoint type of `a - b`.
    type DOut;
    /// Gradient contribution to `a` (`self`).
    fn sub_pullback_lhs(&self, rhs: &Rhs, d: &Self::DOut) -> Self::Tangent;
    /// As [`Self::sub_pullback_lhs`], given the adjoint by value: it is
    /// dead afterwards, so an implementation may reuse its buffer.
    #[inline]
    fn sub_pullback_lhs_into(&self, rhs: &Rhs, d: Self::DOut) -> Self::Tangent {
        self.sub_pullback_lhs(rhs, &d)
    }
    /// Gradient contribution to `b` (`rhs`).
    fn sub_pullback_rhs(&self, rhs: &Rhs, d: &Self::DOut) -> Rhs::Tangent;
    /// As [`Self::sub_pullback_rhs`], given the adjoint by value: it is
    /// dead afterwards, so an implementation may reuse its buffer.
    #[inline]
    fn sub_pullback_rhs_into(&self, rhs: &Rhs, d: Self::DOut) -> Rhs::Tangent {
        self.sub_pullback_rhs(rhs, &d)
    }
}

/// Rules of `a * b`: `da = d · b`, `db = a · d`.
///
/// ```
/// use autodiff_runtime::rules_traits::MulRule;
/// let (a, b, d) = (2.0_f32, 3.0, 0.5);
/// assert_eq!((a.mul_pullback_lhs(&b, &d), a.mul_pullback_rhs(&b, &d)), (1.5, 1.0));
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} * {Rhs}`",
    label = "`*` is differentiated here",
    note = "implement `autodiff::rules_traits::MulRule<{Rhs}>` for `{Self}` to differentiate it"
)]
pub trait MulRule<Rhs: Differentiable + ?Sized = Self>: Differentiable {
    /// The adjoint type of `a * b`.
    type DOut;
    /// Gradient contribution to `a` (`self`).
    fn mul_pullback_lhs(&self, rhs: &Rhs, d: &Self::DOut) -> Self::Tangent;
    /// Gradient contribution to `b` (`rhs`).
    fn mul_pullback_rhs(&self, rhs: &Rhs, d: &Self::DOut) -> Rhs::Tangent;
}

/// Rules of `y = a / b`: `da = d / b`, `db = −d · y / b`.
///
/// The right operand's rule is given `y` and computes `−d · (y / b)`, so
/// that no `b²` can overflow.
///
/// ```
/// use autodiff_runtime::rules_traits::DivRule;
/// let (a, b, d) = (3.0_f64, 2.0, 1.0);
/// let y = a / b;
/// assert_eq!(a.div_pullback_lhs(&b, &d), 0.5);
/// assert_eq!(a.div_pullback_rhs(&b, &y, &d), -0.75); // −a / b²
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `{Self} / {Rhs}`",
    label = "`/` is differentiated here",
    note = "implement `autodiff::rules_traits::DivRule<{Rhs}>` for `{Self}` to differentiate it"
)]
pub trait DivRule<Rhs: Differentiable + ?Sized = Self>: Differentiable {
    /// The adjoint type (and the value type) of `a / b`.
    type DOut;
    /// Gradient contribution to `a` (`self`).
    fn div_pullback_lhs(&self, rhs: &Rhs, d: &Self::DOut) -> Self::Tangent;
    /// Gradient contribution to `b` (`rhs`), given the quotient `y`.
    fn div_pullback_rhs(&self, rhs: &Rhs, y: &Self::DOut, d: &Self::DOut) -> Rhs::Tangent;
}

/// Rule of `−x`: `dx = −d`.
///
/// ```
/// use autodiff_runtime::rules_traits::NegRule;
/// assert_eq!(2.0_f64.neg_pullback(&0.5), -0.5);
/// ```
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `-{Self}`",
    label = "unary `-` is differentiated here",
    note = "implement `autodiff::rules_traits::NegRule` for `{Self}` to differentiate it"
)]
pub trait NegRule: Differentiable {
    /// The adjoint type of `−x`.
    type DOut;
    /// Gradient contribution to `x`.
    fn neg_pullback(&self, d: &Self::DOut) -> Self::Tangent;
    /// As [`Self::neg_pullback`], given the adjoint by value, to reuse it.
    #[inline]
    fn neg_pullback_into(&self, d: Self::DOut) -> Self::Tangent {
        self.neg_pullback(&d)
    }
}

// Each rule applies the chain rule to the local derivative in one line; the
// float type `$t` is both the operand and the adjoint type.
macro_rules! float_arith_rules {
    ($($t:ty),*) => {$(
        impl AddRule for $t {
            type DOut = $t;
            #[inline]
            fn add_pullback_lhs(&self, _rhs: &$t, d: &$t) -> $t {
                *d
            }
            #[inline]
            fn add_pullback_rhs(&self, _rhs: &$t, d: &$t) -> $t {
                *d
            }
        }

        impl SubRule for $t {
            type DOut = $t;
            #[inline]
            fn sub_pullback_lhs(&self, _rhs: &$t, d: &$t) -> $t {
                *d
            }
            #[inline]
            fn sub_pullback_rhs(&self, _rhs: &$t, d: &$t) -> $t {
                -*d
            }
        }

        impl MulRule for $t {
            type DOut = $t;
            #[inline]
            fn mul_pullback_lhs(&self, rhs: &$t, d: &$t) -> $t {
                *d * *rhs
            }
            #[inline]
            fn mul_pullback_rhs(&self, _rhs: &$t, d: &$t) -> $t {
                *self * *d
            }
        }

        impl DivRule for $t {
            type DOut = $t;
            #[inline]
            fn div_pullback_lhs(&self, rhs: &$t, d: &$t) -> $t {
                *d / *rhs
            }
            // −d · a / b² written as −d · (y / b): no b² to overflow or underflow.
            #[inline]
            fn div_pullback_rhs(&self, rhs: &$t, y: &$t, d: &$t) -> $t {
                -*d * (*y / *rhs)
            }
        }

        impl NegRule for $t {
            type DOut = $t;
            #[inline]
            fn neg_pullback(&self, d: &$t) -> $t {
                -*d
            }
        }
    )*};
}

float_arith_rules!(f32, f64);

#[cfg(test)]
// Exact values (kinks, ±∞, ties) are what many asserts check.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::check::check;
    use crate::rules;

    // Points spanning signs and scales, and adjoints other than 1 so that a
    // rule which ignores `d` fails.
    const POINTS: [(f64, f64); 5] = [
        (2.0, 3.0),
        (-1.5, 0.25),
        (1e3, -7.0),
        (0.0, 1.0),
        (-3.0, -0.25),
    ];
    const ADJOINTS: [f64; 2] = [1.0, -1.7];

    /// Compares the two pullbacks of `op` with central finite differences of
    /// `d · op(a, b)` at every point and adjoint.
    fn fd_binary(
        op: impl Fn(f64, f64) -> f64,
        pullbacks: impl Fn(f64, f64, f64) -> (f64, f64),
        points: &[(f64, f64)],
    ) {
        for &(a, b) in points {
            for d in ADJOINTS {
                let r = check(
                    |&(a, b): &(f64, f64)| d * op(a, b),
                    (a, b),
                    pullbacks(a, b, d),
                );
                assert!(r.is_close(1e-8), "at ({a}, {b}), d = {d}: {r}");
            }
        }
    }

    fn fd_binary_f32(
        op: impl Fn(f32, f32) -> f32,
        pullbacks: impl Fn(f32, f32, f32) -> (f32, f32),
        points: &[(f32, f32)],
    ) {
        for &(a, b) in points {
            let d = -1.5_f32;
            let r = check(
                |&(a, b): &(f32, f32)| d * op(a, b),
                (a, b),
                pullbacks(a, b, d),
            );
            assert!(r.is_close(1e-2), "at ({a}, {b}), d = {d}: {r}");
        }
    }

    #[test]
    fn test_add() {
        fd_binary(
            |a, b| a + b,
            |a, b, d| {
                (
                    rules::add_pullback_lhs(&a, &b, &d),
                    rules::add_pullback_rhs(&a, &b, &d),
                )
            },
            &POINTS,
        );
        fd_binary_f32(
            |a, b| a + b,
            |a, b, d| (a.add_pullback_lhs(&b, &d), a.add_pullback_rhs(&b, &d)),
            &[(1.0, 2.0), (-0.5, 3.0)],
        );
        assert_eq!(1.0_f64.add_pullback_rhs(&2.0, &-3.0), -3.0);
    }

    #[test]
    fn test_sub() {
        fd_binary(
            |a, b| a - b,
            |a, b, d| {
                (
                    rules::sub_pullback_lhs(&a, &b, &d),
                    rules::sub_pullback_rhs(&a, &b, &d),
                )
            },
            &POINTS,
        );
        fd_binary_f32(
            |a, b| a - b,
            |a, b, d| (a.sub_pullback_lhs(&b, &d), a.sub_pullback_rhs(&b, &d)),
            &[(1.0, 2.0), (-0.5, 3.0)],
        );
        assert_eq!(1.0_f64.sub_pullback_lhs(&2.0, &-3.0), -3.0);
        assert_eq!(1.0_f64.sub_pullback_rhs(&2.0, &-3.0), 3.0);
    }

    #[test]
    fn test_mul() {
        fd_binary(
            |a, b| a * b,
            |a, b, d| {
                (
                    rules::mul_pullback_lhs(&a, &b, &d),
                    rules::mul_pullback_rhs(&a, &b, &d),
                )
            },
            &POINTS,
        );
        fd_binary_f32(
            |a, b| a * b,
            |a, b, d| (a.mul_pullback_lhs(&b, &d), a.mul_pullback_rhs(&b, &d)),
            &[(1.0, 2.0), (-0.5, 3.0)],
        );
        // d(ab)/da = b, d(ab)/db = a.
        assert_eq!(2.0_f64.mul_pullback_lhs(&5.0, &1.0), 5.0);
        assert_eq!(2.0_f64.mul_pullback_rhs(&5.0, &1.0), 2.0);
    }

    #[test]
    fn test_div() {
        let points: Vec<(f64, f64)> = POINTS.iter().filter(|p| p.1 != 0.0).copied().collect();
        fd_binary(
            |a, b| a / b,
            |a, b, d| {
                let y = a / b;
                (
                    rules::div_pullback_lhs(&a, &b, &d),
                    rules::div_pullback_rhs(&a, &b, &y, &d),
                )
            },
            &points,
        );
        fd_binary_f32(
            |a, b| a / b,
            |a, b, d| {
                (
                    a.div_pullback_lhs(&b, &d),
                    a.div_pullback_rhs(&b, &(a / b), &d),
                )
            },
            &[(1.0, 2.0), (-0.5, 3.0)],
        );
        // d(a/b)/db = −a/b² = −3/4 at (3, 2).
        assert_eq!(3.0_f64.div_pullback_rhs(&2.0, &1.5, &1.0), -0.75);
        // No overflow of b²: a = 1, b = 1e200 gives −1e-400 → −0, and
        // a = 1e300, b = 1e200 gives −1e-100.
        let (a, b) = (1e300_f64, 1e200);
        let g = a.div_pullback_rhs(&b, &(a / b), &1.0);
        assert!((g + 1e-100).abs() < 1e-114, "{g}");
    }

    #[test]
    fn test_neg() {
        for &(x, _) in &POINTS {
            for d in ADJOINTS {
                let r = check(|x: &f64| d * -x, x, rules::neg_pullback(&x, &d));
                assert!(r.is_close(1e-8), "at {x}, d = {d}: {r}");
            }
        }
        let r = check(|x: &f32| -x, 2.0_f32, 2.0_f32.neg_pullback(&1.0));
        r.assert_close(1e-2);
    }
}
