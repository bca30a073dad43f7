//! Golden expansions: the derivative code `#[grad]` writes for a few dozen
//! functions — straight-line, branches, each loop shape, local arrays,
//! ndarray, parameter structs, calls, split mode and HVPs — kept under
//! `autodiff-macros/tests/expansions/`, one file per function, so that every
//! change to the macro shows what it changes in the generated code.
//!
//! ```text
//! cargo test -p autodiff-macros snapshots                    # compare
//! AUTODIFF_BLESS=1 cargo test -p autodiff-macros snapshots   # rewrite them
//! ```
//!
//! A missing file is written (and the test fails, so that it is looked at
//! and committed); a different one fails the test with both versions' first
//! differing line. Each file holds the generated `_vjp` function (for
//! `split` and `hvp`, the extra generated functions too), as `cargo expand`
//! shows it with the runtime's paths shortened.

use crate::tests::{expand, function};
use proc_macro2::TokenStream;
use quote::quote;
use std::path::PathBuf;

/// `(name, #[grad(args)], item, generated functions to keep)`.
fn cases() -> Vec<(&'static str, TokenStream, TokenStream, Vec<&'static str>)> {
    vec![
        (
            "logistic",
            quote!(),
            quote! {
                fn logistic(x: f64, a: f64, b: f64) -> f64 {
                    sigmoid(a * x + b)
                }
            },
            vec!["logistic_vjp"],
        ),
        (
            "polynomial",
            quote!(wrt(x)),
            quote! {
                fn polynomial(x: f64, y: f64) -> f64 {
                    let t = x * x * y - 3.0 * x;
                    let u = t / (1.0 + y * y);
                    u.powi(3) + t.exp() - (x - y).abs()
                }
            },
            vec!["polynomial_vjp"],
        ),
        (
            "if_else",
            quote!(),
            quote! {
                fn if_else(x: f64, y: f64) -> f64 {
                    let mut s = x * y;
                    if x > y {
                        s = s * x + y.sin();
                    } else if x * x < 2.0 {
                        s = s.exp() - y;
                    } else {
                        s += x.cos() * y;
                    }
                    s * 0.5 + x
                }
            },
            vec!["if_else_vjp"],
        ),
        (
            "match_constant",
            quote!(),
            quote! {
                fn match_constant(x: f64, k: u32) -> f64 {
                    match k {
                        0 => x,
                        1 | 2 => x * x,
                        _ => x.sin(),
                    }
                }
            },
            vec!["match_constant_vjp"],
        ),
        (
            "early_return",
            quote!(),
            quote! {
                fn early_return(x: f64) -> f64 {
                    if x < 0.0 {
                        return -x * 2.0;
                    }
                    x.sqrt()
                }
            },
            vec!["early_return_vjp"],
        ),
        (
            "rosenbrock",
            quote!(),
            quote! {
                fn rosenbrock(x: &[f64]) -> f64 {
                    let mut s = 0.0;
                    for i in 0..x.len() - 1 {
                        let t = x[i + 1] - x[i] * x[i];
                        s += 100.0 * t * t + (1.0 - x[i]).powi(2);
                    }
                    s
                }
            },
            vec!["rosenbrock_vjp"],
        ),
        (
            "logreg_zip",
            quote!(wrt(w, b)),
            quote! {
                fn logreg_zip(w: f64, b: f64, xs: &[f64], ys: &[f64]) -> f64 {
                    let mut total = 0.0;
                    for (x, y) in xs.iter().zip(ys) {
                        let z = w * x + b;
                        total += softplus(z) - y * z;
                    }
                    total / xs.len() as f64
                }
            },
            vec!["logreg_zip_vjp"],
        ),
        (
            "overwritten_carried",
            quote!(),
            quote! {
                fn overwritten_carried(x: f64, a: f64, n: usize) -> f64 {
                    let mut y = x;
                    for _ in 0..n {
                        y = (y * a).sin();
                    }
                    y
                }
            },
            vec!["overwritten_carried_vjp"],
        ),
        (
            "nested_min",
            quote!(wrt(c)),
            quote! {
                fn nested_min(c: &[f64], p: &[f64], d: usize) -> f64 {
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
            },
            vec!["nested_min_vjp"],
        ),
        (
            "private_scratch",
            quote!(wrt(mu, l)),
            quote! {
                fn private_scratch(mu: &[f64], l: &[f64], x: &[f64], d: usize) -> f64 {
                    let mut xc = vec![0.0; d];
                    let mut v = vec![0.0; d];
                    let mut s = 0.0;
                    for p in 0..x.len() / d {
                        for e in 0..d {
                            xc[e] = x[p * d + e] - mu[e];
                            v[e] = xc[e];
                        }
                        let mut at = 0;
                        for i in 0..d {
                            for j in i + 1..d {
                                v[j] += l[at] * xc[i];
                                at += 1;
                            }
                        }
                        let mut sq = 0.0;
                        for e in 0..d {
                            sq += v[e] * v[e];
                        }
                        s += (-0.5 * sq).exp();
                    }
                    s
                }
            },
            vec!["private_scratch_vjp"],
        ),
        (
            "carried_product",
            quote!(wrt(c)),
            quote! {
                fn carried_product(c: &[f64], t: &[f64], y: &[f64]) -> f64 {
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
            },
            vec!["carried_product_vjp"],
        ),
        (
            "logsumexp",
            quote!(),
            quote! {
                fn logsumexp(x: &[f64]) -> f64 {
                    let mut m = f64::NEG_INFINITY;
                    for i in 0..x.len() {
                        m = m.max(x[i]);
                    }
                    let mut s = 0.0;
                    for i in 0..x.len() {
                        s += (x[i] - m).exp();
                    }
                    s.ln() + m
                }
            },
            vec!["logsumexp_vjp"],
        ),
        (
            "while_break_continue",
            quote!(),
            quote! {
                fn while_break_continue(x: f64, n: usize) -> f64 {
                    let mut s = x;
                    let mut i = 0;
                    while i < n {
                        i += 1;
                        if s > 10.0 {
                            break;
                        }
                        if i % 2 == 0 {
                            continue;
                        }
                        s = s * 1.5 + x;
                    }
                    s
                }
            },
            vec!["while_break_continue_vjp"],
        ),
        (
            "return_from_loop",
            quote!(),
            quote! {
                fn return_from_loop(x: f64, n: usize) -> f64 {
                    let mut y = x;
                    for i in 0..n {
                        y = y * y - 0.5;
                        if y > 100.0 {
                            return y + i as f64;
                        }
                    }
                    y
                }
            },
            vec!["return_from_loop_vjp"],
        ),
        (
            "chain_recurrence",
            quote!(wrt(x)),
            quote! {
                fn chain_recurrence(x: &[f64]) -> f64 {
                    let n = x.len();
                    let mut y = vec![0.0; n];
                    y[0] = x[0];
                    for i in 1..n {
                        y[i] = x[i] * y[i - 1];
                    }
                    y[n - 1]
                }
            },
            vec!["chain_recurrence_vjp"],
        ),
        (
            "local_vec_stages",
            quote!(wrt(x)),
            quote! {
                fn local_vec_stages(x: &[f64], h: f64, steps: usize) -> f64 {
                    let n = x.len();
                    let mut y = vec![1.0; n];
                    let mut k1 = vec![0.0; n];
                    let mut tmp = vec![0.0; n];
                    for _ in 0..steps {
                        for i in 1..n {
                            k1[i] = x[i] * (y[i - 1] - y[i]);
                        }
                        for i in 0..n {
                            tmp[i] = y[i] + 0.5 * h * k1[i];
                        }
                        for i in 0..n {
                            y[i] += h * tmp[i] / 6.0;
                        }
                    }
                    y[n - 1]
                }
            },
            vec!["local_vec_stages_vjp"],
        ),
        (
            "checkpointed_stages",
            quote!(wrt(x)),
            quote! {
                fn checkpointed_stages(x: &[f64], h: f64, steps: usize) -> f64 {
                    let n = x.len();
                    let mut y = vec![1.0; n];
                    let mut k1 = vec![0.0; n];
                    let mut decay = 1.0;
                    #[checkpoint(snapshots = 10)]
                    for _ in 0..steps {
                        for i in 1..n {
                            k1[i] = x[i] * (y[i - 1] - y[i]);
                        }
                        for i in 0..n {
                            y[i] += h * k1[i] * decay;
                        }
                        decay = decay * 0.99;
                    }
                    y[n - 1]
                }
            },
            vec!["checkpointed_stages_vjp"],
        ),
        (
            "packed_triangle",
            quote!(wrt(l)),
            quote! {
                fn packed_triangle(l: &[f64], x: &[f64], d: usize) -> f64 {
                    let mut y = vec![0.0; d];
                    for i in 0..d {
                        y[i] = l[i].exp() * x[i];
                    }
                    let mut k = d;
                    for i in 0..d {
                        for j in i + 1..d {
                            y[j] += l[k] * x[i];
                            k += 1;
                        }
                    }
                    let mut s = 0.0;
                    for i in 0..d {
                        s += y[i] * y[i];
                    }
                    s
                }
            },
            vec!["packed_triangle_vjp"],
        ),
        (
            "held_element",
            quote!(wrt(a, x)),
            quote! {
                fn held_element(a: &[f64], x: &[f64]) -> f64 {
                    let n = x.len();
                    let mut y = vec![0.0; n];
                    for i in 0..n {
                        for j in 0..n {
                            y[j] += a[i * n + j] * x[i];
                        }
                    }
                    let mut s = 0.0;
                    for j in 0..n {
                        s += y[j] * y[j];
                    }
                    s
                }
            },
            vec!["held_element_vjp"],
        ),
        (
            "hoisted_read",
            quote!(wrt(x, y)),
            quote! {
                fn hoisted_read(x: &[f64], y: &[f64]) -> f64 {
                    let n = x.len();
                    let mut s = 0.0;
                    for i in 0..n {
                        for j in i + 1..n {
                            s += (x[i + 1] * y[j]).sin();
                        }
                    }
                    s
                }
            },
            vec!["hoisted_read_vjp"],
        ),
        (
            "scratch_remat",
            quote!(wrt(m, l)),
            quote! {
                fn scratch_remat(m: &[f64], l: &[f64], x: &[f64], d: usize) -> f64 {
                    let n = x.len() / d;
                    let mut xc = vec![0.0; d];
                    let mut s = 0.0;
                    for k in 0..n {
                        for id in 0..d {
                            xc[id] = x[k * d + id] - m[id];
                        }
                        let mut c = 0;
                        for i in 0..d {
                            for j in i + 1..d {
                                s += l[c] * xc[i] * xc[j].sin();
                                c += 1;
                            }
                        }
                    }
                    s
                }
            },
            vec!["scratch_remat_vjp"],
        ),
        (
            "array_param",
            quote!(),
            quote! {
                fn array_param(v: [f64; 3], w: &[f64; 3]) -> f64 {
                    v[0] * w[1] + v[2].sin() * w[0]
                }
            },
            vec!["array_param_vjp"],
        ),
        (
            "network",
            quote!(wrt(w1, w2)),
            quote! {
                fn network(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
                    let h = sigmoid(matmul(w1, x));
                    let out = matmul(w2, &h);
                    0.5 * norm_sq(&(y - &out))
                }
            },
            vec!["network_vjp"],
        ),
        (
            "calls",
            quote!(),
            quote! {
                fn calls(x: f64, y: f64) -> f64 {
                    let a = helper(x, 2.0);
                    a * self::other::g(y)
                }
            },
            vec!["calls_vjp"],
        ),
        (
            "params_field",
            quote!(wrt(p)),
            quote! {
                fn params_field(p: &Mlp, x: f64) -> f64 {
                    let w = &p.w;
                    let b = &p.b;
                    sigmoid(w * x + b)
                }
            },
            vec!["params_field_vjp"],
        ),
        (
            "split",
            quote!(split),
            quote! {
                fn split(x: f64, a: f64) -> f64 {
                    (a * x).tanh()
                }
            },
            vec!["split_forward", "split_vjp"],
        ),
        (
            "hvp_generic",
            quote!(hvp),
            quote! {
                fn hvp_generic<T: Scalar>(x: T, y: T) -> T {
                    x * x * y + y.sin()
                }
            },
            vec!["hvp_generic_hvp", "hvp_generic_vjp"],
        ),
    ]
}

fn directory() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("expansions")
}

#[test]
fn snapshots_of_generated_code() {
    let bless = std::env::var_os("AUTODIFF_BLESS").is_some();
    let mut failures = Vec::new();
    for (name, args, item, functions) in cases() {
        let expansion = expand(args, item);
        let mut got = String::new();
        for function_name in functions {
            got.push_str(function(&expansion, function_name));
        }
        let path = directory().join(format!("{name}.txt"));
        let want = std::fs::read_to_string(&path).ok();
        if want.as_deref() == Some(got.as_str()) {
            continue;
        }
        if bless || want.is_none() {
            std::fs::create_dir_all(directory()).expect("create tests/expansions");
            std::fs::write(&path, &got).expect("write a snapshot");
        }
        if !bless {
            let first_difference = match &want {
                None => "no snapshot yet: written, look at it and commit it".to_owned(),
                Some(want) => {
                    let line = want
                        .lines()
                        .zip(got.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or_else(|| want.lines().count().min(got.lines().count()));
                    format!(
                        "line {}:\n  snapshot: {}\n  now:      {}",
                        line + 1,
                        want.lines().nth(line).unwrap_or("<end>"),
                        got.lines().nth(line).unwrap_or("<end>")
                    )
                }
            };
            failures.push(format!("{}: {first_difference}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "generated code differs from its snapshot (AUTODIFF_BLESS=1 rewrites them):\n{}",
        failures.join("\n")
    );
}
