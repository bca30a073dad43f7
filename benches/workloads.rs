//! Six loop workloads written as a Rust user writes them — plain `for` loops
//! over slices, `x[i]`, nested loops, carried `let mut` accumulators, local
//! `Vec`s, `.min()`, `.max()`, `.exp()`, `.ln()` — each timed three ways in
//! the same run, on the same inputs: the `#[grad]`-generated gradient, a
//! hand-written gradient written for speed (plain loops, minimal storage, no
//! `unsafe`) and the function alone.
//!
//! ```text
//! cargo bench --bench workloads
//! ```
//!
//! | workload | size | differentiated |
//! | --- | --- | --- |
//! | GMM log-likelihood with a Wishart prior (ADBench's `gmm_objective`) | K = 25, D = 10, N = 1 000 | alphas, means, icf |
//! | least-squares polynomial fit, `p *= t` carried | m = 128 coefficients, n = 1 024 points | c |
//! | nearest-centroid (k-means) cost, `closest.min(dist)` | k = 100, n = 10 000, d = 8 | c |
//! | logsumexp, two passes (max, then Σ exp(x − max)) | 640 000 | x |
//! | RK4 with its state and stages in local `Vec`s, output `y[n − 1]` | n = 100, 100 steps | x |
//! | Rosenbrock (as in `benches/loops.rs`) | N = 1 000 000 | x |
//!
//! Eighteen benchmarks, 1 s warm-up and 3 s of measurement each (criterion's
//! flags override them: `-- --measurement-time 10`, or a filter such as
//! `-- kmeans`), about two minutes and a half on 2 cores. After criterion's
//! report it prints, per workload, the ratios of the medians generated /
//! hand-written, generated / forward and hand-written / forward; then the
//! same first two as `support/paired.rs` measures them (the two functions
//! timed in alternating batches, the median of the rounds' ratios, which the
//! machine's drift between criterion's benchmarks does not move; 3 s each);
//! then the heap allocations of one call of each (counted with `allocation-counter`):
//! what the generated gradient allocates beyond the gradient itself is its
//! tape.
//! Every gradient call allocates and frees its gradient inside the timed
//! loop, the generated and the hand-written alike; linking
//! `allocation-counter` makes its counting allocator the global one for the
//! whole run, timed calls included (a thread-local update per allocation).
//!
//! Before measuring, each hand-written gradient is checked against central
//! finite differences of the plain function at a handful of components
//! (relative error ≤ 1e-6; logsumexp and Rosenbrock at n = 1 000, where
//! differences are precise enough, the others at the benchmark size), and it
//! panics if one is wrong. Then the generated gradient is checked against the
//! hand-written one at the benchmark size, to 1e-9 relative to the
//! gradient's largest entry (and the value to 1e-9 relative).

// The workloads index slices in `for` loops on purpose: that is how their
// users write them, and what `#[grad]` is measured on.
#![allow(clippy::needless_range_loop)]

use std::f64::consts::PI;
use std::hint::black_box;
use std::time::Duration;

use allocation_counter::measure;
use autodiff::grad;
use criterion::{Criterion, SamplingMode};

#[path = "support/paired.rs"]
mod paired;
#[path = "support/ratio.rs"]
mod ratio;
#[path = "support/rosenbrock.rs"]
mod rosenbrock;

use rosenbrock::{point, rosenbrock, rosenbrock_grad, rosenbrock_grad_plain};

// ---------------------------------------------------------------------------
// 1. GMM log-likelihood with a Wishart prior
// ---------------------------------------------------------------------------

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 1e-15 relative).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = COEFFICIENTS[0];
    let t = x + G + 0.5;
    for (i, &c) in COEFFICIENTS.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// ln of the multivariate gamma function Γ_p(a) (ADBench's `log_gamma_distrib`).
fn log_gamma_distrib(a: f64, p: usize) -> f64 {
    let mut out = 0.25 * (p * (p - 1)) as f64 * PI.ln();
    for j in 1..=p {
        out += ln_gamma(a + 0.5 * (1.0 - j as f64));
    }
    out
}

