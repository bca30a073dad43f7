//! `#[grad]` on straight-line scalar code: every construct the foundation
//! supports, each function checked against an analytic derivative or central
//! finite differences (`autodiff::check`), never against the crate's own output.

use autodiff::{check, grad, relu, sigmoid, silu, softplus};

/// Units in the last place between `got` and `want`.
fn ulps(got: f64, want: f64) -> u64 {
    assert!(
        got.is_finite() && want.is_finite() && got.signum() == want.signum(),
        "{got} vs {want}"
    );
    got.to_bits().abs_diff(want.to_bits())
}

// ---------------------------------------------------------------- the seed example

#[grad]
fn logistic(x: f64, a: f64, b: f64) -> f64 {
    sigmoid(a * x + b)
}

#[test]
#[allow(clippy::excessive_precision)] // the digits as computed; rustc rounds them
fn test_logistic_exact_to_4_ulp() {
    // Exact values from 40-digit arithmetic (mpmath: z = 7, σ'(z) = σ(z)(1 − σ(z))).
    const Y: f64 = 0.999_088_948_805_599_354_642_136_7;
    const DX: f64 = 0.002_730_663_540_365_479_546_091_578;
    const DA: f64 = 0.001_820_442_360_243_653_030_727_719;
    const DB: f64 = 0.000_910_221_180_121_826_515_363_859_4;
    let (y, (dx, da, db)) = logistic_grad(2.0, 3.0, 1.0);
    assert!(ulps(y, Y) <= 1, "y = {y}");
    assert!(ulps(dx, DX) <= 4, "dy/dx = {dx}, {} ulp", ulps(dx, DX));
    assert!(ulps(da, DA) <= 4, "dy/da = {da}, {} ulp", ulps(da, DA));
    assert!(ulps(db, DB) <= 4, "dy/db = {db}, {} ulp", ulps(db, DB));
    assert_eq!(y, logistic(2.0, 3.0, 1.0), "f_grad's value is f's value");
}

#[test]
fn test_logistic_against_finite_differences() {
    for &(x, a, b) in &[
        (2.0, 3.0, 1.0),
        (-1.5, 0.5, 0.25),
        (0.0, -2.0, 3.0),
        (10.0, 1.0, -12.0),
    ] {
        let (_, g) = logistic_grad(x, a, b);
        check(|&(x, a, b)| logistic(x, a, b), (x, a, b), g).assert_close(1e-6);
    }
}

#[test]
fn test_logistic_vjp_scales_with_the_seed() {
    // The analytic gradient times the seed: d/dθ (s·σ(ax + b)).
    let (x, a, b, s) = (0.5, -1.25, 0.75, -3.0);
    let z: f64 = a * x + b;
    let dz = (-z).exp() / (1.0 + (-z).exp()).powi(2);
    let (y, (dx, da, db)) = logistic_vjp(x, a, b, s);
    assert!((y - 1.0 / (1.0 + (-z).exp())).abs() < 1e-15);
    for (got, want) in [(dx, s * a * dz), (da, s * x * dz), (db, s * dz)] {
        assert!(
            (got - want).abs() <= 1e-15 * want.abs().max(1.0),
            "{got} vs {want}"
        );
    }
}

// ---------------------------------------------------------------- float methods and primitives

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

const POSITIVE: &[(f64, f64)] = &[(0.3, 1.7), (1.5, 0.4), (2.5, 3.0)];
const UNIT: &[(f64, f64)] = &[(0.3, -0.4), (-0.7, 0.2), (0.05, 0.9)];
const ANY: &[(f64, f64)] = &[(0.3, -1.7), (-1.5, 0.4), (2.5, 3.0), (-0.2, -0.9)];

