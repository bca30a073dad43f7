//! `#[grad]` through every `f32`/`f64` method with a derivative rule beyond
//! the foundation's (`ln_1p exp_m1 asinh acosh atanh to_radians to_degrees`,
//! `log copysign rem_euclid`, `clamp`, and the piecewise-constant `floor ceil
//! round trunc fract signum`): each checked against central finite
//! differences of the plain function (`autodiff::check`), never against the
//! crate's own output, and at its kinks against the documented convention.

use autodiff::{Scalar, check, check_with, grad};

#[path = "support/hvp.rs"]
mod hvp_check;
use hvp_check::assert_hvp_matches;

// ---------------------------------------------------------------- one function per method

macro_rules! method_tests {
    ($($test:ident: |$x:ident, $p:ident| $body:expr, at $points:expr;)*) => {$(
        #[test]
        fn $test() {
            #[grad]
            fn f($x: f64, $p: f64) -> f64 {
                $body
            }
            for &(x, p) in $points {
                let (y, g) = f_grad(x, p);
                assert_eq!(y.to_bits(), f(x, p).to_bits(), "value at ({x}, {p})");
                check(|&(x, p)| f(x, p), (x, p), g).assert_close(1e-6);
            }
        }
    )*};
}

const ANY: &[(f64, f64)] = &[(0.3, -1.7), (-1.5, 0.4), (2.5, 3.0), (-0.2, -0.9)];
const POSITIVE: &[(f64, f64)] = &[(0.3, 1.7), (1.5, 0.4), (2.5, 3.0)];
const UNIT: &[(f64, f64)] = &[(0.3, -0.4), (-0.7, 0.2), (0.05, 0.9)];
/// `x > −1`, the domain of `ln_1p`.
const ABOVE_MINUS_ONE: &[(f64, f64)] = &[(-0.5, 1.3), (0.3, -0.7), (2.5, 3.0)];
/// `x > 1`, the domain of `acosh`.
const ABOVE_ONE: &[(f64, f64)] = &[(1.2, 0.4), (3.0, -1.5), (10.0, 2.0)];
/// Away from the integers and half-integers, where `floor ceil round trunc
/// fract` jump, and from 0, where `signum` does.
const BETWEEN_STEPS: &[(f64, f64)] = &[(0.3, -1.7), (-1.2, 0.4), (2.7, 3.1), (-0.2, -0.9)];
/// Away from the multiples of `p`, where `x.rem_euclid(p)` jumps.
const REMAINDERS: &[(f64, f64)] = &[(5.3, 2.0), (-5.3, 2.0), (5.3, -2.0), (-0.7, 0.3)];

method_tests! {
    test_ln_1p: |x, p| x.ln_1p() * p, at ABOVE_MINUS_ONE;
    test_exp_m1: |x, p| x.exp_m1() * p, at ANY;
    test_asinh: |x, p| x.asinh() * p, at ANY;
    test_acosh: |x, p| x.acosh() * p, at ABOVE_ONE;
    test_atanh: |x, p| x.atanh() * p, at UNIT;
    test_to_radians: |x, p| x.to_radians().sin() * p, at ANY;
    test_to_degrees: |x, p| x.to_degrees() * p, at ANY;
    test_log: |x, p| x.log(p), at POSITIVE;
    test_log_constant_base: |x, p| x.log(3.0) * p, at POSITIVE;
    test_copysign: |x, p| x.copysign(p) * p, at ANY;
    test_rem_euclid: |x, p| x.rem_euclid(p) * x, at REMAINDERS;
    test_floor: |x, p| (x.floor() + x) * p, at BETWEEN_STEPS;
    test_ceil: |x, p| (x.ceil() - x) * p, at BETWEEN_STEPS;
    test_round: |x, p| x.round() * p + x, at BETWEEN_STEPS;
    test_trunc: |x, p| x.trunc() * x * p, at BETWEEN_STEPS;
    test_fract: |x, p| x.fract() * p, at BETWEEN_STEPS;
    test_signum: |x, p| x.signum() * x * p, at BETWEEN_STEPS;
    test_qualified: |x, p| f64::ln_1p(x * x) + f64::copysign(p, x) + f64::log(p * p, 2.0), at ANY;
}

// ---------------------------------------------------------------- clamp