/// ADBench's `gmm_objective` (`src/cpp/shared/gmm.h`): the log-likelihood of
/// the points `x` (N × D, row-major) under K Gaussians with log-weights
/// `alphas`, `means` (K × D) and inverse-Cholesky factors `icf` (K rows of
/// D log-diagonal entries, then the strictly lower triangle column by
/// column), plus the log of a Wishart prior (gamma, m) on the precisions.
#[grad(wrt(alphas, means, icf))]
pub fn gmm_objective(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    d: usize,
    wishart_gamma: f64,
    wishart_m: usize,
) -> f64 {
    let k = alphas.len();
    let n = x.len() / d;
    let icf_sz = d * (d + 1) / 2;
    let constant = -(n as f64) * (d as f64) * 0.5 * (2.0 * PI).ln();

    let mut qdiags = vec![0.0; d * k];
    let mut sum_qs = vec![0.0; k];
    for ik in 0..k {
        for id in 0..d {
            let q = icf[ik * icf_sz + id];
            sum_qs[ik] += q;
            qdiags[ik * d + id] = q.exp();
        }
    }

    let mut xcentered = vec![0.0; d];
    let mut qxcentered = vec![0.0; d];
    let mut main_term = vec![0.0; k];
    let mut slse = 0.0;
    for ix in 0..n {
        for ik in 0..k {
            for id in 0..d {
                xcentered[id] = x[ix * d + id] - means[ik * d + id];
                qxcentered[id] = qdiags[ik * d + id] * xcentered[id];
            }
            let mut l = d;
            for i in 0..d {
                for j in i + 1..d {
                    qxcentered[j] += icf[ik * icf_sz + l] * xcentered[i];
                    l += 1;
                }
            }
            let mut sqnorm = 0.0;
            for id in 0..d {
                sqnorm += qxcentered[id] * qxcentered[id];
            }
            main_term[ik] = alphas[ik] + sum_qs[ik] - 0.5 * sqnorm;
        }
        let mut mx = main_term[0];
        for ik in 1..k {
            mx = mx.max(main_term[ik]);
        }
        let mut semx = 0.0;
        for ik in 0..k {
            semx += (main_term[ik] - mx).exp();
        }
        slse += semx.ln() + mx;
    }

    let mut mx_alphas = alphas[0];
    for ik in 1..k {
        mx_alphas = mx_alphas.max(alphas[ik]);
    }
    let mut semx_alphas = 0.0;
    for ik in 0..k {
        semx_alphas += (alphas[ik] - mx_alphas).exp();
    }
    let lse_alphas = semx_alphas.ln() + mx_alphas;

    let wn = d + wishart_m + 1;
    let c = (wn * d) as f64 * (wishart_gamma.ln() - 0.5 * 2.0_f64.ln())
        - log_gamma_distrib(0.5 * wn as f64, d);
    let mut prior = 0.0;
    for ik in 0..k {
        let mut frobenius = 0.0;
        for id in 0..d {
            frobenius += qdiags[ik * d + id] * qdiags[ik * d + id];
        }
        for l in d..icf_sz {
            frobenius += icf[ik * icf_sz + l] * icf[ik * icf_sz + l];
        }
        prior += 0.5 * wishart_gamma * wishart_gamma * frobenius - wishart_m as f64 * sum_qs[ik];
    }

    constant + slse - n as f64 * lse_alphas + prior - k as f64 * c
}

type GmmGradient = (Vec<f64>, Vec<f64>, Vec<f64>);

/// The value and gradient of [`gmm_objective`] as a performance-minded person
/// writes them: one pass over the points; per point, the K centred points
/// x − μ and their images v = L(x − μ) kept in a scratch buffer, the K
/// exponentials of the log-sum-exp computed once and reused as the weights
/// w = softmax(main terms); per component, μ̄ += w·Lᵀv and the triangle's
/// gradient −w·v_j·(x − μ)_i in one sweep of the triangle. The `+w` that
/// every log-diagonal entry gets from `sum_qs` is added once at the end, from
/// Σ w. One allocation per gradient (three) and one scratch buffer of
/// 3·K·D + 2·K floats.
#[allow(clippy::too_many_lines)]
fn gmm_grad_by_hand(
    alphas: &[f64],
    means: &[f64],
    icf: &[f64],
    x: &[f64],
    d: usize,
    wishart_gamma: f64,
    wishart_m: usize,
) -> (f64, GmmGradient) {
    let k = alphas.len();
    let n = x.len() / d;
    let icf_sz = d * (d + 1) / 2;
    let tri = icf_sz - d;
    let mut g_alphas = vec![0.0; k];
    let mut g_means = vec![0.0; k * d];
    let mut g_icf = vec![0.0; k * icf_sz];

    let mut scratch = vec![0.0; 3 * k * d + 2 * k];
    let (qdiags, rest) = scratch.split_at_mut(k * d);
    let (xcs, rest) = rest.split_at_mut(k * d);
    let (vs, rest) = rest.split_at_mut(k * d);
    let (sum_qs, mains) = rest.split_at_mut(k);

    for ik in 0..k {
        let log_diag = &icf[ik * icf_sz..ik * icf_sz + d];
        let mut s = 0.0;
        for (q, &l) in qdiags[ik * d..(ik + 1) * d].iter_mut().zip(log_diag) {
            s += l;
            *q = l.exp();
        }
        sum_qs[ik] = s;
    }

    let mut slse = 0.0;
    for xi in x.chunks_exact(d) {
        let mut mx = f64::NEG_INFINITY;
        for ik in 0..k {
            let q = &qdiags[ik * d..(ik + 1) * d];
            let lt = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            let mu = &means[ik * d..(ik + 1) * d];
            let xc = &mut xcs[ik * d..(ik + 1) * d];
            let v = &mut vs[ik * d..(ik + 1) * d];
            for e in 0..d {
                xc[e] = xi[e] - mu[e];
                v[e] = q[e] * xc[e];
            }
            let mut l = 0;
            for i in 0..d {
                let xci = xc[i];
                let row = &lt[l..l + d - i - 1];
                for (vj, &a) in v[i + 1..].iter_mut().zip(row) {
                    *vj += a * xci;
                }
                l += d - i - 1;
            }
            let mut sq = 0.0;
            for &ve in v.iter() {
                sq += ve * ve;
            }
            let main = alphas[ik] + sum_qs[ik] - 0.5 * sq;
            mains[ik] = main;
            mx = mx.max(main);
        }
        let mut s = 0.0;
        for m in mains.iter_mut() {
            *m = (*m - mx).exp();
            s += *m;
        }
        slse += s.ln() + mx;
        let inv = 1.0 / s;
        for ik in 0..k {
            let w = mains[ik] * inv;
            g_alphas[ik] += w;
            let q = &qdiags[ik * d..(ik + 1) * d];
            let lt = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
            let xc = &xcs[ik * d..(ik + 1) * d];
            let v = &vs[ik * d..(ik + 1) * d];
            let (g_diag, g_lt) = g_icf[ik * icf_sz..(ik + 1) * icf_sz].split_at_mut(d);
            let g_mu = &mut g_means[ik * d..(ik + 1) * d];
            let mut l = 0;
            for i in 0..d {
                let xci = xc[i];
                let wxci = w * xci;
                g_diag[i] -= w * v[i] * q[i] * xci;
                let row = &lt[l..l + d - i - 1];
                let g_row = &mut g_lt[l..l + d - i - 1];
                // (Lᵀv)_i = Q_i·v_i + Σ_{j>i} L_ji·v_j
                let mut acc = q[i] * v[i];
                for ((gl, &a), &vj) in g_row.iter_mut().zip(row).zip(&v[i + 1..]) {
                    acc += a * vj;
                    *gl -= wxci * vj;
                }
                g_mu[i] += w * acc;
                l += d - i - 1;
            }
        }
    }

    let mut mx_alphas = f64::NEG_INFINITY;
    for &a in alphas {
        mx_alphas = mx_alphas.max(a);
    }
    let mut semx_alphas = 0.0;
    for &a in alphas {
        semx_alphas += (a - mx_alphas).exp();
    }
    let lse_alphas = semx_alphas.ln() + mx_alphas;

    let wn = d + wishart_m + 1;
    let c = (wn * d) as f64 * (wishart_gamma.ln() - 0.5 * 2.0_f64.ln())
        - log_gamma_distrib(0.5 * wn as f64, d);
    let gamma2 = wishart_gamma * wishart_gamma;
    let m = wishart_m as f64;
    let nf = n as f64;
    let mut prior = 0.0;
    for ik in 0..k {
        let sum_w = g_alphas[ik];
        g_alphas[ik] = sum_w - nf * (alphas[ik] - lse_alphas).exp();
        let q = &qdiags[ik * d..(ik + 1) * d];
        let lt = &icf[ik * icf_sz + d..(ik + 1) * icf_sz];
        let (g_diag, g_lt) = g_icf[ik * icf_sz..(ik + 1) * icf_sz].split_at_mut(d);
        let mut frobenius = 0.0;
        for (g, &qe) in g_diag.iter_mut().zip(q) {
            frobenius += qe * qe;
            *g += sum_w + gamma2 * qe * qe - m;
        }
        for (g, &a) in g_lt.iter_mut().zip(lt) {
            frobenius += a * a;
            *g += gamma2 * a;
        }
        debug_assert_eq!(lt.len(), tri);
        prior += 0.5 * gamma2 * frobenius - m * sum_qs[ik];
    }

    let constant = -nf * (d as f64) * 0.5 * (2.0 * PI).ln();
    let value = constant + slse - nf * lse_alphas + prior - k as f64 * c;
    (value, (g_alphas, g_means, g_icf))
}

