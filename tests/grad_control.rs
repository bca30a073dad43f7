//! `#[grad]` on control flow: branches, `match`, every kind of loop with
//! `break`, `continue` and early `return`, slice and array parameters, and
//! local vectors and arrays written element by element. Each function is
//! checked against an analytic derivative or central finite differences
//! (`autodiff::check`), never against the crate's own output, at points that
//! between them take every branch and every exit; the comment beside each
//! point names the path it takes. No point lies on a branch boundary, where a
//! finite difference would straddle two branches.

use autodiff::{check, grad};

/// Tolerance of the comparisons with analytic derivatives: relative above 1,
/// absolute below.
const TOL: f64 = 1e-9;

/// `got` is `want` to within `TOL · max(1, |want|)`.
fn assert_near(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= TOL * want.abs().max(1.0),
        "{what}: got {got}, want {want}"
    );
}

/// Element-wise [`assert_near`], lengths included.
fn assert_all_near(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_near(g, w, &format!("{what}[{i}]"));
    }
}

/// The logistic function, written out for the analytic references.
fn logistic(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

// ---------------------------------------------------------------- branches

#[grad]
fn if_else_chain(x: f64, y: f64) -> f64 {
    let mut s = x * y;
    if x > y {
        s = s * x + y.sin();
    } else if x * x < 2.0 && y > 0.0 {
        s = s.exp() - y;
    } else {
        s += x.cos() * y;
    }
    s * 0.5 + x
}

/// `if` / `else if` / `else` as a statement re-assigning an outer `let mut`.
#[test]
fn test_if_else_if_else_statement() {
    for &(x, y) in &[
        (2.0, 0.5),    // x > y: first branch
        (0.5, 1.0),    // x ≤ y, x² < 2 and y > 0: `else if`
        (-2.0, -1.0),  // x ≤ y, x² ≥ 2 (`&&` stops at once): `else`
        (-0.5, -0.25), // x ≤ y, x² < 2 but y ≤ 0: `else`
    ] {
        let (value, (dx, dy)) = if_else_chain_grad(x, y);
        assert_eq!(value, if_else_chain(x, y), "value at ({x}, {y})");
        let (want_dx, want_dy) = if x > y {
            // f = (x²y + sin y)/2 + x
            (x * y + 1.0, 0.5 * (x * x + y.cos()))
        } else if x * x < 2.0 && y > 0.0 {
            // f = (e^(xy) − y)/2 + x
            let e = (x * y).exp();
            (0.5 * y * e + 1.0, 0.5 * (x * e - 1.0))
        } else {
            // f = (xy + y cos x)/2 + x
            (0.5 * (y - y * x.sin()) + 1.0, 0.5 * (x + x.cos()))
        };
        assert_near(dx, want_dx, "df/dx");
        assert_near(dy, want_dy, "df/dy");
        check(|&(x, y)| if_else_chain(x, y), (x, y), (dx, dy)).assert_close(1e-6);
    }
}

#[grad]
fn if_expression(x: f64) -> f64 {
    let y = if x > 0.0 { x * x } else { -x };
    y * x.sin()
}

/// `if` as an expression whose value is bound with `let`.
#[test]
fn test_if_expression() {
    for x in [
        1.3,  // x > 0: y = x²
        0.2,  // x > 0: y = x²
        -0.7, // x ≤ 0: y = −x
        -2.5, // x ≤ 0: y = −x
    ] {
        let (value, dx) = if_expression_grad(x);
        assert_eq!(value, if_expression(x), "value at {x}");
        let want = if x > 0.0 {
            2.0 * x * x.sin() + x * x * x.cos()
        } else {
            -x.sin() - x * x.cos()
        };
        assert_near(dx, want, "df/dx");
        check(|&x: &f64| if_expression(x), x, dx).assert_close(1e-6);
    }
}

#[grad]
fn nested_ifs(x: f64, y: f64) -> f64 {
    let mut r = x + y;
    if x > 0.0 {
        if y > 0.0 {
            r *= x * y;
        } else {
            r = r * r - y;
        }
    } else {
        let t = if y > x { y - x } else { x - y };
        if t > 1.0 {
            r /= t;
        }
    }
    r
}

/// `if`s nested in both arms of an `if`, one of them an `if` expression.
#[test]
fn test_nested_ifs() {
    for &(x, y) in &[
        (1.0, 2.0),    // x > 0, y > 0: r·xy
        (1.5, -0.5),   // x > 0, y ≤ 0: r² − y
        (-1.0, 2.0),   // x ≤ 0, y > x, t = 3 > 1: r/t
        (-0.5, -3.0),  // x ≤ 0, y ≤ x, t = 2.5 > 1: r/t
        (-0.25, 0.25), // x ≤ 0, y > x, t = 0.5 ≤ 1: r unchanged
        (-1.0, -1.5),  // x ≤ 0, y ≤ x, t = 0.5 ≤ 1: r unchanged
    ] {
        let (value, (dx, dy)) = nested_ifs_grad(x, y);
        assert_eq!(value, nested_ifs(x, y), "value at ({x}, {y})");
        let (want_dx, want_dy) = if x > 0.0 && y > 0.0 {
            // r = x²y + xy²
            (2.0 * x * y + y * y, x * x + 2.0 * x * y)
        } else if x > 0.0 {
            // r = (x + y)² − y
            (2.0 * (x + y), 2.0 * (x + y) - 1.0)
        } else if (y - x).abs() > 1.0 {
            // r = (x + y)/|y − x|
            let d = y - x;
            let sign = d.signum();
            (2.0 * y * sign / (d * d), -2.0 * x * sign / (d * d))
        } else {
            (1.0, 1.0)
        };
        assert_near(dx, want_dx, "dr/dx");
        assert_near(dy, want_dy, "dr/dy");
        check(|&(x, y)| nested_ifs(x, y), (x, y), (dx, dy)).assert_close(1e-6);
    }
}

#[grad]
fn if_without_else(x: f64, a: f64) -> f64 {
    let mut y = a * x;
    if y > 1.0 {
        y = y.ln() + 1.0;
    }
    y * a
}

/// An `if` without `else` that may or may not re-assign a variable.
#[test]
fn test_if_without_else() {
    for &(x, a) in &[
        (2.0, 1.5),  // ax = 3 > 1: the `if` runs
        (0.5, 1.0),  // ax = 0.5 ≤ 1: it does not
        (-3.0, 0.4), // ax = −1.2 ≤ 1: it does not
    ] {
        let (value, (dx, da)) = if_without_else_grad(x, a);
        assert_eq!(value, if_without_else(x, a), "value at ({x}, {a})");
        let (want_dx, want_da) = if a * x > 1.0 {
            // f = a·ln(ax) + a
            (a / x, (a * x).ln() + 2.0)
        } else {
            // f = a²x
            (a * a, 2.0 * a * x)
        };
        assert_near(dx, want_dx, "df/dx");
        assert_near(da, want_da, "df/da");
        check(|&(x, a)| if_without_else(x, a), (x, a), (dx, da)).assert_close(1e-6);
    }
}

#[grad]
fn if_on_constant_flag(x: f64, y: f64, flag: bool) -> f64 {
    let mut z = x * y;
    if flag {
        z = z.sin() * x;
    } else {
        z += y.exp();
    }
    z
}

/// An `if` on a constant `bool` parameter whose arms compute differentiated values.
#[test]
fn test_if_on_constant_bool() {
    let (x, y) = (0.8, -1.1);
    // flag: z = x·sin(xy)
    let (value, (dx, dy)) = if_on_constant_flag_grad(x, y, true);
    assert_eq!(value, if_on_constant_flag(x, y, true));
    let c = (x * y).cos();
    assert_near(dx, (x * y).sin() + x * y * c, "dz/dx, flag");
    assert_near(dy, x * x * c, "dz/dy, flag");
    check(|&(x, y)| if_on_constant_flag(x, y, true), (x, y), (dx, dy)).assert_close(1e-6);
    // !flag: z = xy + e^y
    let (value, (dx, dy)) = if_on_constant_flag_grad(x, y, false);
    assert_eq!(value, if_on_constant_flag(x, y, false));
    assert_near(dx, y, "dz/dx, !flag");
    assert_near(dy, x + y.exp(), "dz/dy, !flag");
    check(|&(x, y)| if_on_constant_flag(x, y, false), (x, y), (dx, dy)).assert_close(1e-6);
}

#[grad]
fn match_on_constant(x: f64, k: usize) -> f64 {
    let y = match k {
        0 => x.sin(),
        1 | 2 => x * x * k as f64,
        _ => x.exp() / k as f64,
    };
    y + x
}

/// `match` on an integer constant parameter, with an or-pattern and `_`.
#[test]
fn test_match_on_integer_constant() {
    let x = 0.6;
    for k in [
        0, // arm `0`
        1, // arm `1 | 2`
        2, // arm `1 | 2`
        3, // arm `_`
        7, // arm `_`
    ] {
        let (value, dx) = match_on_constant_grad(x, k);
        assert_eq!(value, match_on_constant(x, k), "value at k = {k}");
        let kf = k as f64;
        let want = match k {
            0 => x.cos() + 1.0,
            1 | 2 => 2.0 * kf * x + 1.0,
            _ => x.exp() / kf + 1.0,
        };
        assert_near(dx, want, &format!("df/dx at k = {k}"));
        check(|&x: &f64| match_on_constant(x, k), x, dx).assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- for loops

#[grad]
fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        s += 100.0 * t * t + (1.0 - x[i]).powi(2);
    }
    s
}

/// ∂/∂xᵢ of the Rosenbrock function, from its formula.
fn rosenbrock_gradient_at(x: &[f64], i: usize) -> f64 {
    let mut g = 0.0;
    if i + 1 < x.len() {
        g += -400.0 * x[i] * (x[i + 1] - x[i] * x[i]) - 2.0 * (1.0 - x[i]);
    }
    if i > 0 {
        g += 200.0 * (x[i] - x[i - 1] * x[i - 1]);
    }
    g
}

/// `for i in 0..x.len() - 1` over a `&[f64]`, indexing `x[i]` and `x[i + 1]`.
#[test]
fn test_for_range_over_slice_rosenbrock() {
    for x in [
        vec![-1.2, 1.0],                 // one trip, the classic start
        vec![1.1, 0.9, 1.3],             // two trips
        vec![0.3, -0.8, 1.7, 0.05, 2.2], // four trips
    ] {
        let (value, g) = rosenbrock_grad(&x);
        assert_eq!(value, rosenbrock(&x), "value at {x:?}");
        let want: Vec<f64> = (0..x.len())
            .map(|i| rosenbrock_gradient_at(&x, i))
            .collect();
        assert_all_near(&g, &want, "rosenbrock gradient");
        check(|x: &Vec<f64>| rosenbrock(x), x.clone(), &g).assert_close(1e-6);
    }
    // At the minimum, all ones, every term is exactly 0: so is the gradient.
    // (Not against finite differences: their truncation error, not the
    // gradient, sets the relative error there.)
    let (value, g) = rosenbrock_grad(&[1.0; 3]);
    assert_eq!(value, 0.0);
    assert_eq!(g, vec![0.0; 3]);
}

#[grad]
fn inclusive_range(x: f64, a: usize, b: usize) -> f64 {
    let mut s = 0.0;
    for i in a..=b {
        s += x.powi(i as i32) / (i as f64 + 1.0);
    }
    s
}

/// `for i in a..=b` with bounds known only at run time.
#[test]
fn test_for_inclusive_range_runtime_bounds() {
    let x = 0.7;
    for (a, b) in [
        (0, 3), // four trips, the first with x⁰
        (2, 5), // four trips
        (3, 3), // one trip
        (4, 2), // no trip: s = 0
    ] {
        let (value, dx) = inclusive_range_grad(x, a, b);
        assert_eq!(value, inclusive_range(x, a, b), "value at {a}..={b}");
        // d/dx Σ xⁱ/(i + 1) = Σ i·xⁱ⁻¹/(i + 1)
        let want: f64 = (a..=b)
            .filter(|&i| i > 0)
            .map(|i| i as f64 * x.powi(i as i32 - 1) / (i as f64 + 1.0))
            .sum();
        assert_near(dx, want, &format!("df/dx over {a}..={b}"));
        check(|&x: &f64| inclusive_range(x, a, b), x, dx).assert_close(1e-6);
    }
}

#[grad]
fn sum_of_squares(xs: &[f64], c: f64) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        s += (x - c) * (x - c);
    }
    s
}

