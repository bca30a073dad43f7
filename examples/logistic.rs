//! The seed notes' example, side by side: y = σ(a·x + b) at x = 2, a = 3, b = 1,
//! differentiated symbolically, numerically (central differences, ε = 1e-5)
//! and by `#[grad]`, each compared with the exact value.
//!
//! ```text
//! cargo run --release --example logistic
//! ```

use autodiff::{grad, sigmoid};

#[grad]
fn logistic(x: f64, a: f64, b: f64) -> f64 {
    sigmoid(a * x + b)
}

/// The exact values, from 40-digit arithmetic (mpmath) of the formulas in the
/// seed notes: ∂y/∂x = a·e^(−z)/(1 + e^(−z))², ∂y/∂a = x·…, ∂y/∂b = …, z = 7.
#[allow(clippy::excessive_precision)] // the digits as computed; rustc rounds them
const EXACT: [f64; 4] = [
    0.999_088_948_805_599_354_642_136_7,
    0.002_730_663_540_365_479_546_091_578,
    0.001_820_442_360_243_653_030_727_719,
    0.000_910_221_180_121_826_515_363_859_4,
];

/// Symbolic differentiation: the calculus done by hand, as in the notes.
fn symbolic(x: f64, a: f64, b: f64) -> [f64; 4] {
    let e = (-(a * x + b)).exp();
    let common = e / ((1.0 + e) * (1.0 + e));
    [1.0 / (1.0 + e), a * common, x * common, common]
}

/// Numerical differentiation: (y(θ + ε) − y(θ − ε)) / 2ε.
fn central_differences(x: f64, a: f64, b: f64, eps: f64) -> [f64; 4] {
    let y = |x, a, b| logistic(x, a, b);
    [
        y(x, a, b),
        (y(x + eps, a, b) - y(x - eps, a, b)) / (2.0 * eps),
        (y(x, a + eps, b) - y(x, a - eps, b)) / (2.0 * eps),
        (y(x, a, b + eps) - y(x, a, b - eps)) / (2.0 * eps),
    ]
}

fn ulps(got: f64, exact: f64) -> u64 {
    got.to_bits().abs_diff(exact.to_bits())
}

fn main() {
    let (x, a, b) = (2.0, 3.0, 1.0);
    let (y, (dx, da, db)) = logistic_grad(x, a, b);
    let methods = [
        ("symbolic", symbolic(x, a, b)),
        (
            "finite differences (ε = 1e-5)",
            central_differences(x, a, b, 1e-5),
        ),
        ("#[grad]", [y, dx, da, db]),
    ];

    println!("y = σ(a·x + b) at x = {x}, a = {a}, b = {b}\n");
    println!(
        "{:<31} {:>10} {:>12} {:>12} {:>12}",
        "method", "y", "dy/dx", "dy/da", "dy/db"
    );
    for (name, v) in &methods {
        println!(
            "{name:<31} {:>10.5} {:>12.7} {:>12.7} {:>12.8}",
            v[0], v[1], v[2], v[3]
        );
    }

    println!("\nrelative error against the exact value");
    println!(
        "{:<31} {:>10} {:>12} {:>12} {:>12}",
        "method", "y", "dy/dx", "dy/da", "dy/db"
    );
    for (name, v) in &methods {
        let cells: Vec<String> = v
            .iter()
            .zip(EXACT)
            .map(|(&got, exact)| {
                let rel = ((got - exact) / exact).abs();
                if rel == 0.0 {
                    "exact".to_owned()
                } else {
                    format!("{rel:.1e}")
                }
            })
            .collect();
        println!(
            "{name:<31} {:>10} {:>12} {:>12} {:>12}",
            cells[0], cells[1], cells[2], cells[3]
        );
    }
    let worst = [dx, da, db]
        .iter()
        .zip(&EXACT[1..])
        .map(|(&g, &e)| ulps(g, e))
        .max()
        .unwrap_or(0);
    println!("\n#[grad] is within {worst} ulp of the exact gradient.");
}
