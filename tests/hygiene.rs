//! Hygiene (STYLE.md §5): no name the user declares can change what
//! `#[grad]`-generated code means.
//!
//! This file shadows what generated code could name without an absolute path
//! (`core`, the prelude's `Result`/`Ok`/`Some`/`None`/`Option`, the runtime's
//! rule and trait names, even the `autodiff` crate itself), and the
//! functions below use parameters and locals named like the generated ones
//! (`seed`, `t0`, `y`, `g`, `d_x`, ...). Every gradient is then compared
//! with its derivative worked out by hand.
//!
//! If generated code named anything by a relative path or a plain
//! identifier, this file would not compile, or would compute the wrong
//! gradient.

// The shadowing items are never used, and the locals below exist for their
// names, so they are bound and returned as they are.
#![allow(
    dead_code,
    clippy::let_and_return,
    clippy::assign_op_pattern,
    clippy::needless_range_loop
)]

// `::autodiff` still reaches the crate; plain `autodiff` is the module below.
use ::autodiff::grad;

// Shadow `core`, the crate itself and a guess at a private module name.
mod core {}
mod autodiff {}
mod autodiff_private {}
mod __private {}
mod rules {}

// Shadow the prelude.
struct Result;
struct Ok;
struct Err;
struct Some;
struct None;
struct Option;
struct Vec;
struct Box;
struct Default;
struct Clone;
struct Copy;
struct Fn;
struct FnOnce;

// Shadow the runtime's names.
struct NotDifferentiated;
struct Differentiable;
struct Accumulate;
struct ScalarOutput;
struct IsGradient;
struct Basis;
struct Scale;
fn one_like() {}
fn scaled() {}
fn elem_zero() {}
fn accumulate_at() {}
fn basis() {}
fn one() {}
fn zero() {}
fn accumulate() {}
fn callee_gradient() {}
fn mul_pullback() {}
fn mul_pullback_lhs() {}
fn add_pullback_lhs() {}
fn sin_pullback() {}
fn runtime_fn() {}
fn no_last() {}
fn last() {}
mod runtime {}

/// Relative tolerance: the generated gradient does the same arithmetic as the
/// hand-derived one, up to reassociation.
const TOL: f64 = 1e-12;

fn assert_close(actual: f64, expected: f64) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= TOL * scale,
        "got {actual}, expected {expected}"
    );
}

fn assert_close_f32(actual: f32, expected: f32) {
    let scale = expected.abs().max(1.0);
    assert!(
        (actual - expected).abs() <= 1e-5 * scale,
        "got {actual}, expected {expected}"
    );
}

// f = x·y + sin x;  ∂f/∂x = y + cos x,  ∂f/∂y = x
#[grad]
fn product_sine(x: f64, y: f64) -> f64 {
    x * y + x.sin()
}

// A parameter named like the `_vjp` seed.
// f = x·seed + sin x;  ∂f/∂x = seed + cos x,  ∂f/∂seed = x
#[grad]
fn with_seed(x: f64, seed: f64) -> f64 {
    x * seed + x.sin()
}

// Locals named like generated temporaries, adjoints and pullback results.
// f = x·e^(a·x) + x·sin x
// ∂f/∂x = e^(a·x) + a·x·e^(a·x) + sin x + x·cos x,  ∂f/∂a = x²·e^(a·x)
#[grad]
fn generated_names(x: f64, a: f64) -> f64 {
    let t0 = a * x;
    let d_x = t0.exp();
    let t1 = x.sin();
    let y = d_x + t1;
    let g = y * x;
    let d_t0 = g;
    d_t0
}

// Locals named like the macro's invented locals, with the `__` prefix.
// f = 3·x²;  ∂f/∂x = 6·x
#[grad]
fn dunder_names(x: f64) -> f64 {
    let __seed = x * x;
    let __adj_x = 3.0;
    let __tape = __seed * __adj_x;
    __tape
}

// A callee whose parameter is named `seed`, and a caller whose locals are
// named like the pullback's results.
// inner = sin(seed);  outer = sin²x;  ∂outer/∂x = 2·sin x·cos x
#[grad]
fn inner(seed: f64) -> f64 {
    seed.sin()
}

#[grad]
fn outer(x: f64) -> f64 {
    let g = inner(x);
    let g_1 = g;
    let d_g = g * g_1;
    d_g
}

// Re-assignment, compound assignment and shadowing of the parameter's name.
// y = 3x + x = 4x, then x ↦ x² ↦ e^(x²): f = e^(x²) + 4x
// ∂f/∂x = 2x·e^(x²) + 4
#[grad]
fn shadowing(x: f64) -> f64 {
    let mut y = x;
    y = y * 3.0;
    y += x;
    let x = x * x;
    let x = x.exp();
    x + y
}

// `f32`, with a local named `seed`.
// f = tanh(2x);  ∂f/∂x = 2·(1 − tanh²(2x))
#[grad]
fn single_precision(x: f32) -> f32 {
    let seed = x * 2.0;
    seed.tanh()
}

// A constant parameter named `y` beside the differentiated one.
// f = x·y;  ∂f/∂x = y
#[grad(wrt(x))]
fn constant_named_y(x: f64, y: f64) -> f64 {
    x * y
}

