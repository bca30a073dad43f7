//! The `#[grad]` attribute of [`autodiff`](https://docs.rs/autodiff): it keeps
//! `fn f` as written and generates its reverse-mode derivative beside it, as
//! plain Rust, at compile time. Use it through the `autodiff` crate, which
//! re-exports it with the derivative rules it needs.

#![forbid(unsafe_code)]

mod analyse;
mod args;
mod checkpoint;
mod custom;
mod desugar;
mod diagnostics;
mod emit;
mod expand;
mod front;
#[cfg(test)]
mod fuzz;
mod ir;
mod liveness;
mod lower;
mod params;
mod report;
mod reverse;
mod rules;
mod scalarise;
mod simplify;
#[cfg(test)]
mod snapshots;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

/// Differentiates a function at compile time.
///
/// `#[grad] fn f(x: f64, a: f64) -> f64` keeps `f` and adds, with the same
/// visibility and generics:
///
/// - `f_grad(x, a) -> (f64, (f64, f64))`: the value and the gradient;
/// - `f_vjp(x, a, seed) -> (f64, (f64, f64))`: the value and the
///   vector-Jacobian product `seedᵀ·J` (`f_grad(..)` is `f_vjp(.., 1.0)`).
///
/// `#[grad(wrt(x))]` differentiates only the named parameters; without it,
/// every `f32`/`f64` parameter is differentiated and the rest are constants.
///
/// Inside the body, `#[checkpoint]` (or `#[checkpoint(snapshots = N)]`) on a
/// `for` loop over a range keeps the gradient's memory bounded: the loop
/// runs in about √n segments of its n iterations, the forward sweep keeps
/// the loop's state at the start of each (or of `N` of them, chosen by
/// Revolve's binomial schedule when `N` is fewer), and the reverse sweep
/// runs each segment again from the nearest snapshot, recording it, before
/// reversing it. `#[grad]` removes the attribute; it means nothing elsewhere.
///
/// See the `autodiff` crate for examples.
#[proc_macro_attribute]
pub fn grad(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::attribute(args.into(), input.into()).into()
}

/// Not public API: `#[grad]`'s expansion, called back by the runtime's
/// `__with_activations!` with the names of the runtime's activations
/// (`__grad! { [sigmoid relu softplus] (args) item }`).
#[doc(hidden)]
#[proc_macro]
pub fn __grad(input: TokenStream) -> TokenStream {
    expand::callback(input.into()).into()
}

/// Gives a function a derivative written by hand, which `#[grad]` functions
/// that call it use.
///
/// `#[custom_vjp(f_vjp)] fn f(x: f64, k: u32) -> f64` names a function with
/// the signature `#[grad]` would give `f_vjp`: the same parameters, then
/// `seed: f64`, returning `(f(x, k), seed · ∂f/∂x)` (a tuple of gradients
/// when several parameters are differentiated; `wrt(...)` picks them as in
/// `#[grad]`). It adds `f_grad`, `f_vjp` (unless the named function is
/// `f_vjp`) and what `#[grad]` callers need. See the `autodiff` crate.
#[proc_macro_attribute]
pub fn custom_vjp(args: TokenStream, input: TokenStream) -> TokenStream {
    custom::custom_vjp(args.into(), input.into()).into()
}

/// Not public API: every name of `autodiff::__private` that generated code
/// can call, imported (so that a name the runtime lacks fails to compile)
/// and listed as a `&[&str]`. For the facade's `tests/rule_table.rs`, through
/// the runtime's `__with_activations! { (__rule_table) }`.
#[doc(hidden)]
#[proc_macro]
pub fn __rule_table(input: TokenStream) -> TokenStream {
    emit::rule_table(input.into()).into()
}

/// Not public API: the code listing at the end of a generated `f_vjp`'s doc
/// comment, printed from the function's tokens. `#[grad]` emits it under
/// `#[cfg_attr(doc, ..)]`, so that only rustdoc pays for the printing.
#[doc(hidden)]
#[proc_macro]
pub fn __listing(input: TokenStream) -> TokenStream {
    emit::listing(input.into()).into()
}

/// Makes a struct of differentiable fields a parameter set: its own
/// gradient type (a `#[grad(wrt(p))]` function taking `&Mlp` returns an
/// `Mlp`), with `zeros_like`, `add_assign`, `scale`, `axpy` (an SGD step)
/// and a flat view for `autodiff::check`. Mark constants `#[params(skip)]`.
/// See `autodiff::Params`.
#[proc_macro_derive(Params, attributes(params))]
pub fn derive_params(input: TokenStream) -> TokenStream {
    params::derive(input.into()).into()
}
