//! The driver: tokens in, tokens out (after cxx/macro/src/expand.rs).
//!
//! ```text
//! args::parse      #[grad(...)] tokens -> GradArgs
//! front::signature the signature: qualifiers, parameter classes, `wrt`
//!                  (shared with `#[custom_vjp]`; all a stub needs)
//! checkpoint       syn -> syn: a `#[checkpoint]` loop -> a loop over
//!                  segments around the loop over one segment
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
//! `compile_error!`s, and so are stubs of the generated functions with their
//! signatures ([`emit::stubs`]), so the rest of the crate keeps type-checking
//! and a call of `f_grad` shows no error of its own.

use crate::emit::Wanted;
use crate::front::Front;
use crate::report::Errors;
use crate::{analyse, args, checkpoint, desugar, diagnostics, emit, front, lower, reverse};
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
    let mut cx = Errors::new();
    let args = args::parse(&mut cx, args);
    let args_ok = cx.len() == 0;
    let front = front_end(&mut cx, &item.sig, &args);
    let wanted = Wanted {
        vjp: true,
        split: args.split,
        hvp: args.hvp,
    };
    // The user's function is kept as written; a caller that only uses its
    // derivative should not get a dead-code warning for it.
    let expanded = if args_ok {
        expand(&mut cx, &item, &front, wanted)
    } else {
        cx.propagate().map(|()| TokenStream::new())
    };
    match expanded {
        Ok(generated) => {
            let item = checkpoint::strip(&item);
            quote!(#[allow(dead_code)] #item #generated)
        }
        Err(error) => {
            let error = error.into_compile_error();
            let stubs = emit::stubs(&item, &front, wanted, "grad");
            let item = checkpoint::strip(&item);
            quote!(#[allow(dead_code)] #item #error #stubs)
        }
    }
}

/// The signature understood ([`front::signature`]). After a malformed
/// argument only the argument's error is reported, as the signature's
/// problems may be mere consequences of it; the signature is still read,
/// for the stubs.
pub fn front_end(cx: &mut Errors, sig: &syn::Signature, args: &args::GradArgs) -> Front {
    if cx.len() == 0 {
        return front::signature(cx, sig, args);
    }
    let mut ignored = Errors::new();
    let front = front::signature(&mut ignored, sig, args);
    let _ = ignored.propagate();
    front
}

fn expand(
    cx: &mut Errors,
    item: &ItemFn,
    front: &Front,
    wanted: Wanted,
) -> syn::Result<TokenStream> {
    // The signature's errors and the body's are reported together.
    let body = checkpoint::rewrite(cx, &item.block, wanted.split);
    let body = desugar::block(&item.sig, &body);
    let mut lowered = lower::function(cx, &item.sig, &body, front);
    cx.propagate()?;
    let (active, adjoint, plan) = middle(&mut lowered.function);
    for span in analyse::idle_checkpoints(&lowered.function) {
        cx.error(span, diagnostics::checkpoint_idle());
    }
    cx.propagate()?;
    Ok(emit::functions(
        item, front, lowered, &adjoint, &active, &plan, wanted,
    ))
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
