//! `#[grad]` on tuples and small arrays as values (issue 11, item 3):
//! destructuring `let`s, swaps, nested patterns, `sin_cos`, a state array
//! carried through a loop, tuple outputs through `_vjp`. The `desugar` pass
//! gives each component its own local; every gradient is checked against
//! central finite differences (`autodiff::check`).

use autodiff::{check, grad};

#[grad]
fn destructure(x: f64, y: f64) -> f64 {
    let (a, b) = (x * 2.0, y.sin());
    a * b + a
}

#[test]
fn test_destructuring_let() {
    let (value, g) = destructure_grad(0.7, -1.3);
    assert_eq!(value, destructure(0.7, -1.3));
    check(|&(x, y): &(f64, f64)| destructure(x, y), (0.7, -1.3), g).assert_close(1e-6);
}

/// `let (a, b) = (b, a)` must read the old `a` and `b`, also when carried
/// through a loop; so must the destructuring assignment `(a, b) = (b, a)`.
#[grad]
fn swap_in_loop(x: f64, y: f64) -> f64 {
    let (mut a, mut b) = (x, y * y);
    for k in 0..5 {
        let (c, d) = (b, a);
        a = c * 0.5 + d;
        b = d * c.sin();
        if k % 2 == 0 {
            (a, b) = (b, a);
        }
    }
    let (a, b) = (b, a);
    a * 3.0 + b
}

#[test]
fn test_swap_in_loop() {
    for (x, y) in [(0.7, -1.3), (0.2, 0.9), (-1.1, 0.4)] {
        let (value, g) = swap_in_loop_grad(x, y);
        assert_eq!(value, swap_in_loop(x, y));
        check(|&(x, y): &(f64, f64)| swap_in_loop(x, y), (x, y), g).assert_close(1e-6);
    }
}

/// Fibonacci-like: a tuple local re-assigned whole from its own fields.
#[grad]
fn tuple_recurrence(x: f64, y: f64) -> f64 {
    let mut s = (x, y);
    for _ in 0..6 {
        s = (s.1, s.0 * 0.5 + s.1.tanh());
    }
    s.0 * s.1
}

#[test]
fn test_tuple_recurrence() {
    let (value, g) = tuple_recurrence_grad(0.3, -0.8);
    assert_eq!(value, tuple_recurrence(0.3, -0.8));
    check(
        |&(x, y): &(f64, f64)| tuple_recurrence(x, y),
        (0.3, -0.8),
        g,
    )
    .assert_close(1e-6);
}

#[grad]
fn nested_patterns(x: f64, y: f64, z: f64) -> f64 {
    let ((a, _), (b, (c, d))) = ((x * y, 1.0), (x.exp(), (y, z.cos())));
    let p = (a, (b, c), d);
    let (first, .., last) = p;
    let (u, v): (f64, f64) = p.1;
    first * last + u * v.sin() + p.1.0
}

#[test]
fn test_nested_patterns() {
    let point = (0.4, -0.6, 1.2);
    let (value, g) = nested_patterns_grad(point.0, point.1, point.2);
    assert_eq!(value, nested_patterns(point.0, point.1, point.2));
    check(
        |&(x, y, z): &(f64, f64, f64)| nested_patterns(x, y, z),
        point,
        g,
    )
    .assert_close(1e-6);
}

#[grad]
fn sin_cos(t: f64, r: f64) -> f64 {
    let (s, c) = (t * r).sin_cos();
    let (_, c2) = t.sin_cos();
    r * t.sin_cos().0 + s * c + c2 * t.sin_cos().1
}

#[test]
fn test_sin_cos() {
    for (t, r) in [(0.3, 0.7), (-2.0, 1.5)] {
        let (value, g) = sin_cos_grad(t, r);
        assert!((value - sin_cos(t, r)).abs() < 1e-15);
        check(|&(t, r): &(f64, f64)| sin_cos(t, r), (t, r), g).assert_close(1e-6);
    }
}