#[grad]
fn clamped(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi) * x
}

#[test]
fn test_clamp_against_finite_differences() {
    for &(x, lo, hi) in &[
        (0.5, -1.0, 1.0),
        (-2.0, -1.0, 1.0),
        (3.0, -1.0, 1.0),
        (0.25, 0.0, 0.5),
    ] {
        let (y, g) = clamped_grad(x, lo, hi);
        assert_eq!(y, clamped(x, lo, hi));
        check(|&(x, lo, hi)| clamped(x, lo, hi), (x, lo, hi), g).assert_close(1e-6);
    }
}

#[grad]
fn just_clamp(x: f64, lo: f64, hi: f64) -> f64 {
    x.clamp(lo, hi)
}

/// Ties with a bound: the whole adjoint to the receiver, as `max`/`min` ties
/// go to the receiver (`x.clamp(lo, hi)` routes as `x.max(lo).min(hi)`).
#[test]
fn test_clamp_ties_go_to_the_receiver() {
    assert_eq!(just_clamp_grad(-1.0, -1.0, 1.0).1, (1.0, 0.0, 0.0));
    assert_eq!(just_clamp_grad(1.0, -1.0, 1.0).1, (1.0, 0.0, 0.0));
    assert_eq!(just_clamp_grad(0.5, 0.5, 0.5).1, (1.0, 0.0, 0.0));
    assert_eq!(just_clamp_grad(-3.0, -1.0, 1.0).1, (0.0, 1.0, 0.0));
    assert_eq!(just_clamp_grad(3.0, -1.0, 1.0).1, (0.0, 0.0, 1.0));
    assert_eq!(
        min_max_grad(-1.0, -1.0, 1.0).1,
        just_clamp_grad(-1.0, -1.0, 1.0).1
    );
    assert_eq!(
        min_max_grad(1.0, -1.0, 1.0).1,
        just_clamp_grad(1.0, -1.0, 1.0).1
    );
}

#[grad]
fn min_max(x: f64, lo: f64, hi: f64) -> f64 {
    x.max(lo).min(hi)
}

/// Constant bounds, written as `f64::clamp(x, lo, hi)` too.
#[grad]
fn clamp_constant_bounds(x: f64) -> f64 {
    x.clamp(-0.5, 0.5) + f64::clamp(x * x, 0.0, 1.0)
}

