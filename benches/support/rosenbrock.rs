//! The Rosenbrock function of N variables, `#[grad]`-differentiated, its
//! fastest plain-loop hand-written gradient and the benches' input: shared by
//! `benches/loops.rs` and `benches/workloads.rs`.

use autodiff::grad;

#[grad]
pub fn rosenbrock(x: &[f64]) -> f64 {
    let mut s = 0.0;
    for i in 0..x.len() - 1 {
        let t = x[i + 1] - x[i] * x[i];
        s += 100.0 * t * t + (1.0 - x[i]).powi(2);
    }
    s
}

/// The same value and gradient as the best plain loop of the table in
/// `benches/loops.rs` ("indices, carry"): one pair per iteration, each g[i] written once, no
/// blocks. A second reference: what the generated loop, which runs one pair
/// per iteration too, can be held against without vectorisation.
pub fn rosenbrock_grad_plain(x: &[f64]) -> (f64, Vec<f64>) {
    let mut g = vec![0.0; x.len()];
    let mut s = 0.0;
    let Some(pairs) = x.len().checked_sub(1) else {
        return (s, g);
    };
    let mut carry = 0.0;
    for i in 0..pairs {
        let t = x[i + 1] - x[i] * x[i];
        let u = 1.0 - x[i];
        s += 100.0 * t * t + u * u;
        g[i] = carry - 400.0 * t * x[i] - 2.0 * u;
        carry = 200.0 * t;
    }
    g[pairs] = carry;
    (s, g)
}

/// x[i] = 1 + ½·sin(0.37·(i + 1)), in [0.5, 1.5].
pub fn point(n: usize) -> Vec<f64> {
    let mut angle = 0.0_f64;
    (0..n)
        .map(|_| {
            angle += 0.37;
            1.0 + 0.5 * angle.sin()
        })
        .collect()
}
