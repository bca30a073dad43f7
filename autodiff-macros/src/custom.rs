//! `#[custom_vjp(path)]`: a derivative written by hand.
//!
//! The user's function keeps its body; `path` names a function with the
//! signature `#[grad]` would give its `_vjp` — the same parameters, then
//! `seed: R`, returning `(R, G)` with `G` the bare gradient of the one
//! differentiated parameter or a tuple of them. This attribute adds what
//! `#[grad]` adds around that: `f_grad`, `f_vjp` (unless `path` is already
//! `f_vjp`) and the hidden `__f_pullback` through which `#[grad]` functions
//! call `f`. The compiler checks the hand-written function against that
//! signature, at `path`.
//!
//! The arguments and the signature go through `#[grad]`'s own front end
//! ([`args::parse_custom`], [`front::signature`](crate::front::signature)): the same `wrt(...)`
//! checks, the same parameter classes (a generic `x: T` is a float), and the
//! same generated signatures ([`emit::Headers`], `#[cfg]`s carried). Only
//! methods are rejected here: the rule is a free function.

use crate::emit::{self, Headers, Wanted, allowed_lints};
use crate::expand::front_end;
use crate::front::Front;
use crate::report::Errors;
use crate::{args, diagnostics};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, ItemFn};

pub fn custom_vjp(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error =
                syn::Error::new(error.span(), diagnostics::not_a_function()).into_compile_error();
            return quote!(#error #input);
        }
    };
    let mut cx = Errors::new();
    let args = args::parse_custom(&mut cx, args);
    let args_ok = cx.len() == 0;
    let front = front_end(&mut cx, &item.sig, &args.args);
    // `self`: the hand-written rule would have to be a method too, called
    // as `self.rule(..)`; not supported yet.
    if let Some(receiver) = front.receiver.as_ref().filter(|_| args_ok) {
        cx.error(receiver.self_token.span, diagnostics::custom_vjp_method());
    }
    let vjp_name = format_ident!("{}_vjp", item.sig.ident);
    match (cx.propagate(), &args.vjp) {
        (Ok(()), Some(vjp)) => {
            let generated = expand(&item, &front, vjp);
            quote!(#item #generated)
        }
        (result, vjp) => {
            let error = result.err().map(syn::Error::into_compile_error);
            // Without a path there is no telling whether `f_vjp` is the
            // user's own, so it gets no stub.
            let wanted = Wanted {
                vjp: vjp.as_ref().is_some_and(|vjp| !is_own(vjp, &vjp_name)),
                split: false,
                hvp: false,
            };
            let stubs = emit::stubs(&item, &front, wanted, "custom_vjp");
            quote!(#[allow(dead_code)] #item #error #stubs)
        }
    }
}

/// `#[custom_vjp(f_vjp)]`: the rule is the `_vjp` the attribute would add.
fn is_own(vjp: &syn::Path, vjp_name: &Ident) -> bool {
    vjp.segments
        .last()
        .is_some_and(|last| last.ident == *vjp_name)
}

fn expand(item: &ItemFn, front: &Front, vjp: &syn::Path) -> TokenStream {
    let name = &item.sig.ident;
    let seed = Ident::new("seed", Span::mixed_site());
    let headers = Headers::new(item, front, seed);
    let Headers {
        cfgs,
        vis,
        generics,
        where_clause,
        grad_where,
        inputs,
        seed,
        ret_ty,
        grad_ty,
        all_types,
        grad_name,
        vjp_name,
        pullback_name,
        ..
    } = &headers;
    let args_list: Vec<&Ident> = front.inputs.iter().map(|input| &input.ident).collect();
    let value = Ident::new("value", Span::mixed_site());
    let gradients: Vec<Ident> = (0..front.wrt().count())
        .map(|k| Ident::new(&format!("g{k}"), Span::mixed_site()))
        .collect();
    let pattern = if gradients.len() == 1 {
        gradients[0].to_token_stream()
    } else {
        quote!((#(#gradients),*))
    };
    let mut next = gradients.iter();
    let all: Vec<TokenStream> = front
        .inputs
        .iter()
        .map(|input| {
            if input.wrt {
                next.next()
                    .expect("one gradient per differentiated parameter")
                    .to_token_stream()
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    // The call of the hand-written function, spanned at its path: a
    // signature that does not fit is an error there.
    let call = quote_spanned!(vjp.span()=> #vjp(#(#args_list,)* #seed));
    let checked = quote_spanned! {vjp.span()=>
        let (#value, #pattern): (#ret_ty, #grad_ty) = #call;
    };
    let allow = allowed_lints();
    let vjp_fn = (!is_own(vjp, vjp_name)).then(|| {
        let doc = format!(
            "Value and vector-Jacobian product of `{name}`, by its hand-written rule `{}`.",
            vjp.to_token_stream()
        );
        quote! {
            #(#cfgs)*
            #[doc = #doc]
            #[inline]
            #allow
            #vis fn #vjp_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, #grad_ty) #where_clause {
                #checked
                (#value, #pattern)
            }
        }
    });
    let grad_doc = format!(
        "Value and gradient of `{name}`, by its hand-written rule `{}`.",
        vjp.to_token_stream()
    );
    quote! {
        #(#cfgs)*
        #[doc = #grad_doc]
        #[inline]
        #allow
        #vis fn #grad_name #generics (#inputs) -> (#ret_ty, #grad_ty) #grad_where {
            let #seed = ::autodiff::__private::rules::one::<#ret_ty>();
            #checked
            (#value, #pattern)
        }

        #vjp_fn

        #(#cfgs)*
        #[doc = "Pullback for `#[grad]` callers, by the hand-written rule. Not public API."]
        #[doc(hidden)]
        #[inline]
        #allow
        #vis fn #pullback_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, (#(#all_types,)*)) #where_clause {
            #checked
            (#value, (#(#all,)*))
        }
    }
}
