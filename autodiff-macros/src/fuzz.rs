//! No-panic fuzzing of [`expand::grad`] (issue 6, part 2).
//!
//! The macro must turn every input into code or a `compile_error!`; it must
//! never panic. Two proptest generators feed it:
//!
//! - [`generated_functions_never_panic`]: random `fn` items from a grammar
//!   over syn-level constructs, mixing what `#[grad]` supports with what it
//!   rejects (`%`, `&&`, comparisons, unknown methods and wrong arities,
//!   closures, macros, indexing, fields, tuples, arrays, blocks, `if`/`match`/
//!   loops, `return`/`break`/`continue`, `unsafe`, references, `?`, …), random
//!   statements, parameter lists (floats, integers, references, patterns,
//!   `self` receivers, generics), return types and `#[grad(...)]` arguments
//!   (good and bad `wrt` names, unknown keys, duplicates, garbage tokens),
//!   all rendered to tokens with `quote!`.
//! - [`mutated_functions_never_panic`]: valid `#[grad]` functions whose
//!   token stream (flattened, delimiters included) has random tokens
//!   deleted, duplicated, swapped, inserted or replaced. A result whose
//!   delimiters no longer balance cannot be a `TokenStream` at all (rustc
//!   never hands one to a macro), so it is repaired by dropping stray closers
//!   and closing what is left open; the result usually fails to parse as an
//!   item, which is the point.
//!
//! Property: `catch_unwind(|| expand::grad(args, item))` does not panic, and
//! its output parses as a `syn::File` or contains `compile_error`. On failure
//! the shrunk (minimal) input is printed as `#[grad(args)] item`.
//!
//! Each test runs 2 000 cases by default (a few seconds). For a long run:
//!
//! ```text
//! AUTODIFF_FUZZ_CASES=200000 cargo test -p autodiff-macros --release fuzz -- --nocapture
//! ```
//!
//! `--nocapture` shows how many inputs parsed as functions, expanded fully or
//! were rejected, so a grammar that drifts into producing only parse errors
//! is noticed. The seed is random per run, as proptest's default;
//! `PROPTEST_RNG_SEED=<n>` fixes it.

use proc_macro2::{Delimiter, Ident, Literal, Spacing, Span, TokenStream, TokenTree};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use quote::quote;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};

type Ts = TokenStream;

/// Cases per test: `AUTODIFF_FUZZ_CASES`, else 2 000.
fn cases() -> u32 {
    std::env::var("AUTODIFF_FUZZ_CASES")
        .ok()
        .and_then(|cases| cases.trim().parse().ok())
        .unwrap_or(2_000)
}

/// One of the given token streams.
fn pool(items: Vec<Ts>) -> BoxedStrategy<Ts> {
    select(items).boxed()
}

// ---------------------------------------------------------------------------
// The grammar.

