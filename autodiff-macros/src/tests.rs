//! Expansion unit tests: feed a function through the pipeline and look at the
//! pretty-printed output (after cxx/macro/src/tests.rs), and check the reverse
//! sweep on IR directly.

use crate::ir::{AdjStmt, Grad};
use crate::report::Errors;
use crate::rules::Activations;
use crate::{analyse, args, expand, lower, reverse};
use proc_macro2::TokenStream;
use quote::quote;

/// The runtime's activations, as `#[grad]` receives them: read from the
/// runtime's source, the list in its `__with_activations!`.
pub(crate) fn activations() -> Activations {
    let source = include_str!("../../autodiff-runtime/src/activation/mod.rs");
    let start = source
        .find("macro_rules! __with_activations")
        .expect("the runtime defines `__with_activations!`");
    let rest = &source[start..];
    let list = &rest[rest.find("! { [").expect("`$($callback)*! { [`") + 5..];
    let list = &list[..list.find(']').expect("the list's `]`")];
    let names: Vec<&str> = list.split_whitespace().collect();
    assert!(names.contains(&"sigmoid"), "read {names:?}");
    Activations::new(&names)
}

/// `#[grad(args)] item` expanded, as `__grad!` does it.
pub(crate) fn grad(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::grad(args, item, &activations())
}

/// The expansion of `#[grad(args)] item`, pretty-printed, paths shortened.
pub(crate) fn expand(args: TokenStream, item: TokenStream) -> String {
    let output = grad(args, item);
    let file: syn::File = syn::parse2(output.clone())
        .unwrap_or_else(|error| panic!("expansion does not parse: {error}\n{output}"));
    crate::emit::shorten(&prettyplease::unparse(&file))
}

/// `code` without whitespace: what prettyplease breaks over lines compares
/// equal to the one-line form.
fn compact(code: &str) -> String {
    code.split_whitespace().collect()
}

/// The body of the generated function `name`.
pub(crate) fn function<'a>(expansion: &'a str, name: &str) -> &'a str {
    // The last match: the doc comment of `_vjp` holds a listing of it too
    // (the tokens `__listing!` prints, in a `cfg_attr(doc, ..)`).
    let start = expansion
        .rfind(&format!("fn {name}("))
        .or_else(|| expansion.rfind(&format!("fn {name}<")))
        .unwrap_or_else(|| panic!("no `fn {name}` in\n{expansion}"));
    let rest = &expansion[start..];
    let end = rest.find("\n}\n").map_or(rest.len(), |end| end + 3);
    &rest[..end]
}

/// The messages of the `compile_error!`s in an expansion.
fn errors(args: TokenStream, item: TokenStream) -> Vec<String> {
    let output = grad(args, item).to_string();
    output
        .split("compile_error !")
        .skip(1)
        .map(|rest| {
            let start = rest.find('"').expect("a message") + 1;
            let end = start
                + rest[start..]
                    .find("\" }")
                    .or_else(|| rest[start..].find("\")"))
                    .expect("message end");
            rest[start..end].to_owned()
        })
        .collect()
}

#[test]
fn logistic_expands_to_the_chain_rule() {
    let out = expand(
        quote!(),
        quote! {
            pub fn logistic(x: f64, a: f64, b: f64) -> f64 {
                sigmoid(a * x + b)
            }
        },
    );
    let vjp = function(&out, "logistic_vjp");
    assert!(
        vjp.contains(
            "fn logistic_vjp(x: f64, a: f64, b: f64, seed: f64) -> (f64, (f64, f64, f64))"
        ),
        "{vjp}"
    );
    for line in [
        "let t0 = a * x;",
        "let t1 = t0 + b;",
        "let y = runtime_fn(sigmoid, autodiff::sigmoid,)(t1);",
        "let d_y = seed;",
        "let d_t1 = sigmoid_pullback(&t1, &y, &d_y);",
        "let d_b = d_t1;",
        "let d_t0 = d_t1;",
        "let d_x = mul_pullback_rhs(&a, &x, &d_t0);",
        "let d_a = mul_pullback_lhs(&a, &x, &d_t0);",
        "(y, (d_x, d_a, d_b))",
    ] {
        assert!(
            compact(vjp).contains(&compact(line)),
            "missing `{line}` in\n{vjp}"
        );
    }
    // The function itself is kept, and `_grad` seeds with one.
    assert!(
        out.contains("pub fn logistic(x: f64, a: f64, b: f64) -> f64 {\n    sigmoid(a * x + b)\n}")
    );
    assert!(function(&out, "logistic_grad").contains("let seed = one::<f64>();"));
    // The doc comment of `_vjp` shows the derivative code, printed by
    // `__listing!` under `cfg_attr(doc, ..)`: rustdoc alone pays for it.
    assert!(out.contains("The derivative code, as generated"));
    let expanded: syn::File = syn::parse2(grad(
        TokenStream::new(),
        quote! { fn logistic(x: f64, a: f64, b: f64) -> f64 { sigmoid(a * x + b) } },
    ))
    .unwrap();
    let listed = expanded
        .items
        .iter()
        .find_map(|item| match item {
            syn::Item::Fn(f) if f.sig.ident == "logistic_vjp" => f.attrs.iter().find_map(|attr| {
                let tokens = attr.meta.require_list().ok()?.tokens.to_string();
                let at = tokens.find("__listing !")?;
                let args = &tokens[at..];
                Some(args[args.find('(')? + 1..args.rfind(')')?].to_owned())
            }),
            _ => None,
        })
        .expect("`logistic_vjp` has `#[cfg_attr(doc, doc = __listing!(..))]`");
    let listing: syn::LitStr = syn::parse2(crate::emit::listing(listed.parse().unwrap())).unwrap();
    let listing = listing.value();
    assert!(listing.starts_with("\n```text\nfn logistic_vjp(x: f64, a: f64, b: f64, seed: f64)"));
    assert!(listing.contains("let d_t1 = sigmoid_pullback(&t1, &y, &d_y);\n    let d_b"));
    // The primitive as written: the check that `sigmoid` is the runtime's
    // is left out of the listing.
    assert!(listing.contains("let y = sigmoid(t1);"), "{listing}");
    assert!(listing.ends_with("}\n```"));
}

/// prettyplease panics on `become` (a `Verbatim` node): `__listing!` then
/// gives an empty listing, and no panic.
#[test]
fn listing_of_unprintable_syntax_is_empty() {
    let doc: syn::LitStr = syn::parse2(crate::emit::listing(
        quote! { fn f_vjp(x: f64, seed: f64) -> (f64, f64) { become g(x); } },
    ))
    .unwrap();
    assert_eq!(doc.value(), "\n```text\n```");
}