struct Gmm {
    alphas: Vec<f64>,
    means: Vec<f64>,
    icf: Vec<f64>,
    x: Vec<f64>,
    d: usize,
    gamma: f64,
    m: usize,
}

const GMM_K: usize = 25;
const GMM_D: usize = 10;
const GMM_N: usize = 1_000;

/// ADBench's generator draws from N(0, 1) and U(0, 1); uniform draws of a
/// similar spread here. Wishart gamma = 1, m = 0, as ADBench's data.
fn gmm_problem() -> Gmm {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (k, d, n) = (GMM_K, GMM_D, GMM_N);
    let icf_sz = d * (d + 1) / 2;
    Gmm {
        alphas: rng.vec(k, -1.0, 1.0),
        means: rng.vec(k * d, 0.0, 1.0),
        icf: rng.vec(k * icf_sz, -0.5, 0.5),
        x: rng.vec(n * d, -0.5, 1.5),
        d,
        gamma: 1.0,
        m: 0,
    }
}

// ---------------------------------------------------------------------------
// 2. Least-squares polynomial fit
// ---------------------------------------------------------------------------

/// ½ Σ_i (y_i − Σ_k c_k t_i^k)², the powers carried by `p *= t`.
#[grad(wrt(c))]
pub fn polyfit_loss(c: &[f64], t: &[f64], y: &[f64]) -> f64 {
    let mut loss = 0.0;
    for i in 0..t.len() {
        let mut p = 1.0;
        let mut model = 0.0;
        for k in 0..c.len() {
            model += c[k] * p;
            p *= t[i];
        }
        let r = y[i] - model;
        loss += 0.5 * r * r;
    }
    loss
}

/// Per point: the model with the powers carried, as `polyfit_loss` computes
/// it, each power kept in a scratch buffer of m floats; then ∂/∂c_k = −r·t^k
/// added in a second sweep over the stored powers, which rustc vectorises.
/// Carrying the powers again in the second sweep instead (no storage but the
/// gradient) took 168 µs against this one's 119 µs, in one run.
fn polyfit_grad_by_hand(c: &[f64], t: &[f64], y: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; c.len()];
    let mut powers = vec![0.0; c.len()];
    let mut loss = 0.0;
    for (&ti, &yi) in t.iter().zip(y) {
        let mut p = 1.0;
        let mut model = 0.0;
        for (&ck, pw) in c.iter().zip(powers.iter_mut()) {
            *pw = p;
            model += ck * p;
            p *= ti;
        }
        let r = yi - model;
        loss += 0.5 * r * r;
        for (gk, &pw) in g.iter_mut().zip(&powers) {
            *gk -= r * pw;
        }
    }
    (loss, g)
}

