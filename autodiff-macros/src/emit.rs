//! IR → tokens: the only module that quotes.
//!
//! Entry point: [`functions`], which writes `f_grad`, `f_vjp` and the hidden
//! `__f_pullback` that other `#[grad]` functions call. Each holds the whole
//! derivative (forward sweep, reverse sweep), so none has to know whether it
//! lives in an `impl` block to call another. Generated code names only
//! `::core::…` and `::autodiff::__private::…`; the locals it invents have
//! mixed-site hygiene, so user code can neither see nor shadow them.

use crate::analyse::{Merge, Plan};
use crate::front::Front;
use crate::ir::{
    AdjStmt, Adjoint, Block, Callee, End, Function, Grad, If, Loop, LoopKind, Mode, Node, Op,
    Operand, OperandKind, RuleArg, StmtId, TypeClass, VarId,
};
use crate::lower::{Lowered, Names, var_ident};
use crate::rules::PRIMAL_INTO_RULES;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use std::collections::{HashMap, HashSet};
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// `__rule_table! { [sigmoid relu softplus] }`, as the runtime's
/// `__with_activations! { (__rule_table) }` calls it: every name of
/// [`crate::rules::runtime_names`], [`crate::rules::PRIVATE_ITEMS`] and
/// [`crate::rules::CHECKPOINT_ITEMS`] imported from `::autodiff::__private`,
/// then the rule names as a `&[&str]`. Each name is spanned at the call, so a
/// missing one is an "unresolved import" there, naming it.
pub fn rule_table(input: TokenStream) -> TokenStream {
    let (activations, rest) = match crate::rules::Activations::parse(input) {
        Ok(parsed) => parsed,
        Err(error) => return error.into_compile_error(),
    };
    if !rest.is_empty() {
        return syn::Error::new_spanned(rest, "`__rule_table!` takes only the activations")
            .into_compile_error();
    }
    let names = crate::rules::runtime_names(&activations);
    let rules: Vec<Ident> = names
        .iter()
        .map(|name| Ident::new(name, Span::call_site()))
        .collect();
    let items: Vec<Ident> = crate::rules::PRIVATE_ITEMS
        .iter()
        .map(|name| Ident::new(name, Span::call_site()))
        .collect();
    let checkpoint: Vec<Ident> = crate::rules::CHECKPOINT_ITEMS
        .iter()
        .map(|name| Ident::new(name, Span::call_site()))
        .collect();
    quote! {
        {
            #[allow(unused_imports)]
            use ::autodiff::__private::rules::{#(#rules),*};
            #[allow(unused_imports)]
            use ::autodiff::__private::{#(#items),*};
            #[allow(unused_imports)]
            use ::autodiff::__private::checkpoint::{#(#checkpoint),*};
            let names: &[&str] = &[#(#names),*];
            names
        }
    }
}

/// Lints the expansion may trigger in code the user did not write.
pub fn allowed_lints() -> TokenStream {
    quote! {
        #[allow(
            unused_variables,
            unused_assignments,
            unused_mut,
            unused_parens,
            unused_braces,
            non_snake_case,
            clippy::all,
            clippy::pedantic,
            clippy::nursery
        )]
    }
}

/// The signatures of the generated functions, from the user's signature and
/// the front end alone: the same for the derivative and for the stubs that
/// stand in for it when the body is rejected.
pub struct Headers {
    /// `#[cfg]` and `#[cfg_attr]` of the user's function, carried over.
    pub cfgs: Vec<syn::Attribute>,
    pub vis: syn::Visibility,
    pub generics: syn::Generics,
    /// The user's where clause, with `T: Scalar` for every type parameter a
    /// differentiated parameter is or holds: the bound that brings the rules.
    pub where_clause: Option<syn::WhereClause>,
    /// `f_grad`'s where clause (see [`grad_where`]).
    pub grad_where: TokenStream,
    /// `f_jacobian`'s: an output with a basis.
    pub jacobian_where: syn::WhereClause,
    /// The parameters, each followed by a comma (see [`inputs`]).
    pub inputs: TokenStream,
    pub seed: Ident,
    pub ret_ty: Type,
    /// `G`: the gradient of the one differentiated parameter, or a tuple.
    pub grad_ty: TokenStream,
    /// The gradient type of every parameter, `NotDifferentiated` for
    /// constants: the pullback's.
    pub all_types: Vec<TokenStream>,
    /// A differentiated parameter is (or holds) a type parameter.
    pub generic: bool,
    pub grad_name: Ident,
    pub vjp_name: Ident,
    pub pullback_name: Ident,
    pub forward_name: Ident,
    pub jacobian_name: Ident,
    pub hvp_name: Ident,
    /// `f_hvp`'s, if the function has one (see [`front::hvp_scalar`](crate::front::hvp_scalar)).
    pub hvp: Option<HvpHeader>,
}

pub struct HvpHeader {
    /// The type parameter the dual numbers are made of.
    pub scalar: Ident,
    /// `v_x: T`, one direction per differentiated parameter.
    pub directions: Vec<TokenStream>,
    /// Only `T: Scalar` outside: the arithmetic bounds on `&T` are the inner
    /// function's, at `Dual<T>`, where they hold; on the outer function an
    /// uninferred `T` would send the solver through ndarray's impls.
    pub where_clause: syn::WhereClause,
}

impl Headers {
    pub fn new(item: &ItemFn, front: &Front, seed: Ident) -> Self {
        let sig = &item.sig;
        let name = &sig.ident;
        let generics = &sig.generics;
        let mut scalar_params: Vec<&Ident> = Vec::new();
        for input in front.wrt() {
            if let Some(ident) = crate::lower::generic_scalar(&input.ty, sig)
                .or_else(|| crate::lower::generic_elem(&input.ty, sig))
                && !scalar_params.contains(&ident)
            {
                scalar_params.push(ident);
            }
        }
        let where_clause = if scalar_params.is_empty() {
            generics.where_clause.clone()
        } else {
            let mut clause = generics
                .where_clause
                .clone()
                .unwrap_or_else(|| syn::parse_quote!(where));
            for ident in &scalar_params {
                clause
                    .predicates
                    .push(syn::parse_quote!(#ident: ::autodiff::__private::Scalar));
            }
            Some(clause)
        };
        let cfgs = item
            .attrs
            .iter()
            .filter(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
            .cloned()
            .collect();
        let ret_ty: Type = match &sig.output {
            ReturnType::Type(_, ty) => (**ty).clone(),
            ReturnType::Default => syn::parse_quote!(()),
        };
        let wrt_types: Vec<TokenStream> = front
            .wrt()
            .map(|input| tangent_type(&input.ty, input.class))
            .collect();
        let all_types = front
            .inputs
            .iter()
            .map(|input| {
                if input.wrt {
                    tangent_type(&input.ty, input.class)
                } else {
                    quote!(::autodiff::__private::NotDifferentiated)
                }
            })
            .collect();
        let grad_ty = if wrt_types.len() == 1 {
            wrt_types[0].clone()
        } else {
            quote!((#(#wrt_types),*))
        };
        let mut jacobian_where = where_clause
            .clone()
            .unwrap_or_else(|| syn::parse_quote!(where));
        jacobian_where
            .predicates
            .push(syn::parse_quote!(for<'__autodiff> #ret_ty: ::autodiff::__private::Basis));
        let hvp = crate::front::hvp_scalar(sig, front).map(|scalar| {
            let directions = front
                .wrt()
                .map(|input| {
                    let (ident, ty) = (&input.ident, &input.ty);
                    let v = format_ident!("v_{}", ident.to_string().trim_start_matches("r#"));
                    quote!(#v: #ty)
                })
                .collect();
            let mut outer_where = generics
                .where_clause
                .clone()
                .unwrap_or_else(|| syn::parse_quote!(where));
            outer_where
                .predicates
                .push(syn::parse_quote!(#scalar: ::autodiff::__private::Scalar));
            HvpHeader {
                scalar: scalar.clone(),
                directions,
                where_clause: outer_where,
            }
        });
        Headers {
            cfgs,
            vis: item.vis.clone(),
            generics: generics.clone(),
            grad_where: grad_where(&ret_ty, where_clause.as_ref()),
            where_clause,
            jacobian_where,
            inputs: inputs(sig, front.receiver.as_ref()),
            seed,
            ret_ty,
            grad_ty,
            all_types,
            generic: !scalar_params.is_empty(),
            grad_name: format_ident!("{}_grad", name),
            vjp_name: format_ident!("{}_vjp", name),
            pullback_name: format_ident!("__{}_pullback", name),
            forward_name: format_ident!("{}_forward", name),
            jacobian_name: format_ident!("{}_jacobian", name),
            hvp_name: format_ident!("{}_hvp", name),
            hvp,
        }
    }
}

/// Which of the generated functions to write.
#[derive(Clone, Copy)]
pub struct Wanted {
    /// `f_vjp` (`#[custom_vjp(f_vjp)]` names the user's own).
    pub vjp: bool,
    /// `f_forward` and `f_jacobian`.
    pub split: bool,
    /// `f_hvp`.
    pub hvp: bool,
}

/// What stands in for the generated functions when the macro rejects the
/// function: the same signatures, bodies that never run. Calls of `f_grad`
/// and `f_vjp` then type-check and the compile shows only the real errors,
/// not a "cannot find function" at every call (thiserror's fallback).
///
/// Input:  `#[grad] fn f(x: f64) -> f64 { /* rejected */ }`
/// Output: `fn f_grad(x: f64) -> (f64, f64) { ::core::unimplemented!() }`,
///         and likewise `f_vjp`, `__f_pullback` (and what `split`/`hvp` ask).
pub fn stubs(item: &ItemFn, front: &Front, wanted: Wanted, attribute: &str) -> TokenStream {
    let seed = Ident::new("seed", Span::mixed_site());
    let headers = Headers::new(item, front, seed);
    let Headers {
        cfgs,
        vis,
        generics,
        where_clause,
        grad_where,
        jacobian_where,
        inputs,
        seed,
        ret_ty,
        grad_ty,
        all_types,
        grad_name,
        vjp_name,
        pullback_name,
        forward_name,
        jacobian_name,
        hvp_name,
        hvp,
        ..
    } = &headers;
    let doc = format!(
        "Stands in for a function `#[{attribute}]` generates: `{}` has errors (see them), so this \
         never runs.",
        item.sig.ident
    );
    let unimplemented = quote!(::core::unimplemented!());
    let allow = quote! {
        #(#cfgs)*
        #[doc = #doc]
        #[allow(dead_code, unreachable_code, unused_qualifications)]
        #[allow(
            unused_variables,
            unused_mut,
            non_snake_case,
            clippy::all,
            clippy::pedantic,
            clippy::nursery
        )]
    };
    let vjp = wanted.vjp.then(|| {
        quote! {
            #allow
            #vis fn #vjp_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, #grad_ty) #where_clause {
                #unimplemented
            }
        }
    });
    let split = wanted.split.then(|| {
        quote! {
            #allow
            #vis fn #forward_name #generics (#inputs) -> (#ret_ty, impl ::core::ops::Fn(#ret_ty) -> #grad_ty) #where_clause {
                (#unimplemented, |_: #ret_ty| -> #grad_ty { #unimplemented })
            }

            #allow
            #vis fn #jacobian_name #generics (#inputs) -> (#ret_ty, ::autodiff::__private::Vec<#grad_ty>) #jacobian_where {
                #unimplemented
            }
        }
    });
    // No stub for an `f_hvp` the signature rules out: that is the error.
    let hvp = hvp.as_ref().filter(|_| wanted.hvp).map(|hvp| {
        let HvpHeader {
            directions,
            where_clause,
            ..
        } = hvp;
        quote! {
            #allow
            #vis fn #hvp_name #generics (#inputs #(#directions,)*) -> (#ret_ty, #grad_ty) #where_clause {
                #unimplemented
            }
        }
    });
    quote! {
        #allow
        #vis fn #grad_name #generics (#inputs) -> (#ret_ty, #grad_ty) #grad_where {
            #unimplemented
        }

        #vjp

        #allow
        #[doc(hidden)]
        #vis fn #pullback_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, (#(#all_types,)*)) #where_clause {
            #unimplemented
        }

        #split

        #hvp
    }
}

pub fn functions(
    item: &ItemFn,
    front: &Front,
    lowered: Lowered,
    adjoint: &Adjoint,
    active: &[bool],
    plan: &Plan,
    wanted: Wanted,
) -> TokenStream {
    let Lowered {
        function: f,
        mut names,
    } = lowered;
    let seed = Ident::new(&names.fresh("seed"), Span::mixed_site());
    let headers = Headers::new(item, front, seed);
    let Headers {
        cfgs,
        vis,
        generics,
        where_clause,
        grad_where,
        jacobian_where,
        inputs,
        seed,
        ret_ty,
        grad_ty,
        all_types,
        generic,
        grad_name,
        vjp_name,
        pullback_name,
        forward_name,
        jacobian_name,
        ..
    } = &headers;
    let name = &item.sig.ident;

    let split = wanted.split.then(|| {
        let mut body = Body::new(&f, adjoint, active, plan, &mut names, true);
        body.generic = *generic;
        split_mode(body, seed, ret_ty)
    });
    let mut body = Body::new(&f, adjoint, active, plan, &mut names, false);
    body.generic = *generic;
    let core = body.core(seed);
    let ret_value = body.ret_value();
    let wrt_grads: Vec<TokenStream> = f
        .params
        .iter()
        .zip(&adjoint.grads)
        .filter(|(param, _)| param.wrt)
        .map(|(_, grad)| body.grad(grad))
        .collect();
    let all_grads: Vec<TokenStream> = f
        .params
        .iter()
        .zip(&adjoint.grads)
        .map(|(param, grad)| {
            if param.wrt {
                body.grad(grad)
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    let grad_value = if wrt_grads.len() == 1 {
        wrt_grads[0].clone()
    } else {
        quote!((#(#wrt_grads),*))
    };

    let items = &f.items;
    let allow = allowed_lints();
    let value_id = Ident::new("value", Span::mixed_site());
    let backward_id = Ident::new("backward", Span::mixed_site());
    let rows_id = Ident::new("rows", Span::mixed_site());

    let vjp_body = quote! {
        #(#items)*
        #core
        (#ret_value, #grad_value)
    };
    // The listing is printed by `__listing!` when rustdoc expands it: a
    // plain build skips the attribute, and so the parse and the printing
    // (about half of the macro's own time on a 100-operation function).
    let listed = quote! {
        fn #vjp_name(#inputs #seed: #ret_ty) -> (#ret_ty, #grad_ty) { #vjp_body }
    };

    let grad_doc = format!(
        "Value and gradient of `{name}`, generated by `#[grad]`.\n\n\
         Returns `({name}(..), g)` where `g` holds ∂{name}/∂p for {}, in parameter order. \
         Same as `{vjp_name}(.., 1.0)`.",
        describe(&f)
    );
    let vjp_doc = format!(
        "Value and vector-Jacobian product of `{name}`, generated by `#[grad]`.\n\n\
         Returns `({name}(..), seedᵀ·J)`, the gradient of `seed · {name}(..)` with respect to {}.\n\n\
         The derivative code, as generated:",
        describe(&f)
    );
    let forward_doc = format!(
        "Split mode of `{name}`, generated by `#[grad]`: one forward sweep, many reverse sweeps.\n\n\
         Returns `({name}(..), backward)`, where `backward(seed)` is `seedᵀ·J`, the gradient of \
         `seed · {name}(..)` with respect to {}, as `{vjp_name}` gives it. `backward` keeps what \
         the reverse sweep needs and may be called any number of times.",
        describe(&f)
    );
    let jacobian_doc = format!(
        "Jacobian of `{name}`, generated by `#[grad]`: one forward sweep, then one reverse sweep \
         per output element (`{forward_name}`).\n\n\
         Returns `({name}(..), rows)`, where `rows[k]` is the gradient of output element `k` with \
         respect to {}, for an output of type `f32`, `f64`, `Vec`, array or ndarray array.",
        describe(&f)
    );
    let pullback_doc = format!(
        "Pullback of `{name}` for other `#[grad]` functions: the gradient of every parameter, \
         `NotDifferentiated` for constants. Not public API."
    );

    let split_fns = split.map(|split| {
        quote! {
            #(#cfgs)*
            #[doc = #forward_doc]
            #[inline]
            #allow
            #vis fn #forward_name #generics (#inputs) -> (#ret_ty, impl ::core::ops::Fn(#ret_ty) -> #grad_ty) #where_clause {
                #(#items)*
                #split
            }

            #(#cfgs)*
            #[doc = #jacobian_doc]
            #allow
            #vis fn #jacobian_name #generics (#inputs) -> (#ret_ty, ::autodiff::__private::Vec<#grad_ty>) #jacobian_where {
                let (#value_id, #backward_id) = {
                    #(#items)*
                    #split
                };
                let #rows_id = ::autodiff::__private::rules::basis(&#value_id)
                    .into_iter()
                    .map(#backward_id)
                    .collect();
                (#value_id, #rows_id)
            }
        }
    });

    let hvp_fn = headers
        .hvp
        .as_ref()
        .filter(|_| wanted.hvp)
        .map(|hvp| hvp_function(item, &headers, hvp, &f, &vjp_body));

    quote! {
        #split_fns

        #hvp_fn

        #(#cfgs)*
        #[doc = #grad_doc]
        #[inline]
        #allow
        #vis fn #grad_name #generics (#inputs) -> (#ret_ty, #grad_ty) #grad_where {
            let #seed = ::autodiff::__private::rules::one::<#ret_ty>();
            #vjp_body
        }

        #(#cfgs)*
        #[doc = #vjp_doc]
        #[cfg_attr(doc, doc = ::autodiff::__private::__listing!(#listed))]
        #[inline]
        #allow
        #vis fn #vjp_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, #grad_ty) #where_clause {
            #vjp_body
        }

        #(#cfgs)*
        #[doc = #pullback_doc]
        #[doc(hidden)]
        #[inline]
        #allow
        #vis fn #pullback_name #generics (#inputs #seed: #ret_ty) -> (#ret_ty, (#(#all_types,)*)) #where_clause {
            #(#items)*
            #core
            (#ret_value, (#(#all_grads,)*))
        }
    }
}

/// The where clause of `f_grad`: for an output the macro cannot see is a
/// float, a bound that turns a call on a non-scalar output into an error at
/// the call, naming `_vjp` (a higher-ranked bound is checked where the
/// function is used, not where it is defined).
pub fn grad_where(ret_ty: &Type, where_clause: Option<&syn::WhereClause>) -> TokenStream {
    match crate::lower::classify(ret_ty).0 {
        TypeClass::Float => quote!(#where_clause),
        _ => {
            let mut clause = where_clause
                .cloned()
                .unwrap_or_else(|| syn::parse_quote!(where));
            clause.predicates.push(
                syn::parse_quote!(for<'__autodiff> #ret_ty: ::autodiff::__private::ScalarOutput),
            );
            quote!(#clause)
        }
    }
}

/// "`x`, `a` and `b`" (or "each differentiated parameter").
fn describe(f: &Function) -> String {
    let names: Vec<String> = f
        .params
        .iter()
        .filter(|param| param.wrt)
        .map(|param| format!("`{}`", param.ident))
        .collect();
    match names.len() {
        0 => "no parameter".to_owned(),
        1 => names[0].clone(),
        n => format!("{} and {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// The signature's parameters without `mut` (the generated bodies never
/// mutate them), each followed by a comma.
pub fn inputs(sig: &syn::Signature, receiver: Option<&syn::Receiver>) -> TokenStream {
    let mut tokens = TokenStream::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(_) => {
                let mut recv = receiver.cloned().expect("lower records the receiver");
                if !matches!(recv.kind, syn::ReceiverKind::Reference(..)) {
                    recv.mutability = None;
                }
                recv.attrs.clear();
                quote!(#recv,).to_tokens(&mut tokens);
            }
            FnArg::Typed(typed) => {
                let mut typed = typed.clone();
                typed.attrs.clear();
                if let Pat::Ident(pat) = &mut *typed.pat {
                    pat.mutability = None;
                }
                quote!(#typed,).to_tokens(&mut tokens);
            }
        }
    }
    tokens
}

/// The gradient type of a parameter of type `ty`: the float itself, or
/// `<T as Differentiable>::Tangent` of the referenced type.
pub fn tangent_type(ty: &Type, class: TypeClass) -> TokenStream {
    let mut inner = ty;
    while let Type::Reference(reference) = inner {
        inner = &reference.elem;
    }
    if class == TypeClass::Float {
        return inner.to_token_stream();
    }
    let mut inner = inner.clone();
    StaticLifetimes.visit_type_mut(&mut inner);
    quote!(<#inner as ::autodiff::__private::Differentiable>::Tangent)
}

/// Elided lifetimes in a parameter type cannot appear in the return type; the
/// gradient type does not depend on them, so `'static` stands in.
struct StaticLifetimes;

impl VisitMut for StaticLifetimes {
    fn visit_type_reference_mut(&mut self, node: &mut syn::TypeReference) {
        if node.lifetime.is_none() {
            node.lifetime = Some(syn::Lifetime::new("'static", Span::call_site()));
        }
        syn::visit_mut::visit_type_reference_mut(self, node);
    }
    fn visit_lifetime_mut(&mut self, node: &mut syn::Lifetime) {
        if node.ident == "_" {
            *node = syn::Lifetime::new("'static", node.span());
        }
    }
}

/// A primitive's call as the user wrote it: `runtime_fn(sigmoid,
/// ::autodiff::__private::runtime::sigmoid)(x)` is `sigmoid(x)`, the check
/// that the name is the runtime's aside (see `lower::calls::runtime_callee`).
struct UncheckedPrimitives;

impl VisitMut for UncheckedPrimitives {
    fn visit_expr_call_mut(&mut self, node: &mut syn::ExprCall) {
        if let syn::Expr::Call(check) = &*node.func
            && let syn::Expr::Path(path) = &*check.func
            && path
                .path
                .segments
                .last()
                .is_some_and(|last| last.ident == "runtime_fn")
            && let Some(written) = check.args.first()
        {
            *node.func = written.clone();
        }
        syn::visit_mut::visit_expr_call_mut(self, node);
    }
}

/// `__listing!(fn f_vjp(..) -> .. { .. })`: the `_vjp` function as `cargo
/// expand` would show it, paths shortened and primitives called as written
/// ([`UncheckedPrimitives`]), as the end of its doc comment (a string
/// literal, which `functions` places under `#[cfg_attr(doc, ..)]`).
pub fn listing(tokens: TokenStream) -> TokenStream {
    let listing = match syn::parse2::<syn::File>(tokens).map(|mut file| {
        UncheckedPrimitives.visit_file_mut(&mut file);
        file
    }) {
        // prettyplease panics on syntax it does not print (`become` and the
        // other `Verbatim` nodes); the listing is documentation, so go
        // without it rather than print a panic.
        Ok(file) if format!("{file:?}").contains("Verbatim") => String::new(),
        Ok(file) => {
            shorten(&std::panic::catch_unwind(|| prettyplease::unparse(&file)).unwrap_or_default())
                .replace(
                    " as ::autodiff::__private::Differentiable>",
                    " as Differentiable>",
                )
        }
        Err(_) => String::new(),
    };
    // Doc attributes are joined by a newline: a blank line, then the block.
    let doc = format!("\n```text\n{listing}```");
    quote!(#doc)
}

/// Generated code as a reader wants it: the rules without their path
/// (`mul_pullback_lhs`), the runtime's functions by the crate's path
/// (`autodiff::sigmoid`).
pub fn shorten(code: &str) -> String {
    code.replace("::autodiff::__private::rules::", "")
        .replace("::autodiff::__private::runtime::", "autodiff::")
}

struct Body<'a> {
    f: &'a Function,
    adjoint: &'a Adjoint,
    active: &'a [bool],
    plan: &'a Plan,
    names: &'a mut Names,
    adjoints: HashMap<VarId, Ident>,
    /// Adjoints bound at the current point of the reverse sweep.
    defined: HashSet<VarId>,
    /// The tape (a `Vec`, or an `Option` outside loops) of each recorded value.
    tapes: HashMap<VarId, (Ident, bool)>,
    /// Float adjoints just taken (so zero) at the top of a reversed loop
    /// body: their first contribution there is an assignment, not `0 + x`,
    /// which would chain every iteration on the previous one's addition.
    zeroed: HashSet<VarId>,
    /// Recorded values the reverse loop around them binds itself, from a
    /// drained segment of their tape, instead of popping them one by one.
    drained: HashSet<VarId>,
    /// The type witness (a `PhantomData`) of each float whose adjoint starts
    /// at zero out of its scope.
    witnesses: HashMap<VarId, Ident>,
    /// For each loop being reversed, innermost last: the adjoint of each
    /// carried variable at the end of the iteration being reversed.
    carried_adjoints: Vec<Vec<Option<Ident>>>,
    /// The header variables of the loops around the forward code being
    /// written, innermost last.
    loop_headers: Vec<Vec<TokenStream>>,
    /// Summing loops whose reverse runs inside the forward loop: the
    /// accumulator's index among the carried variables, and the buffers
    /// their contributions to outer variables went to.
    fused: HashMap<usize, (usize, Vec<(VarId, Ident)>)>,
    /// The code after a fused loop that adds its running sums in.
    flushes: HashMap<usize, TokenStream>,
    /// The running sum each `x[i + k]` read of a fused loop adds into.
    running_sums: HashMap<StmtId, (Ident, TokenStream)>,
    /// Variables whose adjoint is not formed (a fused loop's accumulator).
    sinks: HashSet<VarId>,
    /// Writing a fused loop's reverse: the values of its body (not of the
    /// loops nested in it) are still in scope.
    fusing: Option<crate::ir::BlockId>,
    /// Recorded values written into a segment of their tape (see
    /// [`Plan::segmented`]): the segment, and the iteration's slot in it.
    segments: HashMap<VarId, (Ident, TokenStream)>,
    /// Split mode: the reverse sweep is a closure that may run many times,
    /// so it consumes nothing of the forward sweep's.
    split: bool,
    /// A generic function (a differentiated parameter of a type parameter).
    generic: bool,
    /// Writing the body of a checkpointed loop in the forward sweep: nothing
    /// is recorded (see [`Plan::checkpointed`]).
    quiet: bool,
    /// The snapshots of each checkpointed loop (by body), and the schedule
    /// that says which are kept.
    snapshots: HashMap<usize, (Ident, Ident)>,
    /// Counters a nested loop steps (see [`Through`](crate::analyse::Through)),
    /// by the nested loop's body: the running value, stepped back once per
    /// iteration of that loop after its reverse, the step, and whether the
    /// forward sweep added it.
    stepped: HashMap<crate::ir::BlockId, Vec<(Ident, TokenStream, bool)>>,
    /// The array elements whose adjoint the loops being reversed add to,
    /// summed in registers (see [`Plan::held`]): the array, the element's
    /// index as written, and the sum.
    held: Vec<(VarId, String, Ident)>,
    /// Statements computed again before the loop being reversed, not in
    /// its body (see [`Plan::hoisted`]).
    hoisted: HashSet<StmtId>,
}

/// The forward sweep, and the reverse sweep as a closure that can run many
/// times: the body of `f_forward`.
fn split_mode(mut body: Body, seed: &Ident, ret_ty: &Type) -> TokenStream {
    let (f, adjoint) = (body.f, body.adjoint);
    let forward = body.forward_part();
    let reverse = body.reverse_part(seed);
    let ret = body.ret_value();
    let ret = match f.ret.kind {
        OperandKind::Var(var) if !f.vars[var].scalar && !f.vars[var].by_ref => {
            quote!(::core::clone::Clone::clone(&#ret))
        }
        _ => ret,
    };
    let grads: Vec<TokenStream> = f
        .params
        .iter()
        .zip(&adjoint.grads)
        .filter(|(param, _)| param.wrt)
        .map(|(_, grad)| body.grad(grad))
        .collect();
    let grads = if grads.len() == 1 {
        grads[0].clone()
    } else {
        quote!((#(#grads),*))
    };
    // Each run of the reverse sweep pops its own copy of the tapes.
    let mut tapes: Vec<(VarId, Ident)> = body
        .tapes
        .iter()
        .map(|(var, (tape, _))| (*var, tape.clone()))
        .collect();
    tapes.sort_by_key(|(var, _)| *var);
    let tapes: Vec<Ident> = tapes.into_iter().map(|(_, tape)| tape).collect();
    quote! {
        #forward
        (#ret, move |#seed: #ret_ty| {
            #(let mut #tapes = ::core::clone::Clone::clone(&#tapes);)*
            #reverse
            #grads
        })
    }
}

/// `f_hvp(args…, v…)`: the Hessian-vector product of a generic scalar
/// function, forward over reverse. The gradient (a nested copy of `f_grad`)
/// runs at `Dual<T>`, each differentiated argument carrying its direction in
/// the ε part; the ε parts of the gradient are `H·v`.
fn hvp_function(
    item: &ItemFn,
    headers: &Headers,
    hvp: &HvpHeader,
    f: &Function,
    vjp_body: &TokenStream,
) -> TokenStream {
    let sig = &item.sig;
    let Headers {
        cfgs,
        vis,
        generics,
        where_clause,
        inputs,
        seed,
        ret_ty,
        grad_ty,
        hvp_name,
        ..
    } = headers;
    let HvpHeader {
        scalar,
        directions,
        where_clause: outer_where,
    } = hvp;
    let name = &sig.ident;
    let inner = Ident::new("gradient", Span::mixed_site());
    let value = Ident::new("value", Span::mixed_site());
    let mut lifted = Vec::new();
    let mut parts = Vec::new();
    let gradient = Ident::new("g", Span::mixed_site());
    let rules = quote!(::autodiff::__private::rules);
    let single = f.params.iter().filter(|param| param.wrt).count() == 1;
    let mut k = 0_usize;
    for param in &f.params {
        let ident = &param.ident;
        let ty = &param.ty;
        let is_scalar = crate::lower::generic_scalar(ty, sig) == Some(scalar);
        let is_seq = crate::lower::generic_elem(ty, sig) == Some(scalar);
        let by_ref = matches!(ty, Type::Reference(_));
        let deref = if by_ref { quote!() } else { quote!(&) };
        if param.wrt {
            let v = format_ident!("v_{}", ident.to_string().trim_start_matches("r#"));
            let lift = if is_scalar {
                quote!(#rules::dual_of(#deref #ident, #deref #v))
            } else {
                quote!(#rules::duals_of(#deref #ident, #deref #v))
            };
            lifted.push(if by_ref { quote!(&#lift) } else { lift });
            let g = if single {
                gradient.to_token_stream()
            } else {
                let index = syn::Index::from(k);
                quote!(#gradient.#index)
            };
            parts.push(quote!(#rules::epsilon_part(#g)));
            k += 1;
        } else if is_scalar || is_seq {
            let lift = if is_scalar {
                quote!(#rules::constant_dual(#deref #ident))
            } else {
                quote!(#rules::constant_duals(#deref #ident))
            };
            lifted.push(if by_ref { quote!(&#lift) } else { lift });
        } else {
            lifted.push(ident.to_token_stream());
        }
    }
    let hv = if single {
        parts[0].clone()
    } else {
        quote!((#(#parts),*))
    };
    let doc = format!(
        "Hessian-vector product of `{name}`, generated by `#[grad(hvp)]`: forward over reverse.\n\n\
         Returns `({name}(..), H·v)`, with `v` one direction per differentiated parameter (the \
         arguments after `{name}`'s own), shaped like `{name}_grad`'s gradient."
    );
    let allow = allowed_lints();
    quote! {
        #(#cfgs)*
        #[doc = #doc]
        #allow
        #vis fn #hvp_name #generics (#inputs #(#directions,)*) -> (#ret_ty, #grad_ty) #outer_where {
            #[inline]
            #allow
            fn #inner #generics (#inputs) -> (#ret_ty, #grad_ty) #where_clause {
                let #seed = ::autodiff::__private::rules::one::<#ret_ty>();
                #vjp_body
            }
            let (#value, #gradient) = #inner::<::autodiff::__private::Dual<#scalar>>(#(#lifted),*);
            (#value.re, #hv)
        }
    }
}

/// `is_zero(&d_h1) && is_zero(&d_h2) …` for a loop's carried adjoints, if
/// it has any.
fn all_zero(adjoints: &[Option<(Ident, VarId)>]) -> Option<TokenStream> {
    let tests: Vec<TokenStream> = adjoints
        .iter()
        .flatten()
        .map(|(d_header, _)| quote!(::autodiff::__private::rules::is_zero(&#d_header)))
        .collect();
    (!tests.is_empty()).then(|| quote!(#(#tests)&&*))
}

/// A loop, by the id of its body.
fn loop_key(lp: &Loop) -> crate::ir::BlockId {
    lp.body.id
}

/// A fresh hygienic identifier.
fn fresh(names: &mut Names, base: &str) -> Ident {
    Ident::new(&names.fresh(base), Span::mixed_site())
}

impl<'a> Body<'a> {
    fn new(
        f: &'a Function,
        adjoint: &'a Adjoint,
        active: &'a [bool],
        plan: &'a Plan,
        names: &'a mut Names,
        split: bool,
    ) -> Self {
        Body {
            f,
            adjoint,
            active,
            plan,
            names,
            adjoints: HashMap::new(),
            defined: HashSet::new(),
            tapes: HashMap::new(),
            witnesses: HashMap::new(),
            drained: HashSet::new(),
            zeroed: HashSet::new(),
            carried_adjoints: Vec::new(),
            loop_headers: Vec::new(),
            fused: HashMap::new(),
            flushes: HashMap::new(),
            running_sums: HashMap::new(),
            held: Vec::new(),
            hoisted: HashSet::new(),
            sinks: HashSet::new(),
            fusing: None,
            segments: HashMap::new(),
            split,
            generic: false,
            quiet: false,
            snapshots: HashMap::new(),
            stepped: HashMap::new(),
        }
    }

    fn ident(&self, var: VarId) -> TokenStream {
        let var = &self.f.vars[var];
        if var.name == "_" {
            quote!(_)
        } else {
            var_ident(var).into_token_stream()
        }
    }

    /// `var` as a `let` pattern binds it: `mut` when it is written in place
    /// or restored from a checkpoint's snapshot
    /// ([`Var::mutated`](crate::ir::Var::mutated)).
    fn binding(&self, var: VarId) -> TokenStream {
        let ident = self.ident(var);
        if self.f.vars[var].mutated && self.f.vars[var].name != "_" {
            quote!(mut #ident)
        } else {
            ident
        }
    }

    /// The part of `var`'s name the names derived from it (`d_x`, `tape_x`,
    /// `acc_x`) are built from: no `r#`, no leading `_`.
    fn stem(&self, var: VarId) -> &'a str {
        self.f.vars[var]
            .name
            .trim_start_matches("r#")
            .trim_start_matches('_')
    }

    fn adjoint(&mut self, var: VarId) -> Ident {
        if let Some(ident) = self.adjoints.get(&var) {
            return ident.clone();
        }
        let name = self.names.fresh(&format!("d_{}", self.stem(var)));
        let ident = Ident::new(&name, Span::mixed_site());
        self.adjoints.insert(var, ident.clone());
        ident
    }

    /// An operand as the forward sweep uses it: `x`, `&x`, `*x`, `2.0`.
    /// The slot of a range loop's iteration in a segment of its tape: its
    /// index from `lo` (`i as usize` from a literal `0`).
    fn slot(&self, index: VarId, lo: &Operand) -> TokenStream {
        let index = self.ident(index);
        match &lo.kind {
            OperandKind::Const(lit) if lit.to_string() == "0" => quote!((#index as usize)),
            _ => {
                let lo = self.operand(lo);
                quote!(((#index - #lo) as usize))
            }
        }
    }

    fn operand(&self, operand: &Operand) -> TokenStream {
        let value = match &operand.kind {
            OperandKind::Var(var) => self.ident(*var),
            OperandKind::Const(tokens) => tokens.clone(),
        };
        match operand.mode {
            Mode::Value => value,
            Mode::Borrow => quote!(&#value),
            Mode::Deref => quote!(*#value),
        }
    }

    /// A reference to the operand's underlying value, as the rules take it,
    /// spanned at the operand so a type error points at the user's code.
    fn reference(&self, operand: &Operand) -> TokenStream {
        let tokens = self.reference_tokens(operand);
        quote_spanned!(operand.span=> #tokens)
    }

    fn reference_tokens(&self, operand: &Operand) -> TokenStream {
        match &operand.kind {
            OperandKind::Var(var) => {
                let ident = self.ident(*var);
                if self.f.vars[*var].by_ref || operand.mode == Mode::Deref {
                    ident
                } else {
                    quote!(&#ident)
                }
            }
            OperandKind::Const(tokens) => match operand.mode {
                Mode::Borrow => quote!(&#tokens),
                Mode::Deref => tokens.clone(),
                Mode::Value => quote!(&(#tokens)),
            },
        }
    }

    fn var_reference(&self, var: VarId) -> TokenStream {
        let ident = self.ident(var);
        if self.f.vars[var].by_ref {
            ident
        } else {
            quote!(&#ident)
        }
    }

    fn zero_of(&self, var: VarId) -> TokenStream {
        if let Some(witness) = self.witnesses.get(&var) {
            return quote!(::autodiff::__private::rules::zero_of_type(#witness));
        }
        let value = self.var_reference(var);
        quote!(::autodiff::__private::rules::zero(#value))
    }

    fn grad(&mut self, grad: &Grad) -> TokenStream {
        match grad {
            Grad::Adjoint(var) if self.defined.contains(var) => {
                self.adjoint(*var).into_token_stream()
            }
            Grad::Adjoint(var) | Grad::Zero(var) => self.zero_of(*var),
            Grad::Constant => quote!(::autodiff::__private::NotDifferentiated),
        }
    }

    /// Declares the tapes of the recorded values.
    fn tapes(&mut self) -> TokenStream {
        let mut tokens = TokenStream::new();
        for &var in &self.plan.recorded {
            let home = self.plan.home[&var];
            let in_loop = self.plan.in_loop.contains(&home);
            let name = format!("tape_{}", self.stem(var));
            let tape = fresh(self.names, &name);
            if in_loop {
                quote!(let mut #tape = ::autodiff::__private::Vec::new();).to_tokens(&mut tokens);
            } else {
                quote!(let mut #tape = ::core::option::Option::None;).to_tokens(&mut tokens);
            }
            self.tapes.insert(var, (tape, in_loop));
        }
        let mut checkpointed: Vec<usize> = self.plan.checkpointed.keys().copied().collect();
        checkpointed.sort_unstable();
        for body in checkpointed {
            let snapshots = fresh(self.names, "snapshots");
            let schedule = fresh(self.names, "schedule");
            quote! {
                let mut #snapshots = ::autodiff::__private::Vec::new();
                let mut #schedule = ::autodiff::__private::checkpoint::Schedule::new();
            }
            .to_tokens(&mut tokens);
            self.snapshots.insert(body, (snapshots, schedule));
        }
        for &var in &self.plan.witnessed {
            let name = format!("type_{}", self.stem(var));
            let witness = fresh(self.names, &name);
            quote!(let mut #witness = ::core::marker::PhantomData;).to_tokens(&mut tokens);
            self.witnesses.insert(var, witness);
        }
        tokens
    }

    /// Whether `var` is a borrow recorded and read back as a copy
    /// ([`Plan::copied`](crate::analyse::Plan::copied)).
    fn borrows_mutated(&self, var: VarId) -> bool {
        self.plan.copied.contains(&var)
    }

    /// The function's result: an element of a local array, or a field, is
    /// copied out.
    fn ret_value(&self) -> TokenStream {
        let value = self.operand(&self.f.ret);
        match self.f.ret.kind {
            OperandKind::Var(var)
                if self.f.ret.mode == Mode::Value
                    && self.plan.defining.get(&var).is_some_and(|&id| {
                        matches!(
                            self.f.stmts[id].op,
                            Op::Index { borrow: true, .. } | Op::Field { .. }
                        )
                    }) =>
            {
                quote!(::core::clone::Clone::clone(#value))
            }
            _ => value,
        }
    }

    /// Records `var` if the reverse sweep pops it (or its type, if the
    /// reverse sweep only needs a zero of it).
    fn record(&self, var: VarId, tokens: &mut TokenStream) {
        if let Some(witness) = self.witnesses.get(&var) {
            let ident = self.ident(var);
            quote!(#witness = ::autodiff::__private::rules::type_of(&#ident);).to_tokens(tokens);
        }
        let Some((tape, in_loop)) = self.tapes.get(&var) else {
            return;
        };
        if self.quiet {
            return;
        }
        let info = &self.f.vars[var];
        let ident = self.ident(var);
        let value = if self.borrows_mutated(var) {
            quote!(::core::clone::Clone::clone(#ident))
        } else if info.scalar || info.by_ref {
            ident
        } else {
            quote!(::core::clone::Clone::clone(&#ident))
        };
        if let Some((segment, slot)) = self.segments.get(&var) {
            quote!(#segment[#slot] = #value;).to_tokens(tokens);
        } else if *in_loop {
            quote!(#tape.push(#value);).to_tokens(tokens);
        } else {
            quote!(#tape = ::core::option::Option::Some(#value);).to_tokens(tokens);
        }
    }

    /// The forward sweep, then the reverse sweep.
    fn core(&mut self, seed: &Ident) -> TokenStream {
        let mut tokens = self.forward_part();
        tokens.extend(self.reverse_part(seed));
        tokens
    }

    fn forward_part(&mut self) -> TokenStream {
        let mut tokens = self.tapes();
        self.forward(&self.f.body, &mut tokens);
        tokens
    }

    fn reverse_part(&mut self, seed: &Ident) -> TokenStream {
        let mut tokens = TokenStream::new();
        if let OperandKind::Var(ret) = self.f.ret.kind
            && self.active[ret]
        {
            self.contribute(&mut tokens, ret, seed.to_token_stream());
        }
        self.reverse_nodes(&self.f.body, Merge::None, &mut tokens);
        tokens
    }

    /// The forward code of a block (without its end).
    fn forward(&mut self, block: &'a Block, tokens: &mut TokenStream) {
        for node in &block.nodes {
            match node {
                Node::Stmt(id) => {
                    let stmt = &self.f.stmts[*id];
                    let position = self.plan.live.position[id];
                    if let Op::SetIndex {
                        base,
                        index,
                        value,
                        add,
                    } = &stmt.op
                    {
                        let base = self.ident(*base);
                        let index = self.operand(index);
                        let value = self.moved(value, Some(position), true);
                        let tokens_ = if *add {
                            quote_spanned!(stmt.span=> #base[#index] += #value;)
                        } else {
                            quote_spanned!(stmt.span=> #base[#index] = #value;)
                        };
                        tokens_.to_tokens(tokens);
                        continue;
                    }
                    let name = self.ident(stmt.def);
                    let value = match self.ordered_winner(stmt.def) {
                        Some(value) => value,
                        None => self.op(&stmt.op, Some(position)),
                    };
                    let ty = stmt.ty.as_ref().map(|ty| quote!(: #ty));
                    let mutability = self.f.vars[stmt.def].mutated.then(|| quote!(mut));
                    quote_spanned!(stmt.span=> let #mutability #name #ty = #value;)
                        .to_tokens(tokens);
                    self.record(stmt.def, tokens);
                    // A running `min`/`max`'s winner so far.
                    if let Some(winner) = self.plan.winners.values().find(|w| w.side == stmt.def) {
                        let trip = self.ident(winner.trip);
                        let index = self.ident(winner.index);
                        let won = if winner.won { name } else { quote!(!#name) };
                        quote!(if #won { #trip = #index; }).to_tokens(tokens);
                    }
                }
                Node::If(branch) => self.forward_if(branch, tokens),
                Node::Loop(lp) => self.forward_loop(lp, tokens),
            }
        }
    }

    /// The side and the value of a running `min`/`max` that is never NaN
    /// ([`crate::analyse::Ordered`]), if `def` is one of them: one
    /// comparison, and a select by it.
    fn ordered_winner(&self, def: VarId) -> Option<TokenStream> {
        self.plan.winners.values().find_map(|winner| {
            let ordered = winner.ordered.as_ref()?;
            // `side` is true when the receiver was taken: the carried value
            // for `c.min(o)` (`won` false), the other for `o.min(c)`.
            if def == winner.side {
                let carried = self.reference(&ordered.carried);
                let other = self.reference(&ordered.other);
                let takes = if ordered.max {
                    quote!(::autodiff::__private::rules::takes_max(#carried, #other))
                } else {
                    quote!(::autodiff::__private::rules::takes_min(#carried, #other))
                };
                Some(if winner.won { takes } else { quote!(!#takes) })
            } else if def == ordered.value {
                // By value: an operand held by reference (`v.min(best)` of
                // a `&f64`, which method syntax dereferences) is read through it.
                let value = |operand: &Operand| match operand.kind {
                    OperandKind::Var(var)
                        if self.f.vars[var].by_ref && operand.mode == Mode::Value =>
                    {
                        let ident = self.ident(var);
                        quote!(*#ident)
                    }
                    _ => self.operand(operand),
                };
                let (carried, other) = (value(&ordered.carried), value(&ordered.other));
                let side = self.ident(winner.side);
                Some(if winner.won {
                    quote!(if #side { #other } else { #carried })
                } else {
                    quote!(if #side { #carried } else { #other })
                })
            } else {
                None
            }
        })
    }

    /// A block's forward code and how it ends: its values (as a tuple), or
    /// the loop control that leaves it.
    fn forward_path(&mut self, block: &'a Block) -> TokenStream {
        let mut tokens = TokenStream::new();
        self.forward(block, &mut tokens);
        match &block.end {
            End::Values(values) => {
                let values: Vec<TokenStream> = values
                    .iter()
                    .map(|value| self.moved(value, None, true))
                    .collect();
                quote!((#(#values,)*)).to_tokens(&mut tokens);
            }
            End::Continue(values) => {
                let lp = self.loop_headers.last().cloned().unwrap_or_default();
                let values: Vec<TokenStream> = values
                    .iter()
                    .map(|value| self.moved(value, None, true))
                    .collect();
                if !lp.is_empty() {
                    quote!((#(#lp,)*) = (#(#values,)*);).to_tokens(&mut tokens);
                }
                quote!(continue;).to_tokens(&mut tokens);
            }
            End::Break(values) => {
                let values: Vec<TokenStream> = values
                    .iter()
                    .map(|value| self.moved(value, None, true))
                    .collect();
                quote!(break (#(#values,)*);).to_tokens(&mut tokens);
            }
            End::Merge | End::Diverge => {}
        }
        tokens
    }

    fn forward_if(&mut self, branch: &'a If, tokens: &mut TokenStream) {
        let cond = self.operand(&branch.cond);
        let then = self.forward_path(&branch.then);
        let els = self.forward_path(&branch.els);
        if branch.phis.is_empty() {
            quote_spanned!(branch.span=> if #cond { #then } else { #els }).to_tokens(tokens);
        } else {
            let phis: Vec<TokenStream> = branch.phis.iter().map(|&phi| self.binding(phi)).collect();
            quote_spanned!(branch.span=> let (#(#phis,)*) = if #cond { #then } else { #els };)
                .to_tokens(tokens);
            for &phi in &branch.phis {
                self.record(phi, tokens);
            }
        }
    }

    fn forward_loop(&mut self, lp: &'a Loop, tokens: &mut TokenStream) {
        if !self.quiet {
            self.reserve_tapes(lp, tokens);
        }
        let position = None;
        for carried in &lp.carried {
            let header = self.ident(carried.header);
            let init = self.moved(&carried.init, position, true);
            quote!(let mut #header = #init;).to_tokens(tokens);
        }
        let headers: Vec<TokenStream> = lp
            .carried
            .iter()
            .map(|carried| self.ident(carried.header))
            .collect();
        let trip = self.ident(lp.trip);
        // The index one past the last iteration (for flushing running sums).
        let mut after_last = None;
        let head = match &lp.kind {
            LoopKind::Range {
                index,
                lo,
                hi,
                inclusive,
            } => {
                let next = fresh(self.names, "next");
                let index = self.ident(*index);
                let (lo, hi) = (self.operand(lo), self.operand(hi));
                if *inclusive {
                    quote!(let mut #next = #lo; let mut #trip = ::core::option::Option::None;)
                        .to_tokens(tokens);
                    // `lo..=MAX` must not step past its end.
                    quote! {
                        if !(#next <= #hi) || #trip == ::core::option::Option::Some(#hi) {
                            break (#(#headers,)*);
                        }
                        let #index = #next;
                        #trip = ::core::option::Option::Some(#index);
                        if #index != #hi { #next += 1; }
                    }
                } else {
                    // The last iteration's index, `rules::last` of it in the
                    // reverse sweep: an index below `hi`, never its type's
                    // MAX, which stands for none.
                    quote! {
                        let mut #next = #lo;
                        let mut #trip = ::autodiff::__private::rules::no_last(&#next);
                    }
                    .to_tokens(tokens);
                    after_last = Some(next.to_token_stream());
                    // (A winner loop's trip is set by its `min`/`max`.)
                    let set_trip = (!self.plan.winners.contains_key(&lp.body.id))
                        .then(|| quote!(#trip = #index;));
                    quote! {
                        if !(#next < #hi) { break (#(#headers,)*); }
                        let #index = #next;
                        #set_trip
                        #next += 1;
                    }
                }
            }
            LoopKind::Counted { counter, len } => {
                let counter = self.ident(*counter);
                let len = self.operand(len);
                quote!(let mut #trip: usize = 0;).to_tokens(tokens);
                after_last = Some(trip.to_token_stream());
                quote! {
                    if #trip >= #len { break (#(#headers,)*); }
                    let #counter = #trip;
                    #trip += 1;
                }
            }
            LoopKind::Plain => {
                quote!(let mut #trip: usize = 0;).to_tokens(tokens);
                quote!(#trip += 1;)
            }
        };
        let mut body = head;
        let segmented = self.plan.segmented.get(&lp.body.id);
        for &var in segmented.into_iter().flatten() {
            let (count, slot) = match &lp.kind {
                LoopKind::Range {
                    index,
                    lo,
                    hi,
                    inclusive,
                } => {
                    let lo_operand = lo;
                    let (lo, hi) = (self.operand(lo), self.operand(hi));
                    let range = if *inclusive {
                        quote!(#lo..=#hi)
                    } else {
                        quote!(#lo..#hi)
                    };
                    // The iteration's slot is its index from `lo`, which
                    // rustc sees is below the segment's length.
                    let slot = self.slot(*index, lo_operand);
                    (quote!(::core::iter::Iterator::size_hint(&(#range)).0), slot)
                }
                LoopKind::Counted { counter, len } => {
                    let len = self.operand(len);
                    (quote!((#len as usize)), self.ident(*counter))
                }
                LoopKind::Plain => unreachable!("a plain loop is never recounted"),
            };
            let (tape, _) = &self.tapes[&var];
            let segment = fresh(self.names, &format!("segment_{}", self.stem(var)));
            if !self.quiet {
                quote!(let #segment = ::autodiff::__private::rules::segment(&mut #tape, #count);)
                    .to_tokens(tokens);
            }
            self.segments.insert(var, (segment, slot));
        }
        // A checkpointed loop keeps a snapshot of its state at the start of
        // the iterations (segments of the loop as written) its schedule
        // picks, and records nothing else.
        let checkpoint = self.plan.checkpointed.get(&lp.body.id);
        let outer_quiet = self.quiet;
        if let Some(state) = checkpoint {
            let (snapshots, schedule) = &self.snapshots[&lp.body.id];
            let (LoopKind::Range { index, hi, .. }, Some(asked)) = (&lp.kind, &lp.checkpoint)
            else {
                unreachable!("a checkpointed loop runs over its segments")
            };
            let (index, count, asked) = (self.ident(*index), self.operand(hi), self.operand(asked));
            let push = self.snapshot(lp, state);
            quote! {
                if #schedule.forward(#index, #count, #asked) { #snapshots.push(#push); }
            }
            .to_tokens(&mut body);
            self.quiet = true;
        }
        for carried in &lp.carried {
            self.record(carried.header, &mut body);
        }
        self.loop_headers.push(headers);
        let path = match self.plan.fused.get(&crate::analyse::key(&lp.body)).copied() {
            Some(k) => self.forward_fused(lp, k, after_last.as_ref(), tokens),
            None => self.forward_path(&lp.body),
        };
        self.loop_headers.pop();
        self.quiet = outer_quiet;
        path.to_tokens(&mut body);
        let exits: Vec<TokenStream> = lp
            .carried
            .iter()
            .map(|carried| self.binding(carried.exit))
            .collect();
        quote_spanned!(lp.span=> let (#(#exits,)*) = loop { #body };).to_tokens(tokens);
        for carried in &lp.carried {
            self.record(carried.exit, tokens);
        }
        self.record(lp.trip, tokens);
        for var in segmented.into_iter().flatten() {
            self.segments.remove(var);
        }
        if let Some(flush) = self.flushes.remove(&loop_key(lp)) {
            flush.to_tokens(tokens);
        }
    }

    /// Reserves, on entry of the outermost loop around them, the tapes the
    /// loops fill: the product of the trip counts known there.
    fn reserve_tapes(&self, lp: &'a Loop, tokens: &mut TokenStream) {
        let Some(tapes) = self.plan.reserve.get(&crate::analyse::key(&lp.body)) else {
            return;
        };
        for crate::analyse::Reserve {
            tape: var,
            counts,
            prelude,
        } in tapes
        {
            let Some((tape, true)) = self.tapes.get(var) else {
                continue;
            };
            let prelude: Vec<TokenStream> = prelude.iter().map(|&id| self.let_stmt(id)).collect();
            let counts: Vec<TokenStream> = counts
                .iter()
                .map(|count| match count {
                    crate::analyse::Count::Range { lo, hi, inclusive } => {
                        let (lo, hi) = (self.operand(lo), self.operand(hi));
                        let range = if *inclusive {
                            quote!(#lo..=#hi)
                        } else {
                            quote!(#lo..#hi)
                        };
                        quote!(::core::iter::Iterator::size_hint(&(#range)).0)
                    }
                    crate::analyse::Count::Len(len) => {
                        let len = self.operand(len);
                        quote!((#len as usize))
                    }
                })
                .collect();
            quote!(#tape.reserve({ #(#prelude)* 1_usize #(.saturating_mul(#counts))* });)
                .to_tokens(tokens);
        }
    }

    /// The body of a summing loop with its reverse sweep for `d_s = 1`
    /// inside; contributions to outer variables go to accumulators declared
    /// before the loop (into `tokens`), and an element `x[i + k]` a later
    /// iteration adds to again is summed in a register until its last
    /// addition.
    fn forward_fused(
        &mut self,
        lp: &'a Loop,
        k: usize,
        after_last: Option<&TokenStream>,
        tokens: &mut TokenStream,
    ) -> TokenStream {
        let mut body = TokenStream::new();
        self.forward(&lp.body, &mut body);
        let header = lp.carried[k].header;
        // Accumulators for the outer variables the body adds into.
        let outer: Vec<VarId> = self
            .plan
            .outer(&lp.body)
            .iter()
            .copied()
            .filter(|&var| var != header)
            .collect();
        let scope = self.defined.clone();
        let saved: HashMap<VarId, Ident> = self.adjoints.clone();
        let mut accs = Vec::new();
        for var in outer {
            let name = self.stem(var);
            let acc = fresh(self.names, &format!("acc_{name}"));
            let zero = self.zero_of(var);
            quote!(let mut #acc = #zero;).to_tokens(tokens);
            self.adjoints.insert(var, acc.clone());
            self.defined.insert(var);
            accs.push((var, acc));
        }
        // Running sums of x[i + k] for the bases only ever indexed so.
        let index_var = match &lp.kind {
            LoopKind::Range { index, .. } => Some(*index),
            LoopKind::Counted { counter, .. } => Some(*counter),
            LoopKind::Plain => None,
        };
        let mut rotate = TokenStream::new();
        let mut flush = TokenStream::new();
        if let (Some(index_var), Some(after_last)) = (index_var, after_last) {
            for (base, acc) in &accs {
                let Some(offsets) = self.plan.offsets.get(&(lp.body.id, *base)) else {
                    continue;
                };
                let widest = offsets.values().copied().max().unwrap_or(0);
                let name = self.f.vars[*base].name.trim_start_matches("r#").to_owned();
                let sums: Vec<Ident> = (0..=widest)
                    .map(|j| fresh(self.names, &format!("sum_{name}_{j}")))
                    .collect();
                for sum in &sums {
                    quote!(let mut #sum = ::autodiff::__private::rules::elem_zero(&#acc);)
                        .to_tokens(tokens);
                }
                let zero = quote!(::autodiff::__private::rules::elem_zero(&#acc));
                for (&stmt, &offset) in offsets {
                    self.running_sums
                        .insert(stmt, (sums[offset].clone(), zero.clone()));
                }
                let opened = offsets.keys().any(|stmt| self.plan.opening.contains(stmt));
                let index = self.ident(index_var);
                let first = &sums[0];
                // Element `index` is complete: no later iteration adds to it,
                // and nothing added to it before (the buffer is this loop's).
                // Of a range, through the slice up to its bound, which the
                // index is below, so that rustc checks nothing per element:
                // every iteration read `x[i + k]`, `k ≥ 0`, at the top of the
                // body (`analyse::offsets`), so the bound is within `x`.
                match &lp.kind {
                    LoopKind::Range { hi, inclusive, .. } => {
                        let hi = self.operand(hi);
                        let upto = if *inclusive {
                            quote!(..=#hi)
                        } else {
                            quote!(..#hi)
                        };
                        quote!(#acc[#upto][#index] = #first;).to_tokens(&mut rotate);
                    }
                    // `for (a, b) in w.iter().zip(x)`: the counter runs
                    // below the trip count, the shortest length.
                    LoopKind::Counted { len, .. } => {
                        let len = self.operand(len);
                        quote!(#acc[..#len][#index] = #first;).to_tokens(&mut rotate);
                    }
                    LoopKind::Plain => quote!(#acc[#index] = #first;).to_tokens(&mut rotate),
                }
                for pair in sums.windows(2) {
                    let (to, from) = (&pair[0], &pair[1]);
                    quote!(#to = #from;).to_tokens(&mut rotate);
                }
                let last = &sums[widest];
                if !opened {
                    quote!(#last = #zero;).to_tokens(&mut rotate);
                }
                // (An opened widest sum holds what the last iteration moved
                // down: the element after it has none.)
                let flushed = if opened { widest } else { widest + 1 };
                for (j, sum) in sums.iter().enumerate().take(flushed) {
                    quote!(::autodiff::__private::rules::accumulate_at(&mut #acc, #after_last + #j, #sum);)
                        .to_tokens(&mut flush);
                }
            }
        }
        // The reverse of the body for d_s = 1.
        let one = fresh(self.names, "d_one");
        let next = match &lp.body.end {
            End::Continue(values) => self.operand(&values[k]),
            _ => unreachable!("checked by `analyse::fusable`"),
        };
        quote!(let #one = ::autodiff::__private::rules::one_like(&#next);).to_tokens(&mut body);
        let mut adjoints = vec![None; lp.carried.len()];
        adjoints[k] = Some(one);
        self.carried_adjoints.push(adjoints);
        self.sinks.insert(header);
        self.fusing = Some(lp.body.id);
        self.reverse_block(&lp.body, Merge::Loop(lp), &mut body);
        self.fusing = None;
        self.sinks.remove(&header);
        self.carried_adjoints.pop();
        rotate.to_tokens(&mut body);
        self.defined = scope;
        self.adjoints = saved;
        self.flushes.insert(loop_key(lp), flush);
        self.fused.insert(loop_key(lp), (k, accs));
        // The carried values, as `forward_path` ends a body.
        let headers = self.loop_headers.last().cloned().unwrap_or_default();
        let values: Vec<TokenStream> = match &lp.body.end {
            End::Continue(values) => values
                .iter()
                .map(|value| self.moved(value, None, true))
                .collect(),
            _ => Vec::new(),
        };
        quote!((#(#headers,)*) = (#(#values,)*);).to_tokens(&mut body);
        body
    }

    /// `d_target (+)= value`.
    fn contribute(&mut self, tokens: &mut TokenStream, target: VarId, value: TokenStream) {
        if self.sinks.contains(&target) {
            return;
        }
        let d = self.adjoint(target);
        if self.defined.insert(target) {
            let mutability =
                (self.plan.live.sites.get(&target).copied().unwrap_or(0) > 1).then(|| quote!(mut));
            quote!(let #mutability #d = #value;).to_tokens(tokens);
        } else if self.zeroed.remove(&target) {
            quote!(#d = #value;).to_tokens(tokens);
        } else {
            quote!(::autodiff::__private::rules::accumulate(&mut #d, #value);).to_tokens(tokens);
        }
    }

    /// Binds `d_var = zero` unless it is bound already.
    fn declare(&mut self, tokens: &mut TokenStream, var: VarId) {
        if self.defined.insert(var) {
            let d = self.adjoint(var);
            let zero = self.zero_of(var);
            quote!(let mut #d = #zero;).to_tokens(tokens);
        }
    }

    /// `let def = op;` for statement `id`, as the forward sweep computes it.
    fn let_stmt(&self, id: StmtId) -> TokenStream {
        let stmt = &self.f.stmts[id];
        let def = self.ident(stmt.def);
        let value = self.op(&stmt.op, None);
        quote!(let #def = #value;)
    }

    /// The value the reverse computes again for statement `id`, if it does
    /// ([`Plan::remat`], [`Plan::recompute`]).
    fn computed_again(&self, id: StmtId) -> Option<TokenStream> {
        if let Some(remat) = self.plan.remat.get(&id) {
            // The element as its one writer computed it, at this index.
            let index = self.ident(remat.index);
            let at = self.operand(&remat.at);
            let chain: Vec<TokenStream> = remat
                .chain
                .iter()
                .map(|&link| self.let_stmt(link))
                .collect();
            let value = self.operand(&remat.value);
            return Some(quote!({ let #index = #at; #(#chain)* #value }));
        }
        self.plan
            .recompute
            .contains(&id)
            .then(|| self.op(&self.f.stmts[id].op, None))
    }

    /// The reverse of a nested block: pop what its forward recorded,
    /// recompute what is cheap, seed its end, then its nodes backwards.
    fn reverse_block(&mut self, block: &'a Block, merge: Merge<'a>, tokens: &mut TokenStream) {
        let here = crate::analyse::key(block);
        let fusing = self.fusing == Some(here);
        for &var in &self.plan.recorded {
            if fusing {
                break;
            }
            if self.plan.home[&var] != here || self.drained.contains(&var) {
                continue;
            }
            let (tape, in_loop) = self.tapes[&var].clone();
            // A borrow of an array written in place went on the tape as a copy.
            let borrow = self.borrows_mutated(var).then(|| quote!(&));
            // (An array written in place may be restored from a checkpoint's
            // snapshot: `mut`.)
            let ident = if borrow.is_some() {
                self.ident(var)
            } else {
                self.binding(var)
            };
            if in_loop {
                quote!(let #ident = #borrow ::core::option::Option::unwrap(#tape.pop());)
                    .to_tokens(tokens);
            } else {
                quote!(let #ident = #borrow ::core::option::Option::unwrap(#tape.take());)
                    .to_tokens(tokens);
            }
        }
        for node in &block.nodes {
            if let Node::Stmt(id) = node
                && !fusing
                && !self.hoisted.contains(id)
                && let Some(value) = self.computed_again(*id)
            {
                let stmt = &self.f.stmts[*id];
                let name = self.ident(stmt.def);
                let ty = stmt.ty.as_ref().map(|ty| quote!(: #ty));
                quote_spanned!(stmt.span=> let #name #ty = #value;).to_tokens(tokens);
            }
        }
        match (&block.end, merge) {
            (End::Values(values), Merge::Phis(phis)) => {
                for (value, &phi) in values.iter().zip(phis) {
                    if let OperandKind::Var(target) = value.kind
                        && self.active[target]
                        && self.defined.contains(&phi)
                    {
                        let d = self.adjoint(phi);
                        let d = if self.f.vars[phi].scalar {
                            d.into_token_stream()
                        } else {
                            quote!(::core::clone::Clone::clone(&#d))
                        };
                        self.contribute(tokens, target, d);
                    }
                }
            }
            (End::Continue(values) | End::Break(values), Merge::Loop(_)) => {
                let adjoints = self.carried_adjoints.last().cloned().unwrap_or_default();
                for (value, d) in values.iter().zip(adjoints) {
                    if let OperandKind::Var(target) = value.kind
                        && self.active[target]
                        && let Some(d) = d
                    {
                        self.contribute(tokens, target, d.into_token_stream());
                    }
                }
            }
            _ => {}
        }
        self.reverse_nodes(block, merge, tokens);
    }

    fn reverse_nodes(&mut self, block: &'a Block, merge: Merge<'a>, tokens: &mut TokenStream) {
        for node in block.nodes.iter().rev() {
            if !self.plan.busy(self.adjoint, node) {
                continue;
            }
            // A branch or loop may add to an adjoint on some paths only: after
            // it, the adjoint is no longer known to be zero.
            if !matches!(node, Node::Stmt(_)) {
                self.zeroed.clear();
            }
            match node {
                Node::Stmt(id) => self.reverse_stmt(*id, tokens),
                Node::If(branch) => self.reverse_if(branch, merge, tokens),
                Node::Loop(lp) => {
                    self.reverse_loop(lp, tokens);
                    if let Some(stepped) = self.stepped.remove(&lp.body.id) {
                        let range = self.range_of(lp);
                        for (back, step, add) in stepped {
                            let op = if add { quote!(-=) } else { quote!(+=) };
                            quote!(for _ in #range { #back #op #step; }).to_tokens(tokens);
                        }
                    }
                }
            }
        }
    }

    /// The range a recounted loop runs over: `(lo..hi)`, `(lo..=hi)` or
    /// `(0..len)`.
    fn range_of(&self, lp: &Loop) -> TokenStream {
        match &lp.kind {
            LoopKind::Range {
                lo, hi, inclusive, ..
            } => {
                let (lo, hi) = (self.operand(lo), self.operand(hi));
                if *inclusive {
                    quote!((#lo..=#hi))
                } else {
                    quote!((#lo..#hi))
                }
            }
            LoopKind::Counted { len, .. } => {
                let len = self.operand(len);
                quote!((0..#len))
            }
            LoopKind::Plain => unreachable!("a plain loop is never recounted"),
        }
    }

    /// Binds the adjoints of the variables defined outside the branch or
    /// loop whose first block is `first` that receive contributions inside.
    fn declare_outer(&mut self, first: &'a Block, tokens: &mut TokenStream) {
        for &var in self.plan.outer(first) {
            self.declare(tokens, var);
        }
    }

    fn reverse_if(&mut self, branch: &'a If, merge: Merge<'a>, tokens: &mut TokenStream) {
        self.declare_outer(&branch.then, tokens);
        let merge = if branch.phis.is_empty() {
            merge
        } else {
            Merge::Phis(&branch.phis)
        };
        let cond = self.operand(&branch.cond);
        let scope = self.defined.clone();
        let mut then = TokenStream::new();
        self.reverse_block(&branch.then, merge, &mut then);
        self.defined = scope.clone();
        let mut els = TokenStream::new();
        self.reverse_block(&branch.els, merge, &mut els);
        self.defined = scope;
        quote_spanned!(branch.span=> if #cond { #then } else { #els }).to_tokens(tokens);
    }

    /// The reverse of a loop ([`Body::reverse_loop_inner`]), with the
    /// element adjoints of [`Plan::held`] summed in registers around it and
    /// the values of [`Plan::hoisted`] computed once before it.
    fn reverse_loop(&mut self, lp: &'a Loop, tokens: &mut TokenStream) {
        let hoisted = self.plan.hoisted.get(&lp.body.id);
        // Whether the loop runs: the forward computed the hoisted values
        // only then.
        let guard = hoisted.map(|_| {
            let range = self.range_of(lp);
            quote!(!#range.is_empty())
        });
        let mut opened = Vec::new();
        for (base, at) in self.plan.held.get(&lp.body.id).into_iter().flatten() {
            let written = self.operand(at).to_string();
            // (Held already by a loop around this one; or bound nowhere
            // yet, so that a first contribution binds it.)
            if self.held.iter().any(|(b, w, _)| b == base && *w == written)
                || !self.defined.contains(base)
            {
                continue;
            }
            let d_base = self.adjoint(*base);
            let sum = fresh(self.names, &format!("held_{}", self.stem(*base)));
            quote!(let mut #sum = ::autodiff::__private::rules::elem_zero(&#d_base);)
                .to_tokens(tokens);
            self.held.push((*base, written, sum.clone()));
            opened.push((*base, at, sum));
        }
        let mut hoisted_defs = Vec::new();
        if let (Some(ids), Some(guard)) = (hoisted, &guard) {
            for &id in ids {
                let Some(value) = self.computed_again(id) else {
                    continue;
                };
                let stmt = &self.f.stmts[id];
                let name = self.ident(stmt.def);
                let ty = stmt.ty.as_ref().map(|ty| quote!(: #ty));
                quote_spanned! {stmt.span=>
                    let #name #ty = if #guard { #value } else { ::core::default::Default::default() };
                }
                .to_tokens(tokens);
                self.hoisted.insert(id);
                hoisted_defs.push(stmt.def);
            }
        }
        self.reverse_loop_inner(lp, tokens);
        for id in hoisted.into_iter().flatten() {
            self.hoisted.remove(id);
        }
        for (base, at, sum) in opened {
            self.held.retain(|(_, _, held)| *held != sum);
            let d_base = self.adjoint(base);
            let element = self.operand(at);
            let add =
                quote!(::autodiff::__private::rules::accumulate(&mut #d_base[#element], #sum););
            match (at.kind.clone(), &guard) {
                // A hoisted index is a default when the loop did not run.
                (OperandKind::Var(var), Some(guard)) if hoisted_defs.contains(&var) => {
                    quote!(if #guard { #add }).to_tokens(tokens);
                }
                _ => add.to_tokens(tokens),
            }
        }
    }

    // Input:  let (s1,) = loop { …; s = s + x[i]; … };
    // Output: let mut d_s = d_s1;
    //         for i in (lo..=last).rev() {
    //             let d_cur = replace(&mut d_s, zero(&s1));
    //             …pops, recomputation, the body's reverse…
    //         }
    //         d_s0 (+)= d_s;
    fn reverse_loop_inner(&mut self, lp: &'a Loop, tokens: &mut TokenStream) {
        if let Some((k, accs)) = self.fused.remove(&loop_key(lp)) {
            let carried = &lp.carried[k];
            if !self.defined.contains(&carried.exit) {
                return;
            }
            let d = self.adjoint(carried.exit);
            for (var, acc) in accs {
                let acc = if self.split {
                    quote!(::core::clone::Clone::clone(&#acc))
                } else {
                    acc.into_token_stream()
                };
                let value = quote!(::autodiff::__private::rules::scaled(#acc, &#d));
                self.contribute(tokens, var, value);
            }
            if let OperandKind::Var(init) = carried.init.kind
                && self.active[init]
            {
                self.contribute(tokens, init, d.into_token_stream());
            }
            return;
        }
        let mut adjoints = Vec::new();
        let mut currents = Vec::new();
        for carried in &lp.carried {
            if !self.active[carried.header] {
                adjoints.push(None);
                currents.push(None);
                continue;
            }
            let d_header = self.adjoint(carried.header);
            let value = if self.defined.contains(&carried.exit) {
                self.adjoint(carried.exit).into_token_stream()
            } else {
                self.zero_of(carried.exit)
            };
            quote!(let mut #d_header = #value;).to_tokens(tokens);
            self.defined.insert(carried.header);
            let name = self.stem(carried.header);
            adjoints.push(Some((d_header, carried.exit)));
            currents.push(Some(fresh(self.names, &format!("d_{name}_next"))));
        }
        // (The headers among them are bound above: `declare` skips them.)
        self.declare_outer(&lp.body, tokens);
        let scope = self.defined.clone();
        let mut body = TokenStream::new();
        // Nothing is left to do once every carried adjoint is zero.
        let winner = self.plan.winners.get(&lp.body.id);
        if let Some(winner) = winner {
            let side = self.ident(winner.side);
            let won = winner.won;
            quote!(let #side = #won;).to_tokens(&mut body);
        }
        if self.plan.breakable.contains(&lp.body.id)
            && self.plan.recounted.contains(&lp.body.id)
            && winner.is_none()
            && let Some(all_zero) = all_zero(&adjoints)
        {
            quote!(if #all_zero { break; }).to_tokens(&mut body);
        }
        if let Some(state) = self.plan.checkpointed.get(&lp.body.id) {
            self.rerun(lp, state, &mut body);
        }
        let outer_zeroed = std::mem::take(&mut self.zeroed);
        for ((adjoint, current), carried) in adjoints.iter().zip(&currents).zip(&lp.carried) {
            if let (Some((d_header, exit)), Some(current)) = (adjoint, current) {
                if self.f.vars[*exit].scalar {
                    quote!(let #current = ::core::mem::take(&mut #d_header);).to_tokens(&mut body);
                    self.zeroed.insert(carried.header);
                } else {
                    let zero = self.zero_of(*exit);
                    quote!(let #current = ::core::mem::replace(&mut #d_header, #zero);)
                        .to_tokens(&mut body);
                }
            }
        }
        // Counters the loop steps by a constant, stepped back from their
        // value after the loop.
        for carried in &lp.carried {
            let Some(induction) = self.plan.inductions.get(&carried.header) else {
                continue;
            };
            let back = fresh(self.names, "back");
            let exit = self.ident(induction.exit);
            let header = self.ident(carried.header);
            let step = &induction.step;
            quote!(let mut #back = #exit;).to_tokens(tokens);
            if let Some(through) = &induction.through {
                // The value after the iteration is the nested loop's exit;
                // `reverse_nodes` steps it back after that loop's reverse.
                let after = self.ident(through.exit);
                quote!(let #after = #back;).to_tokens(&mut body);
                self.stepped.entry(through.inner).or_default().push((
                    back,
                    step.clone(),
                    induction.add,
                ));
            } else if induction.add {
                quote!(#back -= #step; let #header = #back;).to_tokens(&mut body);
            } else {
                quote!(#back += #step; let #header = #back;).to_tokens(&mut body);
            }
        }
        // A forward-order reverse replays the values carried but not
        // differentiated from their initial value.
        let replays = self.plan.forward_order.get(&lp.body.id);
        let mut replay_after = TokenStream::new();
        for replay in replays.into_iter().flatten() {
            let state = fresh(self.names, "replay");
            let init = self.operand(&replay.init);
            let header = self.ident(replay.header);
            let next = self.ident(replay.next);
            quote!(let mut #state = #init;).to_tokens(tokens);
            quote!(let #header = #state;).to_tokens(&mut body);
            quote!(#state = #next;).to_tokens(&mut replay_after);
        }
        let recounted = self.plan.recounted.contains(&crate::analyse::key(&lp.body));
        // A loop that runs over its bounds again pushed one entry per
        // iteration on the tape of each value its body records at its top
        // level: the reverse takes them back as one drained segment, zipped
        // with the index, which rustc compiles without a check per entry.
        let here = crate::analyse::key(&lp.body);
        let drained: Vec<VarId> = if recounted {
            self.plan
                .recorded
                .iter()
                .copied()
                .filter(|var| {
                    self.plan.home.get(var) == Some(&here)
                        && self.tapes.get(var).is_some_and(|(_, in_loop)| *in_loop)
                })
                .collect()
        } else {
            Vec::new()
        };
        self.drained.extend(&drained);
        let (lag_rotate, lag_flush) = self.lagged_sums(lp, tokens);
        self.carried_adjoints.push(currents);
        self.reverse_block(&lp.body, Merge::Loop(lp), &mut body);
        self.carried_adjoints.pop();
        lag_rotate.to_tokens(&mut body);
        replay_after.to_tokens(&mut body);
        self.zeroed = outer_zeroed;
        for var in &drained {
            self.drained.remove(var);
        }
        self.defined = scope;
        let trip = self.ident(lp.trip);
        if let Some(winner) = winner {
            let index = self.ident(winner.index);
            let reversed = quote!(
                if let ::core::option::Option::Some(#index) = ::autodiff::__private::rules::last(#trip) {
                    #body
                }
            );
            self.close_loop(lp, adjoints, reversed, tokens);
            return;
        }
        if !drained.is_empty() {
            let index = match &lp.kind {
                LoopKind::Range { index, .. } => self.ident(*index),
                LoopKind::Counted { counter, .. } => self.ident(*counter),
                LoopKind::Plain => unreachable!("a plain loop is never recounted"),
            };
            let range = self.range_of(lp);
            let count = fresh(self.names, "count");
            let forward = replays.is_some();
            // Values of `Copy` types are read from the segment by the
            // iteration's slot: one loop counter, no check per entry, the
            // segment dropped after the loop.
            if self.plan.indexed.contains(&lp.body.id) {
                let (index, slot) = match &lp.kind {
                    LoopKind::Range { index, lo, .. } => {
                        // (`wrapping_sub` or a helper hides from LLVM that
                        // the slot is below the count: a check per entry.)
                        (self.ident(*index), self.slot(*index, lo))
                    }
                    LoopKind::Counted { counter, .. } => {
                        let counter = self.ident(*counter);
                        (counter.clone(), counter)
                    }
                    LoopKind::Plain => unreachable!("a plain loop is never recounted"),
                };
                let iter = if forward {
                    range.clone()
                } else {
                    quote!(::core::iter::Iterator::rev(#range))
                };
                let (mut bind, mut close, mut reads) =
                    (TokenStream::new(), TokenStream::new(), TokenStream::new());
                for var in &drained {
                    let (tape, _) = &self.tapes[var];
                    let ident = self.ident(*var);
                    let stem = self.stem(*var);
                    let (start, segment) = (
                        fresh(self.names, &format!("start_{stem}")),
                        fresh(self.names, &format!("segment_{stem}")),
                    );
                    quote! {
                        let #start = #tape.len() - #count;
                        let #segment = &#tape[#start..];
                    }
                    .to_tokens(&mut bind);
                    quote!(#tape.truncate(#start);).to_tokens(&mut close);
                    quote!(let #ident = #segment[#slot];).to_tokens(&mut reads);
                    if self.borrows_mutated(*var) {
                        quote!(let #ident = &#ident;).to_tokens(&mut reads);
                    }
                }
                let reversed = quote! {
                    let #count = ::core::iter::Iterator::size_hint(&#range).0;
                    #bind
                    for #index in #iter { #reads #body }
                    #close
                };
                let reversed = self.sliced(lp, reversed);
                self.close_loop(lp, adjoints, reversed, tokens);
                lag_flush.to_tokens(tokens);
                return;
            }
            let mut iter = if forward {
                range.clone()
            } else {
                quote!(::core::iter::Iterator::rev(#range))
            };
            let mut pattern = index;
            let mut rebind = TokenStream::new();
            for var in &drained {
                let (tape, _) = &self.tapes[var];
                let ident = self.ident(*var);
                let segment = quote!(#tape.drain((#tape.len() - #count)..));
                let segment = if forward {
                    segment
                } else {
                    quote!(::core::iter::Iterator::rev(#segment))
                };
                iter = quote!(::core::iter::Iterator::zip(#iter, #segment));
                pattern = quote!((#pattern, #ident));
                if self.borrows_mutated(*var) {
                    quote!(let #ident = &#ident;).to_tokens(&mut rebind);
                }
            }
            let reversed = quote! {
                let #count = ::core::iter::Iterator::size_hint(&#range).0;
                for #pattern in #iter { #rebind #body }
            };
            let reversed = self.sliced(lp, reversed);
            self.close_loop(lp, adjoints, reversed, tokens);
            lag_flush.to_tokens(tokens);
            return;
        }
        let reversed = match &lp.kind {
            LoopKind::Range {
                index,
                lo,
                hi,
                inclusive,
            } if recounted => {
                let index = self.ident(*index);
                let (lo, hi) = (self.operand(lo), self.operand(hi));
                let range = if *inclusive {
                    quote!((#lo..=#hi))
                } else {
                    quote!((#lo..#hi))
                };
                if replays.is_some() {
                    quote!(for #index in #range { #body })
                } else {
                    quote!(for #index in #range.rev() { #body })
                }
            }
            LoopKind::Counted { counter, len } if recounted => {
                let counter = self.ident(*counter);
                let len = self.operand(len);
                if replays.is_some() {
                    quote!(for #counter in 0..#len { #body })
                } else {
                    quote!(for #counter in (0..#len).rev() { #body })
                }
            }
            LoopKind::Range {
                index,
                lo,
                inclusive,
                ..
            } => {
                let index = self.ident(*index);
                let lo = self.operand(lo);
                let last = fresh(self.names, "last");
                let trip = if *inclusive {
                    trip.to_token_stream()
                } else {
                    quote!(::autodiff::__private::rules::last(#trip))
                };
                quote! {
                    if let ::core::option::Option::Some(#last) = #trip {
                        for #index in (#lo..=#last).rev() { #body }
                    }
                }
            }
            LoopKind::Counted { counter, .. } => {
                let counter = self.ident(*counter);
                quote!(for #counter in (0..#trip).rev() { #body })
            }
            LoopKind::Plain => quote!(for _ in 0..#trip { #body }),
        };
        let reversed = if recounted {
            self.sliced(lp, reversed)
        } else {
            reversed
        };
        self.close_loop(lp, adjoints, reversed, tokens);
        lag_flush.to_tokens(tokens);
    }

    /// A snapshot of a checkpointed loop's state at the start of an
    /// iteration: its carried values and the arrays it changes in place.
    fn snapshot(&self, lp: &Loop, state: &[VarId]) -> TokenStream {
        let saved = lp
            .carried
            .iter()
            .map(|carried| carried.header)
            .chain(state.iter().copied())
            .map(|var| {
                let ident = self.ident(var);
                quote!(::core::clone::Clone::clone(&#ident))
            });
        quote!((#(#saved,)*))
    }

    /// The start of a checkpointed loop's reversed iteration: the state
    /// restored from the last snapshot kept (popped if it is this
    /// iteration's, else copied: the carried values bound, the arrays it
    /// changes in place set back), the iterations in between run forward
    /// keeping the snapshots the schedule picks, then its body run again,
    /// recording what its reverse reads.
    fn rerun(&mut self, lp: &'a Loop, state: &[VarId], tokens: &mut TokenStream) {
        let (snapshots, schedule) = self.snapshots[&lp.body.id].clone();
        let LoopKind::Range { index, .. } = &lp.kind else {
            unreachable!("a checkpointed loop runs over its segments")
        };
        let index = self.ident(*index);
        let (from, take, target, at) = (
            fresh(self.names, "from"),
            fresh(self.names, "take"),
            fresh(self.names, "target"),
            fresh(self.names, "at"),
        );
        let mut headers = Vec::new();
        let mut saved = Vec::new();
        let mut moved = TokenStream::new();
        let mut copied = TokenStream::new();
        for carried in &lp.carried {
            let header = self.ident(carried.header);
            headers.push(quote!(mut #header));
            saved.push(fresh(
                self.names,
                &format!("saved_{}", self.stem(carried.header)),
            ));
        }
        // (The carried values' saved copies are the first of `saved`.)
        let bound = saved.clone();
        for &var in state {
            let ident = self.ident(var);
            let value = fresh(self.names, &format!("saved_{}", self.stem(var)));
            quote!(#ident = #value;).to_tokens(&mut moved);
            quote!(::core::clone::Clone::clone_from(&mut #ident, #value);).to_tokens(&mut copied);
            saved.push(value);
        }
        quote! {
            let (#from, #take) = #schedule.restore(#index);
            let (#(#headers,)*) = if #take {
                let (#(#saved,)*) = ::core::option::Option::unwrap(#snapshots.pop());
                #moved
                (#(#bound,)*)
            } else {
                let (#(#saved,)*) = ::core::option::Option::unwrap(#snapshots.last());
                #copied
                (#(::core::clone::Clone::clone(#bound),)*)
            };
        }
        .to_tokens(tokens);
        // From the snapshot to this iteration, recording nothing.
        let push = self.snapshot(lp, state);
        let outer_quiet = std::mem::replace(&mut self.quiet, true);
        self.loop_headers.push(
            lp.carried
                .iter()
                .map(|carried| self.ident(carried.header))
                .collect(),
        );
        let path = self.forward_path(&lp.body);
        self.loop_headers.pop();
        self.quiet = outer_quiet;
        quote! {
            let #target = #index;
            let mut #at = #from;
            loop {
                if !(#at < #target) { break; }
                let #index = #at;
                #at += 1;
                if #schedule.keep(#index, #target) { #snapshots.push(#push); }
                #path
            }
        }
        .to_tokens(tokens);
        for carried in &lp.carried {
            self.record(carried.header, tokens);
        }
        self.forward(&lp.body, tokens);
    }

    /// `reversed`, the reverse of a loop that runs over its bounds again, in
    /// a block that first binds the arrays of [`Plan::sliced`] to their
    /// prefix the loop indexes: `let d_a = &mut d_a[..hi];`, and for a
    /// parameter `let a = &a[..hi];`. The forward sweep read or wrote
    /// `a[hi - 1]` when the loop ran at all, so the slice is in bounds.
    fn sliced(&mut self, lp: &'a Loop, reversed: TokenStream) -> TokenStream {
        let Some(arrays) = self.plan.sliced.get(&lp.body.id) else {
            return reversed;
        };
        // Bound only when the loop runs: then `hi` is in bounds, and the
        // trip count is `hi - lo`.
        let (end, runs) = match &lp.kind {
            LoopKind::Range {
                lo, hi, inclusive, ..
            } => {
                let (lo, hi) = (self.operand(lo), self.operand(hi));
                if *inclusive {
                    (quote!(#hi + 1), quote!(#lo <= #hi))
                } else {
                    (quote!(#hi), quote!(#lo < #hi))
                }
            }
            LoopKind::Counted { len, .. } => {
                let len = self.operand(len);
                (quote!((#len as usize)), quote!(true))
            }
            LoopKind::Plain => return reversed,
        };
        let end_ident = fresh(self.names, "end");
        let mut bind = quote!(let #end_ident: usize = #end;);
        let mut any = false;
        for &array in arrays {
            if self.active[array] && self.defined.contains(&array) {
                let d = self.adjoint(array);
                quote!(let mut #d = &mut #d[..#end_ident];).to_tokens(&mut bind);
                any = true;
            }
            if self.f.vars[array].is_param && !self.split {
                let ident = self.ident(array);
                quote!(let #ident = &#ident[..#end_ident];).to_tokens(&mut bind);
                any = true;
            }
        }
        if any {
            quote!(if #runs { #bind #reversed })
        } else {
            reversed
        }
    }

    /// The running sums of the arrays a backwards loop adds into at lagging
    /// indices (see [`Plan::lagged`]): declares them (into `tokens`), and
    /// returns the end of each reversed iteration (element `i` is complete:
    /// add its sum in, shift the others down) and the code after the loop
    /// (add in the sums of the elements below `lo`, those that exist).
    fn lagged_sums(
        &mut self,
        lp: &'a Loop,
        tokens: &mut TokenStream,
    ) -> (TokenStream, TokenStream) {
        let (mut rotate, mut flush) = (TokenStream::new(), TokenStream::new());
        let LoopKind::Range { index, lo, .. } = &lp.kind else {
            return (rotate, flush);
        };
        let mut lagged: Vec<(&VarId, &HashMap<StmtId, usize>)> = self
            .plan
            .lagged
            .iter()
            .filter(|((body, _), _)| *body == lp.body.id)
            .map(|((_, base), reads)| (base, reads))
            .collect();
        lagged.sort_unstable_by_key(|(base, _)| **base);
        let (index, lo) = (self.ident(*index), self.operand(lo));
        for (&base, reads) in lagged {
            self.declare(tokens, base);
            let d_base = self.adjoint(base);
            let widest = reads.values().copied().max().unwrap_or(0);
            let name = self.stem(base);
            let sums: Vec<Ident> = (0..=widest)
                .map(|j| fresh(self.names, &format!("lag_{name}_{j}")))
                .collect();
            for sum in &sums {
                quote!(let mut #sum = ::autodiff::__private::rules::elem_zero(&#d_base);)
                    .to_tokens(tokens);
            }
            let zero = quote!(::autodiff::__private::rules::elem_zero(&#d_base));
            for (&stmt, &k) in reads {
                self.running_sums
                    .insert(stmt, (sums[k].clone(), zero.clone()));
            }
            let opened = reads.keys().any(|stmt| self.plan.opening.contains(stmt));
            let first = &sums[0];
            quote!(::autodiff::__private::rules::accumulate(&mut #d_base[#index], #first);)
                .to_tokens(&mut rotate);
            for pair in sums.windows(2) {
                let (to, from) = (&pair[0], &pair[1]);
                quote!(#to = #from;).to_tokens(&mut rotate);
            }
            let last = &sums[widest];
            if !opened {
                quote!(#last = #zero;).to_tokens(&mut rotate);
            }
            // After the last iteration (`i = lo`), sum `j` is element
            // `lo - 1 - j`'s.
            for (j, sum) in sums.iter().enumerate().take(widest) {
                let below = j + 1;
                quote! {
                    ::autodiff::__private::rules::accumulate_at(
                        &mut #d_base,
                        ::core::primitive::usize::wrapping_sub(#lo, #below),
                        #sum,
                    );
                }
                .to_tokens(&mut flush);
            }
        }
        (rotate, flush)
    }

    /// Writes a loop's reverse (skipped where the plan allows it when every
    /// carried adjoint is zero), then hands the carried adjoints to the
    /// initial values.
    fn close_loop(
        &mut self,
        lp: &'a Loop,
        adjoints: Vec<Option<(Ident, VarId)>>,
        reversed: TokenStream,
        tokens: &mut TokenStream,
    ) {
        if self.plan.skippable.contains(&crate::analyse::key(&lp.body))
            && let Some(all_zero) = all_zero(&adjoints)
        {
            quote_spanned!(lp.span=> if !(#all_zero) { #reversed }).to_tokens(tokens);
        } else {
            quote_spanned!(lp.span=> #reversed).to_tokens(tokens);
        }
        for (carried, adjoint) in lp.carried.iter().zip(adjoints) {
            if let Some((d_header, _)) = adjoint
                && let OperandKind::Var(init) = carried.init.kind
                && self.active[init]
            {
                self.contribute(tokens, init, d_header.into_token_stream());
            }
        }
    }

    /// The pullbacks of one statement.
    fn reverse_stmt(&mut self, id: StmtId, tokens: &mut TokenStream) {
        let stmts = &self.adjoint.stmts[id];
        // The index of the last pullback that reads each adjoint.
        let mut last_reader: HashMap<VarId, usize> = HashMap::new();
        for (index, stmt) in stmts.iter().enumerate() {
            match stmt {
                AdjStmt::Rule { args, .. } => {
                    for arg in args {
                        if let RuleArg::Adjoint(var) = arg {
                            last_reader.insert(*var, index);
                        }
                    }
                }
                AdjStmt::Pass { source, .. }
                | AdjStmt::IndexAdd { source, .. }
                | AdjStmt::FieldAdd { source, .. } => {
                    last_reader.insert(*source, index);
                }
                AdjStmt::CallPullback { stmt, .. } => {
                    last_reader.insert(self.f.stmts[*stmt].def, index);
                }
                AdjStmt::IndexTake { .. } | AdjStmt::IndexClear { .. } => {}
            }
        }
        for (index, stmt) in stmts.iter().enumerate() {
            match stmt {
                AdjStmt::Pass {
                    target,
                    source,
                    negate,
                } => {
                    if !self.defined.contains(source) {
                        continue;
                    }
                    let d = self.adjoint(*source);
                    let consumed = last_reader.get(source) == Some(&index);
                    let value = if self.f.vars[*source].scalar || consumed {
                        d.into_token_stream()
                    } else {
                        quote!(::core::clone::Clone::clone(&#d))
                    };
                    let value = if *negate { quote!(-#value) } else { value };
                    self.contribute(tokens, *target, value);
                }
                AdjStmt::IndexAdd {
                    base,
                    index: element,
                    source,
                } => {
                    if let Some((sum, zero)) = self.running_sums.get(&id).cloned() {
                        // The first contribution to the widest sum in the
                        // iteration sets it (see `Plan::opening`).
                        if self.plan.opening.contains(&id) {
                            if self.defined.contains(source) {
                                let d = self.adjoint(*source);
                                quote!(#sum = #d;).to_tokens(tokens);
                            } else {
                                quote!(#sum = #zero;).to_tokens(tokens);
                            }
                        } else if self.defined.contains(source) {
                            let d = self.adjoint(*source);
                            quote!(::autodiff::__private::rules::accumulate(&mut #sum, #d);)
                                .to_tokens(tokens);
                        }
                        continue;
                    }
                    if !self.defined.contains(source) {
                        continue;
                    }
                    let d = self.adjoint(*source);
                    let written = self.operand(element).to_string();
                    if let Some((_, _, sum)) = self
                        .held
                        .iter()
                        .find(|(b, w, _)| b == base && *w == written)
                    {
                        quote!(::autodiff::__private::rules::accumulate(&mut #sum, #d);)
                            .to_tokens(tokens);
                        continue;
                    }
                    self.declare(tokens, *base);
                    let d_base = self.adjoint(*base);
                    let element = self.operand(element);
                    quote! {
                        ::autodiff::__private::rules::accumulate(&mut #d_base[#element], #d);
                    }
                    .to_tokens(tokens);
                }
                AdjStmt::FieldAdd {
                    base,
                    member,
                    source,
                } => {
                    if !self.defined.contains(source) {
                        continue;
                    }
                    self.declare(tokens, *base);
                    let d_base = self.adjoint(*base);
                    let d = self.adjoint(*source);
                    quote!(::autodiff::__private::rules::accumulate(&mut #d_base.#member, #d);)
                        .to_tokens(tokens);
                }
                AdjStmt::IndexClear {
                    base,
                    index: element,
                } => {
                    if !self.defined.contains(base) {
                        continue;
                    }
                    let d_base = self.adjoint(*base);
                    let element = self.operand(element);
                    quote!(let _ = ::core::mem::take(&mut #d_base[#element]);).to_tokens(tokens);
                }
                AdjStmt::IndexTake {
                    target,
                    base,
                    index: element,
                    take,
                } => {
                    if !self.defined.contains(base) {
                        continue;
                    }
                    let d_base = self.adjoint(*base);
                    let element = self.operand(element);
                    let value = if *take {
                        quote!(::core::mem::take(&mut #d_base[#element]))
                    } else {
                        quote!(::core::clone::Clone::clone(&#d_base[#element]))
                    };
                    self.contribute(tokens, *target, value);
                }
                AdjStmt::Rule {
                    target,
                    rule,
                    into,
                    args,
                    span,
                } => {
                    if args.iter().any(
                        |arg| matches!(arg, RuleArg::Adjoint(var) if !self.defined.contains(var)),
                    ) {
                        continue;
                    }
                    // The last read of an array adjoint hands it over by value
                    // to a rule that can reuse its buffer (`sigmoid_pullback_into`).
                    let consumed = args.iter().find_map(|arg| match arg {
                        RuleArg::Adjoint(var)
                            if *into
                                && !self.f.vars[*var].scalar
                                && last_reader.get(var) == Some(&index) =>
                        {
                            Some(*var)
                        }
                        _ => None,
                    });
                    // Likewise a forward array nothing reads afterwards, for a
                    // rule that turns it into its own gradient (`norm_sq`).
                    let consumed_primal = args.iter().find_map(|arg| match arg {
                        RuleArg::Primal(Operand {
                            kind: OperandKind::Var(var),
                            mode,
                            ..
                        }) if PRIMAL_INTO_RULES.contains(&rule.as_str())
                            && !self.split
                            && *mode != Mode::Deref
                            && !self.f.vars[*var].scalar
                            && !self.f.vars[*var].by_ref
                            && !self.f.vars[*var].is_param
                            && self.plan.home.get(var)
                                == Some(&crate::analyse::key(&self.f.body))
                            && self.plan.home.get(&self.f.stmts[id].def)
                                == Some(&crate::analyse::key(&self.f.body))
                            && self.plan.live.top_index.get(&id).is_some_and(|at| {
                                self.plan.live.last_primal_reader.get(var) == Some(at)
                            }) =>
                        {
                            Some(*var)
                        }
                        _ => None,
                    });
                    let rule = match (consumed, consumed_primal) {
                        (None, None) => Ident::new(rule, *span),
                        _ => Ident::new(&format!("{rule}_into"), *span),
                    };
                    let args: Vec<TokenStream> = args
                        .iter()
                        .map(|arg| match arg {
                            RuleArg::Adjoint(var) if Some(*var) == consumed => {
                                self.adjoint(*var).into_token_stream()
                            }
                            RuleArg::Primal(Operand {
                                kind: OperandKind::Var(var),
                                ..
                            }) if Some(*var) == consumed_primal => self.ident(*var),
                            arg => self.rule_arg(arg),
                        })
                        .collect();
                    let value =
                        quote_spanned!(*span=> ::autodiff::__private::rules::#rule(#(#args),*));
                    self.contribute(tokens, *target, value);
                }
                AdjStmt::CallPullback { stmt, targets } => {
                    let stmt = &self.f.stmts[*stmt];
                    let Op::Call(call) = &stmt.op else { continue };
                    if !self.defined.contains(&stmt.def) {
                        continue;
                    }
                    let d = self.adjoint(stmt.def);
                    // `self.f(x)`: `self` is the receiver, not an argument.
                    let skip = usize::from(matches!(call.callee, Callee::SelfMethod { .. }));
                    let args: Vec<TokenStream> = call.args[skip..]
                        .iter()
                        .map(|arg| self.operand(arg))
                        .collect();
                    let pullback = pullback_callee(&call.callee);
                    let mut received = Vec::new();
                    let pattern: Vec<TokenStream> = targets
                        .iter()
                        .zip(&call.args)
                        .map(|(target, arg)| match target {
                            Some(target) => {
                                // Spanned at the argument: an error about its
                                // gradient points there.
                                let span = Span::mixed_site().located_at(arg.span);
                                let g = Ident::new(&self.names.fresh("g"), span);
                                received.push((*target, g.clone(), arg.span));
                                g.into_token_stream()
                            }
                            None => quote!(_),
                        })
                        .collect();
                    quote_spanned! {stmt.span=>
                        let (_, (#(#pattern,)*)) = #pullback(#(#args,)* #d);
                    }
                    .to_tokens(tokens);
                    for (target, g, span) in received {
                        let value = quote_spanned!(span=> ::autodiff::__private::rules::callee_gradient(#g));
                        self.contribute(tokens, target, value);
                    }
                }
            }
        }
    }

    fn rule_arg(&mut self, arg: &RuleArg) -> TokenStream {
        match arg {
            RuleArg::Primal(operand) => self.reference(operand),
            RuleArg::Int(operand) => self.operand(operand),
            RuleArg::Output(var) => self.var_reference(*var),
            RuleArg::Adjoint(var) => {
                let d = self.adjoint(*var);
                quote!(&#d)
            }
        }
    }

    /// An operand the forward sweep passes by value at the statement at
    /// position `at` (`None`: where a block ends, after its statements).
    ///
    /// A value that is not known to be a float (an array) and is still
    /// needed afterwards — by a later statement or by the reverse sweep — is
    /// borrowed (`&h - &y` instead of `h - y`) or, for a call, cloned, rather
    /// than moved. Floats are `Copy` and stay as written.
    fn moved(&self, operand: &Operand, at: Option<usize>, clone: bool) -> TokenStream {
        let tokens = self.operand(operand);
        let OperandKind::Var(var) = operand.kind else {
            return tokens;
        };
        let info = &self.f.vars[var];
        let needed = self.plan.needed.contains(&var)
            || matches!(self.f.ret.kind, OperandKind::Var(ret) if ret == var)
            || at.is_some_and(|at| {
                self.plan
                    .live
                    .last_forward_use
                    .get(&var)
                    .is_some_and(|&last| last > at)
            });
        if operand.mode != Mode::Value || info.scalar || info.by_ref || !needed {
            tokens
        } else if clone || self.generic {
            // In a generic function, a value the macro cannot see is a `T`
            // (a call's result) is copied, not borrowed: `&T + &T` is not
            // implied by `T: Scalar`.
            quote!(::core::clone::Clone::clone(&#tokens))
        } else {
            quote!(&#tokens)
        }
    }

    fn op(&self, op: &Op, index: Option<usize>) -> TokenStream {
        match op {
            Op::Copy(x) => self.moved(x, index, true),
            Op::Clone(x) => {
                let value = self.reference(x);
                quote!(::core::clone::Clone::clone(#value))
            }
            Op::Neg(x) => {
                let x = self.moved(x, index, false);
                quote!(-#x)
            }
            Op::Binary(op, a, b) => {
                let (a, b) = (self.moved(a, index, false), self.moved(b, index, false));
                match op {
                    crate::ir::BinOp::Add => quote!(#a + #b),
                    crate::ir::BinOp::Sub => quote!(#a - #b),
                    crate::ir::BinOp::Mul => quote!(#a * #b),
                    crate::ir::BinOp::Div => quote!(#a / #b),
                }
            }
            Op::Method {
                method,
                rule,
                recv,
                args,
                qualified,
                ..
            } => {
                let args: Vec<TokenStream> = args.iter().map(|arg| self.operand(arg)).collect();
                // `a.insert_axis(k)`, `a.into_shape_with_order(s)` take `a` by
                // value: a copy, if the reverse sweep still reads it.
                let recv_tokens = if CONSUMING.contains(&rule.name) {
                    let moved = self.moved(recv, index, true);
                    quote!((#moved))
                } else {
                    self.operand(recv)
                };
                let call = match qualified {
                    Some(path) => quote!(#path::#method(#recv_tokens, #(#args),*)),
                    None => match recv.kind {
                        OperandKind::Const(_) => quote!((#recv_tokens).#method(#(#args),*)),
                        OperandKind::Var(_) => quote!(#recv_tokens.#method(#(#args),*)),
                    },
                };
                if rule.unwrap {
                    quote!(#call.unwrap())
                } else {
                    call
                }
            }
            Op::Primitive { callee, args, rule } => {
                // An axis (`softmax(x, axis)`) is passed by value, as written.
                let args: Vec<TokenStream> = args
                    .iter()
                    .enumerate()
                    .map(|(k, arg)| {
                        if rule.shape.constant_at(k) {
                            self.operand(arg)
                        } else {
                            // A tuple or array literal owns its elements:
                            // one the reverse sweep still reads is cloned,
                            // never borrowed (`[&t1, t2]` does not type).
                            self.moved(arg, index, rule.shape == crate::ir::MethodShape::Tuple)
                        }
                    })
                    .collect();
                // `[a, b]`; `(a, b)` is a tuple's empty callee and its arguments.
                if rule.name == "array" {
                    quote!([#(#args),*])
                } else {
                    // At the callee's span: a bound the call does not meet
                    // is reported where the user wrote the call.
                    let span = callee
                        .clone()
                        .into_iter()
                        .next()
                        .map_or_else(Span::call_site, |token| token.span());
                    quote_spanned!(span=> #callee(#(#args),*))
                }
            }
            Op::Call(call) => {
                let args: Vec<TokenStream> = call
                    .args
                    .iter()
                    .map(|arg| self.moved(arg, index, true))
                    .collect();
                match &call.callee {
                    Callee::Path(path) => quote!(#path(#(#args),*)),
                    Callee::SelfMethod { receiver, method } => {
                        let args = &args[1..];
                        quote!(#receiver.#method(#(#args),*))
                    }
                }
            }
            Op::Opaque(tokens) => tokens.clone(),
            Op::Index {
                base,
                index: element,
                borrow,
            } => {
                let local_slice = op
                    .sub_slice_of(&self.f.vars)
                    .is_some_and(|sliced| !self.f.vars[sliced].is_param);
                let base = self.operand(base);
                let element = self.operand(element);
                if local_slice {
                    // A sub-slice of a local sequence is a copy (a temporary
                    // the `let` keeps alive): the sequence may be written
                    // while the reverse sweep still needs the values read.
                    quote!(&::autodiff::__private::Vec::from(&#base[#element]))
                } else if *borrow {
                    quote!(&#base[#element])
                } else {
                    quote!(#base[#element])
                }
            }
            Op::Field { base, member } => {
                let base = self.operand(base);
                quote!(&#base.#member)
            }
            // Written by `forward`.
            Op::SetIndex { .. } => quote!(()),
        }
    }
}

/// ndarray's methods that take the array by value.
const CONSUMING: &[&str] = &["insert_axis", "into_shape_with_order"];

/// `m::foo::<T>` → `m::__foo_pullback::<T>`; `self.foo` → `self.__foo_pullback`.
fn pullback_callee(callee: &Callee) -> TokenStream {
    match callee {
        Callee::Path(path) => {
            let mut path = path.clone();
            let last = path.segments.last_mut().expect("a call path has a segment");
            last.ident = Ident::new(&format!("__{}_pullback", last.ident), last.ident.span());
            path.into_token_stream()
        }
        Callee::SelfMethod { receiver, method } => {
            let method = Ident::new(&format!("__{method}_pullback"), method.span());
            quote!(#receiver.#method)
        }
    }
}