#[test]
fn constants_cost_nothing_in_the_reverse_sweep() {
    let out = expand(
        quote!(wrt(a)),
        quote! {
            fn f(x: f64, a: f64, n: usize) -> f64 {
                let m = n as f64;
                let c = x.exp() * m;
                a * c
            }
        },
    );
    let vjp = function(&out, "f_vjp");
    assert!(
        vjp.contains("-> (f64, f64)"),
        "one differentiated parameter gives a bare gradient:\n{vjp}"
    );
    assert!(vjp.contains("let m = n as f64;"), "{vjp}");
    assert!(
        vjp.contains("let d_a = mul_pullback_lhs(&a, &c, &d_y);"),
        "{vjp}"
    );
    // Nothing flows to x, m or c: no pullback of `exp`, no adjoint of `c`.
    assert!(!vjp.contains("exp_pullback"), "{vjp}");
    assert!(!vjp.contains("d_x"), "{vjp}");
    assert!(!vjp.contains("d_c"), "{vjp}");
    assert!(!vjp.contains("mul_pullback_rhs"), "{vjp}");
}

#[test]
fn several_contributions_accumulate() {
    let out = expand(
        quote!(),
        quote! {
            fn cube(x: f64) -> f64 { x * x * x }
        },
    );
    let vjp = function(&out, "cube_vjp");
    assert!(
        vjp.contains("let mut d_x = mul_pullback_rhs(&t0, &x, &d_y);"),
        "{vjp}"
    );
    assert_eq!(vjp.matches("&mut d_x,").count(), 2, "{vjp}");
}

#[test]
fn reassignment_defines_new_variables() {
    let out = expand(
        quote!(),
        quote! {
            fn f(x: f64) -> f64 {
                let mut s = x;
                s = s * s;
                s += 1.0;
                s
            }
        },
    );
    let vjp = function(&out, "f_vjp");
    assert!(vjp.contains("let s = x;"), "{vjp}");
    assert!(vjp.contains("let s_1 = s * s;"), "{vjp}");
    assert!(vjp.contains("let s_2 = s_1 + 1.0;"), "{vjp}");
    assert!(
        !vjp.contains("let mut s"),
        "the generated code never mutates:\n{vjp}"
    );
}

#[test]
fn calls_go_through_the_pullback() {
    let out = expand(
        quote!(),
        quote! {
            fn f(x: f64, y: f64) -> f64 { m::g(x, 2.0) * y }
        },
    );
    let vjp = function(&out, "f_vjp");
    assert!(vjp.contains("let t0 = m::g(x, 2.0);"), "{vjp}");
    assert!(
        vjp.contains("let (_, (g, _)) = m::__g_pullback(x, 2.0, d_t0);"),
        "{vjp}"
    );
    assert!(vjp.contains("callee_gradient(g)"), "{vjp}");
    let pullback = function(&out, "__f_pullback");
    assert!(pullback.contains("-> (f64, (f64, f64))"), "{pullback}");
}

#[test]
fn constants_report_not_differentiated_to_callers() {
    let out = expand(
        quote!(wrt(x)),
        quote! {
            fn f(x: f64, k: f64) -> f64 { x * k }
        },
    );
    let pullback = function(&out, "__f_pullback");
    assert!(
        pullback.contains("-> (f64, (f64, ::autodiff::__private::NotDifferentiated))"),
        "{pullback}"
    );
}

#[test]
fn non_float_outputs_get_a_checked_grad() {
    let out = expand(
        quote!(),
        quote! {
            fn f(x: f64) -> Real { x }
        },
    );
    let grad = function(&out, "f_grad");
    assert!(
        grad.contains("for<'__autodiff> Real: ::autodiff::__private::ScalarOutput"),
        "{grad}"
    );
    let float = expand(quote!(), quote! { fn g(x: f64) -> f64 { x } });
    assert!(!float.contains("ScalarOutput"), "{float}");
}

#[test]
fn non_float_parameters_get_projected_gradient_types() {
    let out = expand(
        quote!(wrt(v)),
        quote! {
            fn f(v: &[f64], w: &'a Thing<'_>) -> f64 { 0.0 }
        },
    );
    let vjp = function(&out, "f_vjp");
    assert!(
        vjp.contains("-> (f64, <[f64] as ::autodiff::__private::Differentiable>::Tangent)"),
        "{vjp}"
    );
    assert!(
        vjp.contains("zero(v)"),
        "a reference parameter is passed as is:\n{vjp}"
    );
}

#[test]
fn errors_keep_the_original_function() {
    let output = grad(quote!(wrt(q)), quote! { fn f(x: f64) -> f64 { x } }).to_string();
    assert!(output.contains("fn f (x : f64) -> f64 { x }"), "{output}");
    assert!(output.contains("compile_error"), "{output}");
    // Stubs stand in for the generated functions: no derivative code.
    assert!(output.contains("fn f_grad"), "{output}");
    assert!(output.contains("unimplemented"), "{output}");
    assert!(!output.contains("rules"), "{output}");
}

/// The signatures of the generated functions, by name, in an expansion.
fn signatures(output: TokenStream) -> Vec<(String, String)> {
    let file: syn::File = syn::parse2(output).expect("the expansion parses");
    let mut signatures: Vec<(String, String)> = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Fn(function) if function.sig.ident != "f" => {
                let cfgs: Vec<_> = function
                    .attrs
                    .iter()
                    .filter(|attr| attr.path().is_ident("cfg"))
                    .collect();
                let (vis, sig) = (&function.vis, &function.sig);
                Some((
                    sig.ident.to_string(),
                    quote!(#(#cfgs)* #vis #sig).to_string(),
                ))
            }
            _ => None,
        })
        .collect();
    signatures.sort();
    signatures
}

/// A rejected body gets stubs with the signatures its derivative would have
/// had: the same names, visibility, generics, where clauses and `#[cfg]`s.
#[test]
fn stubs_have_the_signatures_of_the_derivative() {
    let accepted = quote! {
        #[cfg(all())]
        pub(crate) fn f<T: Scalar>(x: T, v: &[T], n: usize) -> T where T: Copy {
            x * v[n]
        }
    };
    let rejected = quote! {
        #[cfg(all())]
        pub(crate) fn f<T: Scalar>(x: T, v: &[T], n: usize) -> T where T: Copy {
            x % v[n]
        }
    };
    for args in [quote!(), quote!(wrt(x)), quote!(split, hvp)] {
        let good = grad(args.clone(), accepted.clone());
        let bad = grad(args.clone(), rejected.clone());
        assert!(!good.to_string().contains("compile_error"), "{good}");
        assert!(bad.to_string().contains("compile_error"), "{bad}");
        let (good, bad) = (signatures(good), signatures(bad));
        assert!(good.len() >= 3, "{good:?}");
        assert_eq!(good, bad, "for #[grad({args})]");
    }
}

/// Whatever the error, the stubs do not depend on the body: a malformed
/// argument or signature still gets them, and `hvp` on a function that
/// cannot have one gets no `f_hvp` stub.
#[test]
fn stubs_after_argument_and_signature_errors() {
    for (args, item) in [
        (quote!(wrt(x), wrt(x)), quote! { fn f(x: f64) -> f64 { x } }),
        (quote!(bogus), quote! { fn f(x: f64) -> f64 { x } }),
        (quote!(wrt(n)), quote! { fn f(x: f64, n: i32) -> f64 { x } }),
        (quote!(hvp), quote! { fn f(x: f64) -> f64 { x } }),
        (
            quote!(),
            quote! { fn f((a, b): (f64, f64), x: f64) -> f64 { x } },
        ),
    ] {
        let output = grad(args.clone(), item.clone());
        let text = output.to_string();
        assert!(text.contains("compile_error"), "{text}");
        let names: Vec<String> = signatures(output).into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            ["__f_pullback", "f_grad", "f_vjp"],
            "#[grad({args})] {item}"
        );
    }
}