/// `for x in xs.iter()`: the loop variable is a `&f64` into the slice.
#[test]
fn test_for_iter() {
    let xs = vec![0.5, -1.25, 2.0, 3.5];
    let c = 0.75;
    let (value, (dxs, dc)) = sum_of_squares_grad(&xs, c);
    assert_eq!(value, sum_of_squares(&xs, c));
    let want: Vec<f64> = xs.iter().map(|x| 2.0 * (x - c)).collect();
    assert_all_near(&dxs, &want, "df/dxs");
    assert_near(dc, -2.0 * xs.iter().map(|x| x - c).sum::<f64>(), "df/dc");
    check(
        |(xs, c): &(Vec<f64>, f64)| sum_of_squares(xs, *c),
        (xs.clone(), c),
        (dxs, dc),
    )
    .assert_close(1e-6);
}

#[grad]
fn weighted_by_index(xs: &[f64]) -> f64 {
    let mut s = 0.0;
    for (i, x) in xs.iter().enumerate() {
        s += (i as f64 + 1.0) * x.sin();
    }
    s
}

/// `for (i, x) in xs.iter().enumerate()`: a constant index beside the element.
#[test]
fn test_for_enumerate() {
    let xs = vec![0.3, -1.1, 2.4, 0.0, -0.6];
    let (value, g) = weighted_by_index_grad(&xs);
    assert_eq!(value, weighted_by_index(&xs));
    let want: Vec<f64> = xs
        .iter()
        .enumerate()
        .map(|(i, x)| (i as f64 + 1.0) * x.cos())
        .collect();
    assert_all_near(&g, &want, "df/dxs");
    check(|xs: &Vec<f64>| weighted_by_index(xs), xs, &g).assert_close(1e-6);
}

