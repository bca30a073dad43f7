//! The float-method rules ([`FloatRules`]) on ndarray arrays, elementwise.
//!
//! Each pullback applies the scalar rule of the element type to `x`, the
//! method's output `y` and the adjoint `d`, all of one shape, in a single
//! pass into a fresh array; binary methods (`max`, `atan2`, …) take an array
//! `p` of the same shape, and `powf` ([`PowfRule`]) one exponent for every
//! element, as ndarray's `powf(n)`. The values at kinks and ties are the
//! scalar rules'.

use ndarray::{Array, ArrayBase, Data, Dimension, Zip};

use crate::array::Element;
use crate::float::{FloatRules, PowfRule};

macro_rules! unary {
    ($($method:ident),*) => {$(
        #[inline]
        fn $method(&self, y: &Array<A, D>, d: &Array<A, D>) -> Array<A, D> {
            Zip::from(self).and(y).and(d).map_collect(|x, y, d| x.$method(y, d))
        }
    )*};
}

macro_rules! binary {
    ($($method:ident),*) => {$(
        #[inline]
        fn $method(&self, p: &Self, y: &Array<A, D>, d: &Array<A, D>) -> Array<A, D> {
            Zip::from(self)
                .and(p)
                .and(y)
                .and(d)
                .map_collect(|x, p, y, d| x.$method(p, y, d))
        }
    )*};
}

macro_rules! ternary {
    ($($method:ident),*) => {$(
        #[inline]
        fn $method(&self, a: &Self, b: &Self, d: &Array<A, D>) -> Array<A, D> {
            Zip::from(self)
                .and(a)
                .and(b)
                .and(d)
                .map_collect(|x, a, b, d| x.$method(a, b, d))
        }
    )*};
}

/// Elementwise: `dx = d ⊙ f'(x)`, by the element type's rule.
///
/// ```
/// use autodiff_runtime::rules::exp_pullback;
/// use ndarray::array;
/// let x = array![0.0_f64, 1.0];
/// let y = x.exp();
/// assert_eq!(exp_pullback(&x, &y, &array![2.0, 1.0]), array![2.0, 1.0_f64.exp()]);
/// ```
impl<A, S, D> FloatRules for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    unary!(
        exp_pullback,
        exp2_pullback,
        ln_pullback,
        log2_pullback,
        log10_pullback,
        sqrt_pullback,
        cbrt_pullback,
        sin_pullback,
        cos_pullback,
        tan_pullback,
        asin_pullback,
        acos_pullback,
        atan_pullback,
        sinh_pullback,
        cosh_pullback,
        tanh_pullback,
        abs_pullback,
        recip_pullback,
        ln_1p_pullback,
        exp_m1_pullback,
        asinh_pullback,
        acosh_pullback,
        atanh_pullback,
        to_radians_pullback,
        to_degrees_pullback,
        floor_pullback,
        ceil_pullback,
        round_pullback,
        trunc_pullback,
        signum_pullback,
        fract_pullback
    );

    #[inline]
    fn powi_pullback(&self, n: i32, y: &Array<A, D>, d: &Array<A, D>) -> Array<A, D> {
        Zip::from(self)
            .and(y)
            .and(d)
            .map_collect(|x, y, d| x.powi_pullback(n, y, d))
    }

    binary!(
        powf_pullback_lhs,
        powf_pullback_rhs,
        max_pullback_lhs,
        max_pullback_rhs,
        min_pullback_lhs,
        min_pullback_rhs,
        atan2_pullback_lhs,
        atan2_pullback_rhs,
        hypot_pullback_lhs,
        hypot_pullback_rhs,
        log_pullback_lhs,
        log_pullback_rhs,
        copysign_pullback_lhs,
        copysign_pullback_rhs,
        rem_euclid_pullback_lhs,
        rem_euclid_pullback_rhs
    );

    ternary!(
        mul_add_pullback_x,
        mul_add_pullback_a,
        mul_add_pullback_b,
        clamp_pullback_x,
        clamp_pullback_lo,
        clamp_pullback_hi
    );
}