#[test]
fn every_error_is_reported_at_once() {
    let messages = errors(
        quote!(),
        quote! {
            fn f(x: f64) -> f64 {
                let a = x.frobnicate();
                let b = x as f32;
                a
            }
        },
    );
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("no derivative rule for the method `frobnicate`"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("`as` casts of differentiated values"),
        "{messages:?}"
    );
}

#[test]
fn argument_errors() {
    let cases = [
        (quote!(foo), "unknown `#[grad]` argument `foo`"),
        (quote!(wrt(x), wrt(x)), "duplicate `wrt` argument"),
        (quote!(wrt()), "`wrt()` names no parameter"),
        (quote!(wrt(x, x)), "`x` is listed twice"),
        (
            quote!(wrt(n)),
            "`n` has type `usize`, which cannot be differentiated",
        ),
        (
            quote!(wrt(z)),
            "`wrt` names `z`, which is not a parameter of `f`",
        ),
    ];
    for (args, want) in cases {
        let messages = errors(args.clone(), quote! { fn f(x: f64, n: usize) -> f64 { x } });
        assert!(
            messages.iter().any(|m| m.starts_with(want)),
            "{args}: {messages:?}"
        );
    }
}

#[test]
fn unusual_input_is_an_error_not_a_panic() {
    let inputs = [
        quote! { struct S; },
        quote! { fn f() {} },
        quote! { fn f(x: f64) -> f64 {} },
        quote! { fn f((a, b): (f64, f64)) -> f64 { a } },
        quote! { fn f(x: f64) -> f64 { let y; x } },
        quote! { fn f(x: f64) -> f64 { apply(|t: f64| t * x, x) } },
        quote! { fn f(x: f64) -> f64 { 'a: for i in 0..3 { break 'a; } x } },
        quote! { fn f(x: f64) -> f64 { if let Some(y) = Some(x) { y } else { x } } },
        quote! { fn f(x: f64) -> f64 { match x { 1.0 => x, _ => 2.0 * x } } },
        quote! { fn f(x: f64) -> f64 { for y in foo() { } x } },
        quote! { fn f(x: &[f64]) -> f64 { x[x[0]] } },
        quote! { fn f(x: &Array1<f64>) -> Array1<f64> { for i in 0..3 { return x * 2.0; } x * 1.0 } },
        quote! { fn f(x: f64) -> f64 { let S { a, b } = (x, x); a } },
        quote! { fn f(x: f64) -> f64 { let (a, rest @ ..) = (x, x); a } },
        quote! { async fn f(x: f64) -> f64 { x } },
        quote! { fn f(x: f64) -> f64 { unsafe { x } } },
        quote! { fn f(n: i32) -> f64 { 1.0 } },
        quote! { fn f(x: f64) -> f64 { x % 2.0 } },
        quote! { fn f(x: f64) -> f64 { x.powi(x) } },
        quote! { fn f(x: &mut f64) -> f64 { *x = 1.0; 1.0 } },
        quote! { fn f(x: f64) -> f64 { S { a: x }.a } },
        quote! { fn f(x: f64) -> f64 { [x; 3][0] } },
        quote! { fn f(x: f64) -> f64 { f64::frob(x) } },
        quote! { fn f(x: f64) -> f64 { x.exp(1.0) } },
    ];
    for input in inputs {
        let output = grad(TokenStream::new(), input.clone()).to_string();
        assert!(
            output.contains("compile_error"),
            "no error for {input}:\n{output}"
        );
    }
}

/// Lowers and differentiates `item`, for tests of the IR phases.
fn adjoint_of(args: TokenStream, item: TokenStream) -> (lower::Lowered, crate::ir::Adjoint) {
    let item: syn::ItemFn = syn::parse2(item).expect("a function");
    let mut cx = Errors::new();
    let args = args::parse(&mut cx, args);
    let front = crate::front::signature(&mut cx, &item.sig, &args);
    let lowered = lower::function(&mut cx, &item.sig, &item.block, &front, &activations());
    cx.propagate().expect("no errors");
    let active = analyse::activity(&lowered.function);
    let adjoint = reverse::adjoint(&lowered.function, &active);
    (lowered, adjoint)
}

#[test]
fn reverse_runs_backwards_over_active_statements() {
    let (lowered, adjoint) = adjoint_of(
        quote!(wrt(x)),
        quote! {
            fn f(x: f64, k: f64) -> f64 {
                let unused = x.sin();
                let c = k.cos();
                x.exp() * c
            }
        },
    );
    let f = &lowered.function;
    // Forward: unused = sin x; c = cos k; t = exp x; y = t * c.
    assert_eq!(f.body.nodes.len(), 4);
    let rules: Vec<&str> = adjoint
        .stmts
        .iter()
        .rev()
        .flatten()
        .filter_map(|stmt| match stmt {
            AdjStmt::Rule { rule, .. } => Some(rule.as_str()),
            _ => None,
        })
        .collect();
    // Only the path from x to the output: no pullback of sin (unused) or cos
    // (constant).
    assert_eq!(rules, ["mul_pullback_lhs", "exp_pullback"]);
    assert!(adjoint.stmts[0].is_empty() && adjoint.stmts[1].is_empty());
    assert!(matches!(
        adjoint.grads[..],
        [Grad::Adjoint(_), Grad::Constant]
    ));
}

#[test]
fn untouched_parameters_get_a_zero_gradient() {
    let (_, adjoint) = adjoint_of(
        quote!(),
        quote! {
            fn f(x: f64, y: f64) -> f64 { 2.0 * x }
        },
    );
    assert!(matches!(
        adjoint.grads[..],
        [Grad::Adjoint(_), Grad::Zero(_)]
    ));
}

/// The fixed pieces of a message template, between its `{…}` placeholders.
fn fixed_pieces(template: &str) -> Vec<String> {
    let unescaped = template.replace("{{", "\u{1}").replace("}}", "\u{2}");
    let mut pieces = Vec::new();
    let mut rest = unescaped.as_str();
    while let Some(start) = rest.find('{') {
        pieces.push(rest[..start].to_owned());
        rest = rest[start..]
            .find('}')
            .map_or("", |end| &rest[start + end + 1..]);
    }
    pieces.push(rest.to_owned());
    pieces
        .into_iter()
        .map(|piece| piece.replace('\u{1}', "{").replace('\u{2}', "}"))
        .filter(|piece| piece.trim().len() > 1)
        .collect()
}

