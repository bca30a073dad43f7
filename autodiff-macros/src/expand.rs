//! The driver: tokens in, tokens out (after cxx/macro/src/expand.rs).
//!
//! `#[grad]` ([`attribute`]) hands the item to the runtime's
//! `__with_activations!`, which calls `__grad!` ([`callback`]) with the
//! names of the runtime's activations; [`grad`] then runs the phases:
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
use crate::rules::Activations;
use crate::{analyse, args, checkpoint, desugar, diagnostics, emit, front, lower, reverse};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote;
use syn::ItemFn;

/// `#[grad(args)] input`: hands the item to the runtime's
/// `__with_activations!`, which hands it back to [`grad`] (`__grad!`) with
/// the names of the runtime's activations.
///
/// Input:  `#[grad(wrt(x))] fn f(x: f64) -> f64 { sigmoid(x) }`
/// Output: `::autodiff::__private::__with_activations! {
///              (::autodiff::__private::__grad) (wrt(x)) fn f(x: f64) -> f64 { sigmoid(x) }
///          }`
///
/// The callback's path is passed as plain tokens, not a `$callback:path`
/// fragment: the call `__grad! { … }` then takes its hygiene from these
/// tokens (the user's site), not from the runtime's `macro_rules!`, and
/// the names `__grad!` makes resolve as this attribute's would.
pub fn attribute(args: TokenStream, input: TokenStream) -> TokenStream {
    quote! {
        ::autodiff::__private::__with_activations! {
            (::autodiff::__private::__grad) (#args) #input
        }
    }
}

/// `__grad! { [activations] (args) item }`, as the runtime's
/// `__with_activations!` calls it: [`grad`].
pub fn callback(input: TokenStream) -> TokenStream {
    let (activations, rest) = match Activations::parse(input) {
        Ok(parsed) => parsed,
        Err(error) => return error.into_compile_error(),
    };
    let mut rest = rest.into_iter();
    match rest.next() {
        Some(TokenTree::Group(args)) if args.delimiter() == Delimiter::Parenthesis => {
            grad(args.stream(), rest.collect(), &activations)
        }
        other => {
            let span = other.map_or_else(Span::call_site, |token| token.span());
            syn::Error::new(span, "expected `(args)` after the activations").into_compile_error()
        }
    }
}

pub fn grad(args: TokenStream, input: TokenStream, activations: &Activations) -> TokenStream {
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
        expand(&mut cx, &item, &front, wanted, activations)
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
    activations: &Activations,
) -> syn::Result<TokenStream> {
    // The signature's errors and the body's are reported together.
    let body = checkpoint::rewrite(cx, &item.block, wanted.split);
    let body = desugar::block(&item.sig, &body, activations);
    let mut lowered = lower::function(cx, &item.sig, &body, front, activations);
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
