//! `#[custom_vjp]`: derivatives written by hand, and `#[grad]` functions
//! that call them. Each checked against central finite differences or the
//! calculus.

use autodiff::{check, custom_vjp, grad, sigmoid};

/// ln(1 + eˣ) without overflow: `ln_1p` has no rule, so this function is
/// differentiable only through its hand-written rule.
#[custom_vjp(log1pexp_vjp)]
fn log1pexp(x: f64) -> f64 {
    if x > 0.0 {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// d/dx ln(1 + eˣ) = σ(x), stable everywhere.
fn log1pexp_vjp(x: f64, seed: f64) -> (f64, f64) {
    (log1pexp(x), seed * sigmoid(x))
}

#[test]
fn test_stable_rule_at_extremes_and_against_finite_differences() {
    for x in [-3.0, -0.5, 0.25, 2.0, 15.0] {
        let (value, d) = log1pexp_grad(x);
        assert_eq!(value, log1pexp(x));
        check(|&x: &f64| log1pexp(x), x, d).assert_close(1e-6);
    }
    // Where e^x overflows and e^-x underflows: the exact limits.
    assert_eq!(log1pexp_grad(800.0), (800.0, 1.0));
    let (value, d) = log1pexp_grad(-800.0);
    assert_eq!((value, d), (0.0, 0.0));
    // The `_vjp` is the hand-written function itself.
    assert_eq!(log1pexp_vjp(1.0, 3.0).1, 3.0 * sigmoid(1.0));
}

#[grad(wrt(w, b))]
fn logistic_loss(w: f64, b: f64, x: f64, y: f64) -> f64 {
    let z = w * x + b;
    log1pexp(z) - y * z
}

/// A `#[grad]` function calls the rule, as it calls another `#[grad]` one.
#[test]
fn test_grad_function_uses_the_rule() {
    for (x, y) in [(1.5, 1.0), (-2.0, 0.0), (400.0, 1.0)] {
        let (w, b) = (0.75, -0.25);
        let (value, (dw, db)) = logistic_loss_grad(w, b, x, y);
        assert_eq!(value, logistic_loss(w, b, x, y));
        let residual = sigmoid(w * x + b) - y;
        assert!((dw - residual * x).abs() <= 1e-12 * (residual * x).abs().max(1.0));
        assert!((db - residual).abs() <= 1e-12);
    }
}

/// The real root of y³ + y = a, by Newton's method behind a closure (which
/// `#[grad]` rejects): differentiable only through its rule, from the
/// implicit function theorem, dy/da = 1 / (3y² + 1).
#[custom_vjp(solve_cubic_vjp)]
fn solve_cubic(a: f64) -> f64 {
    (0..60).fold(a.cbrt(), |y, _| {
        y - (y * y * y + y - a) / (3.0 * y * y + 1.0)
    })
}

fn solve_cubic_vjp(a: f64, seed: f64) -> (f64, f64) {
    let y = solve_cubic(a);
    (y, seed / (3.0 * y * y + 1.0))
}

#[grad]
fn through_solver(a: f64, c: f64) -> f64 {
    let y = solve_cubic(a * c);
    y * y + c
}

#[test]
fn test_opaque_solver_through_its_rule() {
    for (a, c) in [(2.0, 0.5), (-1.0, 3.0), (10.0, 1.0)] {
        let (value, (da, dc)) = through_solver_grad(a, c);
        assert_eq!(value, through_solver(a, c));
        check(
            |&(a, c): &(f64, f64)| through_solver(a, c),
            (a, c),
            (da, dc),
        )
        .assert_close(1e-6);
    }
}

/// A rule for some parameters only; the others are constants.
#[custom_vjp(scaled_power_vjp, wrt(x, s))]
fn scaled_power(x: f64, n: i32, s: f64) -> f64 {
    s * x.powi(n)
}

fn scaled_power_vjp(x: f64, n: i32, s: f64, seed: f64) -> (f64, (f64, f64)) {
    let dx = s * f64::from(n) * x.powi(n - 1);
    (scaled_power(x, n, s), (seed * dx, seed * x.powi(n)))
}

#[grad(wrt(x))]
fn uses_scaled_power(x: f64) -> f64 {
    scaled_power(x, 3, 2.0).sin()
}

#[test]
fn test_rule_with_constant_parameters() {
    let (_, (dx, ds)) = scaled_power_grad(1.5, 3, 2.0);
    assert_eq!((dx, ds), (2.0 * 3.0 * 1.5 * 1.5, 1.5_f64.powi(3)));
    let (value, dx) = scaled_power_vjp(1.5, 3, 2.0, 0.5);
    assert_eq!(value, scaled_power(1.5, 3, 2.0));
    assert_eq!(dx.0, 0.5 * 2.0 * 3.0 * 1.5 * 1.5);
    let (value, dx) = uses_scaled_power_grad(0.7);
    assert_eq!(value, uses_scaled_power(0.7));
    check(|&x: &f64| uses_scaled_power(x), 0.7, dx).assert_close(1e-6);
}

/// A generic `x: T` is a float of the caller's choice, differentiated by
/// default, as in `#[grad]`; the integer is a constant.
#[custom_vjp(scaled_cube_rule)]
fn scaled_cube<T: autodiff::Scalar>(x: T, k: i32) -> T {
    x.powi(3) * T::from(k).expect("a small integer")
}

fn scaled_cube_rule<T: autodiff::Scalar>(x: T, k: i32, seed: T) -> (T, T) {
    let k_t = T::from(k).expect("a small integer");
    (
        scaled_cube(x, k),
        seed * T::from(3).expect("3") * k_t * x * x,
    )
}

#[test]
fn test_generic_parameter_is_differentiated_by_default() {
    let (value, dx) = scaled_cube_grad::<f64>(1.5, 2);
    assert_eq!(value, scaled_cube(1.5, 2));
    check(|&x: &f64| scaled_cube(x, 2), 1.5, dx).assert_close(1e-6);
    let (_, dx32) = scaled_cube_grad::<f32>(1.5, 2);
    check(|&x: &f32| scaled_cube(x, 2), 1.5, dx32).assert_close(1e-2);
}

/// A `#[cfg]`'d function with a rule: compiled in, its derivative is there;
/// compiled out, nothing of it is (`gone_rule` does not exist). rustc strips
/// an item whose `cfg` is false before the attribute runs (even written after
/// it), so that the attribute copies the `cfg`s it sees onto what it
/// generates is checked on the expansion, in autodiff-macros'
/// `custom_vjp_carries_cfg`.
#[custom_vjp(gone_rule)]
#[cfg(not(test))]
fn gone(x: f64) -> f64 {
    x
}

#[custom_vjp(kept_rule)]
#[cfg(test)]
fn kept(x: f64) -> f64 {
    x * x
}

#[cfg(test)]
fn kept_rule(x: f64, seed: f64) -> (f64, f64) {
    (kept(x), seed * 2.0 * x)
}

#[test]
fn test_cfg_is_carried_onto_the_generated_functions() {
    let (value, dx) = kept_grad(3.0);
    assert_eq!(value, 9.0);
    check(|&x: &f64| kept(x), 3.0, dx).assert_close(1e-6);
    assert_eq!(kept_vjp(3.0, 0.5).1, 3.0);
}
