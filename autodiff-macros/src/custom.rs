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

use crate::args::GradArgs;
use crate::diagnostics;
use crate::emit::{self, Wanted};
use crate::emit::{allowed_lints, grad_where, inputs, tangent_type};
use crate::ir::TypeClass;
use crate::lower::classify;
use crate::report::Errors;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Token};

struct CustomArgs {
    vjp: syn::Path,
    wrt: Option<Vec<Ident>>,
}

impl Parse for CustomArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                diagnostics::custom_vjp_arguments(),
            ));
        }
        let vjp: syn::Path = input
            .parse()
            .map_err(|error| syn::Error::new(error.span(), diagnostics::custom_vjp_arguments()))?;
        let mut wrt = None;
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            let key: Ident = input.call(Ident::parse_any)?;
            if key != "wrt" || !input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    key.span(),
                    diagnostics::custom_vjp_arguments(),
                ));
            }
            let content;
            syn::parenthesized!(content in input);
            let list =
                Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)?;
            wrt = Some(list.into_iter().collect());
            input.parse::<Option<Token![,]>>()?;
        }
        if !input.is_empty() {
            return Err(input.error(diagnostics::custom_vjp_arguments()));
        }
        Ok(CustomArgs { vjp, wrt })
    }
}

pub fn custom_vjp(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: ItemFn = match syn::parse2(input.clone()) {
        Ok(item) => item,
        Err(error) => {
            let error =
                syn::Error::new(error.span(), diagnostics::not_a_function()).into_compile_error();
            return quote!(#error #input);
        }
    };
    let args = CustomArgs::parse.parse2(args);
    let expanded = match &args {
        Ok(args) => expand(args, &item),
        Err(error) => Err(error.clone()),
    };
    match expanded {
        Ok(generated) => quote!(#item #generated),
        Err(error) => {
            let error = error.into_compile_error();
            let stubs = stubs(&item, args.ok());
            quote!(#[allow(dead_code)] #item #error #stubs)
        }
    }
}

/// The stubs of what the attribute generates ([`emit::stubs`]). Without a
/// path there is no telling whether `f_vjp` is the user's own, so it gets
/// no stub.
fn stubs(item: &ItemFn, args: Option<CustomArgs>) -> TokenStream {
    let vjp_name = format_ident!("{}_vjp", item.sig.ident);
    let vjp = args.as_ref().is_some_and(|args| {
        args.vjp
            .segments
            .last()
            .is_some_and(|last| last.ident != vjp_name)
    });
    let args = GradArgs {
        wrt: args.and_then(|args| args.wrt),
        ..GradArgs::default()
    };
    let mut ignored = Errors::new();
    let front = crate::front::signature(&mut ignored, &item.sig, &args);
    let _ = ignored.propagate();
    let wanted = Wanted {
        vjp,
        split: false,
        hvp: false,
    };
    emit::stubs(item, &front, wanted, "custom_vjp")
}

fn expand(args: &CustomArgs, item: &ItemFn) -> syn::Result<TokenStream> {
    let sig = &item.sig;
    let ReturnType::Type(_, ret_ty) = &sig.output else {
        return Err(syn::Error::new(
            sig.ident.span(),
            diagnostics::returns_nothing(&sig.ident),
        ));
    };
    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(recv) => {
                return Err(syn::Error::new(
                    recv.self_token.span,
                    diagnostics::custom_vjp_method(),
                ));
            }
            FnArg::Typed(typed) => match &*typed.pat {
                Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                    let class = classify(&typed.ty).0;
                    params.push((pat.ident.clone(), (*typed.ty).clone(), class));
                }
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        diagnostics::parameter_pattern(),
                    ));
                }
            },
        }
    }
    let wrt: Vec<bool> = match &args.wrt {
        Some(names) => {
            for name in names {
                if !params.iter().any(|(ident, _, _)| ident == name) {
                    return Err(syn::Error::new(
                        name.span(),
                        diagnostics::wrt_not_a_parameter(name, &sig.ident),
                    ));
                }
            }
            params
                .iter()
                .map(|(ident, _, _)| names.contains(ident))
                .collect()
        }
        None => params
            .iter()
            .map(|(_, _, class)| {
                matches!(
                    class,
                    TypeClass::Float | TypeClass::Array | TypeClass::Sequence
                )
            })
            .collect(),
    };
    if !wrt.iter().any(|&w| w) {
        return Err(syn::Error::new(
            sig.ident.span(),
            diagnostics::nothing_to_differentiate(&sig.ident),
        ));
    }

    let name = &sig.ident;
    let vis = &item.vis;
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let inputs = inputs(sig, None);
    let args_list: Vec<&Ident> = params.iter().map(|(ident, _, _)| ident).collect();
    let seed = Ident::new("seed", Span::mixed_site());
    let value = Ident::new("value", Span::mixed_site());
    let wrt_types: Vec<TokenStream> = params
        .iter()
        .zip(&wrt)
        .filter(|(_, w)| **w)
        .map(|((_, ty, class), _)| tangent_type(ty, *class))
        .collect();
    let grad_ty = if wrt_types.len() == 1 {
        wrt_types[0].clone()
    } else {
        quote!((#(#wrt_types),*))
    };
    let gradients: Vec<Ident> = (0..wrt_types.len())
        .map(|k| Ident::new(&format!("g{k}"), Span::mixed_site()))
        .collect();
    let pattern = if gradients.len() == 1 {
        gradients[0].to_token_stream()
    } else {
        quote!((#(#gradients),*))
    };
    let mut next = gradients.iter();
    let all: Vec<TokenStream> = wrt
        .iter()
        .map(|&w| {
            if w {
                next.next()
                    .expect("one gradient per differentiated parameter")
                    .to_token_stream()
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    let all_types: Vec<TokenStream> = params
        .iter()
        .zip(&wrt)
        .map(|((_, ty, class), &w)| {
            if w {
                tangent_type(ty, *class)
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    // The call of the hand-written function, spanned at its path: a
    // signature that does not fit is an error there.
    let vjp = &args.vjp;
    let call = quote_spanned!(vjp.span()=> #vjp(#(#args_list,)* #seed));
    let checked = quote_spanned! {vjp.span()=>
        let (#value, #pattern): (#ret_ty, #grad_ty) = #call;
    };
    let allow = allowed_lints();
    let grad_name = format_ident!("{}_grad", name);
    let vjp_name = format_ident!("{}_vjp", name);
    let pullback_name = format_ident!("__{}_pullback", name);
    let grad_where = grad_where(ret_ty, where_clause.as_ref());
    let vjp_is_own = vjp
        .segments
        .last()
        .is_some_and(|last| last.ident == vjp_name);
    let vjp_fn = (!vjp_is_own).then(|| {
        let doc = format!(
            "Value and vector-Jacobian product of `{name}`, by its hand-written rule `{}`.",
            vjp.to_token_stream()
        );
        quote! {
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
    Ok(quote! {
        #[doc = #grad_doc]
        #[inline]
        #allow
        #vis fn #grad_name #generics (#inputs) -> (#ret_ty, #grad_ty) #grad_where {
            let #seed = ::autodiff::__private::rules::one::<#ret_ty>();
            #checked
            (#value, #pattern)
        }

        #vjp_fn

        #[doc = "Pullback for `#[grad]` callers, by the hand-written rule. Not public API."]
        #[doc(hidden)]
        #[inline]
        #allow
        #vis fn #pullback_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, (#(#all_types,)*)) #where_clause {
            #checked
            (#value, (#(#all,)*))
        }
    })
}