#[test]
fn every_diagnostic_has_a_ui_case_that_shows_it() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut missing = Vec::new();
    for entry in crate::diagnostics::CATALOGUE {
        let case = root.join("tests/ui").join(entry.ui);
        let stderr = case.with_extension("stderr");
        match std::fs::read_to_string(&stderr) {
            Ok(text)
                if fixed_pieces(entry.template)
                    .iter()
                    .all(|piece| text.contains(piece.as_str())) => {}
            Ok(_) => missing.push(format!(
                "{}: {} does not show it",
                entry.name,
                stderr.display()
            )),
            Err(_) => missing.push(format!("{}: no {}", entry.name, stderr.display())),
        }
        if !case.exists() {
            missing.push(format!("{}: no {}", entry.name, case.display()));
        }
    }
    assert!(
        missing.is_empty(),
        "diagnostics without a trybuild case:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_diagnostic_is_listed_in_the_readme() {
    let readme = include_str!("../../README.md");
    let missing: Vec<&str> = crate::diagnostics::CATALOGUE
        .iter()
        .filter(|entry| !readme.contains(&entry.template.replace("{{", "{").replace("}}", "}")))
        .map(|entry| entry.name)
        .collect();
    assert!(missing.is_empty(), "README.md does not list: {missing:?}");
}

#[test]
fn the_network_does_not_differentiate_constants() {
    // Issue 3: with wrt(w1, w2), no gradient wrt X — the largest matrix
    // product of the backward pass — is computed.
    let out = expand(
        quote!(wrt(w1, w2)),
        quote! {
            fn loss(w1: &Array2<f64>, w2: &Array2<f64>, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
                let h = sigmoid(&matmul(w1, x));
                0.5 * norm_sq(&(y - &matmul(w2, &h)))
            }
        },
    );
    let vjp = function(&out, "loss_vjp");
    assert!(vjp.contains("matmul_pullback_lhs(w1, x, &d_t0)"), "{vjp}");
    assert!(vjp.contains("matmul_pullback_lhs(w2, &h, &d_t1)"), "{vjp}");
    assert!(vjp.contains("matmul_pullback_rhs(w2, &h, &d_t1)"), "{vjp}");
    assert!(
        !vjp.contains("matmul_pullback_rhs(w1, x"),
        "no gradient wrt x:\n{vjp}"
    );
    assert!(!vjp.contains("d_x"), "{vjp}");
    assert!(!vjp.contains("sub_pullback_lhs"), "y is a constant:\n{vjp}");
    assert!(
        vjp.contains("<Array2<f64> as ::autodiff::__private::Differentiable>::Tangent"),
        "{vjp}"
    );
    // The forward sweep borrows what the reverse sweep reads.
    assert!(vjp.contains("let t2 = y - &t1;"), "{vjp}");
    // Adjoints read for the last time are handed over to be reused in place.
    assert!(vjp.contains("sub_pullback_rhs_into(y, &t1, d_t2)"), "{vjp}");
    // The residual is read by nothing else: it becomes its own gradient.
    assert!(vjp.contains("norm_sq_pullback_into(t2, &d_t3)"), "{vjp}");
    assert!(vjp.contains("sigmoid_pullback_into(&t0, &h, d_h)"), "{vjp}");
    assert!(
        vjp.contains("matmul_pullback_rhs(w2, &h, &d_t1)"),
        "still read by the lhs pullback:\n{vjp}"
    );
}

#[test]
fn arrays_needed_later_are_borrowed_not_moved() {
    let out = expand(
        quote!(),
        quote! {
            fn f(a: Array1<f64>, b: Array1<f64>) -> f64 {
                let c = a * b;
                sum(c)
            }
        },
    );
    let vjp = function(&out, "f_vjp");
    // `a` and `b` are read by the pullbacks of `*`, and `c` by the pullback
    // of `sum`: the forward sweep borrows all three instead of moving them.
    assert!(vjp.contains("let c = &a * &b;"), "{vjp}");
    assert!(
        compact(vjp).contains(&compact("let y = runtime_fn(sum, autodiff::sum,)(&c);")),
        "{vjp}"
    );
    // Floats are `Copy`: scalar code stays as written.
    let scalar = expand(quote!(), quote! { fn g(a: f64, b: f64) -> f64 { a * b } });
    assert!(
        function(&scalar, "g_vjp").contains("let y = a * b;"),
        "{scalar}"
    );
}

#[test]
fn rosenbrock_records_nothing_and_sums_elements_in_registers() {
    let out = expand(
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
    );
    let vjp = function(&out, "rosenbrock_vjp");
    // No tape: nothing is pushed, and there is no second loop.
    assert!(!vjp.contains("tape"), "{vjp}");
    assert!(!vjp.contains("Vec::new"), "{vjp}");
    assert_eq!(vjp.matches("loop {").count(), 1, "{vjp}");
    assert!(!vjp.contains(".rev()"), "{vjp}");
    // x[i] and x[i + 1] are summed in registers; element i is written once.
    assert!(
        vjp.contains("let mut sum_x_0 = elem_zero(&acc_x);"),
        "{vjp}"
    );
    assert!(
        vjp.contains("let mut sum_x_1 = elem_zero(&acc_x);"),
        "{vjp}"
    );
    // Through the slice up to the loop's bound: no check per element.
    assert!(vjp.contains("acc_x[..t0][i] = sum_x_0;"), "{vjp}");
    // The first contribution to the sum of x[i + 1] sets it.
    assert!(vjp.contains("sum_x_1 = d_t2;"), "{vjp}");
    assert_eq!(vjp.matches("sum_x_1 = elem_zero").count(), 1, "{vjp}");
    // The contributions were made for d_s = 1 and are scaled by d_s after.
    assert!(vjp.contains("scaled(acc_x, &d_s_3)"), "{vjp}");
}

#[test]
fn a_loop_that_overwrites_its_carried_value_records_one_value_per_iteration() {
    let out = expand(
        quote!(),
        quote! {
            fn iterate(x: f64, a: f64, n: usize) -> f64 {
                let mut y = x;
                for _ in 0..n {
                    y = (y * a).sin();
                }
                y
            }
        },
    );
    let vjp = function(&out, "iterate_vjp");
    // Written into a segment of its tape sized on entry, one per iteration.
    assert_eq!(vjp.matches(".push(").count(), 0, "{vjp}");
    assert!(vjp.contains("segment_y_1[(i as usize)] = y_1;"), "{vjp}");
    // The reverse runs over the loop's bounds again, backwards, and reads
    // the recorded values back from the tape's last segment, by index,
    // then drops it.
    assert!(
        vjp.contains("let start_y_1 = tape_y_1.len() - count;"),
        "{vjp}"
    );
    assert!(
        vjp.contains("let y_1 = segment_y_1_1[(i as usize)];"),
        "{vjp}"
    );
    assert!(vjp.contains("tape_y_1.truncate(start_y_1);"), "{vjp}");
    assert!(!vjp.contains(".pop()"), "{vjp}");
}