#[grad(wrt(w, b))]
fn logreg(w: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        let z = w * x + b;
        total += autodiff::softplus(z) - y * z;
    }
    total / xs.len() as f64
}

/// `for (x, y) in xs.iter().zip(ys)`: logistic-regression loss, gradient in `w`, `b` only.
#[test]
fn test_for_zip_logreg() {
    let xs = [0.5, -1.5, 2.0, 0.25, -0.75, 3.0];
    let ys = [1.0, 0.0, 1.0, 0.0, 0.3, 1.0];
    for &(w, b) in &[(0.5, -0.25), (-1.5, 2.0), (3.0, 0.1)] {
        let (value, (dw, db)) = logreg_grad(w, b, &xs, &ys);
        assert_eq!(value, logreg(w, b, &xs, &ys), "value at ({w}, {b})");
        // softplus' = σ: dL/dw = mean((σ(z) − y)·x), dL/db = mean(σ(z) − y).
        let n = xs.len() as f64;
        let residuals: Vec<f64> = xs
            .iter()
            .zip(&ys)
            .map(|(x, y)| logistic(w * x + b) - y)
            .collect();
        let want_dw = residuals.iter().zip(&xs).map(|(r, x)| r * x).sum::<f64>() / n;
        let want_db = residuals.iter().sum::<f64>() / n;
        assert_near(dw, want_dw, "dL/dw");
        assert_near(db, want_db, "dL/db");
        check(|&(w, b)| logreg(w, b, &xs, &ys), (w, b), (dw, db)).assert_close(1e-6);
    }
}

