//! `#[grad(...)]` arguments.
//!
//! Entry point: [`parse`]. Error policy: the first malformed argument stops
//! parsing with a spanned error that lists what is accepted, pushed into
//! `cx`; the arguments understood before it are still returned, for the
//! signatures of the stubs emitted beside the error.

use crate::diagnostics;
use crate::report::Errors;
use proc_macro2::TokenStream;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
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

pub fn parse(cx: &mut Errors, tokens: TokenStream) -> GradArgs {
    let mut args = GradArgs::default();
    let parser = syn::meta::parser(|meta| parse_one(&mut args, meta));
    if let Err(error) = parser.parse2(tokens) {
        cx.push(error);
    }
    args
}

fn parse_one(args: &mut GradArgs, meta: ParseNestedMeta) -> syn::Result<()> {
    // #[grad(split)]
    if meta.path.is_ident(SPLIT) {
        args.split = true;
        return Ok(());
    }
    // #[grad(hvp)]
    if meta.path.is_ident(HVP) {
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
    let key = meta
        .path
        .get_ident()
        .map_or_else(|| "this".to_owned(), |ident| format!("`{ident}`"));
    Err(meta.error(diagnostics::unknown_argument(key)))
}