#[test]
fn a_branch_keeps_an_exp_and_recomputes_a_product() {
    let out = expand(
        quote!(),
        quote! {
            fn f(x: f64) -> f64 {
                if x > 0.0 { x.exp() } else { x * x }
            }
        },
    );
    let vjp = function(&out, "f_vjp");
    // exp's pullback needs exp(x): kept from the forward sweep (an `Option`,
    // no allocation), not computed twice.
    assert_eq!(vjp.matches("x.exp()").count(), 1, "{vjp}");
    assert!(vjp.contains("Option::None"), "{vjp}");
    assert!(vjp.contains("exp_pullback"), "{vjp}");
    // The other branch's product reads only `x`, in scope: nothing to keep.
    assert_eq!(vjp.matches("Option::Some(").count(), 1, "{vjp}");
}

/// `item` lowered, and the plan of its reverse sweep, as `#[grad]` makes it.
fn planned(item: TokenStream) -> (crate::ir::Function, analyse::Plan) {
    let item: syn::ItemFn = syn::parse2(item).expect("a function");
    let mut cx = Errors::new();
    let args = args::parse(&mut cx, quote!());
    let front = crate::front::signature(&mut cx, &item.sig, &args);
    let mut lowered = lower::function(&mut cx, &item.sig, &item.block, &front, &activations());
    cx.propagate().expect("lowers");
    let (_, _, plan) = expand::middle(&mut lowered.function);
    (lowered.function, plan)
}

/// Runs the middle phase on `item` and returns what the plan records and
/// computes again, by variable name.
fn plan_of(item: TokenStream) -> (Vec<String>, Vec<String>, usize) {
    let (f, plan) = planned(item);
    let f = &f;
    let recorded = plan
        .recorded
        .iter()
        .map(|&var| f.vars[var].name.clone())
        .collect();
    let mut recomputed: Vec<String> = plan
        .recompute
        .iter()
        .map(|&id| f.vars[f.stmts[id].def].name.clone())
        .collect();
    recomputed.sort();
    (recorded, recomputed, plan.recounted.len())
}

#[test]
fn counters_a_nested_loop_steps_are_stepped_back_not_recorded() {
    let (recorded, _, _) = plan_of(quote! {
        fn nested_counters(w: &[f64], x: &[f64], d: usize) -> f64 {
            let n = w.len();
            let mut s = 0.0_f64;
            let mut down = 2 * d * d + 1;
            let mut up = 0;
            let mut c = 3;
            for i in 0..d {
                for j in i..=d - 1 {
                    s += w[down % n] * x[j] * (1.0 + 0.1 * s).sin();
                    down -= 2;
                }
                for v in x.iter() {
                    s += w[up % n] * v;
                    up += 1;
                }
                s += w[c % n] * 0.5;
                for j in 0..i {
                    s += (w[(c + j) % n] * x[j]).tanh();
                    c += 1;
                }
            }
            s
        }
    });
    // `down` and `up`: their value after each iteration of the loop over
    // `i` is stepped back from their value after the loop. `c` is read by
    // the outer body too (`w[c % n]`): its value per iteration is recorded.
    assert!(
        !recorded
            .iter()
            .any(|name| name.starts_with("down") || name.starts_with("up")),
        "recorded: {recorded:?}"
    );
    assert!(
        recorded.iter().any(|name| name.starts_with("c_")),
        "recorded: {recorded:?}"
    );
}

#[test]
fn nearest_centroid_records_the_nearest_index_per_point() {
    let (recorded, recomputed, recounted) = plan_of(quote! {
        fn kmeans_cost(c: &[f64], p: &[f64], d: usize) -> f64 {
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
    });
    // Per point, the index of the centroid `min` took last (the inner
    // loop's trip variable), and nothing else: no float, no side per pair.
    // (The loop over the points only sums into `cost`, but its nested loops
    // carry no chain the reverse reads: fused, it measured 12 % slower.)
    assert_eq!(recorded.len(), 1, "recorded: {recorded:?}");
    assert!(recorded[0].starts_with("trip"), "recorded: {recorded:?}");
    // `diff` is computed again from `c` and `p`, with the reads it needs.
    assert!(recomputed.contains(&"diff".to_owned()), "{recomputed:?}");
    assert!(
        recomputed
            .iter()
            .all(|name| name == "diff" || name.starts_with('t')),
        "{recomputed:?}"
    );
    // All three loops run their reverse over their bounds again.
    assert_eq!(recounted, 3);
}

#[test]
fn a_fused_loop_records_the_carried_chain_of_its_inner_loop() {
    let (recorded, _, _) = plan_of(quote! {
        fn polyfit(c: &[f64], t: &[f64], y: &[f64]) -> f64 {
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
    });
    // The point loop is fused: `r` is in scope where its reverse runs. The
    // powers `p` are recorded, a point's worth at a time, rather than
    // carried again by a second chain of multiplications.
    assert_eq!(recorded, ["p_1"], "recorded: {recorded:?}");
}

/// Whether the plan fuses a loop of `item`'s top level.
fn fuses(item: TokenStream) -> bool {
    !planned(item).1.fused.is_empty()
}

#[test]
fn a_summing_loop_whose_arrays_are_private_to_an_iteration_is_fused() {
    // GMM's shape: per point, per component, the centred point and its
    // image under a triangle, then a log-sum-exp over the components.
    let gmm = quote! {
        fn f(mu: &[f64], l: &[f64], x: &[f64], d: usize, k: usize) -> f64 {
            let n = x.len() / d;
            let mut xc = vec![0.0; d];
            let mut v = vec![0.0; d];
            let mut terms = vec![0.0; k];
            let mut total = 0.0;
            for p in 0..n {
                for c in 0..k {
                    for e in 0..d {
                        xc[e] = x[p * d + e] - mu[c * d + e];
                        v[e] = xc[e];
                    }
                    let mut at = 0;
                    for i in 0..d {
                        for j in i + 1..d {
                            v[j] += l[c * d * d + at] * xc[i];
                            at += 1;
                        }
                    }
                    let mut sq = 0.0;
                    for e in 0..d {
                        sq += v[e] * v[e];
                    }
                    terms[c] = -0.5 * sq;
                }
                let mut m = terms[0];
                for c in 1..k {
                    m = m.max(terms[c]);
                }
                let mut s = 0.0;
                for c in 0..k {
                    s += (terms[c] - m).exp();
                }
                total += s.ln() + m;
            }
            total
        }
    };
    let plan = planned(gmm).1;
    assert_eq!(plan.fused.len(), 1);
    // One point's worth of what the reverse reads of `v` is recorded, not
    // every point's: no tape is sized on entry to the point loop (by `n`).
    let point_loop = plan.fused.keys().next().copied();
    assert!(point_loop.is_some_and(|body| !plan.reserve.contains_key(&body)));
    assert!(!plan.reserve.is_empty());
}

#[test]
fn a_summing_loop_is_not_fused_when_an_array_carries_into_the_next_iteration() {
    // Read before it is written: the previous point's value.
    assert!(!fuses(quote! {
        fn f(x: &[f64], w: &[f64], d: usize) -> f64 {
            let mut a = vec![0.0; d];
            let mut s = 0.0;
            for p in 0..x.len() / d {
                for e in 0..d {
                    a[e] = a[e] * 0.5 + x[p * d + e] * w[e];
                }
                s += a[d - 1];
            }
            s
        }
    }));
    // Written over bounds that change from one point to the next.
    assert!(!fuses(quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut a = vec![0.0; d];
            let mut s = 0.0;
            for p in 0..x.len() / d {
                let h = 1 + p % d;
                for e in 0..h {
                    a[e] = x[p * d + e] * x[p * d];
                }
                s += a[d - 1];
            }
            s
        }
    }));
    // Written later at an index outside the elements written first.
    assert!(!fuses(quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut a = vec![0.0; d + 1];
            let mut s = 0.0;
            for p in 0..x.len() / d {
                for e in 0..d {
                    a[e] = x[p * d + e] * x[p * d];
                }
                s += a[0] * a[d];
                a[d] = a[0];
            }
            s
        }
    }));
    // Read after the loop.
    assert!(!fuses(quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut a = vec![0.0; d];
            let mut s = 0.0;
            for p in 0..x.len() / d {
                for e in 0..d {
                    a[e] = x[p * d + e] * x[p * d];
                }
                s += a[0];
            }
            s + a[d - 1]
        }
    }));
    // Elements the loop never writes keep their value from before it.
    assert!(fuses(quote! {
        fn f(x: &[f64], z: &[f64]) -> f64 {
            let m = 3;
            let mut a = [x[0], x[1], x[2], x[3]];
            let mut s = 0.0;
            for p in 0..z.len() {
                for e in 0..m {
                    a[e] = z[p] * x[e] + x[3];
                }
                s += a[0] * a[3] + a[2].sin() * a[3];
            }
            s
        }
    }));
    // A `Vec` the body makes afresh in each iteration.
    assert!(fuses(quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut s = 0.0;
            for p in 0..x.len() / d {
                let mut y = vec![0.0; d];
                y[0] = x[p * d];
                for i in 1..d {
                    y[i] = x[p * d + i] * y[i - 1] + 0.5;
                }
                s += y[d - 1].tanh() * y[0];
            }
            s
        }
    }));
    // The same loop without the read after it is fused.
    assert!(fuses(quote! {
        fn f(x: &[f64], d: usize) -> f64 {
            let mut a = vec![0.0; d];
            let mut s = 0.0;
            for p in 0..x.len() / d {
                for e in 0..d {
                    a[e] = x[p * d + e] * x[p * d];
                }
                s += a[0];
            }
            s
        }
    }));
}