const POLY_M: usize = 128;
const POLY_N: usize = 1_024;

/// t on a grid in (−1, 1), y = sin 3t plus noise, c_k ~ U(−1, 1)/(k + 1).
fn polyfit_problem() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let c: Vec<f64> = (0..POLY_M)
        .map(|k| rng.uniform(-1.0, 1.0) / (k + 1) as f64)
        .collect();
    let t: Vec<f64> = (0..POLY_N)
        .map(|i| -1.0 + 2.0 * (i as f64 + 0.5) / POLY_N as f64)
        .collect();
    let y: Vec<f64> = t
        .iter()
        .map(|&ti| (3.0 * ti).sin() + 0.1 * rng.uniform(-1.0, 1.0))
        .collect();
    (c, t, y)
}

// ---------------------------------------------------------------------------
// 3. Nearest-centroid (k-means) cost
// ---------------------------------------------------------------------------

#[grad(wrt(c))]
pub fn kmeans_cost(c: &[f64], p: &[f64], d: usize) -> f64 {
    let k = c.len() / d;
    let n = p.len() / d;
    let mut cost = 0.0;
    for i in 0..n {
        let mut closest = f64::INFINITY;
        for j in 0..k {
            let mut dist = 0.0;
            for e in 0..d {
                let diff = c[j * d + e] - p[i * d + e];
                dist += diff * diff;
            }
            closest = closest.min(dist);
        }
        cost += closest;
    }
    cost
}

/// Per point, the nearest centroid's index kept with its distance; then
/// 2·(c_j − p) added to that centroid's gradient. No storage but the gradient.
fn kmeans_grad_by_hand(c: &[f64], p: &[f64], d: usize) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; c.len()];
    let mut cost = 0.0;
    for pi in p.chunks_exact(d) {
        let mut closest = f64::INFINITY;
        let mut best = 0;
        for (j, cj) in c.chunks_exact(d).enumerate() {
            let mut dist = 0.0;
            for (&a, &b) in cj.iter().zip(pi) {
                let diff = a - b;
                dist += diff * diff;
            }
            if dist < closest {
                closest = dist;
                best = j;
            }
        }
        cost += closest;
        let cj = &c[best * d..(best + 1) * d];
        for ((gj, &a), &b) in g[best * d..(best + 1) * d].iter_mut().zip(cj).zip(pi) {
            *gj += 2.0 * (a - b);
        }
    }
    (cost, g)
}

const KM_K: usize = 100;
const KM_N: usize = 10_000;
const KM_D: usize = 8;

fn kmeans_problem() -> (Vec<f64>, Vec<f64>) {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    (
        rng.vec(KM_K * KM_D, 0.0, 1.0),
        rng.vec(KM_N * KM_D, 0.0, 1.0),
    )
}

// ---------------------------------------------------------------------------
// 4. logsumexp
// ---------------------------------------------------------------------------

#[grad]
pub fn logsumexp(x: &[f64]) -> f64 {
    let mut mx = f64::NEG_INFINITY;
    for i in 0..x.len() {
        mx = mx.max(x[i]);
    }
    let mut s = 0.0;
    for i in 0..x.len() {
        s += (x[i] - mx).exp();
    }
    s.ln() + mx
}

/// The max, then each exp(x_i − max) computed once, stored in the gradient and
/// summed; the gradient is scaled by 1/Σ in a third pass.
fn logsumexp_grad_by_hand(x: &[f64]) -> (f64, Vec<f64>) {
    let mut mx = f64::NEG_INFINITY;
    for &v in x {
        mx = mx.max(v);
    }
    let mut g = vec![0.0; x.len()];
    let mut s = 0.0;
    for (gi, &v) in g.iter_mut().zip(x) {
        let e = (v - mx).exp();
        *gi = e;
        s += e;
    }
    let inv = 1.0 / s;
    for gi in &mut g {
        *gi *= inv;
    }
    (s.ln() + mx, g)
}

const LSE_N: usize = 640_000;

fn logsumexp_problem(n: usize) -> Vec<f64> {
    let mut rng = Rng(0xdead_beef_cafe_f00d);
    rng.vec(n, -5.0, 5.0)
}

// ---------------------------------------------------------------------------
// 5. RK4 with local Vec state
// ---------------------------------------------------------------------------

// RK4 with local `Vec` state (`benches/support/rk4.rs`): y′ = x ⊙ D(y)
// from y = e_0, the output the last compartment.
#[macro_use]
#[path = "support/rk4.rs"]
mod rk4_support;
rk4!(rk4_last);

/// f(u) = x ⊙ D(u), D(u)_i = u_{i−1} − u_i (D(u)_0 = −u_0).
fn rk4_rhs(x: &[f64], u: &[f64], out: &mut [f64]) {
    out[0] = -x[0] * u[0];
    for i in 1..x.len() {
        out[i] = x[i] * (u[i - 1] - u[i]);
    }
}

/// The reverse of one stage k = f(u) given k̄: x̄ += D(u) ⊙ k̄, and
/// ū = Dᵀ(x ⊙ k̄), ū_i = x_{i+1}·k̄_{i+1} − x_i·k̄_i, written to `ubar`; one
/// pass, x_i·k̄_i carried to the next element.
fn rk4_stage_back(x: &[f64], u: &[f64], kbar: &[f64], gx: &mut [f64], ubar: &mut [f64]) {
    let n = x.len();
    gx[0] -= u[0] * kbar[0];
    let mut previous = x[0] * kbar[0];
    for i in 1..n {
        gx[i] += (u[i - 1] - u[i]) * kbar[i];
        let w = x[i] * kbar[i];
        ubar[i - 1] = w - previous;
        previous = w;
    }
    ubar[n - 1] = -previous;
}