#[test]
fn test_product_sine() {
    let (x, y): (f64, f64) = (0.7, -1.3);
    let (value, (dx, dy)) = product_sine_grad(x, y);
    assert_close(value, x * y + x.sin());
    assert_close(dx, y + x.cos());
    assert_close(dy, x);
}

#[test]
fn test_with_seed() {
    let (x, seed): (f64, f64) = (1.1, 2.5);
    let (value, (dx, dseed)) = with_seed_grad(x, seed);
    assert_close(value, x * seed + x.sin());
    assert_close(dx, seed + x.cos());
    assert_close(dseed, x);

    // The user's `seed` parameter and the vjp's own seed are distinct.
    let s = -0.75;
    let (value, (dx, dseed)) = with_seed_vjp(x, seed, s);
    assert_close(value, x * seed + x.sin());
    assert_close(dx, s * (seed + x.cos()));
    assert_close(dseed, s * x);
}

#[test]
fn test_generated_names() {
    let (x, a): (f64, f64) = (0.4, 1.7);
    let e = (a * x).exp();
    let (value, (dx, da)) = generated_names_grad(x, a);
    assert_close(value, x * e + x * x.sin());
    assert_close(dx, e + a * x * e + x.sin() + x * x.cos());
    assert_close(da, x * x * e);
}

#[test]
fn test_dunder_names() {
    let x: f64 = -2.2;
    let (value, dx) = dunder_names_grad(x);
    assert_close(value, 3.0 * x * x);
    assert_close(dx, 6.0 * x);
}

#[test]
fn test_outer() {
    let x: f64 = 0.9;
    let (value, dx) = outer_grad(x);
    assert_close(value, x.sin() * x.sin());
    assert_close(dx, 2.0 * x.sin() * x.cos());

    let (value, dseed) = inner_grad(x);
    assert_close(value, x.sin());
    assert_close(dseed, x.cos());
}

#[test]
fn test_shadowing() {
    let x: f64 = 0.6;
    let (value, dx) = shadowing_grad(x);
    assert_close(value, (x * x).exp() + 4.0 * x);
    assert_close(dx, 2.0 * x * (x * x).exp() + 4.0);
}

#[test]
fn test_single_precision() {
    let x = 0.3_f32;
    let t = (2.0 * x).tanh();
    let (value, dx) = single_precision_grad(x);
    assert_close_f32(value, t);
    assert_close_f32(dx, 2.0 * (1.0 - t * t));
}

#[test]
fn test_constant_named_y() {
    let (value, dx) = constant_named_y_grad(1.5, -4.0);
    assert_close(value, -6.0);
    assert_close(dx, -4.0);
}

// Loops, split mode and the Jacobian, with parameters and locals named like
// what their generated code invents (`value`, `backward`, `rows`, `trip`,
// `next`, `last`, `acc_x`, `sum_x_0`, `tape_y`, `d_one`).
// f = (Σ value_i²)·backward, the loop summed;  ∂f/∂value_i = 2·value_i·backward
#[grad(split)]
fn loop_names(value: &[f64], backward: f64) -> f64 {
    let mut rows = 0.0;
    let trip = 0.0;
    let next = 1.0;
    for last in 0..value.len() {
        let acc_x = value[last];
        let sum_x_0 = acc_x * acc_x * next;
        rows += sum_x_0 + trip;
    }
    let tape_y = rows * backward;
    let d_one = tape_y;
    d_one
}

#[test]
fn test_loop_and_split_mode_names() {
    let value = [0.5, -1.5, 2.0];
    let (f, (dv, db)) = loop_names_grad(&value, 3.0);
    assert_close(f, 6.5 * 3.0);
    for (d, v) in dv.iter().zip(&value) {
        assert_close(*d, 2.0 * v * 3.0);
    }
    assert_close(db, 6.5);
    let (f2, backward) = loop_names_forward(&value, 3.0);
    assert_close(f2, f);
    assert_close(backward(2.0).1, 13.0);
    let (_, rows) = loop_names_jacobian(&value, 3.0);
    assert_eq!(rows.len(), 1);
    assert_close(rows[0].1, 6.5);
}

// A `#[grad]` function of the user's own named like a runtime primitive,
// called by a path: differentiated as the user's function, not by the
// runtime's rule for `sigmoid` (called by one word, that name is the
// runtime's, and a function of one's own by it is a compile error:
// `tests/ui/names/own-primitive-name.rs`).
mod own {
    use ::autodiff::grad;

    // f = 3·x²;  ∂f/∂x = 6·x
    #[grad]
    pub fn sigmoid(x: f64) -> f64 {
        3.0 * x * x
    }
}

// g = own::sigmoid(x) + σ(x);  ∂g/∂x = 6·x + σ(x)·σ(−x)
#[grad]
fn own_and_runtime_sigmoid(x: f64) -> f64 {
    own::sigmoid(x) + ::autodiff::sigmoid(x)
}

#[test]
fn test_own_function_named_like_a_primitive() {
    let x = 0.7_f64;
    let (value, dx) = own_and_runtime_sigmoid_grad(x);
    let s = 1.0 / (1.0 + (-x).exp());
    assert_close(value, 3.0 * x * x + s);
    assert_close(dx, 6.0 * x + s * (1.0 - s));
}