method_tests! {
    test_exp: |x, p| x.exp() * p, at ANY;
    test_exp2: |x, p| x.exp2() + p, at ANY;
    test_ln: |x, p| x.ln() * p, at POSITIVE;
    test_log2: |x, p| x.log2() - p, at POSITIVE;
    test_log10: |x, p| p * x.log10(), at POSITIVE;
    test_sqrt: |x, p| x.sqrt() / p, at POSITIVE;
    test_cbrt: |x, p| x.cbrt() * p, at ANY;
    test_sin: |x, p| x.sin() * p, at ANY;
    test_cos: |x, p| x.cos() * p, at ANY;
    test_tan: |x, p| x.tan() + p * p, at UNIT;
    test_asin: |x, p| x.asin() * p, at UNIT;
    test_acos: |x, p| x.acos() * p, at UNIT;
    test_atan: |x, p| x.atan() * p, at ANY;
    test_sinh: |x, p| x.sinh() * p, at ANY;
    test_cosh: |x, p| x.cosh() * p, at ANY;
    test_tanh: |x, p| x.tanh() * p, at ANY;
    test_abs: |x, p| x.abs() * p, at ANY;
    test_recip: |x, p| x.recip() * p, at POSITIVE;
    test_powi: |x, p| x.powi(3) * p + x.powi(-2), at POSITIVE;
    test_powf: |x, p| x.powf(p), at POSITIVE;
    test_max: |x, p| x.max(p) * x, at ANY;
    test_min: |x, p| x.min(p) * p, at ANY;
    test_atan2: |x, p| x.atan2(p), at ANY;
    test_hypot: |x, p| x.hypot(p), at ANY;
    test_mul_add: |x, p| x.mul_add(p, x * p), at ANY;
    test_qualified_method: |x, p| f64::exp(x) * f64::powf(p, 2.0), at POSITIVE;
    test_sigmoid: |x, p| sigmoid(x * p), at ANY;
    test_relu: |x, p| relu(x) * p + relu(p - x), at ANY;
    test_softplus: |x, p| softplus(x) - softplus(x * p), at ANY;
    test_silu: |x, p| silu(x * p) + p * silu(x - p), at ANY;
}

/// Primitives called by their path, with nothing imported.
mod by_path {
    #[autodiff::grad]
    pub fn f(x: f64, p: f64) -> f64 {
        autodiff::sigmoid(x) + ::autodiff::softplus(p) * autodiff::relu(x)
    }
}