/// A harmonic oscillator stepped with explicit Euler: the state `[x, v]`
/// destructured and assigned whole each step.
#[grad]
fn oscillator(x0: f64, v0: f64, k: f64) -> f64 {
    let dt = 0.1;
    let mut state = [x0, v0];
    for _ in 0..20 {
        let [x, v] = state;
        state = [x + dt * v, v - dt * k * x];
    }
    0.5 * (state[0] * state[0] * k + state[1] * state[1])
}

#[test]
fn test_oscillator() {
    let point = (1.0, 0.5, 2.0);
    let (value, g) = oscillator_grad(point.0, point.1, point.2);
    assert_eq!(value, oscillator(point.0, point.1, point.2));
    check(|&(x, v, k): &(f64, f64, f64)| oscillator(x, v, k), point, g).assert_close(1e-6);
}

/// The state as a parameter, destructured with an array pattern, and a
/// zero-initialised local array.
#[grad]
fn spring_energy(state: [f64; 2], k: f64) -> f64 {
    let [x, v] = state;
    let mut acc = [0.0; 2];
    for _ in 0..3 {
        acc = [acc[0] + k * x * x, acc[1] + v * v];
    }
    acc[0] + acc[1]
}

#[test]
fn test_array_parameter_pattern() {
    let (value, (ds, dk)) = spring_energy_grad([0.3, -1.2], 1.5);
    assert_eq!(value, spring_energy([0.3, -1.2], 1.5));
    check(
        |&(x, v, k): &(f64, f64, f64)| spring_energy([x, v], k),
        (0.3, -1.2, 1.5),
        (ds[0], ds[1], dk),
    )
    .assert_close(1e-6);
}

#[grad]
fn polar(r: f64, t: f64) -> (f64, f64) {
    (r * t.cos(), r * t.sin())
}

/// The seed-weighted output `s · f(r, t)`, a scalar finite differences can
/// check the `_vjp` against.
fn weighted(seed: (f64, f64), value: (f64, f64)) -> f64 {
    seed.0 * value.0 + seed.1 * value.1
}

#[test]
fn test_tuple_output() {
    let (r, t) = (1.5, 0.8);
    for seed in [(1.0, 0.0), (0.0, 1.0), (0.5, -2.0), (-1.25, 3.0)] {
        let (value, g) = polar_vjp(r, t, seed);
        assert_eq!(value, polar(r, t));
        check(
            |&(r, t): &(f64, f64)| weighted(seed, polar(r, t)),
            (r, t),
            g,
        )
        .assert_close(1e-6);
    }
}

/// A tuple output built in a loop, returned through a scalarised local and
/// `sin_cos`, with `wrt`.
#[grad(wrt(t))]
fn rotate(t: f64, n: usize) -> (f64, f64, f64) {
    let mut p = (1.0, 0.0);
    let (s, c) = t.sin_cos();
    for _ in 0..n {
        p = (c * p.0 - s * p.1, s * p.0 + c * p.1);
    }
    (p.0, p.1, t)
}

#[test]
fn test_tuple_output_from_a_loop() {
    let t = 0.3;
    for seed in [(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.25, -0.5, 2.0)] {
        let (value, dt) = rotate_vjp(t, 4, seed);
        assert_eq!(value, rotate(t, 4));
        let weighted = |t: &f64| {
            let (a, b, c) = rotate(*t, 4);
            seed.0 * a + seed.1 * b + seed.2 * c
        };
        check(weighted, t, dt).assert_close(1e-6);
    }
}

/// A `#[grad]` function calling one with a tuple output and destructuring
/// its result.
#[grad]
fn through_polar(r: f64, t: f64) -> f64 {
    let (x, y) = polar(r, t);
    x * y + x
}

#[test]
fn test_destructuring_a_call_with_tuple_output() {
    let (value, g) = through_polar_grad(1.5, 0.8);
    assert_eq!(value, through_polar(1.5, 0.8));
    check(|&(r, t): &(f64, f64)| through_polar(r, t), (1.5, 0.8), g).assert_close(1e-6);
}

/// An array output built from an array literal.
#[grad]
fn step(state: [f64; 2], k: f64) -> [f64; 2] {
    let [x, v] = state;
    [x + 0.1 * v, v - 0.1 * k * x]
}

