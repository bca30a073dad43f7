//! The expansion of `#[grad]` triggers no lint in the user's crate
//! (STYLE.md §5, after `thiserror/tests/test_lints.rs`): with these lints
//! denied, any lint that generated code sets off fails the build.
//!
//! The functions cover the shapes of generated code: several differentiated
//! parameters, a constant integer parameter, `wrt(...)`, a reference
//! parameter, re-assignment and shadowing, a call of another `#[grad]`
//! function, a method, and `f32`. Only `_grad` is used, so the unused `_vjp`
//! and the hidden pullback must not raise `dead_code` either.

#![deny(
    unused_qualifications,
    unused_variables,
    unused_mut,
    unused_assignments,
    unused_parens,
    unused_braces,
    unused_imports,
    unused_results,
    unused_lifetimes,
    unreachable_code,
    dead_code,
    non_snake_case,
    trivial_casts,
    trivial_numeric_casts,
    elided_lifetimes_in_paths,
    single_use_lifetimes,
    redundant_semicolons,
    let_underscore_drop,
    missing_docs
)]

use autodiff::{grad, sigmoid};

/// `σ(a·x + b)`.
#[grad]
#[must_use]
pub fn logistic(x: f64, a: f64, b: f64) -> f64 {
    sigmoid(a * x + b)
}

/// `x^n`, differentiated in `x` only.
#[grad(wrt(x))]
fn power(x: f64, n: i32) -> f64 {
    x.powi(n)
}

/// `w·x`, with `x` a constant.
#[grad(wrt(w))]
fn weight(w: f64, x: f64) -> f64 {
    w * x
}

/// `x² + x`, through a reference.
#[grad]
#[allow(clippy::trivially_copy_pass_by_ref)] // the reference is what is tested
fn by_ref(x: &f64) -> f64 {
    *x * *x + *x
}

/// `2·e^(3·(sin x + x))`, by re-assignment, compound assignment and
/// shadowing.
#[grad]
fn reassign(x: f64) -> f64 {
    let mut y = x;
    y = y.sin() + x;
    y *= 3.0;
    let y = y.exp();
    y * 2.0
}

/// `(x²)²`, through another `#[grad]` function.
#[grad]
fn fourth(x: f64) -> f64 {
    let y = power(x, 2);
    y * y
}

/// A scaled quadratic.
struct Quadratic {
    scale: f64,
}

impl Quadratic {
    /// `scale·x²`.
    #[grad]
    fn at(&self, x: f64) -> f64 {
        self.scale * x * x
    }
}

/// `tanh(x)` in single precision.
#[grad]
fn single(x: f32) -> f32 {
    x.tanh()
}

#[test]
#[allow(clippy::float_cmp)] // the exact comparisons are of small integers
fn test_lints() {
    let (y, (dx, da, db)) = logistic_grad(2.0, 3.0, 1.0);
    assert!((y - sigmoid(7.0_f64)).abs() < 1e-15);
    assert!((dx - 3.0 * y * (1.0 - y)).abs() < 1e-12);
    assert!((da - 2.0 * y * (1.0 - y)).abs() < 1e-12);
    assert!((db - y * (1.0 - y)).abs() < 1e-12);

    assert_eq!(power_grad(3.0, 2), (9.0, 6.0));
    assert_eq!(power(3.0, 2), 9.0);
    assert_eq!(weight_grad(2.0, 5.0), (10.0, 5.0));
    assert_eq!(weight(2.0, 5.0), 10.0);
    assert_eq!(by_ref_grad(&3.0), (12.0, 7.0));
    assert_eq!(by_ref(&3.0), 12.0);
    let x = 0.5_f64;
    let e = (3.0 * (x.sin() + x)).exp();
    let (value, dx) = reassign_grad(x);
    assert!((value - 2.0 * e).abs() < 1e-12 * e);
    assert!((dx - 6.0 * e * (x.cos() + 1.0)).abs() < 1e-12 * e);
    assert_eq!(reassign(0.0), 2.0);
    assert_eq!(fourth_grad(2.0), (16.0, 32.0));
    assert_eq!(fourth(2.0), 16.0);
    let quadratic = Quadratic { scale: 2.0 };
    assert_eq!(quadratic.at_grad(3.0), (18.0, 12.0));
    assert_eq!(quadratic.at(3.0), 18.0);
    let (value, dx) = single_grad(0.5);
    assert!((value - 0.5_f32.tanh()).abs() < 1e-6);
    assert!((dx - (1.0 - value * value)).abs() < 1e-6);
    assert_eq!(single(0.0), 0.0);
}