#[test]
fn a_transcendental_result_is_recorded_not_computed_again() {
    let (recorded, recomputed, _) = plan_of(quote! {
        fn f(x: &[f64]) -> f64 {
            let mut s = 1.0;
            for i in 0..x.len() {
                s = s * (x[i] * s).exp();
            }
            s
        }
    });
    // mul reads `s` (the carried value) and the exp; exp's pullback reads
    // its result. Recorded: the carried value and the exp, never `x[i] * s`.
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert!(
        recomputed.iter().all(|name| !name.starts_with('s')),
        "{recomputed:?}"
    );
}

#[test]
fn split_mode_is_generated_on_request() {
    let item = quote! {
        fn f(x: f64) -> f64 { x * x }
    };
    let plain = expand(quote!(), item.clone());
    assert!(!plain.contains("fn f_forward"), "{plain}");
    assert!(!plain.contains("fn f_jacobian"), "{plain}");
    let split = expand(quote!(split), item.clone());
    assert!(
        split.contains("fn f_forward(x: f64) -> (f64, impl ::core::ops::Fn(f64) -> f64)"),
        "{split}"
    );
    assert!(split.contains("fn f_jacobian(x: f64)"), "{split}");
    let both = expand(quote!(wrt(x), split), item);
    assert!(both.contains("fn f_forward"), "{both}");
}

#[test]
fn a_single_writer_element_is_computed_again() {
    let (f, plan) = planned(quote! {
        fn f(m: &[f64], x: &[f64], d: usize, n: usize) -> f64 {
            let mut xc = vec![0.0; d];
            let mut s = 0.0;
            for k in 0..n {
                for id in 0..d {
                    xc[id] = x[k * d + id] - m[id];
                }
                for i in 0..d {
                    for j in i + 1..d {
                        s += m[j] * xc[i];
                    }
                }
            }
            s
        }
    });
    let f = &f;
    let recorded: Vec<&str> = plan
        .recorded
        .iter()
        .map(|&v| f.vars[v].name.as_str())
        .collect();
    assert_eq!(plan.remat.len(), 1, "recorded {recorded:?}");
    assert!(recorded.is_empty(), "{recorded:?}");
}

#[test]
fn a_running_min_alone_records_its_winner_not_its_sides() {
    let winners = |item| planned(item).1.winners.len();
    // Alone in its loop, as the receiver or the argument.
    assert_eq!(
        winners(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = x[0];
                for i in 1..x.len() { best = x[i].max(best); }
                best
            }
        }),
        1
    );
    // Also read by the sum: every iteration has a reverse.
    assert_eq!(
        winners(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = f64::INFINITY;
                let mut s = 0.0;
                for i in 0..x.len() { best = best.min(x[i]); s += best * x[i]; }
                s + best
            }
        }),
        0
    );
    // Beside a write to an array read later: its adjoint enters the body.
    assert_eq!(
        winners(quote! {
            fn f(x: &[f64], k: usize) -> f64 {
                let mut out = vec![0.0; k];
                let mut best = f64::INFINITY;
                for j in 0..k { out[j] += x[j] * x[j]; best = best.min(x[j]); }
                best + out[0]
            }
        }),
        0
    );
    // An inclusive range keeps its trip for its own end test.
    assert_eq!(
        winners(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = f64::INFINITY;
                for i in 0..=x.len() - 1 { best = best.min(x[i]); }
                best
            }
        }),
        0
    );
}

#[test]
fn a_running_min_from_a_constant_is_ordered() {
    let ordered = |item| {
        let plan = planned(item).1;
        plan.winners
            .values()
            .map(|winner| winner.ordered.as_ref().map(|o| o.max))
            .collect::<Vec<_>>()
    };
    // From a constant that is not NaN: never NaN, compared and selected.
    assert_eq!(
        ordered(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = f64::INFINITY;
                for i in 0..x.len() { best = best.min(x[i]); }
                best
            }
        }),
        [Some(false)]
    );
    assert_eq!(
        ordered(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = -1.0e300;
                for i in 0..x.len() { best = (x[i] * 2.0).max(best); }
                best
            }
        }),
        [Some(true)]
    );
    // From a parameter's element, or `f64::NAN`: it may be NaN, so `min`
    // itself and its side's NaN test.
    assert_eq!(
        ordered(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = x[0];
                for i in 1..x.len() { best = best.min(x[i]); }
                best
            }
        }),
        [None]
    );
    assert_eq!(
        ordered(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut best = f64::NAN;
                for i in 0..x.len() { best = best.max(x[i]); }
                best
            }
        }),
        [None]
    );
}