#[test]
fn test_array_literal_output() {
    let seed = [0.5, -1.5];
    let (value, (ds, dk)) = step_vjp([0.3, 0.9], 2.0, seed);
    assert_eq!(value, step([0.3, 0.9], 2.0));
    check(
        |&(x, v, k): &(f64, f64, f64)| {
            let out = step([x, v], k);
            seed[0] * out[0] + seed[1] * out[1]
        },
        (0.3, 0.9, 2.0),
        (ds[0], ds[1], dk),
    )
    .assert_close(1e-6);
}

/// A tuple parameter: its gradient is a tuple.
#[grad(wrt(point))]
fn first(point: (f64, f64)) -> f64 {
    point.0
}

/// Like a struct, a tuple parameter is differentiated when `wrt` names it.
#[grad(wrt(point, k))]
fn tuple_parameter(point: (f64, f64), k: f64) -> f64 {
    let (x, y) = point;
    k * x * y + point.1.sin()
}

#[test]
fn test_tuple_parameter() {
    assert_eq!(first_grad((1.5, 2.0)), (1.5, (1.0, 0.0)));
    let (value, ((dx, dy), dk)) = tuple_parameter_grad((0.3, -0.7), 1.5);
    assert_eq!(value, tuple_parameter((0.3, -0.7), 1.5));
    check(
        |&(x, y, k): &(f64, f64, f64)| tuple_parameter((x, y), k),
        (0.3, -0.7, 1.5),
        (dx, dy, dk),
    )
    .assert_close(1e-6);
}

/// `return` inside a value-position `if` (issue 11, item 4): the `let`
/// becomes an assignment in each branch, and each branch goes on with the
/// rest of the function.
#[grad]
fn return_from_value_if(t: f64) -> f64 {
    let y = if t > 0.0 {
        if t > 10.0 {
            return t * 2.0;
        }
        t.sqrt()
    } else {
        -t
    };
    y * y.sin()
}

#[test]
fn test_return_from_nested_value_if() {
    for t in [-1.5, 0.7, 4.0, 12.0] {
        let (value, dt) = return_from_value_if_grad(t);
        assert_eq!(value, return_from_value_if(t));
        check(|t: &f64| return_from_value_if(*t), t, dt).assert_close(1e-6);
    }
}

/// `return` in a `match` arm and an `else if` chain of a typed `let`.
#[grad]
fn return_from_value_match(x: f64, k: usize) -> f64 {
    let a: f64 = match k {
        0 => x * x,
        1 => {
            if x < 0.0 {
                return x.exp();
            }
            x.ln()
        }
        _ => return x,
    };
    let b = if a > 1.0 {
        a.sqrt()
    } else if a < -1.0 {
        return a * 3.0;
    } else {
        a
    };
    a + b
}

#[test]
fn test_return_from_value_match() {
    for k in 0..3 {
        for x in [-2.5, -0.3, 0.4, 1.7] {
            if k == 1 && x > 0.0 && x < 1e-3 {
                continue;
            }
            let (value, dx) = return_from_value_match_grad(x, k);
            assert_eq!(value, return_from_value_match(x, k), "k = {k}, x = {x}");
            check(|x: &f64| return_from_value_match(*x, k), x, dx).assert_close(1e-6);
        }
    }
}

/// `return` nested in a value-position `if` inside a `while` loop.
#[grad]
fn return_inside_while(x: f64, limit: f64) -> f64 {
    let mut s = x;
    let mut n = 0;
    while n < 20 {
        let t = if s > 0.0 {
            if s > limit {
                return s * limit;
            }
            s * 1.5
        } else {
            s - 1.0
        };
        s = t + 0.1 * x;
        n += 1;
    }
    s
}

#[test]
fn test_return_inside_while() {
    for (x, limit) in [(0.3, 5.0), (0.3, 500.0), (-0.4, 2.0)] {
        let (value, g) = return_inside_while_grad(x, limit);
        assert_eq!(value, return_inside_while(x, limit));
        check(
            |&(x, limit): &(f64, f64)| return_inside_while(x, limit),
            (x, limit),
            g,
        )
        .assert_close(1e-6);
    }
}