#[test]
fn test_clamp_with_constant_bounds() {
    for x in [-2.0, -0.3, 0.2, 0.9, 1.5] {
        let (_, g) = clamp_constant_bounds_grad(x);
        check(|x: &f64| clamp_constant_bounds(*x), x, g).assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- kinks, as documented

#[grad]
fn steps(x: f64) -> f64 {
    x.floor() + x.ceil() + x.round() + x.trunc() + x.signum()
}

#[grad]
fn sawtooth(x: f64) -> f64 {
    x.fract()
}

#[grad]
fn sign_of(x: f64, sign: f64) -> f64 {
    x.copysign(sign)
}

#[grad]
fn wrap(x: f64, r: f64) -> f64 {
    x.rem_euclid(r)
}

#[test]
fn test_kinks_follow_the_documented_conventions() {
    // Piecewise constant: 0 everywhere, at the jumps too.
    for x in [-2.0, -0.5, -0.0, 0.0, 0.5, 1.0, 2.5, 1e300] {
        assert_eq!(steps_grad(x).1, 0.0, "at {x}");
        // fract: slope 1, also where it jumps.
        assert_eq!(sawtooth_grad(x).1, 1.0, "at {x}");
    }
    // copysign: ±1 by sign agreement (the sign bit), 0 at x = ±0, nothing to
    // the sign.
    assert_eq!(sign_of_grad(2.0, 3.0).1, (1.0, 0.0));
    assert_eq!(sign_of_grad(2.0, -3.0).1, (-1.0, 0.0));
    assert_eq!(sign_of_grad(-2.0, -0.0).1, (1.0, 0.0));
    assert_eq!(sign_of_grad(0.0, -3.0).1, (0.0, 0.0));
    // rem_euclid: 1 to x; −q to r, q the quotient of the branch taken, also
    // on a jump (x a multiple of r: the value is 0, q = x / r).
    assert_eq!(wrap_grad(-5.5, 2.0).1, (1.0, 3.0));
    assert_eq!(wrap_grad(6.0, 2.0).1, (1.0, -3.0));
    assert_eq!(wrap_grad(6.0, -2.0).1, (1.0, 3.0));
}

// ---------------------------------------------------------------- in loops and branches

/// Angles in degrees, wrapped into one turn, through the smooth new methods:
/// in a loop, where the reverse sweep keeps what the pullbacks read.
#[grad]
fn wrapped_angles(theta: &[f64], scale: f64, lo: f64) -> f64 {
    let mut s = 0.0;
    for t in theta.iter() {
        let deg = (t * scale).to_degrees();
        let turn = deg.rem_euclid(360.0).to_radians();
        let bounded = turn.sin().clamp(lo, 0.9);
        let r = bounded.atanh() + (t * t + 1.5).acosh();
        s += r.asinh() * deg.floor().signum() + (r * 0.1).exp_m1() + turn.ln_1p();
        s = s.copysign(*t) * (deg.fract().abs() + 1.0).log(10.0 + scale);
    }
    s
}

#[test]
fn test_methods_in_a_loop_against_finite_differences() {
    let theta = vec![0.3, 1.7, -2.2, 4.1, 0.9];
    for &(scale, lo) in &[(1.1, -0.5), (0.7, 0.1), (2.3, -0.95)] {
        let (y, g) = wrapped_angles_grad(&theta, scale, lo);
        assert_eq!(y, wrapped_angles(&theta, scale, lo));
        // Degrees make the curvature large (sin of 57·θ): the default step's
        // truncation error is ~1e-6 here, a step of 1e-6 brings it to ~1e-8.
        check_with(
            1e-6,
            |(t, s, l): &(Vec<f64>, f64, f64)| wrapped_angles(t, *s, *l),
            (theta.clone(), scale, lo),
            g,
        )
        .assert_close(1e-6);
    }
}

#[grad]
fn piecewise(x: f64, y: f64) -> f64 {
    let t = if x > 1.0 {
        x.acosh() * y.round()
    } else if x > -1.0 {
        x.atanh().copysign(y) + x.trunc()
    } else {
        (-x).ln_1p().clamp(y, 2.0 * y.abs() + 1.0)
    };
    t * y.exp_m1()
}

#[test]
fn test_methods_in_branches_against_finite_differences() {
    for &(x, y) in &[
        (2.5, 0.3),
        (0.4, -1.2),
        (-0.6, 0.8),
        (-3.0, 0.2),
        (-3.0, 1.7),
    ] {
        let (value, g) = piecewise_grad(x, y);
        assert_eq!(value, piecewise(x, y));
        check(|&(x, y)| piecewise(x, y), (x, y), g).assert_close(1e-6);
    }
}

/// The loop variable is a `&f64` into the slice: the methods' receivers and
/// operands are references.
#[grad]
fn over_references(xs: &[f64], lo: f64, hi: f64) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        s +=
            x.floor() * x.ln_1p() + x.clamp(lo, hi) * x.copysign(lo) + x.rem_euclid(hi) + x.log(hi);
    }
    s
}