#[test]
fn lagging_reads_are_summed_in_registers() {
    let (f, plan) = planned(quote! {
        fn f(x: &[f64], lo: usize) -> f64 {
            let n = x.len();
            let mut a = vec![0.0; n];
            for i in 0..n { a[i] = x[i].sin(); }
            let mut b = vec![0.0; n];
            for i in lo..n { b[i] = x[i] * (a[i - 2] - a[i]) + a[i - 1]; }
            b[n - 1]
        }
    });
    // The second loop's reads of `a`, at offsets 0, 1 and 2 below `i`.
    assert_eq!(plan.lagged.len(), 1);
    let ((_, base), reads) = plan.lagged.iter().next().expect("one");
    assert_eq!(f.vars[*base].name, "a");
    let mut offsets: Vec<usize> = reads.values().copied().collect();
    offsets.sort_unstable();
    assert_eq!(offsets, [0, 1, 2]);
}

#[test]
fn a_read_ahead_or_a_write_keeps_the_adjoints_in_memory() {
    let lagged = |item| planned(item).1.lagged.len();
    // `a[i + 1]`: a later element, not a lagging one.
    assert_eq!(
        lagged(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 1..x.len() - 1 { s += x[i - 1] * x[i + 1] * s; }
                s
            }
        }),
        0
    );
    // `y[i] = x[i] * y[i - 1]`: the array read is written in the loop.
    assert_eq!(
        lagged(quote! {
            fn f(x: &[f64]) -> f64 {
                let n = x.len();
                let mut y = vec![1.0; n];
                for i in 1..n { y[i] = x[i] * y[i - 1]; }
                y[n - 1]
            }
        }),
        0
    );
}

#[test]
fn float_methods_in_a_loop_record_only_what_their_pullbacks_read() {
    let out = expand(
        quote!(),
        quote! {
            fn f(x: &[f64], lo: f64, hi: f64) -> f64 {
                let mut s = 0.0;
                for i in 0..x.len() {
                    let a = x[i] * s;
                    let b = a.floor() + a.to_radians();
                    s = b.exp_m1().clamp(lo, hi) + a.asinh();
                }
                s
            }
        },
    );
    let vjp = function(&out, "f_vjp");
    // floor and to_radians read neither operand nor value: the adjoint
    // fills every slot, and neither `a.floor()` nor `a.to_radians()` is kept.
    assert!(vjp.contains("floor_pullback(&d_t2, &d_t2, &d_t2)"), "{vjp}");
    assert!(
        vjp.contains("to_radians_pullback(&d_t3, &d_t3, &d_t3)"),
        "{vjp}"
    );
    assert!(
        !vjp.contains("tape_t2") && !vjp.contains("tape_t3"),
        "{vjp}"
    );
    // exp_m1 and asinh read only their operand: `b` is kept for exp_m1 (its
    // value is kept too, but for clamp, which reads it), `a.asinh()` is not.
    assert!(vjp.contains("exp_m1_pullback(&b, &b, "), "{vjp}");
    assert!(vjp.contains("asinh_pullback(&a, &a, "), "{vjp}");
    assert!(vjp.contains("segment_b[(i as usize)] = b;"), "{vjp}");
    assert!(!vjp.contains("tape_t6"), "{vjp}");
    // clamp: one pullback per operand, right to left.
    let hi = vjp.find("clamp_pullback_hi(").expect(vjp);
    let lo = vjp.find("clamp_pullback_lo(").expect(vjp);
    let x = vjp.find("clamp_pullback_x(").expect(vjp);
    assert!(hi < lo && lo < x, "{vjp}");
}