#[grad]
fn pairwise(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            s += x[i] * x[j] / (j - i) as f64;
        }
    }
    s
}

/// Nested `for` loops, the inner starting past the outer index: Σ over i < j of xᵢxⱼ/(j − i).
#[test]
fn test_nested_loops() {
    for x in [
        vec![0.4, -1.3, 2.2, 0.9, -0.5], // 4 + 3 + 2 + 1 + 0 inner trips
        vec![1.7],                       // the inner loop never runs
    ] {
        let (value, g) = pairwise_grad(&x);
        assert_eq!(value, pairwise(&x), "value at {x:?}");
        // ∂/∂xₖ = Σ over j ≠ k of xⱼ/|j − k|
        let want: Vec<f64> = (0..x.len())
            .map(|k| {
                (0..x.len())
                    .filter(|&j| j != k)
                    .map(|j| x[j] / k.abs_diff(j) as f64)
                    .sum()
            })
            .collect();
        assert_all_near(&g, &want, "df/dx");
        check(|x: &Vec<f64>| pairwise(x), x.clone(), &g).assert_close(1e-6);
    }
}

#[grad]
fn iterated_map(x: f64, a: f64, b: f64, n: usize) -> f64 {
    let mut y = x;
    for _ in 0..n {
        y = (y * a).sin() + b;
    }
    y
}

/// A loop that overwrites a carried value on every trip: y ← sin(a·y) + b.
#[test]
fn test_loop_overwriting_carried_value() {
    // Few enough trips that dy/dx (0.55 after 8) stays well above the noise
    // of a finite difference, and that the map's growing higher derivatives
    // leave its truncation error below 1e-8.
    let (x, a, b) = (0.9, 1.4, -0.3);
    for n in [
        0, // no trip: y = x
        1, // one trip
        5, // five trips
        8, // eight trips
    ] {
        let (value, (dx, da, db)) = iterated_map_grad(x, a, b, n);
        assert_eq!(value, iterated_map(x, a, b, n), "value at n = {n}");
        // Forward mode by hand: the tangents of y in x, a and b.
        let (mut y, mut ty) = (x, [1.0, 0.0, 0.0]);
        for _ in 0..n {
            let c = (a * y).cos();
            ty = [c * a * ty[0], c * (a * ty[1] + y), c * a * ty[2] + 1.0];
            y = (y * a).sin() + b;
        }
        assert_near(dx, ty[0], &format!("dy/dx at n = {n}"));
        assert_near(da, ty[1], &format!("dy/da at n = {n}"));
        assert_near(db, ty[2], &format!("dy/db at n = {n}"));
        check(
            |&(x, a, b)| iterated_map(x, a, b, n),
            (x, a, b),
            (dx, da, db),
        )
        .assert_close(1e-6);
    }
}

#[grad(wrt(x))]
fn loop_then_tail(x: f64, n: usize) -> f64 {
    let mut s = x * x;
    for i in 0..n {
        s = s * x + i as f64;
    }
    s + x
}

/// Loops that run zero times contribute nothing; the code around them keeps its gradient.
#[test]
fn test_zero_trip_loop() {
    let x = 1.3;
    // n = 0, no trip: f = x² + x
    let (value, dx) = loop_then_tail_grad(x, 0);
    assert_eq!(value, loop_then_tail(x, 0));
    assert_near(dx, 2.0 * x + 1.0, "df/dx, no trip");
    check(|&x: &f64| loop_then_tail(x, 0), x, dx).assert_close(1e-6);
    // n = 2, two trips: f = (x³ + 0)·x + 1 + x = x⁴ + 1 + x
    let (value, dx) = loop_then_tail_grad(x, 2);
    assert_eq!(value, loop_then_tail(x, 2));
    assert_near(dx, 4.0 * x * x * x + 1.0, "df/dx, two trips");
    check(|&x: &f64| loop_then_tail(x, 2), x, dx).assert_close(1e-6);
    // `for x in xs.iter()` over an empty slice: f = 0 whatever c
    let (value, (dxs, dc)) = sum_of_squares_grad(&[], 0.5);
    assert_eq!(value, sum_of_squares(&[], 0.5));
    assert_eq!(value, 0.0);
    assert!(dxs.is_empty(), "{dxs:?}");
    assert_eq!(dc, 0.0);
    // a one-element Rosenbrock: `0..x.len() - 1` is empty, f = 0
    let (value, g) = rosenbrock_grad(&[0.7]);
    assert_eq!(value, rosenbrock(&[0.7]));
    assert_eq!(value, 0.0);
    assert_eq!(g, vec![0.0]);
    // `a..=b` with a > b
    assert_eq!(inclusive_range_grad(x, 3, 1), (0.0, 0.0));
}

// ---------------------------------------------------------------- while, loop, break, return

#[grad]
fn grow_past_ten(x: f64) -> f64 {
    let mut y = x;
    while y < 10.0 {
        y = y * 1.5 + x;
    }
    y
}