/// The adjoint method as one writes it for speed: the forward sweep stores
/// each step's y and stage inputs a = y + h/2·k1, b = y + h/2·k2,
/// c = y + h·k3; the reverse sweep runs each step's four stages backwards
/// from them, the ODE being linear in y so each stage's transpose is one
/// loop. One gradient allocation, one scratch buffer of (4·steps + 6)·n
/// floats. Storing only y and computing a, b, c again in the reverse sweep
/// ((steps + 9)·n floats) was about 15 % slower.
fn rk4_grad_by_hand(x: &[f64], h: f64, steps: usize) -> (f64, Vec<f64>) {
    let n = x.len();
    let mut gx = vec![0.0; n];
    let mut scratch = vec![0.0; (4 * steps + 6) * n];
    let (stored, work) = scratch.split_at_mut(4 * steps * n);
    let mut work = work.chunks_exact_mut(n);
    let mut next = || work.next().expect("six work vectors");
    let (y, k, sum) = (next(), next(), next());
    let (cbar, bbar, abar) = (next(), next(), next());

    y[0] = 1.0;
    for step in stored.chunks_exact_mut(4 * n) {
        let (ys, rest) = step.split_at_mut(n);
        let (a, rest) = rest.split_at_mut(n);
        let (b, c) = rest.split_at_mut(n);
        ys.copy_from_slice(y);
        rk4_rhs(x, y, k);
        for i in 0..n {
            sum[i] = k[i];
            a[i] = y[i] + 0.5 * h * k[i];
        }
        rk4_rhs(x, a, k);
        for i in 0..n {
            sum[i] += 2.0 * k[i];
            b[i] = y[i] + 0.5 * h * k[i];
        }
        rk4_rhs(x, b, k);
        for i in 0..n {
            sum[i] += 2.0 * k[i];
            c[i] = y[i] + h * k[i];
        }
        rk4_rhs(x, c, k);
        for i in 0..n {
            y[i] += h * (sum[i] + k[i]) / 6.0;
        }
    }
    let value = y[n - 1];

    // ȳ of the final state: e_{n−1}, kept in `y` from here on; k̄ in `k`
    y.fill(0.0);
    y[n - 1] = 1.0;
    for step in stored.chunks_exact(4 * n).rev() {
        let (ys, rest) = step.split_at(n);
        let (a, rest) = rest.split_at(n);
        let (b, c) = rest.split_at(n);
        for i in 0..n {
            k[i] = h / 6.0 * y[i];
        }
        rk4_stage_back(x, c, k, &mut gx, cbar);
        for i in 0..n {
            k[i] = h / 3.0 * y[i] + h * cbar[i];
        }
        rk4_stage_back(x, b, k, &mut gx, bbar);
        for i in 0..n {
            k[i] = h / 3.0 * y[i] + 0.5 * h * bbar[i];
        }
        rk4_stage_back(x, a, k, &mut gx, abar);
        for i in 0..n {
            k[i] = h / 6.0 * y[i] + 0.5 * h * abar[i];
        }
        // the first stage's ū, into `sum`
        rk4_stage_back(x, ys, k, &mut gx, sum);
        for i in 0..n {
            y[i] += cbar[i] + bbar[i] + abar[i] + sum[i];
        }
    }
    (value, gx)
}

const RK4_N: usize = 100;
const RK4_STEPS: usize = 100;
const RK4_H: f64 = 1.0;

/// Rates in [0.9, 1.1]: y_{n−1} after t = 100 is about the Erlang density
/// t^99·e^−t/99!, a few hundredths.
fn rk4_problem() -> Vec<f64> {
    let mut rng = Rng(0x0bad_5eed_1234_4321);
    rng.vec(RK4_N, 0.9, 1.1)
}

// ---------------------------------------------------------------------------
// 6. Rosenbrock
// ---------------------------------------------------------------------------

const ROSEN_N: usize = 1_000_000;

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

/// xorshift64*: fixed-seed uniform draws.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        bits as f64 / (1_u64 << 53) as f64
    }

    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    fn vec(&mut self, n: usize, lo: f64, hi: f64) -> Vec<f64> {
        (0..n).map(|_| self.uniform(lo, hi)).collect()
    }
}

/// Largest of `values`; NaN if any is NaN (`f64::max` would drop it).
fn worst(values: impl IntoIterator<Item = f64>) -> f64 {
    values
        .into_iter()
        .fold(0.0, |m, v| if v.is_nan() || v > m { v } else { m })
}

/// Panics unless `g` (the hand-written gradient of `f` at `x`) matches
/// central finite differences of `f` at `indices`, steps of `step`·max(1,
/// |x_i|), each to 1e-6 relative (relative to |g_i|, or to 1e-3 of the
/// gradient's largest entry if g_i is smaller than that). Returns the worst
/// relative error.
fn check_against_differences(
    what: &str,
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    g: &[f64],
    indices: &[usize],
    step: f64,
) -> f64 {
    const TOLERANCE: f64 = 1e-6;
    assert_eq!(g.len(), x.len(), "{what}: gradient length");
    let floor = 1e-3 * worst(g.iter().map(|v| v.abs()));
    let errors = indices.iter().map(|&i| {
        let step = step * x[i].abs().max(1.0);
        let mut up = x.to_vec();
        up[i] += step;
        let mut down = x.to_vec();
        down[i] -= step;
        let central = (f(&up) - f(&down)) / (up[i] - down[i]);
        let error = (g[i] - central).abs() / g[i].abs().max(floor);
        assert!(
            error <= TOLERANCE,
            "{what}: the hand-written gradient is wrong at index {i}: {:e} by hand, {central:e} \
             by central differences, relative error {error:.1e} > {TOLERANCE:.0e}",
            g[i]
        );
        error
    });
    worst(errors.collect::<Vec<_>>())
}

