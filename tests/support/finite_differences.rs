//! The finite-difference check of the regression tests that
//! `tests/differential.rs` writes (its shrinker prints these two functions
//! into each test it saves; the kept ones share them from here).

/// Central difference along `k` with step `h`.
fn central(f: impl Fn(&[f64], i64) -> f64, x: &[f64], n: i64, k: usize, h: f64) -> f64 {
    let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
    xp[k] = x[k] + h;
    xm[k] = x[k] - h;
    (f(&xp, n) - f(&xm, n)) / (xp[k] - xm[k])
}

/// `g` against the Richardson-extrapolated central difference (steps h/2,
/// h; checked against h, 2h), relative error at most 1e-6.
pub fn check_component(f: impl Fn(&[f64], i64) -> f64 + Copy, x: &[f64], n: i64, k: usize, g: f64) {
    let fx = f(x, n);
    let h = 1e-4 * x[k].abs().max(1.0);
    let (d0, d1, d2) = (
        central(f, x, n, k, 0.5 * h),
        central(f, x, n, k, h),
        central(f, x, n, k, 2.0 * h),
    );
    let floor = 1e-3 * (1.0 + fx.abs());
    let fd = (4.0 * d0 - d1) / 3.0;
    let coarse = (4.0 * d1 - d2) / 3.0;
    assert!(
        (fd - coarse).abs() <= 1e-6 * fd.abs().max(coarse.abs()).max(floor),
        "d/dx{k}: finite differences disagree ({fd} vs {coarse}): not comparable here"
    );
    let err = (g - fd).abs() / g.abs().max(fd.abs()).max(floor);
    assert!(
        err <= 1e-6,
        "d/dx{k} at {x:?}, n = {n}: gradient {g}, finite difference {fd} (relative error {err:.1e})"
    );
}

// seed3_f11: at x = [-0.043425381405298946, -0.23584348407805056, 1.6889326586848963, 0.45662359879319103, 0.44886345409565154, 0.8342596487994811, 1.5021174854526316], n = 1: d/dx4: gradient 0.7557159634268711, finite difference 0.5323068031360432 (relative error 3.0e-1 > 1e-6)
