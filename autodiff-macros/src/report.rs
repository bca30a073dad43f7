//! Error collection (after cxx/syntax/report.rs and serde's `Ctxt`).
//!
//! Phases push every error they find into [`Errors`] and keep going, so one
//! compile shows them all; the driver calls [`Errors::propagate`] at each
//! phase boundary. Dropping an `Errors` that still holds unchecked errors is a
//! bug in the macro, caught by a debug assertion.

use proc_macro2::Span;
use std::fmt::Display;

#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
    checked: bool,
}

impl Errors {
    pub fn new() -> Self {
        Errors::default()
    }

    pub fn error(&mut self, span: Span, msg: impl Display) {
        self.errors.push(syn::Error::new(span, msg));
    }

    pub fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// An error spanning all of `tokens` (stable Rust cannot join spans; syn
    /// emits the error from the first token to the last).
    pub fn error_spanned(&mut self, tokens: impl quote::ToTokens, msg: impl Display) {
        self.errors.push(syn::Error::new_spanned(tokens, msg));
    }

    /// How many errors have been collected (for [`Errors::truncate`]).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Forgets the errors after the first `len`: a loop body lowered again
    /// under new assumptions reports only its last lowering's errors.
    pub fn truncate(&mut self, len: usize) {
        self.errors.truncate(len);
    }

    /// All errors so far, combined into one, or `Ok` if there are none.
    pub fn propagate(&mut self) -> syn::Result<()> {
        self.checked = true;
        let mut errors = std::mem::take(&mut self.errors).into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                for error in errors {
                    first.combine(error);
                }
                Err(first)
            }
        }
    }
}

impl Drop for Errors {
    fn drop(&mut self) {
        debug_assert!(
            self.errors.is_empty() || self.checked || std::thread::panicking(),
            "autodiff-macros bug: errors were collected but never reported"
        );
    }
}