/// A handful of indices into a length-`n` gradient: both ends and a few
/// spread through the middle.
fn spread(n: usize) -> Vec<usize> {
    let mut indices = vec![0, 1, n / 7, n / 3, n / 2, 2 * n / 3, n - 2, n - 1];
    indices.sort_unstable();
    indices.dedup();
    indices
}

/// Panics unless the generated value and gradient agree with the hand-written
/// ones to 1e-9, the value relative to itself and the gradient relative to
/// its largest entry.
fn assert_agree(what: &str, value: f64, g: &[&[f64]], value_hand: f64, g_hand: &[&[f64]]) {
    const TOLERANCE: f64 = 1e-9;
    let value_error = ((value - value_hand) / value_hand).abs();
    assert!(
        value_error <= TOLERANCE,
        "{what}: generated value {value:e}, hand-written {value_hand:e} (relative {value_error:.1e})"
    );
    let mut g_error: f64 = 0.0;
    for (part, (a, b)) in g.iter().zip(g_hand).enumerate() {
        assert_eq!(a.len(), b.len(), "{what}: gradient {part} lengths differ");
        let scale = worst(b.iter().map(|v| v.abs()));
        let error = worst(a.iter().zip(*b).map(|(p, q)| (p - q).abs())) / scale;
        assert!(
            error <= TOLERANCE,
            "{what}: generated and hand-written gradient {part} disagree: {error:.1e} relative \
             to its largest entry (tolerance {TOLERANCE:.0e})"
        );
        g_error = worst([g_error, error]);
    }
    println!("{what}: generated = hand-written (value {value_error:.1e}, gradient {g_error:.1e})");
}

// ---------------------------------------------------------------------------
// Names, allocations, main
// ---------------------------------------------------------------------------

const GMM: &str = "gmm-k25-d10-n1000";
const POLYFIT: &str = "polyfit-m128-n1024";
const KMEANS: &str = "kmeans-k100-n10000-d8";
const LOGSUMEXP: &str = "logsumexp-640000";
const RK4: &str = "rk4-n100-steps100";
const ROSENBROCK: &str = "rosenbrock-1000000";

/// One call's heap use: allocations, bytes allocated in all, peak bytes held.
struct Allocated {
    count: u64,
    bytes: u64,
    peak: u64,
}

fn allocated(f: impl Fn()) -> Allocated {
    f(); // warm up lazily allocated state
    let info = measure(f);
    Allocated {
        count: info.count_total,
        bytes: info.bytes_total,
        peak: info.bytes_max,
    }
}

struct Problems {
    gmm: Gmm,
    poly: (Vec<f64>, Vec<f64>, Vec<f64>),
    km: (Vec<f64>, Vec<f64>),
    lse: Vec<f64>,
    rk4: Vec<f64>,
    rosen: Vec<f64>,
}

