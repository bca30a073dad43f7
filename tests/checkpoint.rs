//! `#[checkpoint]` loops (issue 13): the gradient through snapshots and
//! segments run again agrees with the taped gradient of the same function
//! written without the attribute (to 1e-12 relative), and both with central
//! finite differences.

use autodiff::{grad, softplus};

// RK4 (`benches/support/rk4.rs`): `rk4!(#[attr] name)`.
#[macro_use]
#[path = "../benches/support/rk4.rs"]
mod rk4_support;

rk4!(rk4_taped);
rk4!(
    #[checkpoint]
    rk4_checkpointed
);
rk4!(
    #[checkpoint(snapshots = 7)]
    rk4_seven
);
rk4!(
    #[checkpoint(snapshots = 1)]
    rk4_one
);
rk4!(
    #[checkpoint(snapshots = 100_000)]
    rk4_every_step
);

/// A chain of masses joined by springs, the first one held by a wall,
/// integrated by symplectic Euler with damping; the output is the energy
/// left in the last mass. Differentiated wrt the stiffnesses and the
/// starting displacements; the velocities are carried in an array, the time
/// in a float.
macro_rules! springs {
    ($(#[$attr:meta])* $name:ident) => {
        #[grad(wrt(k, u0))]
        pub fn $name(k: &[f64], u0: &[f64], dt: f64, steps: usize) -> f64 {
            let n = k.len();
            let mut u = vec![0.0; n];
            for i in 0..n {
                u[i] = u0[i];
            }
            let mut v = vec![0.0; n];
            let mut t: f64 = 0.0;
            $(#[$attr])*
            for _ in 0..steps {
                for i in 0..n {
                    let left = if i == 0 { 0.0 } else { u[i - 1] };
                    let mut force = -k[i] * (u[i] - left);
                    if i + 1 < n {
                        force += k[i + 1] * (u[i + 1] - u[i]);
                    }
                    v[i] = (v[i] + dt * force) * (1.0 - 0.01 * dt) + 0.001 * dt * t.sin();
                }
                for i in 0..n {
                    u[i] += dt * v[i];
                }
                t += dt;
            }
            0.5 * v[n - 1] * v[n - 1] + 0.5 * k[n - 1] * u[n - 1] * u[n - 1]
        }
    };
}

springs!(springs_taped);
springs!(
    #[checkpoint]
    springs_checkpointed
);
springs!(
    #[checkpoint(snapshots = 4)]
    springs_four
);

/// A recurrent cell h ← tanh(W·h + u·x_t + b) over an input sequence, the
/// loss the squared final state; wrt W (row-major), u and b. The state is a
/// carried `Vec` replaced each step.
macro_rules! recurrent {
    ($(#[$attr:meta])* $name:ident) => {
        #[grad(wrt(w, u, b))]
        pub fn $name(w: &[f64], u: &[f64], b: &[f64], xs: &[f64]) -> f64 {
            let n = b.len();
            let mut h = vec![0.0; n];
            $(#[$attr])*
            for t in 0..xs.len() {
                let mut next = vec![0.0; n];
                for i in 0..n {
                    let mut s = b[i] + u[i] * xs[t];
                    for j in 0..n {
                        s += w[i * n + j] * h[j];
                    }
                    next[i] = s.tanh();
                }
                h = next;
            }
            let mut loss = 0.0;
            for i in 0..n {
                loss += h[i] * h[i];
            }
            loss
        }
    };
}

recurrent!(recurrent_taped);
recurrent!(
    #[checkpoint]
    recurrent_checkpointed
);
recurrent!(
    #[checkpoint(snapshots = 3)]
    recurrent_three
);

/// Scalars only: two carried values, the index read in the body, a branch,
/// a loop that starts at 3 and an inner loop whose trip count varies.
macro_rules! scalars {
    ($(#[$attr:meta])* $name:ident) => {
        #[grad(wrt(a, c))]
        pub fn $name(a: f64, c: f64, steps: usize) -> f64 {
            let mut p = 1.0;
            let mut q = 0.5;
            $(#[$attr])*
            for i in 3..steps {
                let t = (a * p).sin() + q * c;
                q = p * 0.9;
                if i % 3 == 0 {
                    p = t.tanh();
                } else {
                    p = t * 0.5;
                }
                for _ in 0..(i % 4) {
                    q = q * c + 0.1 * (i as f64).sqrt();
                }
            }
            p + q * q
        }
    };
}

scalars!(scalars_taped);
scalars!(
    #[checkpoint]
    scalars_checkpointed
);
scalars!(
    #[checkpoint(snapshots = 2)]
    scalars_two
);
scalars!(
    #[checkpoint(snapshots = 3)]
    scalars_three
);
scalars!(
    #[checkpoint(snapshots = 1)]
    scalars_one_snapshot
);
scalars!(
    #[checkpoint(snapshots = 5)]
    scalars_five
);

/// A checkpointed loop inside a branch, over an `i32` range.
#[grad(wrt(a))]
pub fn in_a_branch(a: f64, steps: i32, on: bool) -> f64 {
    let mut s = a;
    if on {
        #[checkpoint(snapshots = 3)]
        for j in -2..steps {
            s = (s * a + f64::from(j) * 0.01).cos();
        }
    }
    s * a
}

/// A checkpointed loop that reads a value the loop and the branch before
/// it computed, through a call the macro keeps as written (differential
/// seed 27, f1147: the snapshot restored that value, bound without `mut`,
/// and the expansion did not compile).
#[grad(wrt(a))]
pub fn reads_an_earlier_loop(a: f64, n: i32) -> f64 {
    let mut s = a;
    for _ in 0..2 {
        s += a * s;
    }
    let t = if s > 0.0 { s * 0.5 } else { -s };
    let mut u = 0.0_f64;
    #[checkpoint(snapshots = 2)]
    for _ in 0..n {
        let mut v = 0.0_f64;
        for _ in 0..n {
            if softplus(s.tanh()) + t.cos() > 0.1 {
                v += (u * t).tanh();
            }
        }
        u += v.sin() * s + t;
    }
    u * s
}

/// A checkpointed loop that reads a local array written before it, after an
/// `if` value that may return early (differential seed 28, f2562: the
/// reverse took the array back from its tape without `mut`, and the
/// snapshot restored it: E0384).
#[allow(clippy::needless_range_loop)] // an indexed read: the shape under test
#[grad(wrt(a))]
pub fn after_an_early_return(a: f64, n: usize) -> f64 {
    let t = if a > 0.0 {
        if a > 10.0 {
            return a.sqrt();
        }
        a.tanh() * 0.7
    } else {
        a
    };
    let mut y = vec![0.0; n];
    y[0] = a * t;
    let mut s = 0.0_f64;
    #[checkpoint(snapshots = 2)]
    for i in 0..n {
        s += t * y[i] + (s * a).sin();
    }
    s
}

fn relative(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-300)
}

fn same(taped: &[f64], checkpointed: &[f64], what: &str) {
    assert_eq!(taped.len(), checkpointed.len());
    for (k, (t, c)) in taped.iter().zip(checkpointed).enumerate() {
        assert!(
            relative(*t, *c) <= 1e-12 || (t - c).abs() <= 1e-300,
            "{what}[{k}]: taped {t}, checkpointed {c}"
        );
    }
}

/// Central finite differences of `f` at `x`, Richardson-extrapolated.
fn finite_differences(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|k| {
            let central = |h: f64| {
                let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
                xp[k] += h;
                xm[k] -= h;
                (f(&xp) - f(&xm)) / (2.0 * h)
            };
            let h = 1e-4 * x[k].abs().max(1.0);
            (4.0 * central(h / 2.0) - central(h)) / 3.0
        })
        .collect()
}

fn close_to_finite_differences(g: &[f64], fd: &[f64], what: &str) {
    let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-12);
    for (k, (g, fd)) in g.iter().zip(fd).enumerate() {
        assert!(
            (g - fd).abs() <= 1e-6 * scale,
            "{what}[{k}]: gradient {g}, finite difference {fd}"
        );
    }
}

#[test]
fn rk4_checkpointed_agrees_with_taped_and_finite_differences() {
    let x = [0.9, 0.7, 1.3, 0.4, 1.1, 0.8];
    for steps in [0, 1, 2, 7, 50, 333] {
        let (value, taped) = rk4_taped_grad(&x, 0.01, steps);
        for (which, (v, g)) in [
            ("default", rk4_checkpointed_grad(&x, 0.01, steps)),
            ("7 snapshots", rk4_seven_grad(&x, 0.01, steps)),
            ("1 snapshot", rk4_one_grad(&x, 0.01, steps)),
            ("a snapshot per step", rk4_every_step_grad(&x, 0.01, steps)),
        ] {
            assert_eq!(v, value, "{which}, {steps} steps");
            same(&taped, &g, &format!("rk4 {which}, {steps} steps"));
        }
    }
    let (_, g) = rk4_checkpointed_grad(&x, 0.01, 333);
    let fd = finite_differences(|x| rk4_taped(x, 0.01, 333), &x);
    close_to_finite_differences(&g, &fd, "rk4");
}

#[test]
fn springs_checkpointed_agree_with_taped_and_finite_differences() {
    let k = [2.0, 1.5, 3.0, 0.7];
    let u0 = [0.1, -0.2, 0.3, 0.05];
    for steps in [0, 1, 10, 257] {
        let (value, (dk, du)) = springs_taped_grad(&k, &u0, 0.02, steps);
        for (v, (gk, gu)) in [
            springs_checkpointed_grad(&k, &u0, 0.02, steps),
            springs_four_grad(&k, &u0, 0.02, steps),
        ] {
            assert_eq!(v, value);
            same(&dk, &gk, "springs dk");
            same(&du, &gu, "springs du0");
        }
    }
    let (_, (dk, du)) = springs_checkpointed_grad(&k, &u0, 0.02, 257);
    close_to_finite_differences(
        &dk,
        &finite_differences(|k| springs_taped(k, &u0, 0.02, 257), &k),
        "springs dk",
    );
    close_to_finite_differences(
        &du,
        &finite_differences(|u| springs_taped(&k, u, 0.02, 257), &u0),
        "springs du0",
    );
}

#[test]
fn recurrent_cell_checkpointed_agrees_with_taped_and_finite_differences() {
    let n = 3;
    let w: Vec<f64> = (0..n * n)
        .map(|k| ((k * 7 % 5) as f64 - 2.0) * 0.3)
        .collect();
    let u = [0.5, -0.4, 0.8];
    let b = [0.1, 0.0, -0.2];
    let xs: Vec<f64> = (0..40).map(|t| (t as f64 * 0.37).sin()).collect();
    for len in [0, 1, 5, 40] {
        let xs = &xs[..len];
        let (value, (dw, du, db)) = recurrent_taped_grad(&w, &u, &b, xs);
        for (v, (gw, gu, gb)) in [
            recurrent_checkpointed_grad(&w, &u, &b, xs),
            recurrent_three_grad(&w, &u, &b, xs),
        ] {
            assert_eq!(v, value);
            same(&dw, &gw, "recurrent dw");
            same(&du, &gu, "recurrent du");
            same(&db, &gb, "recurrent db");
        }
    }
    let (_, (dw, du, db)) = recurrent_checkpointed_grad(&w, &u, &b, &xs);
    close_to_finite_differences(
        &dw,
        &finite_differences(|w| recurrent_taped(w, &u, &b, &xs), &w),
        "recurrent dw",
    );
    close_to_finite_differences(
        &du,
        &finite_differences(|u| recurrent_taped(&w, u, &b, &xs), &u),
        "recurrent du",
    );
    close_to_finite_differences(
        &db,
        &finite_differences(|b| recurrent_taped(&w, &u, b, &xs), &b),
        "recurrent db",
    );
}

#[test]
fn scalar_recurrences_checkpointed_agree_with_taped_and_finite_differences() {
    for steps in [0, 3, 4, 5, 17, 100] {
        let (value, (da, dc)) = scalars_taped_grad(0.7, 0.8, steps);
        for (v, (ga, gc)) in [
            scalars_checkpointed_grad(0.7, 0.8, steps),
            scalars_two_grad(0.7, 0.8, steps),
        ] {
            assert_eq!(v, value);
            same(&[da, dc], &[ga, gc], &format!("scalars, {steps} steps"));
        }
        let fd = finite_differences(|v| scalars_taped(v[0], v[1], steps), &[0.7, 0.8]);
        close_to_finite_differences(&[da, dc], &fd, "scalars");
    }
}

/// Fewer snapshots than segments (Revolve's binomial schedule), over every
/// trip count up to 14² (up to 14 segments): each step's state is restored
/// from wherever the schedule kept it.
#[test]
fn fewer_snapshots_than_segments_agree_with_taped_at_every_length() {
    for steps in 0..200 {
        let (value, (da, dc)) = scalars_taped_grad(0.7, 0.8, steps);
        for (which, (v, (ga, gc))) in [
            ("1", scalars_one_snapshot_grad(0.7, 0.8, steps)),
            ("2", scalars_two_grad(0.7, 0.8, steps)),
            ("3", scalars_three_grad(0.7, 0.8, steps)),
            ("5", scalars_five_grad(0.7, 0.8, steps)),
        ] {
            assert_eq!(v, value, "{which} snapshots, {steps} steps");
            same(
                &[da, dc],
                &[ga, gc],
                &format!("{which} snapshots, {steps} steps"),
            );
        }
    }
}

#[test]
fn a_checkpointed_loop_in_a_branch_over_i32_matches_finite_differences() {
    for (steps, on) in [(-5, true), (-2, true), (0, true), (9, true), (9, false)] {
        let (_, g) = in_a_branch_grad(0.6, steps, on);
        let fd = finite_differences(|v| in_a_branch(v[0], steps, on), &[0.6]);
        close_to_finite_differences(&[g], &fd, &format!("branch, {steps} steps, {on}"));
    }
}

#[test]
fn a_checkpointed_loop_reading_earlier_loops_matches_finite_differences() {
    for n in [0, 1, 2, 5, 9] {
        let (_, g) = reads_an_earlier_loop_grad(0.4, n);
        let fd = finite_differences(|v| reads_an_earlier_loop(v[0], n), &[0.4]);
        close_to_finite_differences(&[g], &fd, &format!("{n} steps"));
    }
}

#[test]
fn a_checkpointed_loop_after_an_early_return_matches_finite_differences() {
    for a in [0.3, -0.4, 12.0] {
        for n in [1, 2, 5] {
            let (_, g) = after_an_early_return_grad(a, n);
            let fd = finite_differences(|v| after_an_early_return(v[0], n), &[a]);
            close_to_finite_differences(&[g], &fd, &format!("a = {a}, n = {n}"));
        }
    }
}