#[test]
fn test_primitive_by_path() {
    for &(x, p) in ANY {
        let (_, g) = by_path::f_grad(x, p);
        check(|&(x, p)| by_path::f(x, p), (x, p), g).assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- language constructs

#[grad]
fn lets_and_shadowing(x: f64, y: f64) -> f64 {
    let t: f64 = x * y;
    let u = t + 1.0;
    let t = t * u; // shadows, and reads the old `t`
    let x = x - t; // shadows a parameter
    (x * t) / (u * u)
}

#[test]
fn test_let_shadowing_and_type_annotations() {
    // Analytic: t = xy, u = t + 1, t2 = t·u, x2 = x − t2, f = x2·t2 / u².
    let (x, y) = (0.7_f64, -1.3_f64);
    let (_, (dx, dy)) = lets_and_shadowing_grad(x, y);
    let f = |x: f64, y: f64| {
        let t = x * y;
        let u = t + 1.0;
        let t2 = t * u;
        (x - t2) * t2 / (u * u)
    };
    check(|&(x, y)| f(x, y), (x, y), (dx, dy)).assert_close(1e-6);
}

#[grad]
#[allow(clippy::assign_op_pattern)] // `y = y + 1.0` is the construct under test
fn mutation(x: f64, mut y: f64) -> f64 {
    let mut s = x;
    s = s * s; // x²
    s += y; // x² + y
    s -= 0.5 * x; // x² + y − x/2
    s *= y; // (x² + y − x/2)·y
    y = y + 1.0;
    s /= y; // … / (y + 1)
    s
}

#[test]
fn test_mut_reassignment_and_compound_assignment() {
    for &(x, y) in &[(0.5, 2.0), (-1.0, 0.25), (3.0, -3.0)] {
        let q: f64 = x * x + y - 0.5 * x;
        let want_dx = (2.0 * x - 0.5) * y / (y + 1.0);
        let want_dy = ((q + y) * (y + 1.0) - q * y) / ((y + 1.0) * (y + 1.0));
        let (value, (dx, dy)) = mutation_grad(x, y);
        assert!((value - q * y / (y + 1.0)).abs() < 1e-14);
        assert!((dx - want_dx).abs() < 1e-12, "{dx} vs {want_dx}");
        assert!((dy - want_dy).abs() < 1e-12, "{dy} vs {want_dy}");
    }
}

#[grad]
fn constants_and_casts(x: f64, n: usize, k: i32, flag: bool) -> f64 {
    const SCALE: f64 = 0.5;
    let m = n as f64; // a cast of a constant
    let sign = if flag { 1.0 } else { -1.0 }; // control flow on constants only
    let count = (k * 2) as f64;
    -(SCALE * m * x * x) + sign * count * x + core::f64::consts::PI
}

#[test]
fn test_integer_and_bool_parameters_are_constants() {
    let (x, n, k) = (1.5, 3, 2);
    // f = −m x²/2 ± 2k x + π: df/dx = −m x ± 2k.
    let (y, dx) = constants_and_casts_grad(x, n, k, true);
    assert_eq!(y, constants_and_casts(x, n, k, true));
    assert!((dx - (-3.0 * x + 4.0)).abs() < 1e-14);
    let (_, dx) = constants_and_casts_grad(x, n, k, false);
    assert!((dx - (-3.0 * x - 4.0)).abs() < 1e-14);
}

#[grad]
#[allow(clippy::needless_return)] // a final `return` is the construct under test
fn blocks_and_return(x: f64, y: f64) -> f64 {
    let inner = {
        let s = x.sin();
        s * y
    };
    debug_assert!(
        inner.is_finite(),
        "statement macros run in the forward sweep"
    );
    return inner + x * y;
}

#[test]
fn test_block_expressions_and_final_return() {
    let (x, y) = (0.4, -2.0);
    let (_, (dx, dy)) = blocks_and_return_grad(x, y);
    assert!((dx - (x.cos() * y + y)).abs() < 1e-15);
    assert!((dy - (x.sin() + x)).abs() < 1e-15);
}

#[grad]
fn reuse(x: f64) -> f64 {
    x * x * x - x
}

#[test]
fn test_a_value_used_many_times_accumulates() {
    for x in [-2.0, 0.0, 0.5, 3.0] {
        let (_, dx) = reuse_grad(x);
        assert_eq!(dx, 3.0 * x * x - 1.0);
    }
}

#[grad]
fn unused_and_constant(x: f64, _unused: f64) -> f64 {
    let c = 2.0 * 3.0;
    c * x
}

#[test]
fn test_unused_parameter_has_zero_gradient() {
    assert_eq!(unused_and_constant_grad(1.0, 5.0), (6.0, (6.0, 0.0)));
}

#[grad]
fn identity(x: f64) -> f64 {
    x
}

#[grad]
fn negation(x: f64, y: f64) -> f64 {
    -(x * y) + -x
}

#[test]
fn test_identity_and_negation() {
    assert_eq!(identity_grad(3.0), (3.0, 1.0));
    assert_eq!(identity_vjp(3.0, -2.5), (3.0, -2.5));
    assert_eq!(negation_grad(2.0, 5.0), (-12.0, (-6.0, -2.0)));
}

#[grad]
fn by_reference(x: &f64, y: f64) -> f64 {
    *x * y + x.exp()
}

#[test]
fn test_reference_parameters() {
    let (x, y) = (0.3, 1.2);
    let (_, (dx, dy)) = by_reference_grad(&x, y);
    assert!((dx - (y + x.exp())).abs() < 1e-15);
    assert!((dy - x).abs() < 1e-15);
}

// ---------------------------------------------------------------- wrt

#[grad(wrt(a))]
fn only_a(x: f64, a: f64) -> f64 {
    (a * x).sin()
}

#[grad(wrt(b, x))]
fn wrt_order(x: f64, a: f64, b: f64) -> f64 {
    x * a * b * b
}

#[test]
fn test_wrt_selects_parameters_in_parameter_order() {
    let (x, a) = (0.8, 1.3);
    let (_, da) = only_a_grad(x, a);
    assert!((da - x * (a * x).cos()).abs() < 1e-15);
    // Gradients come in parameter order (x, b), whatever the order in wrt(...).
    let (_, (dx, db)) = wrt_order_grad(2.0, 3.0, 5.0);
    assert_eq!((dx, db), (75.0, 60.0));
}

// ---------------------------------------------------------------- calls

mod physics {
    use autodiff::grad;

    #[grad]
    pub fn kinetic(m: f64, v: f64) -> f64 {
        0.5 * m * v * v
    }

    pub mod nested {
        use autodiff::grad;

        #[grad(wrt(h))]
        pub fn potential(m: f64, h: f64, g: f64) -> f64 {
            m * g * h
        }
    }
}

#[grad]
fn energy(m: f64, v: f64, h: f64) -> f64 {
    physics::kinetic(m, v) + physics::nested::potential(9.0, h * m, 9.81)
}

#[test]
fn test_calls_of_grad_functions_across_modules() {
    let (m, v, h) = (2.0, 3.0, 1.5);
    let (e, (dm, dv, dh)) = energy_grad(m, v, h);
    assert!((e - (0.5 * m * v * v + 9.0 * 9.81 * h * m)).abs() < 1e-12);
    // E = m v²/2 + 9·9.81·h·m: dE/dm = v²/2 + 9·9.81·h, dE/dv = m v, dE/dh = 9·9.81·m.
    assert!((dm - (0.5 * v * v + 9.0 * 9.81 * h)).abs() < 1e-12);
    assert!((dv - m * v).abs() < 1e-12);
    assert!((dh - 9.0 * 9.81 * m).abs() < 1e-12);
}

#[grad]
fn square(x: f64) -> f64 {
    x * x
}

#[grad]
fn composed(x: f64) -> f64 {
    let y = square(x);
    square(y) + square(2.0) * y
}

#[test]
fn test_nested_calls_and_constant_arguments() {
    // f = x⁴ + 4x²: f' = 4x³ + 8x.
    for x in [-1.5, 0.0, 0.5, 2.0] {
        let (_, dx) = composed_grad(x);
        assert_eq!(dx, 4.0 * x * x * x + 8.0 * x);
    }
}

struct Spring {
    k: f64,
}

impl Spring {
    #[grad]
    fn energy(&self, x: f64) -> f64 {
        0.5 * self.k * x * x
    }

    #[grad]
    fn stretched(k: f64, x: f64) -> f64 {
        Self::scaled(k, x) + 1.0
    }

    #[grad]
    fn scaled(k: f64, x: f64) -> f64 {
        k * x.powi(2)
    }

    #[grad]
    fn total(&self, x: f64, y: f64) -> f64 {
        self.energy(x) + self.energy(y) * x
    }
}

#[test]
fn test_associated_functions_and_methods() {
    let spring = Spring { k: 4.0 };
    let (e, dx) = spring.energy_grad(1.5);
    assert_eq!((e, dx), (4.5, 6.0));
    let (_, (dk, dx)) = Spring::stretched_grad(2.0, 3.0);
    assert_eq!((dk, dx), (9.0, 12.0));
    // total = k x²/2 + (k y²/2)·x: d/dx = k x + k y²/2, d/dy = k y x.
    let (_, (dx, dy)) = spring.total_grad(1.0, 2.0);
    assert_eq!((dx, dy), (4.0 + 8.0, 8.0));
}

// ---------------------------------------------------------------- f32

#[grad]
fn single_precision(x: f32, y: f32) -> f32 {
    sigmoid(x * y) + (x / y).ln() + softplus(y)
}

#[test]
fn test_f32_functions() {
    let (x, y) = (0.75_f32, 1.25_f32);
    let (value, (dx, dy)) = single_precision_grad(x, y);
    assert_eq!(value, single_precision(x, y));
    // Analytic, in f64: d/dx = y σ'(xy) + 1/x, d/dy = x σ'(xy) − 1/y + σ(y).
    let (xd, yd) = (f64::from(x), f64::from(y));
    let s = |z: f64| 1.0 / (1.0 + (-z).exp());
    let ds = |z: f64| s(z) * s(-z);
    let want_dx = yd * ds(xd * yd) + 1.0 / xd;
    let want_dy = xd * ds(xd * yd) - 1.0 / yd + s(yd);
    assert!((f64::from(dx) - want_dx).abs() < 1e-6, "{dx} vs {want_dx}");
    assert!((f64::from(dy) - want_dy).abs() < 1e-6, "{dy} vs {want_dy}");
    check(|&(x, y)| single_precision(x, y), (x, y), (dx, dy)).assert_close(1e-3);
}

// ---------------------------------------------------------------- a longer program

#[grad]
fn black_scholes_call(spot: f64, strike: f64, rate: f64, vol: f64, t: f64) -> f64 {
    let sqrt_t = t.sqrt();
    let d1 = ((spot / strike).ln() + (rate + 0.5 * vol * vol) * t) / (vol * sqrt_t);
    let d2 = d1 - vol * sqrt_t;
    spot * normal_cdf(d1) - strike * (-rate * t).exp() * normal_cdf(d2)
}

/// Φ(x) through a logistic approximation smooth enough to differentiate.
#[grad]
fn normal_cdf(x: f64) -> f64 {
    sigmoid(1.702 * x)
}

#[test]
fn test_black_scholes_greeks_against_finite_differences() {
    let at = (100.0, 95.0, 0.03, 0.2, 0.75);
    let (_, g) = black_scholes_call_grad(at.0, at.1, at.2, at.3, at.4);
    let report = check(|&(s, k, r, v, t)| black_scholes_call(s, k, r, v, t), at, g);
    report.assert_close(1e-6);
}

/// Differential testing found it: a literal re-assigned to a `mut` variable
/// lost its `f64` type in the generated code (`{float}` has no `sin`).
mod issue6_literal_reassignment {
    use autodiff::{check, grad};

    #[grad]
    #[allow(unused_assignments)] // the overwritten values are the point
    fn f(x: f64, mut y: f64) -> f64 {
        let mut m = x;
        m = 0.5;
        y = 2.0 * 1.5;
        m.sin() * x + y.ln() * x
    }

    #[test]
    fn test_literal_reassignment_keeps_the_type() {
        let x = 1.3;
        let (value, g) = f_grad(x, 7.0);
        assert_eq!(value, f(x, 7.0));
        // f = sin(0.5)·x + ln(3)·x: the gradient wrt x is constant, wrt y zero.
        assert_eq!(g, (0.5_f64.sin() + 3.0_f64.ln(), 0.0));
        check(|&(x, y)| f(x, y), (x, 7.0), g).assert_close(1e-6);
    }
}