fn check_all(p: &Problems) {
    // 1. GMM: each differentiated parameter in turn
    {
        let q = &p.gmm;
        let (_, (ga, gm, gi)) =
            gmm_grad_by_hand(&q.alphas, &q.means, &q.icf, &q.x, q.d, q.gamma, q.m);
        let ea = check_against_differences(
            "gmm alphas",
            |a| gmm_objective(a, &q.means, &q.icf, &q.x, q.d, q.gamma, q.m),
            &q.alphas,
            &ga,
            &spread(q.alphas.len()),
            1e-5,
        );
        let em = check_against_differences(
            "gmm means",
            |m| gmm_objective(&q.alphas, m, &q.icf, &q.x, q.d, q.gamma, q.m),
            &q.means,
            &gm,
            &spread(q.means.len()),
            1e-5,
        );
        // log-diagonal and triangle entries of the first and last components
        let icf_sz = q.d * (q.d + 1) / 2;
        let last = q.icf.len() - icf_sz;
        let icf_indices = [
            0,
            3,
            q.d,
            q.d + 7,
            icf_sz - 1,
            last,
            last + q.d + 1,
            q.icf.len() - 1,
        ];
        let ei = check_against_differences(
            "gmm icf",
            |i| gmm_objective(&q.alphas, &q.means, i, &q.x, q.d, q.gamma, q.m),
            &q.icf,
            &gi,
            &icf_indices,
            1e-5,
        );
        println!(
            "{GMM}: hand-written = central differences (worst relative error: alphas {ea:.1e}, \
             means {em:.1e}, icf {ei:.1e})"
        );
        let (v, (a, m, i)) =
            gmm_objective_grad(&q.alphas, &q.means, &q.icf, &q.x, q.d, q.gamma, q.m);
        let (vh, (ah, mh, ih)) =
            gmm_grad_by_hand(&q.alphas, &q.means, &q.icf, &q.x, q.d, q.gamma, q.m);
        assert_agree(GMM, v, &[&a, &m, &i], vh, &[&ah, &mh, &ih]);
    }
    // 2. polyfit
    {
        let (c, t, y) = &p.poly;
        let (_, g) = polyfit_grad_by_hand(c, t, y);
        let e = check_against_differences(
            "polyfit",
            |c| polyfit_loss(c, t, y),
            c,
            &g,
            &spread(c.len()),
            1e-5,
        );
        println!("{POLYFIT}: hand-written = central differences (worst relative error {e:.1e})");
        let (v, g) = polyfit_loss_grad(c, t, y);
        let (vh, gh) = polyfit_grad_by_hand(c, t, y);
        assert_agree(POLYFIT, v, &[&g], vh, &[&gh]);
    }
    // 3. k-means
    {
        let (c, pts) = &p.km;
        let (_, g) = kmeans_grad_by_hand(c, pts, KM_D);
        let e = check_against_differences(
            "kmeans",
            |c| kmeans_cost(c, pts, KM_D),
            c,
            &g,
            &spread(c.len()),
            1e-5,
        );
        println!("{KMEANS}: hand-written = central differences (worst relative error {e:.1e})");
        let (v, g) = kmeans_cost_grad(c, pts, KM_D);
        let (vh, gh) = kmeans_grad_by_hand(c, pts, KM_D);
        assert_agree(KMEANS, v, &[&g], vh, &[&gh]);
    }
    // 4. logsumexp: differences at n = 1 000 (at 640 000 each entry is about
    // 1e-6 and the differences of a value about 14 lose too many digits)
    {
        let small = logsumexp_problem(1_000);
        let (_, g) = logsumexp_grad_by_hand(&small);
        // steps of 2e-4·max(1, |x_i|): with 1e-5, rounding in a value about
        // 10 is 1e-10 of a difference quotient whose entries are 1e-6 to 3e-2
        let e = check_against_differences(
            "logsumexp",
            logsumexp,
            &small,
            &g,
            &spread(small.len()),
            2e-4,
        );
        println!(
            "{LOGSUMEXP}: hand-written = central differences at n = 1000 (worst relative error \
             {e:.1e})"
        );
        let (v, g) = logsumexp_grad(&p.lse);
        let (vh, gh) = logsumexp_grad_by_hand(&p.lse);
        assert_agree(LOGSUMEXP, v, &[&g], vh, &[&gh]);
    }
    // 5. RK4
    {
        let x = &p.rk4;
        let (_, g) = rk4_grad_by_hand(x, RK4_H, RK4_STEPS);
        let e = check_against_differences(
            "rk4",
            |x| rk4_last(x, RK4_H, RK4_STEPS),
            x,
            &g,
            &spread(x.len()),
            1e-5,
        );
        println!("{RK4}: hand-written = central differences (worst relative error {e:.1e})");
        let (v, g) = rk4_last_grad(x, RK4_H, RK4_STEPS);
        let (vh, gh) = rk4_grad_by_hand(x, RK4_H, RK4_STEPS);
        assert_agree(RK4, v, &[&g], vh, &[&gh]);
    }
    // 6. Rosenbrock: differences at n = 1 000, as benches/loops.rs
    {
        let small = point(1_000);
        let (_, g) = rosenbrock_grad_plain(&small);
        let e = check_against_differences(
            "rosenbrock",
            rosenbrock,
            &small,
            &g,
            &spread(small.len()),
            1e-5,
        );
        println!(
            "{ROSENBROCK}: hand-written = central differences at n = 1000 (worst relative error \
             {e:.1e})"
        );
        let (v, g) = rosenbrock_grad(&p.rosen);
        let (vh, gh) = rosenbrock_grad_plain(&p.rosen);
        assert_agree(ROSENBROCK, v, &[&g], vh, &[&gh]);
    }
}