/// A `while` loop whose condition, and so its trip count, depends on a differentiated value.
#[test]
fn test_while_active_condition() {
    for (x, trips) in [
        (0.5, 5),  // y: 0.5, 1.25, 2.375, 4.0625, 6.59375, 10.390625
        (2.0, 3),  // y: 2, 5, 9.5, 16.25
        (3.0, 2),  // y: 3, 7.5, 14.25
        (12.0, 0), // y = 12 ≥ 10: the body never runs
    ] {
        let (value, dx) = grow_past_ten_grad(x);
        assert_eq!(value, grow_past_ten(x), "value at {x}");
        // After k trips y = cₖ·x with c₀ = 1, cₖ₊₁ = 1.5·cₖ + 1: dy/dx = cₖ.
        let mut c = 1.0;
        for _ in 0..trips {
            c = 1.5 * c + 1.0;
        }
        assert_near(value, c * x, &format!("y at {x} after {trips} trips"));
        assert_near(dx, c, &format!("dy/dx at {x}"));
        check(|&x: &f64| grow_past_ten(x), x, dx).assert_close(1e-6);
    }
}

#[grad]
fn loop_until_large(x: f64, r: f64) -> f64 {
    let mut y = x;
    loop {
        y = y * r + x.sin();
        if y > 8.0 {
            break;
        }
    }
    y * y
}

/// `loop { … if cond { break; } }` with the condition on a differentiated value.
#[test]
fn test_loop_break() {
    for &(x, r, trips) in &[
        (1.0, 1.5, 4), // y: 2.34, 4.35, 7.37, 11.90
        (0.5, 2.0, 4), // y: 1.48, 3.44, 7.36, 15.19
        (9.0, 1.2, 1), // y: 11.21, breaks after the first trip
    ] {
        let (value, (dx, dr)) = loop_until_large_grad(x, r);
        assert_eq!(value, loop_until_large(x, r), "value at ({x}, {r})");
        // Forward mode by hand over the known trip count.
        let (mut y, mut ty) = (x, [1.0, 0.0]);
        for _ in 0..trips {
            ty = [r * ty[0] + x.cos(), r * ty[1] + y];
            y = y * r + x.sin();
        }
        assert!(y > 8.0, "{trips} trips at ({x}, {r})");
        assert_near(dx, 2.0 * y * ty[0], "df/dx");
        assert_near(dr, 2.0 * y * ty[1], "df/dr");
        check(|&(x, r)| loop_until_large(x, r), (x, r), (dx, dr)).assert_close(1e-6);
    }
}

#[grad]
fn log_of_positive_products(xs: &[f64], a: f64) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        let z = a * x;
        if z < 0.0 {
            continue;
        }
        s += (z + 1.0).ln();
    }
    s
}

/// `continue` inside an `if` in a `for` loop, on a differentiated condition.
#[test]
fn test_continue_in_for() {
    let xs = vec![1.0, -2.0, 0.5, -0.1, 3.0];
    for a in [
        0.7,  // skips the negative elements, 1 and 3
        -0.4, // skips the positive elements, 0, 2 and 4
    ] {
        let (value, (dxs, da)) = log_of_positive_products_grad(&xs, a);
        assert_eq!(value, log_of_positive_products(&xs, a), "value at a = {a}");
        // f = Σ over a·xᵢ ≥ 0 of ln(a·xᵢ + 1)
        let kept = |x: f64| a * x >= 0.0;
        let want: Vec<f64> = xs
            .iter()
            .map(|&x| if kept(x) { a / (a * x + 1.0) } else { 0.0 })
            .collect();
        let want_da: f64 = xs
            .iter()
            .filter(|&&x| kept(x))
            .map(|&x| x / (a * x + 1.0))
            .sum();
        assert_all_near(&dxs, &want, "df/dxs");
        assert_near(da, want_da, "df/da");
        check(
            |(xs, a): &(Vec<f64>, f64)| log_of_positive_products(xs, *a),
            (xs.clone(), a),
            (dxs, da),
        )
        .assert_close(1e-6);
    }
}

#[grad]
fn sum_until_limit(xs: &[f64], limit: f64) -> f64 {
    let mut s = 0.0;
    for x in xs.iter() {
        if *x > 0.0 {
            s += x * x;
            if s > limit {
                s /= limit;
                break;
            }
        } else {
            s -= x;
        }
    }
    s
}

/// `break` from inside an `if` nested in another `if`, after re-assigning.
#[test]
fn test_break_from_nested_if() {
    let xs = vec![0.5, -1.0, 1.5, 2.0, 0.3];
    // limit = 2: s = 0.25, 1.25, 3.5 > 2 at element 2: breaks with s/limit.
    let limit = 2.0;
    let (value, (dxs, dlimit)) = sum_until_limit_grad(&xs, limit);
    assert_eq!(value, sum_until_limit(&xs, limit));
    assert_near(value, 3.5 / 2.0, "value, break");
    assert_all_near(&dxs, &[0.5, -0.5, 1.5, 0.0, 0.0], "df/dxs, break");
    assert_near(dlimit, -3.5 / 4.0, "df/dlimit, break");
    check(
        |(xs, l): &(Vec<f64>, f64)| sum_until_limit(xs, *l),
        (xs.clone(), limit),
        (dxs, dlimit),
    )
    .assert_close(1e-6);
    // limit = 10: s ends at 7.59 without a break.
    let limit = 10.0;
    let (value, (dxs, dlimit)) = sum_until_limit_grad(&xs, limit);
    assert_eq!(value, sum_until_limit(&xs, limit));
    assert_near(value, 7.59, "value, no break");
    assert_all_near(&dxs, &[1.0, -1.0, 3.0, 4.0, 0.6], "df/dxs, no break");
    assert_near(dlimit, 0.0, "df/dlimit, no break");
    check(
        |(xs, l): &(Vec<f64>, f64)| sum_until_limit(xs, *l),
        (xs.clone(), limit),
        (dxs, dlimit),
    )
    .assert_close(1e-6);
}