fn ident(name: &str) -> Ts {
    let ident = Ident::new(name, Span::call_site());
    quote!(#ident)
}

/// Names of locals and parameters: the usual ones, one that is never bound
/// (`q`), raw and non-ASCII identifiers, `self`, `_`.
fn name() -> BoxedStrategy<Ts> {
    prop_oneof![
        // Raw identifiers are rare: one in a function is enough.
        40 => select(vec!["x", "y", "z", "a", "w", "n", "v", "q", "i", "δ", "_t"]).prop_map(ident),
        1 => Just(quote!(r#match)),
        4 => Just(quote!(self)),
        4 => Just(quote!(_)),
    ]
    .boxed()
}

fn literal() -> BoxedStrategy<Ts> {
    let text = |text: &'static str| text.parse::<Ts>().expect("a literal");
    prop_oneof![
        3 => (prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO
                | prop::num::f64::POSITIVE | prop::num::f64::NEGATIVE)
            .prop_map(|v| TokenTree::Literal(Literal::f64_unsuffixed(v)).into()),
        1 => (prop::num::f64::POSITIVE | prop::num::f64::ZERO)
            .prop_map(|v| TokenTree::Literal(Literal::f64_suffixed(v)).into()),
        1 => prop::num::f32::NORMAL
            .prop_map(|v| TokenTree::Literal(Literal::f32_suffixed(v)).into()),
        2 => any::<i32>().prop_map(|v| TokenTree::Literal(Literal::i32_unsuffixed(v)).into()),
        1 => any::<u64>().prop_map(|v| TokenTree::Literal(Literal::u64_suffixed(v)).into()),
        1 => any::<i128>().prop_map(|v| TokenTree::Literal(Literal::i128_suffixed(v)).into()),
        1 => any::<u8>().prop_map(|v| TokenTree::Literal(Literal::u8_suffixed(v)).into()),
        1 => ".*".prop_map(|s| TokenTree::Literal(Literal::string(&s)).into()),
        1 => any::<char>().prop_map(|c| TokenTree::Literal(Literal::character(c)).into()),
        1 => any::<u8>().prop_map(|b| TokenTree::Literal(Literal::byte_character(b)).into()),
        1 => prop::collection::vec(any::<u8>(), 0..4)
            .prop_map(|b| TokenTree::Literal(Literal::byte_string(&b)).into()),
        1 => select(vec![
            text("true"),
            text("false"),
            text("r#\"raw\"#"),
            text("c\"c string\""),
            text("1e10"),
            text("1e-400"),
            text("1e400"),
            text("0x1F"),
            text("0b1010u8"),
            text("1_000.000_1"),
            text("2.5e-3_f32"),
            text("5usize"),
            text("1f64"),
            text("0.0"),
        ]),
    ]
    .boxed()
}

fn leaf_expr() -> BoxedStrategy<Ts> {
    prop_oneof![
        6 => name(),
        4 => literal(),
        1 => pool(vec![
            quote!(std::f64::consts::PI),
            quote!(core::f32::consts::E),
            quote!(f64::MAX),
            quote!(f64::NAN),
            quote!(Self::K),
            quote!(<f64 as Tr>::K),
            quote!(::autodiff::sigmoid),
            quote!(autodiff::relu),
            quote!(crate::K),
            quote!(super::g),
            quote!(T::default()),
            quote!(..),
            quote!(x..),
            quote!(..=y),
            quote!(S { f: 1.0 }),
            quote!(S { ..Default::default() }),
        ]),
    ]
    .boxed()
}

fn binary_op() -> BoxedStrategy<Ts> {
    pool(vec![
        quote!(+),
        quote!(-),
        quote!(*),
        quote!(/),
        quote!(+),
        quote!(*),
        quote!(%),
        quote!(&&),
        quote!(||),
        quote!(==),
        quote!(!=),
        quote!(<),
        quote!(<=),
        quote!(>),
        quote!(>=),
        quote!(&),
        quote!(|),
        quote!(^),
        quote!(<<),
        quote!(>>),
    ])
}

fn compound_op() -> BoxedStrategy<Ts> {
    pool(vec![
        quote!(+=),
        quote!(-=),
        quote!(*=),
        quote!(/=),
        quote!(%=),
        quote!(&=),
        quote!(|=),
        quote!(^=),
        quote!(<<=),
        quote!(>>=),
    ])
}

/// Method names: every one with a rule, `clone`, and unknown ones.
fn method() -> BoxedStrategy<Ts> {
    select(vec![
        "exp",
        "exp2",
        "ln",
        "log2",
        "log10",
        "sqrt",
        "cbrt",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "abs",
        "recip",
        "powi",
        "powf",
        "max",
        "min",
        "atan2",
        "hypot",
        "mul_add",
        "clone",
        "ln_1p",
        "exp_m1",
        "signum",
        "floor",
        "len",
        "iter",
        "sum",
        "to_string",
        "unwrap",
        "foo",
    ])
    .prop_map(ident)
    .boxed()
}

/// Callees: the primitives (bare and by path), other functions, unknowns.
fn callee() -> BoxedStrategy<Ts> {
    pool(vec![
        quote!(sigmoid),
        quote!(relu),
        quote!(softplus),
        quote!(autodiff::sigmoid),
        quote!(::autodiff::softplus),
        quote!(autodiff_runtime::relu),
        quote!(f),
        quote!(g),
        quote!(helper),
        quote!(Self::new),
        quote!(f64::exp),
        quote!(f64::max),
        quote!(<f64 as Tr>::go),
        quote!(Some),
        quote!(Vec::<f64>::new),
        quote!(g::<f64>),
        quote!(matmul),
        quote!(norm),
        quote!(sum),
    ])
}

fn ty() -> BoxedStrategy<Ts> {
    pool(vec![
        quote!(f64),
        quote!(f64),
        quote!(f32),
        quote!(i32),
        quote!(usize),
        quote!(u8),
        quote!(bool),
        quote!(char),
        quote!(&str),
        quote!(String),
        quote!(&f64),
        quote!(&mut f64),
        quote!(&'a f64),
        quote!(&[f64]),
        quote!(&mut [f64]),
        quote!([f64; 3]),
        quote!(&[f32; N]),
        quote!(Vec<f64>),
        quote!(Array<f64, Ix1>),
        quote!(&Array<f64, Ix2>),
        quote!(ArrayView<'_, f64, Ix1>),
        quote!(T),
        quote!((f64, f64)),
        quote!(()),
        quote!((f64)),
        quote!(Option<f64>),
        quote!(Box<dyn Fn(f64) -> f64>),
        quote!(impl Fn(f64) -> f64),
        quote!(fn(f64) -> f64),
        quote!(*const f64),
        quote!(Self),
        quote!(<T as Tr>::Out),
        quote!(_),
        quote!(!),
        quote!(std::primitive::f64),
        quote!(::core::primitive::f32),
    ])
}

/// Patterns of `let` and of parameters.
fn pattern() -> BoxedStrategy<Ts> {
    prop_oneof![
        6 => name(),
        1 => name().prop_map(|n| quote!(mut #n)),
        1 => name().prop_map(|n| quote!(ref #n)),
        1 => name().prop_map(|n| quote!(#n @ _)),
        1 => (name(), name()).prop_map(|(a, b)| quote!((#a, #b))),
        1 => (name(), name()).prop_map(|(a, b)| quote!([#a, #b])),
        1 => Just(quote!(S { f, .. })),
        1 => Just(quote!(Some(x))),
        1 => literal(),
    ]
    .boxed()
}

/// A statement over expressions from `e`.
fn stmt(e: BoxedStrategy<Ts>) -> BoxedStrategy<Ts> {
    let ty_annot = prop_oneof![3 => Just(quote!()), 1 => ty().prop_map(|t| quote!(: #t))];
    Union::new_weighted(vec![
        (
            8,
            (pattern(), ty_annot, e.clone())
                .prop_map(|(p, t, v)| quote!(let #p #t = #v;))
                .boxed(),
        ),
        (1, pattern().prop_map(|p| quote!(let #p;)).boxed()),
        (
            1,
            (pattern(), e.clone())
                .prop_map(|(p, v)| quote!(let #p = #v else { return 0.0; };))
                .boxed(),
        ),
        (
            4,
            (name(), e.clone())
                .prop_map(|(n, v)| quote!(#n = #v;))
                .boxed(),
        ),
        (
            4,
            (name(), compound_op(), e.clone())
                .prop_map(|(n, op, v)| quote!(#n #op #v;))
                .boxed(),
        ),
        (
            1,
            (e.clone(), e.clone())
                .prop_map(|(p, v)| quote!(#p = #v;))
                .boxed(),
        ),
        (3, e.clone().prop_map(|v| quote!(#v;)).boxed()),
        // Branches and loops around an update.
        (
            4,
            (name(), compound_op(), e.clone(), e.clone(), 0..8_usize)
                .prop_map(|(n, op, c, v, shape)| match shape {
                    0 => quote!(if #c > 0.0 { #n #op #v; } else { #n = #v; }),
                    1 => quote!(for i in 0..3 { #n #op #v; }),
                    2 => quote!(while #n < #c { #n #op #v; if #v > 1.0 { break; } }),
                    3 => quote!(loop { if #c { break; } #n #op #v; }),
                    4 => quote!(for (i, q) in s.iter().enumerate() { if #c { continue; } #n #op #v * q; }),
                    5 => quote!(match k { 0 => #n #op #v, 1 | 2 => {} _ => #n = #c }),
                    6 => quote!(for q in x.iter().zip(y) { if #c < #v { return #v; } }),
                    _ => quote!(let mut v = [0.0; 3]; v[1] = #v; v[2] #op #c; #n = v[1] * v[2];),
                })
                .boxed(),
        ),
        (
            1,
            pool(vec![
                quote!(
                    fn inner(u: f64) -> f64 {
                        u * u
                    }
                ),
                quote!(
                    const K: f64 = 1.0;
                ),
                quote!(
                    use std::f64::consts::PI;
                ),
                quote!(
                    struct S;
                ),
                quote!(println!("{}", x);),
                quote!(assert!(x > 0.0);),
                quote!(my_macro! { x + };),
                quote!(;),
                quote!(#[allow(unused)] let u = 1.0;),
            ]),
        ),
    ])
    .boxed()
}

fn expr() -> BoxedStrategy<Ts> {
    leaf_expr()
        .prop_recursive(4, 40, 4, |e| {
            let args = prop::collection::vec(e.clone(), 0..4);
            let stmts = prop::collection::vec(stmt(e.clone()), 0..3);
            let tail = prop::option::of(e.clone());
            Union::new_weighted(vec![
                // Binary operators, usually parenthesised so that the item
                // parses and the lowering is reached.
                (
                    10,
                    (e.clone(), binary_op(), e.clone())
                        .prop_map(|(a, op, b)| quote!((#a #op #b)))
                        .boxed(),
                ),
                (
                    2,
                    (e.clone(), binary_op(), e.clone())
                        .prop_map(|(a, op, b)| quote!(#a #op #b))
                        .boxed(),
                ),
                // Rust as people write it: iterator chains (with `zip`
                // of a reversed side and moves in any order, `windows` and
                // `chunks` read whole), sub-slices, closures, tuples,
                // `return` inside an `if` value, ndarray's folds.
                (
                    3,
                    (e.clone(), e.clone(), 0..15_usize)
                        .prop_map(|(a, b, shape)| match shape {
                            0 => quote!(x.iter().map(|v| v * #a).sum::<f64>()),
                            1 => quote!(s.iter().zip(x.iter().rev()).map(|(p, q)| p * q + #a).sum::<f64>()),
                            2 => quote!(x.iter().rev().skip(1).step_by(2).fold(#a, |acc, &v| acc * #b + v)),
                            3 => quote!(x.windows(2).map(|w| (w[1] - w[0]) * #a).sum::<f64>()),
                            4 => quote!(x.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
                            5 => quote!({ let f = |v: f64| v * #a; let a = #b; f(a) + f(#b) }),
                            6 => quote!({ let (p, [q, r]) = (#a, [#b, 1.0]); p * q - r }),
                            7 => quote!(if #a > 0.0 { if #b < 0.0 { return #b; } #a } else { { let u = 1.0; #b * u } }),
                            8 => quote!(x.iter().filter(|v| **v > #a).count() as f64),
                            9 => quote!(x.iter().enumerate().map(|(i, v)| v * i as f64).collect::<Vec<_>>()),
                            10 => quote!(z.fold(#a, |m, &v| m.max(v))),
                            11 => quote!(x.chunks(2).map(|c| c.iter().sum::<f64>() * #a).sum::<f64>()),
                            12 => quote!({ let t = &x[1..]; t[0] * #a + t.len() as f64 }),
                            13 => quote!(x.windows(3).filter(|w| w[0] > #b).map(|w| w.len() as f64 * w[2]).sum::<f64>()),
                            _ => quote!(p.eval(#a).powi(2)),
                        })
                        .boxed(),
                ),
                (
                    1,
                    (name(), compound_op(), e.clone())
                        .prop_map(|(n, op, b)| quote!((#n #op #b)))
                        .boxed(),
                ),
                (
                    3,
                    (select(vec![quote!(-), quote!(!), quote!(*)]), e.clone())
                        .prop_map(|(op, a)| quote!(#op #a))
                        .boxed(),
                ),
                // Method calls: any name, any arity.
                (
                    8,
                    (e.clone(), method(), args.clone())
                        .prop_map(|(r, m, a)| quote!(#r.#m(#(#a),*)))
                        .boxed(),
                ),
                (
                    1,
                    (e.clone(), method(), args.clone())
                        .prop_map(|(r, m, a)| quote!(#r.#m::<f64>(#(#a),*)))
                        .boxed(),
                ),
                (
                    5,
                    (callee(), args.clone())
                        .prop_map(|(f, a)| quote!(#f(#(#a),*)))
                        .boxed(),
                ),
                (
                    1,
                    (e.clone(), args.clone())
                        .prop_map(|(f, a)| quote!((#f)(#(#a),*)))
                        .boxed(),
                ),
                (
                    2,
                    (e.clone(), ty())
                        .prop_map(|(a, t)| quote!((#a as #t)))
                        .boxed(),
                ),
                (
                    1,
                    (name(), e.clone())
                        .prop_map(|(n, b)| quote!(|#n| #b))
                        .boxed(),
                ),
                (
                    1,
                    (name(), e.clone())
                        .prop_map(|(n, b)| quote!(move |#n: f64| -> f64 { #b }))
                        .boxed(),
                ),
                (1, args.clone().prop_map(|a| quote!(vec![#(#a),*])).boxed()),
                (1, e.clone().prop_map(|a| quote!(format!("{}", #a))).boxed()),
                (1, e.clone().prop_map(|a| quote!(m!(#a))).boxed()),
                (
                    2,
                    (e.clone(), e.clone())
                        .prop_map(|(a, i)| quote!(#a[#i]))
                        .boxed(),
                ),
                (
                    2,
                    (
                        e.clone(),
                        select(vec![quote!(0), quote!(1), quote!(f), quote!(len)]),
                    )
                        .prop_map(|(a, f)| quote!(#a.#f))
                        .boxed(),
                ),
                (1, args.clone().prop_map(|a| quote!((#(#a,)*))).boxed()),
                (1, args.clone().prop_map(|a| quote!([#(#a),*])).boxed()),
                (1, e.clone().prop_map(|a| quote!([#a; 3])).boxed()),
                (
                    3,
                    (stmts.clone(), tail.clone())
                        .prop_map(|(s, t)| quote!({ #(#s)* #t }))
                        .boxed(),
                ),
                (
                    1,
                    (stmts.clone(), tail.clone())
                        .prop_map(|(s, t)| quote!(unsafe { #(#s)* #t }))
                        .boxed(),
                ),
                (
                    1,
                    (stmts.clone(), tail.clone())
                        .prop_map(|(s, t)| quote!('blk: { #(#s)* #t }))
                        .boxed(),
                ),
                (
                    2,
                    (e.clone(), e.clone(), e.clone())
                        .prop_map(|(c, a, b)| quote!(if #c { #a } else { #b }))
                        .boxed(),
                ),
                (
                    1,
                    (e.clone(), e.clone())
                        .prop_map(|(c, a)| quote!(if let Some(x) = #c { #a }))
                        .boxed(),
                ),
                (
                    1,
                    (e.clone(), e.clone(), e.clone())
                        .prop_map(|(s, a, b)| quote!(match #s { 0 => #a, _ => #b }))
                        .boxed(),
                ),
                (
                    1,
                    (stmts.clone(), e.clone())
                        .prop_map(|(s, b)| quote!(loop { #(#s)* break #b; }))
                        .boxed(),
                ),
                (
                    1,
                    (e.clone(), stmts.clone())
                        .prop_map(|(c, s)| quote!(while #c { #(#s)* }))
                        .boxed(),
                ),
                (
                    1,
                    (name(), e.clone(), stmts.clone())
                        .prop_map(|(i, n, s)| quote!(for #i in 0..#n { #(#s)* }))
                        .boxed(),
                ),
                (
                    1,
                    prop::option::of(e.clone())
                        .prop_map(|v| quote!(return #v))
                        .boxed(),
                ),
                (
                    1,
                    pool(vec![
                        quote!(break),
                        quote!(continue),
                        quote!(break 'blk 1.0),
                        quote!(continue 'outer),
                        quote!(yield 1.0),
                        quote!(become f(x)),
                    ]),
                ),
                (
                    2,
                    (
                        select(vec![quote!(&), quote!(&mut), quote!(*), quote!(&raw const)]),
                        e.clone(),
                    )
                        .prop_map(|(r, a)| quote!(#r #a))
                        .boxed(),
                ),
                (1, e.clone().prop_map(|a| quote!(#a?)).boxed()),
                (1, e.clone().prop_map(|a| quote!(#a.await)).boxed()),
                (1, e.clone().prop_map(|a| quote!(async { #a })).boxed()),
                (1, e.clone().prop_map(|a| quote!(const { #a })).boxed()),
                (
                    1,
                    (e.clone(), e.clone())
                        .prop_map(|(a, b)| quote!((#a..#b)))
                        .boxed(),
                ),
            ])
        })
        .boxed()
}

fn param() -> BoxedStrategy<Ts> {
    prop_oneof![
        8 => (name(), ty()).prop_map(|(n, t)| quote!(#n: #t)),
        2 => (pattern(), ty()).prop_map(|(p, t)| quote!(#p: #t)),
        1 => pool(vec![
            quote!(self),
            quote!(&self),
            quote!(&mut self),
            quote!(mut self),
            quote!(self: Box<Self>),
            quote!(&'a self),
            quote!(#[cfg(x)] x: f64),
            quote!(...),
            quote!(args: ...),
        ]),
    ]
    .boxed()
}

fn generics() -> BoxedStrategy<Ts> {
    pool(vec![
        quote!(),
        quote!(),
        quote!(),
        quote!(<T>),
        quote!(<T: Float + Copy>),
        quote!(<'a>),
        quote!(<'a, T: 'a>),
        quote!(<const N: usize>),
        quote!(<T = f64>),
        quote!(<>),
    ])
}

fn return_type() -> BoxedStrategy<Ts> {
    prop_oneof![
        1 => Just(quote!()),
        4 => ty().prop_map(|t| quote!(-> #t)),
        1 => Just(quote!(-> impl Fn(f64) -> f64)),
        1 => Just(quote!(-> Result<f64, E>)),
    ]
    .boxed()
}

/// The part of the signature before `fn`.
fn fn_prefix() -> BoxedStrategy<Ts> {
    pool(vec![
        quote!(),
        quote!(),
        quote!(),
        quote!(pub),
        quote!(pub(crate)),
        quote!(#[inline]),
        quote!(#[doc = "docs"] pub),
        quote!(const),
        quote!(async),
        quote!(unsafe),
        quote!(extern "C"),
        quote!(pub const unsafe),
        quote!(default),
    ])
}

fn fn_name() -> BoxedStrategy<Ts> {
    prop_oneof![
        6 => Just(quote!(f)),
        1 => select(vec!["g", "_f", "f_grad", "f_vjp", "main", "Σ", "__f_pullback"]).prop_map(ident),
        1 => Just(quote!(r#fn)),
    ]
    .boxed()
}

fn item() -> BoxedStrategy<Ts> {
    let params = (
        prop::collection::vec(param(), 0..5),
        prop::bool::weighted(0.1),
    )
        .prop_map(|(p, trailing)| {
            if trailing && !p.is_empty() {
                quote!(#(#p),*,)
            } else {
                quote!(#(#p),*)
            }
        });
    let where_clause = pool(vec![
        quote!(),
        quote!(),
        quote!(),
        quote!(where T: Copy),
        quote!(where),
    ]);
    let body = (
        prop::collection::vec(stmt(expr()), 0..6),
        prop::option::weighted(0.8, expr()),
    )
        .prop_map(|(s, t)| quote!(#(#s)* #t));
    let function = (
        fn_prefix(),
        fn_name(),
        generics(),
        params,
        return_type(),
        where_clause,
        body,
    )
        .prop_map(|(pre, name, generic, params, ret, wh, body)| {
            quote!(#pre fn #name #generic (#params) #ret #wh { #body })
        });
    prop_oneof![
        30 => function,
        1 => pool(vec![
            quote!(),
            quote!(struct S;),
            quote!(impl S { fn f(&self) -> f64 { 1.0 } }),
            quote!(fn f(x: f64) -> f64;),
            quote!(fn f(x: f64) -> f64 { x } fn g() {}),
            quote!(let x = 1;),
            quote!(mod m {}),
        ]),
        1 => garbage(),
    ]
    .boxed()
}

/// Up to 12 arbitrary tokens, groups included.
fn garbage() -> BoxedStrategy<Ts> {
    let token = prop_oneof![
        name(),
        literal(),
        binary_op(),
        pool(vec![
            quote!(,),
            quote!(;),
            quote!(=),
            quote!(:),
            quote!(::),
            quote!(->),
            quote!(=>),
            quote!(#),
            quote!(@),
            quote!(.),
            quote!(?),
            quote!('a),
            quote!(()),
            quote!([x]),
            quote!({ y }),
            quote!(wrt),
            quote!(fn),
            quote!(grad),
        ]),
    ];
    prop::collection::vec(token, 0..12)
        .prop_map(|tokens| quote!(#(#tokens)*))
        .boxed()
}

/// One `#[grad(...)]` argument.
fn arg() -> BoxedStrategy<Ts> {
    let wrt_name = prop_oneof![
        4 => select(vec!["x", "y", "a", "w", "n", "v", "q"]).prop_map(ident),
        1 => pool(vec![
            quote!(self),
            quote!(r#fn),
            quote!(_),
            quote!(1),
            quote!(x::y),
            quote!(x y),
            quote!(&x),
            quote!(x = 1),
            quote!((x)),
            quote!(crate),
            quote!(Self),
        ]),
    ];
    prop_oneof![
        8 => prop::collection::vec(wrt_name, 0..4).prop_map(|n| quote!(wrt(#(#n),*))),
        1 => pool(vec![
            quote!(wrt),
            quote!(wrt()),
            quote!(wrt = x),
            quote!(wrt(x,)),
            quote!(wrt(,)),
            quote!(wrt(x,,y)),
            quote!(wrt[x]),
            quote!(wrt { x }),
            quote!(wrt(x) = 1),
            quote!(WRT(x)),
            quote!(name = f_grad),
            quote!(foo),
            quote!(foo = 1),
            quote!(foo(bar)),
            quote!(a::b(x)),
            quote!("wrt"),
            quote!(1),
        ]),
        1 => garbage(),
    ]
    .boxed()
}

fn attr_args() -> BoxedStrategy<Ts> {
    prop_oneof![
        3 => Just(quote!()),
        6 => prop::collection::vec(arg(), 1..4).prop_map(|a| quote!(#(#a),*)),
        1 => (prop::collection::vec(arg(), 1..3), garbage())
            .prop_map(|(a, g)| quote!(#(#a),* #g)),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------
// Mutation of valid functions.

/// Valid `#[grad]` inputs, together covering the supported constructs.
fn corpus() -> Vec<(Ts, Ts)> {
    vec![
        (
            quote!(),
            quote! {
                pub fn logistic(x: f64, a: f64, b: f64) -> f64 {
                    sigmoid(a * x + b)
                }
            },
        ),
        (
            quote!(wrt(x, w)),
            quote! {
                fn f(x: f64, w: f64, n: i32, c: f32) -> f64 {
                    let mut y = x * w;
                    y += x.powi(n) - w.powf(2.5);
                    y = y.max(x).min(w) / x.hypot(w);
                    let z = -y.exp().ln().sqrt().tanh() * softplus(relu(y));
                    z.mul_add(x, w) + x.atan2(w) + f64::from(c)
                }
            },
        ),
        (
            quote!(wrt(x)),
            quote! {
                pub(crate) fn g<T: Copy>(x: &f64, t: T, s: &[f64]) -> f64 {
                    let (u, v) = (*x, 2.0);
                    let k = s.len();
                    { let q = u * v; q.sin() + q.cos() + q.tan() }
                }
            },
        ),
        (
            quote!(),
            quote! {
                fn h(x: f32, y: f32) -> f32 {
                    let a = x.abs().recip().cbrt().exp2().log2().log10();
                    let b = y.asin() + y.acos() + y.atan() + y.sinh() + y.cosh();
                    let c = autodiff::sigmoid(a * b) - ::autodiff::relu(x);
                    return c / y;
                }
            },
        ),
        (
            quote!(),
            quote! {
                fn vec_out(x: f64, y: f64) -> Vec<f64> {
                    let s = x * y;
                    vec![s, x + y]
                }
            },
        ),
        (
            quote!(),
            quote! {
                fn control(x: &[f64], y: [f64; 3], k: usize, mut z: f64) -> f64 {
                    let mut s = 0.0;
                    let mut v = vec![0.0; x.len()];
                    for i in 0..x.len() - 1 {
                        let t = x[i + 1] - x[i] * x[i];
                        if t > 0.0 { s += t; } else if t < -1.0 { continue; } else { s -= t * t; }
                        v[i] = t;
                    }
                    for (j, q) in y.iter().enumerate() {
                        z = z * q + j as f64;
                        if z > 10.0 { break; }
                    }
                    while z < 5.0 { z = z * 2.0 + 1.0; }
                    let w = match k { 0 => s, 1 | 2 => z, _ => s * z };
                    loop { if s > 0.0 { return w + v[0]; } s += 1.0; }
                }
            },
        ),
        (
            quote!(wrt(a)),
            quote! {
                fn calls(a: f64, b: f64) -> f64 {
                    let u = logistic(a, b, 1.0);
                    let v = f(a, b, 3, 1.0f32);
                    let _ = a.clone();
                    u * v + b
                }
            },
        ),
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Insert(Index, usize),
    Replace(Index, usize),
}

/// Tokens `Insert` and `Replace` draw from.
const INSERTABLE: &[&str] = &[
    "(", ")", "{", "}", "[", "]", ",", ";", ":", "=", "+", "*", "-", ".", "->", "&", "!", "?", "#",
    "'", "x", "y", "q", "self", "fn", "let", "mut", "return", "if", "1.0", "0", "\"s\"", "f64",
    "i32", "wrt", "exp", "powi", "sigmoid", "for", "in", "while", "loop", "break", "continue",
    "match", "=>", "..", "else", "iter", "zip", "[0]",
];

fn mutation() -> BoxedStrategy<Mutation> {
    let choice = 0..INSERTABLE.len();
    prop_oneof![
        3 => any::<Index>().prop_map(Mutation::Delete),
        2 => any::<Index>().prop_map(Mutation::Duplicate),
        2 => (any::<Index>(), any::<Index>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
        2 => (any::<Index>(), choice.clone()).prop_map(|(i, t)| Mutation::Insert(i, t)),
        2 => (any::<Index>(), choice).prop_map(|(i, t)| Mutation::Replace(i, t)),
    ]
    .boxed()
}

/// A token stream as a flat list of token texts, delimiters included; a
/// `bool` marks a punctuation character joined to the next one.
fn flatten(tokens: Ts, out: &mut Vec<(String, bool)>) {
    for token in tokens {
        match token {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push((open.to_owned(), false));
                }
                flatten(group.stream(), out);
                if !close.is_empty() {
                    out.push((close.to_owned(), false));
                }
            }
            TokenTree::Punct(punct) => {
                out.push((
                    punct.as_char().to_string(),
                    punct.spacing() == Spacing::Joint,
                ));
            }
            other => out.push((other.to_string(), false)),
        }
    }
}

fn apply(tokens: &mut Vec<(String, bool)>, mutation: &Mutation) {
    if tokens.is_empty() {
        if let Mutation::Insert(_, t) = mutation {
            tokens.push((INSERTABLE[*t].to_owned(), false));
        }
        return;
    }
    match mutation {
        Mutation::Delete(i) => {
            tokens.remove(i.index(tokens.len()));
        }
        Mutation::Duplicate(i) => {
            let i = i.index(tokens.len());
            tokens.insert(i, tokens[i].clone());
        }
        Mutation::Swap(i, j) => {
            let (i, j) = (i.index(tokens.len()), j.index(tokens.len()));
            tokens.swap(i, j);
        }
        Mutation::Insert(i, t) => {
            let i = i.index(tokens.len() + 1);
            tokens.insert(i, (INSERTABLE[*t].to_owned(), false));
        }
        Mutation::Replace(i, t) => {
            let i = i.index(tokens.len());
            tokens[i] = (INSERTABLE[*t].to_owned(), false);
        }
    }
}

fn render(tokens: &[(String, bool)]) -> String {
    let mut text = String::new();
    for (token, joint) in tokens {
        text.push_str(token);
        if !joint {
            text.push(' ');
        }
    }
    text
}

/// Drops closers that close nothing open and closes what is left open.
fn balance(tokens: &[(String, bool)]) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut open = Vec::new();
    for (token, joint) in tokens {
        let closer = match token.as_str() {
            "(" => Some(")"),
            "[" => Some("]"),
            "{" => Some("}"),
            _ => None,
        };
        if let Some(closer) = closer {
            open.push(closer);
        } else if matches!(token.as_str(), ")" | "]" | "}") {
            if open.last() == Some(&token.as_str()) {
                open.pop();
            } else {
                continue;
            }
        }
        out.push((token.clone(), *joint));
    }
    out.extend(open.into_iter().rev().map(|c| (c.to_owned(), false)));
    out
}

/// Counts of what happened to the mutated inputs.
#[derive(Default)]
struct MutationStats {
    unbalanced: Cell<usize>,
    unlexable: Cell<usize>,
}

/// Applies `mutations` to `tokens`; `None` if the result cannot be lexed even
/// after balancing its delimiters (e.g. a lone `'` before a group).
fn mutate(tokens: &Ts, mutations: &[Mutation], stats: &MutationStats) -> Option<Ts> {
    if mutations.is_empty() {
        return Some(tokens.clone());
    }
    let mut flat = Vec::new();
    flatten(tokens.clone(), &mut flat);
    for mutation in mutations {
        apply(&mut flat, mutation);
    }
    if let Ok(tokens) = render(&flat).parse() {
        return Some(tokens);
    }
    stats.unbalanced.set(stats.unbalanced.get() + 1);
    let lexed = render(&balance(&flat)).parse().ok();
    if lexed.is_none() {
        stats.unlexable.set(stats.unlexable.get() + 1);
    }
    lexed
}

// ---------------------------------------------------------------------------
// The property and the runner.

/// What the expansions looked like, for `--nocapture`.
#[derive(Default)]
struct Stats {
    cases: Cell<usize>,
    functions: Cell<usize>,
    expanded: Cell<usize>,
    rejected: Cell<usize>,
}

fn bump(cell: &Cell<usize>) {
    cell.set(cell.get() + 1);
}

fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-string panic payload>".to_owned())
}

/// The property, counted.
fn expands_without_panic(args: &Ts, item: &Ts, stats: &Stats) -> Result<(), TestCaseError> {
    bump(&stats.cases);
    expands_without_panic_unfiltered(args, item, stats)
}

/// The property: no panic, and the output is a file or carries an error.
fn expands_without_panic_unfiltered(
    args: &Ts,
    item: &Ts,
    stats: &Stats,
) -> Result<(), TestCaseError> {
    if syn::parse2::<syn::ItemFn>(item.clone()).is_ok() {
        bump(&stats.functions);
    }
    if let Ok(path) = std::env::var("AUTODIFF_FUZZ_TRACE") {
        std::fs::write(path, format!("#[grad({args})]\n{item}\n")).expect("trace file");
    }
    let (a, i) = (args.clone(), item.clone());
    let output = panic::catch_unwind(AssertUnwindSafe(|| crate::tests::grad(a, i)))
        .map_err(|payload| TestCaseError::fail(format!("panicked: {}", message(&*payload))))?;
    let has_error = output.to_string().contains("compile_error");
    if has_error {
        bump(&stats.rejected);
    }
    match syn::parse2::<syn::File>(output.clone()) {
        Ok(_) if !has_error => bump(&stats.expanded),
        Ok(_) => {}
        Err(error) if !has_error => {
            return Err(TestCaseError::fail(format!(
                "output neither parses ({error}) nor contains `compile_error`:\n{output}"
            )));
        }
        Err(_) => {}
    }
    Ok(())
}

fn run<S>(name: &str, strategy: &S, stats: &Stats, input: impl Fn(&S::Value) -> Option<(Ts, Ts)>)
where
    S: Strategy,
{
    let config = Config {
        cases: cases(),
        // Other engineers share the source tree: no proptest-regressions/.
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(strategy, |value| match input(&value) {
        Some((args, item)) => expands_without_panic(&args, &item, stats),
        None => Ok(()),
    });
    eprintln!(
        "{name}: {} cases, {} parsed as `fn` items, {} expanded without error, {} rejected with `compile_error!`",
        stats.cases.get(),
        stats.functions.get(),
        stats.expanded.get(),
        stats.rejected.get(),
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, value)) => {
            let (args, item) = input(&value).expect("a failing case was run");
            panic!("{name}: {reason}\nminimal input:\n#[grad({args})]\n{item}");
        }
        Err(TestError::Abort(reason)) => panic!("{name}: aborted: {reason}"),
    }
}

#[test]
fn generated_functions_never_panic() {
    let stats = Stats::default();
    run(
        "generated",
        &(attr_args(), item()),
        &stats,
        |(args, item)| Some((args.clone(), item.clone())),
    );
    // The grammar must mostly produce functions, or the lowering is never
    // reached and the test checks only the parser's error path.
    assert!(
        stats.functions.get() * 3 >= stats.cases.get(),
        "only {} of {} generated items parse as functions",
        stats.functions.get(),
        stats.cases.get()
    );
}

#[test]
fn mutated_functions_never_panic() {
    let stats = Stats::default();
    let mutation_stats = MutationStats::default();
    let corpus = corpus();
    let strategy = (
        0..corpus.len(),
        prop::collection::vec(mutation(), 0..3),
        prop::collection::vec(mutation(), 1..3),
    );
    run(
        "mutated",
        &strategy,
        &stats,
        |(which, arg_mutations, item_mutations)| {
            let (args, item) = &corpus[*which];
            Some((
                mutate(args, arg_mutations, &mutation_stats)?,
                mutate(item, item_mutations, &mutation_stats)?,
            ))
        },
    );
    eprintln!(
        "mutated: {} unbalanced results repaired, {} not lexable (skipped)",
        mutation_stats.unbalanced.get(),
        mutation_stats.unlexable.get(),
    );
}

/// The helpers the mutation test relies on do what they say.
#[test]
fn mutation_helpers() {
    let mut flat = Vec::new();
    flatten(
        quote!(
            fn f(x: f64) -> f64 {
                x
            }
        ),
        &mut flat,
    );
    let text = render(&flat);
    assert_eq!(
        text.parse::<Ts>().unwrap().to_string(),
        quote!(
            fn f(x: f64) -> f64 {
                x
            }
        )
        .to_string()
    );
    let unbalanced: Vec<_> = [")", "f", "(", "{", "x", ")"]
        .iter()
        .map(|t| ((*t).to_owned(), false))
        .collect();
    assert!(render(&unbalanced).parse::<Ts>().is_err());
    assert_eq!(render(&balance(&unbalanced)).trim(), "f ( { x } )");
}

mod known_bugs_are_fixed {
    //! Minimal inputs of the bugs the fuzzers found (issue 6), all fixed, kept as regression
    //! tests. Written with `quote! { … }`: rustfmt reformats `quote!( … )`
    //! and would silently repair the very syntax under test.
    use super::*;

    /// `expand::grad(args, item)` neither panics nor emits unparsable code
    /// without an error.
    #[track_caller]
    fn assert_sound(args: Ts, item: Ts) {
        let stats = Stats::default();
        if let Err(error) = expands_without_panic_unfiltered(&args, &item, &stats) {
            panic!("#[grad({args})] {item}: {error}");
        }
    }

    #[test]
    fn raw_identifier_parameter() {
        assert_sound(quote! {}, quote! { fn f(r#match: f64) -> f64 { r#match } });
        assert_sound(
            quote! { wrt(r#fn) },
            quote! { fn f(r#fn: f64) -> f64 { r#fn } },
        );
    }

    #[test]
    fn raw_identifier_local() {
        assert_sound(
            quote! {},
            quote! { fn f(x: f64) -> f64 { let r#match = x; r#match * x } },
        );
    }

    /// Was unbounded recursion (a stack overflow that aborts rustc).
    #[test]
    fn mut_reference() {
        assert_sound(quote! {}, quote! { fn f(x: f64) -> f64 { &mut x } });
        assert_sound(
            quote! {},
            quote! { fn f(x: f64) -> f64 { let y = &mut x; x } },
        );
    }

    #[test]
    fn empty_statement() {
        assert_sound(quote! {}, quote! { fn f(x: f64) -> f64 { ; x } });
        assert_sound(quote! {}, quote! { fn f(x: f64) -> f64 { let y = x;; y } });
    }

    #[test]
    fn trailing_plus_parameter_type() {
        assert_sound(
            quote! { wrt(a) },
            quote! { fn f(a: f64 +, b: f64) -> f64 { a * b } },
        );
    }

    /// prettyplease panics on `become`; the doc listing must not take the
    /// macro down with it.
    /// A raw name bound by a `let` with no value (which is an error) once
    /// reached `Ident::new` unchecked.
    #[test]
    fn raw_identifier_without_value() {
        assert_sound(
            quote! {},
            quote! { fn f() { let r#match @ _ ; (x) (r#match) . exp () } },
        );
        assert_sound(
            quote! {},
            quote! { fn f(x: f64) -> f64 { let r#type; r#type = x; r#type } },
        );
    }

    #[test]
    fn empty_where_clause() {
        assert_sound(quote! {}, quote! { fn f(x: f64) -> i32 where { 1 } });
        assert_sound(
            quote! {},
            quote! { fn f<T: Copy,>(x: f64) -> T where T: Default, { T::default() } },
        );
    }

    #[test]
    fn become_expression() {
        assert_sound(quote! {}, quote! { fn f(x: f64) -> f64 { become f(x); x } });
    }
}