/// What the run prints after criterion's report, per workload.
#[derive(Default)]
struct Report {
    /// (name, gradient floats, [forward, generated, hand-written] allocations)
    allocations: Vec<(&'static str, usize, [Allocated; 3])>,
    /// (name, generated / hand-written, generated / forward), measured in
    /// alternation (`support/paired.rs`)
    paired: Vec<(&'static str, paired::Paired, paired::Paired)>,
}

/// Counts the allocations of one call of each of `forward`, `generated`
/// and `by_hand`, times the three (see [`bench_three`]), then times
/// `generated` against each of the other two in alternation, if the
/// command line's filter selects them.
fn workload(
    criterion: &mut Criterion,
    report: &mut Report,
    name: &'static str,
    floats: usize,
    slow: bool,
    [forward, generated, by_hand]: [&dyn Fn(); 3],
) {
    report.allocations.push((
        name,
        floats,
        [allocated(forward), allocated(generated), allocated(by_hand)],
    ));
    bench_three(criterion, name, slow, forward, generated, by_hand);
    let ids = ["forward", "grad/generated", "grad/hand-written"].map(|f| format!("{name}/{f}"));
    if paired::selected(&ids.each_ref().map(String::as_str)) {
        let budget = Duration::from_secs(3);
        report.paired.push((
            name,
            paired::ratio(generated, by_hand, budget),
            paired::ratio(generated, forward, budget),
        ));
    }
}

/// Benchmarks `forward`, `grad/generated` and `grad/hand-written` in group
/// `name`; `slow` ones (milliseconds a call) get 10 samples of equal
/// iteration counts.
fn bench_three<A, B, C>(
    criterion: &mut Criterion,
    name: &str,
    slow: bool,
    forward: A,
    generated: B,
    by_hand: C,
) where
    A: Fn(),
    B: Fn(),
    C: Fn(),
{
    let mut group = criterion.benchmark_group(name);
    if slow {
        group.sample_size(10).sampling_mode(SamplingMode::Flat);
    }
    group.bench_function("forward", |b| b.iter(&forward));
    group.bench_function("grad/generated", |b| b.iter(&generated));
    group.bench_function("grad/hand-written", |b| b.iter(&by_hand));
    group.finish();
}

fn main() {
    let problems = Problems {
        gmm: gmm_problem(),
        poly: polyfit_problem(),
        km: kmeans_problem(),
        lse: logsumexp_problem(LSE_N),
        rk4: rk4_problem(),
        rosen: point(ROSEN_N),
    };
    // The references must be right, and the gradients agree, before their
    // speed means anything.
    check_all(&problems);
    let p = &problems;

    let mut report = Report::default();
    let mut criterion = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();

    {
        let q = &p.gmm;
        let forward = || {
            black_box(gmm_objective(
                black_box(&q.alphas),
                &q.means,
                &q.icf,
                &q.x,
                q.d,
                q.gamma,
                q.m,
            ));
        };
        let generated = || {
            black_box(gmm_objective_grad(
                black_box(&q.alphas),
                &q.means,
                &q.icf,
                &q.x,
                q.d,
                q.gamma,
                q.m,
            ));
        };
        let by_hand = || {
            black_box(gmm_grad_by_hand(
                black_box(&q.alphas),
                &q.means,
                &q.icf,
                &q.x,
                q.d,
                q.gamma,
                q.m,
            ));
        };
        let floats = q.alphas.len() + q.means.len() + q.icf.len();
        workload(
            &mut criterion,
            &mut report,
            GMM,
            floats,
            true,
            [&forward, &generated, &by_hand],
        );
    }
    {
        let (c, t, y) = &p.poly;
        let forward = || {
            black_box(polyfit_loss(black_box(c), t, y));
        };
        let generated = || {
            black_box(polyfit_loss_grad(black_box(c), t, y));
        };
        let by_hand = || {
            black_box(polyfit_grad_by_hand(black_box(c), t, y));
        };
        workload(
            &mut criterion,
            &mut report,
            POLYFIT,
            c.len(),
            false,
            [&forward, &generated, &by_hand],
        );
    }
    {
        let (c, pts) = &p.km;
        let forward = || {
            black_box(kmeans_cost(black_box(c), pts, KM_D));
        };
        let generated = || {
            black_box(kmeans_cost_grad(black_box(c), pts, KM_D));
        };
        let by_hand = || {
            black_box(kmeans_grad_by_hand(black_box(c), pts, KM_D));
        };
        workload(
            &mut criterion,
            &mut report,
            KMEANS,
            c.len(),
            true,
            [&forward, &generated, &by_hand],
        );
    }
    {
        let x = &p.lse;
        let forward = || {
            black_box(logsumexp(black_box(x)));
        };
        let generated = || {
            black_box(logsumexp_grad(black_box(x)));
        };
        let by_hand = || {
            black_box(logsumexp_grad_by_hand(black_box(x)));
        };
        workload(
            &mut criterion,
            &mut report,
            LOGSUMEXP,
            x.len(),
            true,
            [&forward, &generated, &by_hand],
        );
    }
    {
        let x = &p.rk4;
        let forward = || {
            black_box(rk4_last(black_box(x), RK4_H, RK4_STEPS));
        };
        let generated = || {
            black_box(rk4_last_grad(black_box(x), RK4_H, RK4_STEPS));
        };
        let by_hand = || {
            black_box(rk4_grad_by_hand(black_box(x), RK4_H, RK4_STEPS));
        };
        workload(
            &mut criterion,
            &mut report,
            RK4,
            x.len(),
            false,
            [&forward, &generated, &by_hand],
        );
    }
    {
        let x = &p.rosen;
        let forward = || {
            black_box(rosenbrock(black_box(x)));
        };
        let generated = || {
            black_box(rosenbrock_grad(black_box(x)));
        };
        let by_hand = || {
            black_box(rosenbrock_grad_plain(black_box(x)));
        };
        workload(
            &mut criterion,
            &mut report,
            ROSENBROCK,
            x.len(),
            true,
            [&forward, &generated, &by_hand],
        );
    }
    criterion.final_summary();

    for name in [GMM, POLYFIT, KMEANS, LOGSUMEXP, RK4, ROSENBROCK] {
        ratio::print(
            name,
            &[
                (
                    "generated / hand-written",
                    "grad_generated",
                    "grad_hand-written",
                ),
                ("generated / forward", "grad_generated", "forward"),
                ("hand-written / forward", "grad_hand-written", "forward"),
            ],
        );
    }

    for (name, by_hand, forward) in report.paired {
        paired::print(
            name,
            &[
                ("generated / hand-written", by_hand),
                ("generated / forward", forward),
            ],
        );
    }

    println!("\nheap allocations per call (count, bytes allocated in all, peak bytes held):");
    for (name, floats, [forward, generated, by_hand]) in &report.allocations {
        let gradient = 8 * *floats as u64;
        println!("  {name} (gradient {gradient} B):");
        for (label, a) in [
            ("forward", forward),
            ("generated", generated),
            ("hand-written", by_hand),
        ] {
            println!(
                "    {label:<13} {count:>6} allocations {bytes:>12} B in all {peak:>12} B peak   \
                 beyond the gradient: {extra} B",
                count = a.count,
                bytes = a.bytes,
                peak = a.peak,
                extra = if label == "forward" {
                    a.bytes as i64
                } else {
                    a.bytes as i64 - gradient as i64
                },
            );
        }
    }
}