/// `a.powf(p)` with one exponent `p` for every element (ndarray's
/// `powf(n: A)`): the element rule to `a`, and the sum of the element
/// rule's exponent gradients to `p`.
///
/// ```
/// use autodiff_runtime::rules::{powf_pullback_lhs, powf_pullback_rhs};
/// use ndarray::array;
/// let (x, p) = (array![1.0_f64, 2.0], 3.0);
/// let y = x.powf(p);
/// assert_eq!(powf_pullback_lhs(&x, &p, &y, &array![1.0, 1.0]), array![3.0, 12.0]);
/// assert_eq!(powf_pullback_rhs(&x, &p, &y, &array![1.0, 1.0]), 8.0 * 2.0_f64.ln());
/// ```
impl<A, S, D> PowfRule<A> for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    type PTangent = A;
    #[inline]
    fn powf_lhs(&self, p: &A, y: &Array<A, D>, d: &Array<A, D>) -> Array<A, D> {
        Zip::from(self)
            .and(y)
            .and(d)
            .map_collect(|x, y, d| x.powf_pullback_lhs(p, y, d))
    }
    #[inline]
    fn powf_rhs(&self, p: &A, y: &Array<A, D>, d: &Array<A, D>) -> A {
        Zip::from(self)
            .and(y)
            .and(d)
            .fold(A::zero(), |sum, x, y, d| sum + x.powf_pullback_rhs(p, y, d))
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use crate::array::testing::{random, weighted, weighted_f32};
    use crate::check::check;
    use crate::rules;
    use ndarray::{Array2, array};

    type Pullback = fn(&Array2<f64>, &Array2<f64>, &Array2<f64>) -> Array2<f64>;
    type BinaryPullback = fn(&Array2<f64>, &Array2<f64>, &Array2<f64>, &Array2<f64>) -> Array2<f64>;

    /// Checks `pullback(x, f(x), w)` against finite differences of
    /// `Σ w ⊙ f(x)`, with `x` moved into `f`'s domain by `domain`.
    fn fd_unary(f: fn(f64) -> f64, pullback: Pullback, domain: fn(f64) -> f64) {
        let x = random((3, 4), 1).mapv(domain);
        let w = random((3, 4), 2);
        let g = pullback(&x, &x.mapv(f), &w);
        let r = check(|x: &Array2<f64>| weighted(&w, &x.mapv(f)), x, g);
        assert!(r.is_close(1e-7), "{r}");
        // A column-major x (and so a column-major y) gives the same gradient.
        let xt = random((4, 3), 1).mapv(domain).reversed_axes();
        let wt = random((4, 3), 2).reversed_axes();
        let g = pullback(&xt, &xt.mapv(f), &wt);
        let r = check(|x: &Array2<f64>| weighted(&wt, &x.mapv(f)), xt, g);
        assert!(r.is_close(1e-7), "column-major: {r}");
    }

    fn fd_binary(
        f: fn(f64, f64) -> f64,
        lhs: BinaryPullback,
        rhs: BinaryPullback,
        domain: fn(f64) -> f64,
    ) {
        let x = random((3, 4), 3).mapv(domain);
        let p = random((3, 4), 4).mapv(domain);
        let w = random((3, 4), 5);
        let y = ndarray::Zip::from(&x).and(&p).map_collect(|&x, &p| f(x, p));
        let g = (lhs(&x, &p, &y, &w), rhs(&x, &p, &y, &w));
        let r = check(
            |(x, p): &(Array2<f64>, Array2<f64>)| {
                weighted(
                    &w,
                    &ndarray::Zip::from(x).and(p).map_collect(|&x, &p| f(x, p)),
                )
            },
            (x, p),
            g,
        );
        assert!(r.is_close(1e-7), "{r}");
    }

    fn any(x: f64) -> f64 {
        x
    }
    fn positive(x: f64) -> f64 {
        x.abs() + 0.1
    }
    fn unit(x: f64) -> f64 {
        x / 2.0
    }
    fn above_one(x: f64) -> f64 {
        x.abs() + 1.1
    }

    macro_rules! unary_tests {
        ($($test:ident: $method:ident, $pullback:ident, $domain:ident;)*) => {$(
            #[test]
            fn $test() {
                fd_unary(f64::$method, rules::$pullback, $domain);
            }
        )*};
    }

    unary_tests! {
        test_exp: exp, exp_pullback, any;
        test_exp2: exp2, exp2_pullback, any;
        test_ln: ln, ln_pullback, positive;
        test_log2: log2, log2_pullback, positive;
        test_log10: log10, log10_pullback, positive;
        test_sqrt: sqrt, sqrt_pullback, positive;
        test_cbrt: cbrt, cbrt_pullback, any;
        test_sin: sin, sin_pullback, any;
        test_cos: cos, cos_pullback, any;
        test_tan: tan, tan_pullback, unit;
        test_asin: asin, asin_pullback, unit;
        test_acos: acos, acos_pullback, unit;
        test_atan: atan, atan_pullback, any;
        test_sinh: sinh, sinh_pullback, any;
        test_cosh: cosh, cosh_pullback, any;
        test_tanh: tanh, tanh_pullback, any;
        test_abs: abs, abs_pullback, any;
        test_recip: recip, recip_pullback, any;
        test_ln_1p: ln_1p, ln_1p_pullback, positive;
        test_exp_m1: exp_m1, exp_m1_pullback, any;
        test_asinh: asinh, asinh_pullback, any;
        test_acosh: acosh, acosh_pullback, above_one;
        test_atanh: atanh, atanh_pullback, unit;
        test_to_radians: to_radians, to_radians_pullback, any;
        test_to_degrees: to_degrees, to_degrees_pullback, any;
        test_floor: floor, floor_pullback, any;
        test_ceil: ceil, ceil_pullback, any;
        test_round: round, round_pullback, any;
        test_trunc: trunc, trunc_pullback, any;
        test_signum: signum, signum_pullback, any;
        test_fract: fract, fract_pullback, any;
    }

    macro_rules! binary_tests {
        ($($test:ident: $method:ident, $lhs:ident, $rhs:ident, $domain:ident;)*) => {$(
            #[test]
            fn $test() {
                fd_binary(f64::$method, rules::$lhs, rules::$rhs, $domain);
            }
        )*};
    }

    binary_tests! {
        test_max: max, max_pullback_lhs, max_pullback_rhs, any;
        test_min: min, min_pullback_lhs, min_pullback_rhs, any;
        test_atan2: atan2, atan2_pullback_lhs, atan2_pullback_rhs, any;
        test_hypot: hypot, hypot_pullback_lhs, hypot_pullback_rhs, any;
        test_log: log, log_pullback_lhs, log_pullback_rhs, positive;
        test_copysign: copysign, copysign_pullback_lhs, copysign_pullback_rhs, any;
        test_rem_euclid: rem_euclid, rem_euclid_pullback_lhs, rem_euclid_pullback_rhs, any;
    }

    #[test]
    fn test_powi() {
        for n in [0, 1, 3, -2] {
            let x = random((2, 3), 6);
            let w = random((2, 3), 7);
            let g = rules::powi_pullback(&x, n, &x.mapv(|x| x.powi(n)), &w);
            let r = check(|x: &Array2<f64>| weighted(&w, &x.mapv(|x| x.powi(n))), x, g);
            assert!(r.is_close(1e-7), "n = {n}: {r}");
        }
    }

    // ndarray's `powf(n)`: one exponent for every element, whose gradient
    // is the sum over them.
    #[test]
    fn test_powf_with_one_exponent() {
        let x = random((2, 3), 12).mapv(positive);
        let w = random((2, 3), 13);
        for p in [1.5, -0.75] {
            let y = x.mapv(|x| x.powf(p));
            let g = (
                rules::powf_pullback_lhs(&x, &p, &y, &w),
                rules::powf_pullback_rhs(&x, &p, &y, &w),
            );
            let f = |(x, p): &(Array2<f64>, f64)| weighted(&w, &x.mapv(|x| x.powf(*p)));
            check(f, (x.clone(), p), g).assert_close(1e-8);
        }
    }

    #[test]
    fn test_mul_add() {
        let (x, a, b) = (random((2, 3), 8), random((2, 3), 9), random((2, 3), 10));
        let w = random((2, 3), 11);
        let g = (
            rules::mul_add_pullback_x(&x, &a, &b, &w),
            rules::mul_add_pullback_a(&x, &a, &b, &w),
            rules::mul_add_pullback_b(&x, &a, &b, &w),
        );
        let f = |(x, a, b): &(Array2<f64>, Array2<f64>, Array2<f64>)| {
            let y = ndarray::Zip::from(x)
                .and(a)
                .and(b)
                .map_collect(|&x, &a, &b| x.mul_add(a, b));
            weighted(&w, &y)
        };
        check(f, (x, a, b), g).assert_close(1e-8);
    }

    #[test]
    fn test_clamp() {
        // Bounds lo ≤ 0 ≤ hi, and x twice as spread: some inside, some
        // clamped at either end.
        let x = random((3, 4), 14).mapv(|v| 2.0 * v);
        let lo = random((3, 4), 15).mapv(|v| -v.abs());
        let hi = random((3, 4), 16).mapv(f64::abs);
        let w = random((3, 4), 17);
        let g = (
            rules::clamp_pullback_x(&x, &lo, &hi, &w),
            rules::clamp_pullback_lo(&x, &lo, &hi, &w),
            rules::clamp_pullback_hi(&x, &lo, &hi, &w),
        );
        for taken in [&g.0, &g.1, &g.2] {
            assert!(taken.iter().any(|&g| g != 0.0), "{g:?}");
        }
        let f = |(x, lo, hi): &(Array2<f64>, Array2<f64>, Array2<f64>)| {
            let y = ndarray::Zip::from(x)
                .and(lo)
                .and(hi)
                .map_collect(|&x, &lo, &hi| x.clamp(lo, hi));
            weighted(&w, &y)
        };
        check(f, (x, lo, hi), g).assert_close(1e-8);
    }

    #[test]
    fn test_float_rules_f32_and_kinks() {
        let x = random((2, 2), 12).mapv(|v| v as f32);
        let w = random((2, 2), 13).mapv(|v| v as f32);
        let g = rules::tanh_pullback(&x.view(), &x.mapv(f32::tanh), &w);
        let r = check(|x: &Array2<f32>| weighted_f32(&w, &x.mapv(f32::tanh)), x, g);
        assert!(r.is_close(1e-2), "{r}");
        // The scalar conventions hold elementwise: abs at 0, max ties.
        let x = array![0.0_f64, -2.0, 3.0];
        let d = array![1.0, 1.0, 1.0];
        assert_eq!(
            rules::abs_pullback(&x, &x.mapv(f64::abs), &d),
            array![0.0, -1.0, 1.0]
        );
        let p = array![0.0, 1.0, 3.0];
        let y = array![0.0, 1.0, 3.0];
        assert_eq!(
            rules::max_pullback_lhs(&x, &p, &y, &d),
            array![1.0, 0.0, 1.0]
        );
        assert_eq!(
            rules::max_pullback_rhs(&x, &p, &y, &d),
            array![0.0, 1.0, 0.0]
        );
    }

    #[test]
    #[should_panic = "mismatch"]
    fn test_float_rules_shape_mismatch() {
        let x = array![1.0_f64, 2.0];
        let _ = rules::exp_pullback(&x, &array![1.0, 2.0, 3.0], &array![1.0, 2.0]);
    }
}
