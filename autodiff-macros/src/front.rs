//! The front end `#[grad]` and `#[custom_vjp]` share: the user's signature,
//! understood before (and whatever becomes of) the body.
//!
//! Entry point: [`signature`]. It checks the qualifiers (`async`, `unsafe`,
//! `extern`, a return value), classifies every parameter by its type and
//! resolves `wrt(...)` against them. Error policy: every problem is pushed
//! into `cx` and the parameters are still classified, so the signatures of
//! the generated functions — and of their stubs, when the body is rejected —
//! never depend on the body.

use crate::args::GradArgs;
use crate::diagnostics;
use crate::ir::TypeClass;
use crate::lower::{classify, generic_elem, generic_scalar};
use crate::report::Errors;
use quote::ToTokens;
use syn::{FnArg, Ident, Pat, ReturnType, Signature, Type};

/// One parameter of the user's function, as the generated functions see it.
pub struct Input {
    pub ident: Ident,
    /// The parameter's type; `&Self`, `&mut Self` or `Self` for a receiver.
    pub ty: Type,
    pub class: TypeClass,
    /// The parameter is a reference (`&T`, `&self`).
    pub by_ref: bool,
    /// Differentiated: named in `wrt(...)`, or a float parameter by default.
    pub wrt: bool,
    /// `self`.
    pub receiver: bool,
}

pub struct Front {
    /// Every parameter bound to a plain name, in order (a pattern parameter
    /// is an error, and left out).
    pub inputs: Vec<Input>,
    /// The `self` receiver, if any.
    pub receiver: Option<syn::Receiver>,
}

impl Front {
    pub fn wrt(&self) -> impl Iterator<Item = &Input> {
        self.inputs.iter().filter(|input| input.wrt)
    }
}

pub fn signature(cx: &mut Errors, sig: &Signature, args: &GradArgs) -> Front {
    check_qualifiers(cx, sig);
    let mut inputs = Vec::new();
    let mut receiver = None;
    let mut rejected = false;
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(recv) => {
                // `self`: a constant unless `wrt(self)` names it (a
                // `#[derive(Params)]` struct).
                let ty: Type = match &recv.kind {
                    syn::ReceiverKind::Reference(_, lifetime, mutability) => {
                        syn::parse_quote!(&#lifetime #mutability Self)
                    }
                    syn::ReceiverKind::Typed(_, ty) => (**ty).clone(),
                    _ => syn::parse_quote!(Self),
                };
                let (class, by_ref) = classify(&ty);
                receiver = Some(recv.clone());
                inputs.push(Input {
                    ident: Ident::new("self", recv.self_token.span),
                    ty,
                    class,
                    by_ref,
                    wrt: false,
                    receiver: true,
                });
            }
            FnArg::Typed(typed) => {
                let ident = match &*typed.pat {
                    Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                        pat.ident.clone()
                    }
                    other => {
                        cx.error_spanned(other, diagnostics::parameter_pattern());
                        rejected = true;
                        continue;
                    }
                };
                let (mut class, by_ref) = classify(&typed.ty);
                // `x: T` with `T` a type parameter: a float of the caller's
                // choice (bounded by `autodiff::Scalar`).
                if generic_scalar(&typed.ty, sig).is_some() {
                    class = TypeClass::Float;
                } else if generic_elem(&typed.ty, sig).is_some() {
                    class = TypeClass::Sequence;
                }
                inputs.push(Input {
                    ident,
                    ty: (*typed.ty).clone(),
                    class,
                    by_ref,
                    wrt: false,
                    receiver: false,
                });
            }
        }
    }
    match &args.wrt {
        // #[grad(wrt(x, w))]
        Some(names) => {
            for name in names {
                let Some(input) = inputs.iter_mut().find(|input| input.ident == *name) else {
                    cx.error(
                        name.span(),
                        diagnostics::wrt_not_a_parameter(name, &sig.ident),
                    );
                    continue;
                };
                // Integers, `bool`, `char` have no derivative; a write
                // through `&mut` has none the macro could give.
                match input.class {
                    TypeClass::Discrete => cx.error(
                        name.span(),
                        diagnostics::wrt_discrete(name, input.ty.to_token_stream()),
                    ),
                    TypeClass::MutRef => cx.error(name.span(), diagnostics::wrt_mut_ref(name)),
                    TypeClass::Float
                    | TypeClass::Array
                    | TypeClass::Sequence
                    | TypeClass::Other => input.wrt = true,
                }
            }
        }
        // #[grad]: every parameter of a type known to be differentiable.
        None => {
            for input in &mut inputs {
                input.wrt = !input.receiver
                    && matches!(
                        input.class,
                        TypeClass::Float | TypeClass::Array | TypeClass::Sequence
                    );
            }
        }
    }
    // A function with nothing to differentiate is a mistake: its gradient
    // would be `()`. With `wrt(...)`, the names listed were reported above.
    if args.wrt.is_none() && !rejected && !inputs.iter().any(|input| input.wrt) {
        cx.error(
            sig.ident.span(),
            diagnostics::nothing_to_differentiate(&sig.ident),
        );
    }
    let front = Front { inputs, receiver };
    // The Hessian-vector product runs the gradient at dual numbers of the
    // one type parameter: it needs a generic function.
    if args.hvp && hvp_scalar(sig, &front).is_none() {
        cx.error(sig.ident.span(), diagnostics::hvp_not_generic());
    }
    front
}

// Qualifiers the generated functions cannot carry over: an `async fn` returns a
// future, not a value to differentiate; `extern` and variadic functions have
// an ABI the adjoint cannot share (variadic functions are `extern` too); an
// `unsafe fn` body is unsafe code. A function that returns nothing has
// nothing to differentiate.
fn check_qualifiers(cx: &mut Errors, sig: &Signature) {
    if let Some(token) = &sig.asyncness {
        cx.error(token.span, diagnostics::async_fn());
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        cx.error(token.span, diagnostics::unsafe_fn());
    }
    if let Some(abi) = &sig.abi {
        cx.error(abi.extern_token.span, diagnostics::extern_fn());
    }
    if let ReturnType::Default = sig.output {
        cx.error(sig.ident.span(), diagnostics::returns_nothing(&sig.ident));
    }
}

/// The type parameter `T` of `f_hvp`'s dual numbers: the one type parameter
/// of a function without `self` whose differentiated parameters are all `T`
/// or slices, `Vec`s or arrays of `T`.
pub fn hvp_scalar<'a>(sig: &'a Signature, front: &Front) -> Option<&'a Ident> {
    if front.receiver.is_some() {
        return None;
    }
    let type_params: Vec<&Ident> = sig.generics.type_params().map(|p| &p.ident).collect();
    let [scalar] = type_params[..] else {
        return None;
    };
    let mut wrt = front.wrt().peekable();
    wrt.peek()?;
    wrt.all(|input| {
        generic_scalar(&input.ty, sig) == Some(scalar)
            || generic_elem(&input.ty, sig) == Some(scalar)
    })
    .then_some(scalar)
}
