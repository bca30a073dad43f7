//! The check of `f_hvp` shared by `tests/hvp.rs` and
//! `tests/grad_float_methods.rs`.

/// `hv`, a Hessian-vector product at `(x, y)` along `v` of a function of
/// two variables, against central differences of its gradient `grad`:
/// (∇f(x + hv) − ∇f(x − hv)) / 2h with h = 1e-5, within 1e-7 (relative, or
/// absolute below 1).
pub fn assert_hvp_matches(
    hv: (f64, f64),
    grad: impl Fn(f64, f64) -> (f64, f64),
    (x, y): (f64, f64),
    (vx, vy): (f64, f64),
) {
    let h = 1e-5;
    let (gx1, gy1) = grad(x + h * vx, y + h * vy);
    let (gx0, gy0) = grad(x - h * vx, y - h * vy);
    let (wx, wy) = ((gx1 - gx0) / (2.0 * h), (gy1 - gy0) / (2.0 * h));
    let (hx, hy) = hv;
    let at = format!("at ({x}, {y}) along ({vx}, {vy})");
    assert!(
        (hx - wx).abs() < 1e-7 * wx.abs().max(1.0),
        "{hx} vs {wx} {at}"
    );
    assert!(
        (hy - wy).abs() < 1e-7 * wy.abs().max(1.0),
        "{hy} vs {wy} {at}"
    );
}