#[grad]
fn first_crossing(xs: &[f64], t: f64) -> f64 {
    let mut s = 0.0;
    for v in xs.iter() {
        s += v.exp();
        if s > t {
            return s - t * v;
        }
    }
    s * t
}

/// Early `return` from inside a `for` loop, or the loop runs out.
#[test]
fn test_early_return_from_loop() {
    let xs: Vec<f64> = vec![0.1, 0.5, -0.3, 1.2];
    let e: Vec<f64> = xs.iter().map(|x| x.exp()).collect(); // 1.105, 1.649, 0.741, 3.320
    for (t, exit) in [
        (0.5, Some(0)), // Σ = 1.105 > 0.5 at element 0
        (2.5, Some(1)), // Σ = 2.754 > 2.5 at element 1
        (5.0, Some(3)), // Σ = 3.495, then 6.815 > 5 at element 3
        (100.0, None),  // Σ = 6.815 ≤ 100: the loop runs out
    ] {
        let (value, (dxs, dt)) = first_crossing_grad(&xs, t);
        assert_eq!(value, first_crossing(&xs, t), "value at t = {t}");
        let (want, want_dt): (Vec<f64>, f64) = match exit {
            // f = Σᵢ≤ₖ e^xᵢ − t·xₖ
            Some(k) => (
                (0..xs.len())
                    .map(|i| match i.cmp(&k) {
                        core::cmp::Ordering::Less => e[i],
                        core::cmp::Ordering::Equal => e[i] - t,
                        core::cmp::Ordering::Greater => 0.0,
                    })
                    .collect(),
                -xs[k],
            ),
            // f = t·Σ e^xᵢ
            None => (e.iter().map(|e| t * e).collect(), e.iter().sum()),
        };
        assert_all_near(&dxs, &want, &format!("df/dxs at t = {t}"));
        assert_near(dt, want_dt, &format!("df/dt at t = {t}"));
        check(
            |(xs, t): &(Vec<f64>, f64)| first_crossing(xs, *t),
            (xs.clone(), t),
            (dxs, dt),
        )
        .assert_close(1e-6);
    }
}

#[grad]
fn early_return(x: f64, y: f64) -> f64 {
    if x < 0.0 {
        return -x * y;
    }
    let z = x * y;
    z.sin() + x
}

