//! The driver: tokens in, tokens out (after cxx/macro/src/expand.rs).
//!
//! ```text
//! args::parse      #[grad(...)] tokens -> GradArgs
//! desugar::block   syn -> syn: iterator chains and local closures -> loops
//!                  and `let`s (Rust as written -> the core language)
//! lower::function  syn::ItemFn -> ir::Function   (errors collected, phase goes on;
//!                  lower::facts: what each statement reads, purity, offsets)
//! simplify         IR -> IR: array elements forwarded from the write that
//!                  stored them
//! analyse          activity (varied & useful)
//! reverse::adjoint ir::Function -> ir::Adjoint  (each statement's pullbacks)
//! analyse::plan    what the reverse sweep records, computes again, how each
//!                  loop is reversed, tapes and their sizes; liveness
//! emit::functions  IR + plan -> f_grad, f_vjp, __f_pullback (prints, decides nothing)
//! ```
//!
//! On any error the user's function is still emitted, unchanged, beside the
//! `compile_error!`s, so the rest of the crate keeps type-checking.

use crate::diagnostics;
use crate::report::Errors;
use crate::{analyse, args, desugar, emit, lower, reverse};
use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

pub fn grad(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error =
                syn::Error::new(error.span(), diagnostics::not_a_function()).into_compile_error();
            return quote!(#error #input);
        }
    };
    match expand(args, &item) {
        // The user's function is kept as written; a caller that only uses its
        // derivative should not get a dead-code warning for it.
        Ok(generated) => quote!(#[allow(dead_code)] #item #generated),
        Err(error) => {
            let error = error.into_compile_error();
            quote!(#item #error)
        }
    }
}

fn expand(args: TokenStream, item: &ItemFn) -> syn::Result<TokenStream> {
    let args = args::parse(args)?;
    let mut cx = Errors::new();
    let body = desugar::block(&item.sig, &item.block);
    let mut lowered = lower::function(&mut cx, &item.sig, &body, &args);
    let args = &args;
    cx.propagate()?;
    let (active, adjoint, plan) = middle(&mut lowered.function);
    emit::functions(
        item, lowered, &adjoint, &active, &plan, args.split, args.hvp,
    )
}

/// The middle phase on a lowered function: the IR clean-ups, activity, each
/// statement's pullbacks and the plan of the reverse sweep.
pub fn middle(
    function: &mut crate::ir::Function,
) -> (Vec<bool>, crate::ir::Adjoint, analyse::Plan) {
    crate::simplify::forward_elements(function);
    lower::facts(function);
    let active = analyse::activity(function);
    let adjoint = reverse::adjoint(function, &active);
    let plan = analyse::plan(function, &adjoint, &active);
    (active, adjoint, plan)
}
