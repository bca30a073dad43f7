//! `#[grad(...)]` and `#[custom_vjp(...)]` arguments: one parser, so both
//! accept `wrt(...)` alike and reject the same mistakes.
//!
//! Entry points: [`parse`] and [`parse_custom`]. Error policy: the first malformed argument stops
//! parsing with a spanned error that lists what is accepted, pushed into
//! `cx`; the arguments understood before it are still returned, for the
//! signatures of the stubs emitted beside the error.

use crate::diagnostics;
use crate::report::Errors;
use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::{Ident, Token};

/// Argument names, in one place (serde_derive/src/internals/symbol.rs).
const WRT: &str = "wrt";
const SPLIT: &str = "split";
const HVP: &str = "hvp";

#[derive(Default)]
pub struct GradArgs {
    /// `wrt(a, b)`: the differentiated parameters; `None` means the default
    /// (every float parameter).
    pub wrt: Option<Vec<Ident>>,
    /// `split`: also generate `f_forward` and `f_jacobian`.
    pub split: bool,
    /// `hvp`: also generate `f_hvp` (generic functions).
    pub hvp: bool,
}

/// Which attribute the arguments are for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attribute {
    Grad,
    CustomVjp,
}

pub fn parse(cx: &mut Errors, tokens: TokenStream) -> GradArgs {
    let mut args = GradArgs::default();
    let parser = syn::meta::parser(|meta| parse_one(&mut args, Attribute::Grad, meta));
    if let Err(error) = parser.parse2(tokens) {
        cx.push(error);
    }
    args
}

/// `#[custom_vjp(...)]` arguments: the path of the hand-written function,
/// then what `#[grad]` accepts of its own (`wrt(...)`).
pub struct CustomArgs {
    /// `None` if it is missing or malformed (an error in `cx`).
    pub vjp: Option<syn::Path>,
    pub args: GradArgs,
}

pub fn parse_custom(cx: &mut Errors, tokens: TokenStream) -> CustomArgs {
    let mut vjp = None;
    let mut args = GradArgs::default();
    let usage = |span| syn::Error::new(span, diagnostics::custom_vjp_arguments());
    let parser = |input: ParseStream| -> syn::Result<()> {
        // #[custom_vjp]
        if input.is_empty() {
            return Err(usage(Span::call_site()));
        }
        // #[custom_vjp(f_vjp)]
        vjp = Some(
            input
                .parse::<syn::Path>()
                .map_err(|error| usage(error.span()))?,
        );
        if input.is_empty() {
            return Ok(());
        }
        // #[custom_vjp(f_vjp, wrt(x, y))]: the rest as `#[grad]` reads it.
        input
            .parse::<Token![,]>()
            .map_err(|error| usage(error.span()))?;
        let rest: TokenStream = input.parse()?;
        syn::meta::parser(|meta| parse_one(&mut args, Attribute::CustomVjp, meta)).parse2(rest)
    };
    if let Err(error) = parser.parse2(tokens) {
        cx.push(error);
    }
    CustomArgs { vjp, args }
}

fn parse_one(args: &mut GradArgs, attribute: Attribute, meta: ParseNestedMeta) -> syn::Result<()> {
    // #[grad(split)]
    if meta.path.is_ident(SPLIT) && attribute == Attribute::Grad {
        args.split = true;
        return Ok(());
    }
    // #[grad(hvp)]
    if meta.path.is_ident(HVP) && attribute == Attribute::Grad {
        args.hvp = true;
        return Ok(());
    }
    // #[grad(wrt(x, y))]
    if meta.path.is_ident(WRT) {
        if args.wrt.is_some() {
            return Err(meta.error(diagnostics::duplicate_wrt()));
        }
        if !meta.input.peek(syn::token::Paren) {
            return Err(meta.error(diagnostics::wrt_not_a_list()));
        }
        let content;
        syn::parenthesized!(content in meta.input);
        if content.is_empty() {
            return Err(meta.error(diagnostics::empty_wrt()));
        }
        let list =
            Punctuated::<Ident, Token![,]>::parse_terminated_with(&content, Ident::parse_any)
                .map_err(|error| syn::Error::new(error.span(), diagnostics::wrt_not_a_name()))?;
        let mut names: Vec<Ident> = Vec::new();
        for name in list {
            if names.contains(&name) {
                return Err(syn::Error::new(
                    name.span(),
                    diagnostics::wrt_listed_twice(&name),
                ));
            }
            names.push(name);
        }
        args.wrt = Some(names);
        return Ok(());
    }
    if attribute == Attribute::CustomVjp {
        return Err(meta.error(diagnostics::custom_vjp_arguments()));
    }
    let key = meta
        .path
        .get_ident()
        .map_or_else(|| "this".to_owned(), |ident| format!("`{ident}`"));
    Err(meta.error(diagnostics::unknown_argument(key)))
}