/// Early `return` from a top-level `if`, or the function runs to its tail.
#[test]
fn test_early_return_from_top_level_if() {
    for &(x, y) in &[
        (-1.5, 0.7),  // x < 0: returns −xy early
        (-0.2, -2.0), // x < 0: returns −xy early
        (0.8, 1.3),   // x ≥ 0: sin(xy) + x
        (2.5, -0.4),  // x ≥ 0: sin(xy) + x
    ] {
        let (value, (dx, dy)) = early_return_grad(x, y);
        assert_eq!(value, early_return(x, y), "value at ({x}, {y})");
        let (want_dx, want_dy) = if x < 0.0 {
            (-y, -x)
        } else {
            let c = (x * y).cos();
            (y * c + 1.0, x * c)
        };
        assert_near(dx, want_dx, "df/dx");
        assert_near(dy, want_dy, "df/dy");
        check(|&(x, y)| early_return(x, y), (x, y), (dx, dy)).assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- slices, vectors and arrays

#[grad]
fn vec_param(x: Vec<f64>) -> f64 {
    let mut s = 0.0;
    for i in 1..x.len() {
        let d = x[i] - x[i - 1];
        s += i as f64 * d * d;
    }
    s / x.len() as f64
}

/// A `Vec<f64>` parameter taken by value, indexed, with `x.len()`.
#[test]
fn test_vec_param() {
    let x = vec![0.5, -2.0, 1.25, 3.0];
    let n = x.len() as f64;
    let (value, g) = vec_param_grad(x.clone());
    assert_eq!(value, vec_param(x.clone()));
    // f = Σᵢ≥₁ i·dᵢ²/n with dᵢ = xᵢ − xᵢ₋₁: xₖ is in dₖ and dₖ₊₁.
    let d = |i: usize| x[i] - x[i - 1];
    let want: Vec<f64> = (0..x.len())
        .map(|k| {
            let mine = if k > 0 { k as f64 * d(k) } else { 0.0 };
            let next = if k + 1 < x.len() {
                (k + 1) as f64 * d(k + 1)
            } else {
                0.0
            };
            2.0 * (mine - next) / n
        })
        .collect();
    assert_all_near(&g, &want, "df/dx");
    check(|x: &Vec<f64>| vec_param(x.clone()), x, &g).assert_close(1e-6);
}

#[grad]
fn array_params(a: [f64; 3], b: &[f64; 3]) -> f64 {
    let mut s = 0.0;
    for i in 0..a.len() {
        let next = b[(i + 1) % b.len()];
        s += a[i] * next * next;
    }
    s + a[0] * a[2]
}

/// `[f64; 3]` and `&[f64; 3]` parameters, indexed and with `.len()`: gradients `[f64; 3]`.
#[test]
fn test_array_params() {
    let a = [0.5, -1.5, 2.0];
    let b = [1.25, 0.75, -0.5];
    let (value, (da, db)) = array_params_grad(a, &b);
    assert_eq!(value, array_params(a, &b));
    // s = Σᵢ aᵢ·b[(i + 1) mod 3]² + a₀a₂
    let want_da = [b[1] * b[1] + a[2], b[2] * b[2], b[0] * b[0] + a[0]];
    let want_db = [2.0 * a[2] * b[0], 2.0 * a[0] * b[1], 2.0 * a[1] * b[2]];
    assert_all_near(&da, &want_da, "df/da");
    assert_all_near(&db, &want_db, "df/db");
    check(|&(a, b)| array_params(a, &b), (a, b), (da, db)).assert_close(1e-6);
}

#[grad]
fn local_vec(x: &[f64], c: f64) -> f64 {
    let n = x.len();
    let mut v = vec![0.0; n];
    for i in 0..n {
        v[i] = x[i] * x[i];
        if i > 0 {
            v[i] += c * v[i - 1];
        }
    }
    let mut s = 0.0;
    for i in 0..n {
        s += v[i] * v[n - 1 - i];
    }
    s
}

/// A local `vec![0.0; n]` written by `v[i] = …` and `v[i] += …`, then read in a later loop.
#[test]
fn test_local_vec_elementwise() {
    let x = vec![0.6, -1.2, 0.9, 2.1, -0.4];
    let c = 0.8;
    let (value, (dx, dc)) = local_vec_grad(&x, c);
    assert_eq!(value, local_vec(&x, c));
    // vᵢ = xᵢ² + c·vᵢ₋₁ and s = Σ vᵢ·vₙ₋₁₋ᵢ. Reverse by hand: the adjoint of
    // vᵢ is wᵢ = 2vₙ₋₁₋ᵢ + c·wᵢ₊₁; ∂s/∂xᵢ = 2xᵢ·wᵢ, ∂s/∂c = Σᵢ≥₁ wᵢ·vᵢ₋₁.
    let n = x.len();
    let mut v = vec![0.0; n];
    for i in 0..n {
        v[i] = x[i] * x[i] + if i > 0 { c * v[i - 1] } else { 0.0 };
    }
    let mut w = vec![0.0; n];
    for i in (0..n).rev() {
        w[i] = 2.0 * v[n - 1 - i] + if i + 1 < n { c * w[i + 1] } else { 0.0 };
    }
    let want_dx: Vec<f64> = (0..n).map(|i| 2.0 * x[i] * w[i]).collect();
    let want_dc: f64 = (1..n).map(|i| w[i] * v[i - 1]).sum();
    assert_all_near(&dx, &want_dx, "ds/dx");
    assert_near(dc, want_dc, "ds/dc");
    check(
        |(x, c): &(Vec<f64>, f64)| local_vec(x, *c),
        (x.clone(), c),
        (dx, dc),
    )
    .assert_close(1e-6);
}

#[grad]
fn local_array(x: f64, y: f64) -> f64 {
    let mut p = [0.0; 4];
    p[0] = 1.0;
    for k in 1..p.len() {
        p[k] = p[k - 1] * x;
    }
    p[3] += y * p[1];
    p[0] * y + p[1] * (1.0 + y) + p[2] * (2.0 + y) + p[3] * (3.0 + y)
}

/// A local `[0.0; 4]` written element by element (one a constant, one with `+=`), then read.
#[test]
fn test_local_array_elementwise() {
    for &(x, y) in &[(0.7, -0.3), (-1.4, 2.2)] {
        let (value, (dx, dy)) = local_array_grad(x, y);
        assert_eq!(value, local_array(x, y), "value at ({x}, {y})");
        // p = [1, x, x², x³ + xy]; s = y + x(1 + y) + x²(2 + y) + (x³ + xy)(3 + y)
        let want_dx = (1.0 + y) + 2.0 * x * (2.0 + y) + (3.0 * x * x + y) * (3.0 + y);
        let want_dy = 1.0 + x + x * x + x * (3.0 + y) + (x * x * x + x * y);
        assert_near(dx, want_dx, "ds/dx");
        assert_near(dy, want_dy, "ds/dy");
        check(|&(x, y)| local_array(x, y), (x, y), (dx, dy)).assert_close(1e-6);
    }
}

#[grad(wrt(x, scale))]
fn shifted_power_sum(x: &[f64], scale: f64, shift: f64, p: i32) -> f64 {
    let mut s = 0.0;
    for v in x.iter() {
        s += (scale * v - shift).powi(p);
    }
    s
}

/// A slice and scalars, `wrt` naming the slice and one scalar: gradient `(Vec<f64>, f64)`.
#[test]
fn test_slice_and_scalars_wrt_subset() {
    let x = vec![0.5, -1.0, 2.0, 1.5];
    let (scale, shift) = (1.3, 0.2);
    for p in [2, 3] {
        let (value, (dx, dscale)) = shifted_power_sum_grad(&x, scale, shift, p);
        assert_eq!(
            value,
            shifted_power_sum(&x, scale, shift, p),
            "value at p = {p}"
        );
        // ∂/∂xᵢ = p·uᵢᵖ⁻¹·scale and ∂/∂scale = Σ p·uᵢᵖ⁻¹·xᵢ, uᵢ = scale·xᵢ − shift
        let pf = f64::from(p);
        let du: Vec<f64> = x
            .iter()
            .map(|v| pf * (scale * v - shift).powi(p - 1))
            .collect();
        let want_dx: Vec<f64> = du.iter().map(|d| d * scale).collect();
        let want_dscale: f64 = du.iter().zip(&x).map(|(d, v)| d * v).sum();
        assert_all_near(&dx, &want_dx, &format!("df/dx at p = {p}"));
        assert_near(dscale, want_dscale, &format!("df/dscale at p = {p}"));
        check(
            |(x, scale): &(Vec<f64>, f64)| shifted_power_sum(x, *scale, shift, p),
            (x.clone(), scale),
            (dx, dscale),
        )
        .assert_close(1e-6);
    }
}

// ---------------------------------------------------------------- a large loop

/// The 200 000-element Rosenbrock gradient against its formula, ends and middle included.
#[test]
fn test_rosenbrock_200k_against_analytic() {
    const N: usize = 200_000;
    let x: Vec<f64> = (0..N)
        .map(|i| 1.0 + 0.5 * (0.37 * i as f64).sin())
        .collect();
    let (value, g) = rosenbrock_grad(&x);
    assert_eq!(value, rosenbrock(&x));
    assert_eq!(g.len(), N);
    // The first and last elements have one term of the formula, the rest two.
    for i in [0, 1, N / 2, N - 2, N - 1] {
        assert_near(g[i], rosenbrock_gradient_at(&x, i), &format!("g[{i}]"));
    }
    for (i, &gi) in g.iter().enumerate() {
        assert_near(gi, rosenbrock_gradient_at(&x, i), &format!("g[{i}]"));
    }
}

#[grad]
fn counted_while(x0: f64, x1: f64) -> f64 {
    let mut m = x1 * x0;
    let mut k = 0;
    while k < 3 {
        k += 1;
        if x1 < -2.0 {
            continue;
        }
        m -= (x0 * m).sin();
        if m > 4.0 {
            break;
        }
    }
    m
}

/// A `while` on an integer counter the loop carries, with `continue` and
/// `break`: the reverse sweep reads each iteration's counter, not the last
/// one (found by the differential tests: it once read the final counter and
/// reversed no iteration at all).
#[test]
fn test_while_on_a_carried_counter() {
    for &(x0, x1) in &[
        (0.7, 1.2),  // three full iterations
        (0.9, -2.5), // every iteration continues: m = x0·x1
        (1.5, 3.0),  // breaks in the first iteration (m > 4)
    ] {
        let (value, (d0, d1)) = counted_while_grad(x0, x1);
        assert_eq!(value, counted_while(x0, x1));
        check(
            |&(x0, x1): &(f64, f64)| counted_while(x0, x1),
            (x0, x1),
            (d0, d1),
        )
        .assert_close(1e-6);
    }
}

// A block run as a statement, for its assignments: its `let`s end with it.
// Also the tail of an `if` value holding an early `return` (the differential
// tests found `else { { let b = …; v } }` rejected as a dropped value).
#[grad]
fn block_statement(x: f64, y: f64) -> f64 {
    let mut s = y;
    {
        let s2 = x * 2.0;
        s *= s2.sin();
    }
    let t = if x > 0.5 {
        if y < 0.0 {
            return s * y;
        }
        x.recip()
    } else {
        {
            let b = 1.25;
            y * b
        }
    };
    s * t
}

#[test]
fn test_block_statement() {
    // then-branch, early return, else-branch
    for (x, y) in [(1.5, 0.75), (1.5, -0.5), (0.25, 0.75)] {
        let (v, (dx, dy)) = block_statement_grad(x, y);
        assert_eq!(v, block_statement(x, y));
        check(|&(x, y)| block_statement(x, y), (x, y), (dx, dy)).assert_close(1e-6);
    }
}

// A parameter assigned a parenthesised constant, then read by methods: the
// new variable keeps the parameter's type (the differential tests found
// `x1 = (-2.0); … x1.tanh()` ambiguous, E0689).
#[grad]
#[allow(unused_parens)]
fn parameter_set_to_a_constant(x0: f64, mut x1: f64) -> f64 {
    let a = x1 * x0;
    x1 = (-2.0);
    let mut m = x1 + a;
    if x1.tanh().abs() > 0.5 {
        m -= m.hypot(0.1).cbrt() * x0;
    }
    m
}

#[test]
fn test_parameter_set_to_a_constant() {
    for (x0, x1) in [(0.3, 1.2), (-1.5, 0.4)] {
        let (v, (d0, d1)) = parameter_set_to_a_constant_grad(x0, x1);
        assert_eq!(v, parameter_set_to_a_constant(x0, x1));
        check(
            |&(x0, x1)| parameter_set_to_a_constant(x0, x1),
            (x0, x1),
            (d0, d1),
        )
        .assert_close(1e-6);
    }
}