#[test]
fn test_methods_on_references_in_a_loop() {
    let xs = vec![0.3, 1.7, 2.2, 4.1];
    for &(lo, hi) in &[(0.5, 3.3), (-1.0, 1.5)] {
        let (_, g) = over_references_grad(&xs, lo, hi);
        check(
            |(xs, lo, hi): &(Vec<f64>, f64, f64)| over_references(xs, *lo, *hi),
            (xs.clone(), lo, hi),
            g,
        )
        .assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- f32

#[grad]
fn single_precision(x: f32, y: f32) -> f32 {
    x.ln_1p() * y.asinh() + x.clamp(-1.0, 1.0) * y.floor() + x.copysign(y) + y.to_degrees()
}

#[test]
fn test_f32_methods() {
    for &(x, y) in &[(0.75_f32, 1.25_f32), (-0.4, -2.6), (3.0, 0.4)] {
        let (value, (dx, dy)) = single_precision_grad(x, y);
        assert_eq!(value, single_precision(x, y));
        check(|&(x, y)| single_precision(x, y), (x, y), (dx, dy)).assert_close(1e-3);
    }
}

#[grad]
fn single_precision_binary(x: f32, b: f32) -> f32 {
    x.log(b) + x.rem_euclid(b) * x.atanh().exp_m1() + (x * 60.0).to_radians().fract()
}

#[test]
fn test_f32_binary_methods() {
    for &(x, b) in &[(0.3_f32, 2.5_f32), (0.8, 1.7)] {
        let (_, g) = single_precision_binary_grad(x, b);
        check(|&(x, b)| single_precision_binary(x, b), (x, b), g).assert_close(1e-3);
    }
}

// ---------------------------------------------------------------- constants in a body

#[grad]
fn with_constants(x: f64) -> f64 {
    (x * std::f64::consts::PI).sin() * std::f64::consts::E
        + x * core::f64::consts::LN_2
        + f64::EPSILON * x
        + (x + f64::MIN_POSITIVE).ln()
}

#[grad]
fn with_constants_f32(x: f32) -> f32 {
    (x * core::f32::consts::FRAC_PI_2).cos() + f32::EPSILON * x + x * std::f32::consts::SQRT_2
}

/// `f64::consts::PI` names the `f64` module once it is imported (without the
/// import it is an ambiguous associated type, in plain Rust too).
mod imported {
    use autodiff::grad;
    use std::{f32, f64};

    #[grad]
    pub fn with_constants(x: f64) -> f64 {
        (x * f64::consts::PI).sin() * f64::consts::E
    }

    #[grad]
    pub fn with_constants_f32(x: f32) -> f32 {
        x * f32::consts::LN_10
    }
}

#[test]
fn test_float_constants_in_a_body() {
    use std::f64::consts::{E, LN_2, PI};
    for x in [0.3, 1.0, 2.5] {
        let (y, g) = with_constants_grad(x);
        assert_eq!(y, with_constants(x));
        let want = PI * (x * PI).cos() * E + LN_2 + f64::EPSILON + 1.0 / (x + f64::MIN_POSITIVE);
        assert!((g - want).abs() <= 1e-15 * want.abs(), "{g} vs {want}");
        check(|x: &f64| with_constants(*x), x, g).assert_close(1e-6);

        let (y, g) = imported::with_constants_grad(x);
        assert_eq!(y, imported::with_constants(x));
        let want = PI * (x * PI).cos() * E;
        assert!((g - want).abs() <= 1e-15 * want.abs(), "{g} vs {want}");
    }
    let (_, g) = with_constants_f32_grad(0.5);
    let want = -std::f32::consts::FRAC_PI_2 * (0.5 * std::f32::consts::FRAC_PI_2).sin()
        + f32::EPSILON
        + std::f32::consts::SQRT_2;
    assert!((g - want).abs() <= 1e-6, "{g} vs {want}");
    assert_eq!(
        imported::with_constants_f32_grad(0.5).1,
        std::f32::consts::LN_10
    );
}

// ---------------------------------------------------------------- Hessian-vector products

/// Smooth new methods, and `clamp`, in a generic function: its Hessian-vector
/// product runs the rules at dual numbers.
#[grad(hvp)]
fn smooth<T: Scalar>(x: T, y: T) -> T {
    let two = T::one() + T::one();
    x.ln_1p() * y.asinh()
        + (x * y).exp_m1()
        + x.atanh() * (y * y + two).acosh()
        + x.clamp(-T::one(), T::one()) * y * y
        + (x * y).to_degrees().to_radians()
        + (x * x + T::one()).log(two + y * y)
}

/// H·v against central differences of the gradient, (∇f(x + hv) − ∇f(x − hv)) / 2h.
#[test]
fn test_hvp_of_the_new_methods_against_differences_of_the_gradient() {
    for &(x, y) in &[(0.3_f64, 0.7_f64), (0.6, -1.1), (-0.4, 1.9)] {
        for (vx, vy) in [(1.0, 0.0), (0.0, 1.0), (0.6, -0.8)] {
            let (value, hv) = smooth_hvp(x, y, vx, vy);
            assert!((value - smooth(x, y)).abs() < 1e-13, "{value}");
            assert_hvp_matches(hv, |x, y| smooth_grad(x, y).1, (x, y), (vx, vy));
        }
    }
}