/// The names of the arrays each loop's reverse cuts to its bound.
/// The elements of [`Plan::held`], as `base[index]`, sorted.
fn held_names(item: TokenStream) -> Vec<String> {
    let (f, plan) = planned(item);
    let mut names: Vec<String> = plan
        .held
        .values()
        .flatten()
        .map(|(base, at)| {
            let at = match &at.kind {
                crate::ir::OperandKind::Var(var) => f.vars[*var].name.clone(),
                crate::ir::OperandKind::Const(tokens) => tokens.to_string(),
            };
            format!("{}[{at}]", f.vars[*base].name)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn element_adjoints_at_an_outer_index_are_held() {
    // `x[i]` in the loop over `j`: its adjoint summed in a register.
    assert_eq!(
        held_names(quote! {
            fn f(a: &[f64], x: &[f64]) -> f64 {
                let n = x.len();
                let mut s = 0.0;
                for i in 0..n {
                    for j in 0..n { s += (a[i * n + j] * x[i]).sin(); }
                }
                s
            }
        }),
        ["x[i]"]
    );
    // Two elements of one array, one at a constant: both held.
    assert_eq!(
        held_names(quote! {
            fn f(w: &[f64], y: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..w.len() {
                    for j in 0..y.len() { s += (w[i] * y[j] * w[0]).sin(); }
                }
                s
            }
        }),
        ["w[0]", "w[i]"]
    );
    // The inner loop also reads `x[j]`: its adjoint is added to at `j`,
    // so nothing of `x` is held.
    assert!(
        held_names(quote! {
            fn f(x: &[f64]) -> f64 {
                let n = x.len();
                let mut s = 0.0;
                for i in 0..n {
                    for j in 0..n { s += (x[i] * x[j]).sin(); }
                }
                s
            }
        })
        .is_empty()
    );
    // A local array written in the loop: its element adjoints are taken
    // there, so not held.
    assert!(
        held_names(quote! {
            fn f(x: &[f64]) -> f64 {
                let n = x.len();
                let mut v = vec![0.0; n];
                for i in 0..n {
                    for j in 0..n { v[i] += x[j] * v[i]; }
                }
                v[0]
            }
        })
        .is_empty()
    );
}

fn sliced_names(item: TokenStream) -> Vec<Vec<String>> {
    let (f, plan) = planned(item);
    let mut names: Vec<Vec<String>> = plan
        .sliced
        .values()
        .map(|vars| {
            let mut names: Vec<String> = vars.iter().map(|&v| f.vars[v].name.clone()).collect();
            names.sort();
            names
        })
        .collect();
    names.sort();
    names
}

#[test]
fn arrays_read_at_the_loop_index_are_cut_to_its_bound() {
    // RK4's shape: every array read at `i` and nowhere else, a value
    // carried through the loop (a summing loop would be fused instead).
    assert_eq!(
        sliced_names(quote! {
            fn f(x: &[f64], k: &[f64]) -> f64 {
                let n = x.len();
                let mut s = 0.0;
                for i in 0..n { s = (s * x[i] + 0.5 * k[i]).sin(); }
                s
            }
        }),
        [["k", "x"]]
    );
    // A read at `i - 1` is below the bound too (RK4's `u[i - 1] - u[i]`).
    assert_eq!(
        sliced_names(quote! {
            fn f(x: &[f64], u: &[f64]) -> f64 {
                let n = x.len();
                let mut s = 0.0;
                for i in 1..n { s = (s * x[i] + (u[i - 1] - u[i])).sin(); }
                s
            }
        }),
        [["u", "x"]]
    );
}

#[test]
fn arrays_read_at_another_index_are_not_cut() {
    // `y[i + 1] = .. y[i] ..`: `y` is read past the bound.
    assert_eq!(
        sliced_names(quote! {
            fn f(x: &[f64]) -> f64 {
                let n = x.len();
                let mut y = vec![0.0; n];
                y[0] = x[0];
                for i in 0..n - 1 { y[i + 1] = y[i].sin() * x[i]; }
                y[n - 1]
            }
        }),
        [["x"]]
    );
    // `y[i] += y[j]` in an inner loop over `j < i`: `y[i]` is written at
    // the outer index, so the inner loop may not cut `y` to `i` (the outer
    // loop cuts `x`, read at `i` only).
    assert_eq!(
        sliced_names(quote! {
            fn f(x: &[f64]) -> f64 {
                let n = x.len();
                let mut y = vec![0.0; n];
                for i in 0..n {
                    y[i] = x[i];
                    for j in 0..i { y[i] += y[j] * 0.01; }
                    y[i] = y[i].sin();
                }
                y[n - 1]
            }
        }),
        [["x"]]
    );
}

/// `#[custom_vjp]` copies the function's `#[cfg]`s onto every function it
/// generates, as `#[grad]` does; and its stubs, on an error, too.
#[test]
fn custom_vjp_carries_cfg() {
    let item = quote! {
        #[cfg(feature = "fast")]
        fn f(x: f64) -> f64 { x }
    };
    for args in [quote!(f_rule), quote!(f_rule, wrt(y))] {
        let output = crate::custom::custom_vjp(args.clone(), item.clone());
        let signatures = signatures(output);
        assert_eq!(signatures.len(), 3, "{signatures:?}");
        for (name, signature) in signatures {
            assert!(
                signature.starts_with("# [cfg (feature = \"fast\")]"),
                "#[custom_vjp({args})]: `{name}` is `{signature}`"
            );
        }
    }
}

/// `#[custom_vjp]` reads `wrt(...)` and the parameters as `#[grad]` does.
#[test]
fn custom_vjp_shares_the_front_end() {
    let cases = [
        (quote!(r, wrt(x), wrt(x)), "duplicate `wrt` argument"),
        (quote!(r, wrt()), "`wrt()` names no parameter"),
        (quote!(r, wrt(x, x)), "`x` is listed twice"),
        (quote!(r, wrt(n)), "`n` has type `i32`"),
        (quote!(r, wrt(out)), "`out` is a `&mut` parameter"),
        (quote!(r, split), "`#[custom_vjp]` takes the path"),
    ];
    let item = quote! {
        fn f(x: f64, n: i32, out: &mut Vec<f64>) -> f64 { x }
    };
    for (args, message) in cases {
        let output = crate::custom::custom_vjp(args.clone(), item.clone()).to_string();
        assert!(output.contains(message), "#[custom_vjp({args})]: {output}");
    }
    // `x: T`: differentiated by default, its gradient a `T`.
    let output = crate::custom::custom_vjp(
        quote!(r),
        quote! { fn f<T: Scalar>(x: T, k: usize) -> T { x } },
    );
    let grad = signatures(output)
        .into_iter()
        .find(|(name, _)| name == "f_grad")
        .expect("f_grad")
        .1;
    assert!(grad.contains("-> (T , T)"), "{grad}");
}

/// The names of the bases whose widest running sum a statement opens.
fn opened(item: TokenStream) -> Vec<String> {
    let (f, plan) = planned(item);
    let mut names: Vec<String> = plan
        .opening
        .iter()
        .map(|&id| match &f.stmts[id].op {
            crate::ir::Op::Index {
                base:
                    crate::ir::Operand {
                        kind: crate::ir::OperandKind::Var(base),
                        ..
                    },
                ..
            } => f.vars[*base].name.clone(),
            _ => panic!("an opening read is an element read"),
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_last_read_at_the_widest_offset_sets_its_running_sum() {
    // Rosenbrock: `x[i + 1]`, read once at the top of the body, sets the
    // sum of element `i + 1` instead of adding to a zeroed one.
    assert_eq!(
        opened(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..x.len() - 1 {
                    let t = x[i + 1] - x[i] * x[i];
                    s += 100.0 * t * t + (1.0 - x[i]).powi(2);
                }
                s
            }
        }),
        ["x"]
    );
    // A read at the widest offset in a branch after it: the branch may
    // not run, so nothing sets the sum; it is zeroed and added to.
    assert_eq!(
        opened(quote! {
            fn f(x: &[f64]) -> f64 {
                let mut s = 0.0;
                for i in 0..x.len() - 1 {
                    let t = x[i + 1] * x[i];
                    let u = if t > 0.0 { x[i + 1] } else { x[i] };
                    s += t + u;
                }
                s
            }
        }),
        Vec::<String>::new()
    );
}

/// `__grad!` called by hand, without the runtime's list or the `(args)`,
/// says what is missing instead of panicking; with both it expands as
/// `#[grad]` does.
#[test]
fn the_callback_wants_the_activations_and_the_arguments() {
    let item = quote! { fn f(x: f64) -> f64 { sigmoid(x) } };
    let without_list = expand::callback(quote!((wrt(x)) #item)).to_string();
    assert!(
        without_list.contains("compile_error") && without_list.contains("list of activations"),
        "{without_list}"
    );
    let without_args = expand::callback(quote!([sigmoid] #item)).to_string();
    assert!(
        without_args.contains("compile_error") && without_args.contains("`(args)`"),
        "{without_args}"
    );
    let bad_name = expand::callback(quote!([sigmoid 7] () #item)).to_string();
    assert!(bad_name.contains("an activation's name"), "{bad_name}");
    // `sigmoid` known: its rule, not a call of `__sigmoid_pullback`.
    let known = expand::callback(quote!([relu sigmoid] (wrt(x)) #item)).to_string();
    assert!(
        known.contains("sigmoid_pullback") && !known.contains("__sigmoid_pullback"),
        "{known}"
    );
    // Not in the list: a call of another `#[grad]` function.
    let unknown = expand::callback(quote!([relu] (wrt(x)) #item)).to_string();
    assert!(unknown.contains("__sigmoid_pullback"), "{unknown}");
    // A name the macro has never seen, once listed, is a primitive whose
    // `_into` pullback reuses the dead adjoint's buffer.
    let array = quote! { fn g(z: &Array1<f64>) -> f64 { sum(&gelu(z)) } };
    let listed = expand::callback(quote!([gelu] () #array)).to_string();
    assert!(
        listed.contains("gelu_pullback_into") && !listed.contains("__gelu_pullback"),
        "{listed}"
    );
}

/// `a.t()` and `transpose(&w)` hand their dead array adjoint to
/// `transpose_pullback_into`, whichever way transpose is written.
#[test]
fn transpose_reuses_the_dead_adjoint() {
    let vjp = expand(
        quote!(),
        quote! {
            fn f(a: &Array2<f64>, w: &Array2<f64>) -> f64 {
                let b = a.t();
                let c = transpose(w);
                sum(&matmul(&b, &c))
            }
        },
    );
    let vjp = function(&vjp, "f_vjp");
    assert_eq!(vjp.matches("transpose_pullback_into(").count(), 2, "{vjp}");
}
