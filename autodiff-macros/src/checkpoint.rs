//! `#[checkpoint]` on a loop, syn → syn, before `desugar`: the loop becomes a
//! loop over segments of its range, marked for `lower`, around the loop over
//! one segment.
//!
//! ```text
//! #[checkpoint(snapshots = c)]        let lo = LO; let hi = HI;
//! for i in LO..HI { body }       ->   let snapshots: usize = c;
//!                                     let every = segment_length(lo, hi, snapshots);
//!                                     let count = segment_count(lo, hi, every);
//!                                     #[__autodiff_checkpoint(snapshots)]
//!                                     for seg in 0..count {
//!                                         let a = segment_start(lo, every, seg);
//!                                         let b = segment_end(hi, a, every);
//!                                         for i in a..b { body }
//!                                     }
//! ```
//!
//! The forward sweep runs the segments without recording anything and keeps
//! the state the loop carries at the start of the segments the runtime's
//! `Schedule` picks (a snapshot); the reverse sweep takes the segments last
//! to first, restores the last snapshot kept, runs forward from it to the
//! segment (keeping the snapshots the schedule picks on the way), runs that
//! segment again recording it, and reverses it (`emit`,
//! `Plan::checkpointed`). With a snapshot per segment (the default, about
//! √n of them) that is one more forward sweep; with `c` fewer, Revolve's
//! binomial schedule: memory `c` snapshots and one segment's tape.

use crate::diagnostics;
use crate::report::Errors;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Expr, Stmt, parse_quote};

/// The attribute `lower` reads on the loop over segments.
pub const MARK: &str = "__autodiff_checkpoint";

/// The user's function without its `#[checkpoint]` attributes, as it is
/// emitted unchanged.
pub fn strip(item: &syn::ItemFn) -> syn::ItemFn {
    struct Strip;
    impl VisitMut for Strip {
        fn visit_expr_mut(&mut self, expr: &mut Expr) {
            if let Some(attrs) = loop_attrs_mut(expr) {
                attrs.retain(|attr| !is_checkpoint(attr));
            }
            visit_mut::visit_expr_mut(self, expr);
        }
    }
    let mut item = item.clone();
    Strip.visit_block_mut(&mut item.block);
    item
}

/// The body with each checkpointed loop rewritten (see the module docs);
/// misuse is reported in `cx`, and the loop is then left as written.
pub fn rewrite(cx: &mut Errors, block: &syn::Block, split: bool) -> syn::Block {
    let mut pass = Rewrite {
        cx,
        split,
        next: 0,
        depth: 0,
    };
    let mut block = block.clone();
    pass.visit_block_mut(&mut block);
    block
}

struct Rewrite<'a> {
    cx: &'a mut Errors,
    /// `#[grad(split)]`: the pullback may run many times; a checkpointed
    /// loop's reverse consumes its snapshots.
    split: bool,
    next: usize,
    /// How many loops (and closures) are around the statement visited.
    depth: usize,
}

impl VisitMut for Rewrite<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let mut stmts = Vec::with_capacity(block.stmts.len());
        for mut stmt in std::mem::take(&mut block.stmts) {
            if let Stmt::Expr(Expr::ForLoop(for_loop), _) = &mut stmt
                && let Some(position) = for_loop.attrs.iter().position(is_checkpoint)
            {
                let attr = for_loop.attrs.remove(position);
                if self.depth == 0
                    && let Some(rewritten) = self.checkpointed(&attr, for_loop)
                {
                    stmts.extend(rewritten);
                    continue;
                }
                if self.depth > 0 {
                    self.cx
                        .error_spanned(&attr, diagnostics::checkpoint_nested());
                }
            }
            self.visit_stmt_mut(&mut stmt);
            stmts.push(stmt);
        }
        block.stmts = stmts;
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let is_loop = matches!(
            expr,
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) | Expr::Closure(_)
        );
        if let Some(attrs) = loop_attrs_mut(expr)
            && let Some(position) = attrs.iter().position(is_checkpoint)
        {
            let attr = attrs.remove(position);
            let message = match expr {
                Expr::ForLoop(_) => diagnostics::checkpoint_nested(),
                _ => diagnostics::checkpoint_not_a_range(),
            };
            self.cx.error_spanned(&attr, message);
        }
        self.depth += usize::from(is_loop);
        visit_mut::visit_expr_mut(self, expr);
        self.depth -= usize::from(is_loop);
    }
}

impl Rewrite<'_> {
    /// The statements that replace a checkpointed `for` loop, or `None`
    /// after reporting why it cannot be.
    fn checkpointed(&mut self, attr: &Attribute, for_loop: &syn::ExprForLoop) -> Option<Vec<Stmt>> {
        let snapshots = self.snapshots(attr)?;
        if self.split {
            self.cx.error_spanned(attr, diagnostics::checkpoint_split());
            return None;
        }
        let mut range = &*for_loop.expr;
        while let Expr::Paren(inner) = range {
            range = &inner.expr;
        }
        let Expr::Range(range) = range else {
            self.cx
                .error_spanned(&for_loop.expr, diagnostics::checkpoint_not_a_range());
            return None;
        };
        let (Some(lo), Some(hi), syn::RangeLimits::HalfOpen(_)) =
            (&range.start, &range.end, &range.limits)
        else {
            self.cx
                .error_spanned(range, diagnostics::checkpoint_not_a_range());
            return None;
        };
        let mut exits = Exits::default();
        exits.visit_block(&for_loop.body);
        if let Some(span) = exits.found {
            self.cx.error(span, diagnostics::checkpoint_exit());
            return None;
        }
        // The body is visited as the body of a loop: a `#[checkpoint]` in it
        // is reported.
        let mut body = for_loop.body.clone();
        self.depth += 1;
        self.visit_block_mut(&mut body);
        self.depth -= 1;
        let n = self.next;
        self.next += 1;
        let name =
            |what: &str| format_ident!("__autodiff_ck{}_{}", n, what, span = Span::mixed_site());
        let (snaps, lo_, hi_, every, count, seg, a, b) = (
            name("snapshots"),
            name("lo"),
            name("hi"),
            name("every"),
            name("count"),
            name("segment"),
            name("start"),
            name("end"),
        );
        let mark = format_ident!("{}", MARK);
        let pat = &for_loop.pat;
        let attrs = &for_loop.attrs;
        let span = for_loop.for_token.span;
        let helpers = quote!(::autodiff::__private::checkpoint);
        let for_token = syn::Token![for](span);
        let block: syn::Block = parse_quote! {{
            let #lo_ = #lo;
            let #hi_ = #hi;
            let #snaps: usize = #snapshots;
            let #every = #helpers::segment_length(#lo_, #hi_, #snaps);
            let #count = #helpers::segment_count(#lo_, #hi_, #every);
            #[#mark(#snaps)]
            #for_token #seg in 0..#count {
                let #a = #helpers::segment_start(#lo_, #every, #seg);
                let #b = #helpers::segment_end(#hi_, #a, #every);
                #(#attrs)*
                #for_token #pat in #a..#b #body
            }
        }};
        Some(block.stmts)
    }

    /// The snapshot count asked for: `0` (the default, about √ of the trip
    /// count) or the expression of `snapshots = …`.
    fn snapshots(&mut self, attr: &Attribute) -> Option<TokenStream> {
        match &attr.meta {
            syn::Meta::Path(_) => Some(quote!(0usize)),
            syn::Meta::List(list) => {
                let parsed = list.parse_args_with(|input: syn::parse::ParseStream| {
                    let key: syn::Ident = input.parse()?;
                    if key != "snapshots" {
                        return Err(syn::Error::new(key.span(), "expected `snapshots`"));
                    }
                    input.parse::<syn::Token![=]>()?;
                    let value: Expr = input.parse()?;
                    if !input.is_empty() {
                        return Err(input.error("unexpected tokens"));
                    }
                    Ok(value)
                });
                match parsed {
                    Ok(value) => Some(quote!(#value)),
                    Err(_) => {
                        self.cx
                            .error_spanned(attr, diagnostics::checkpoint_arguments());
                        None
                    }
                }
            }
            syn::Meta::NameValue(_) => {
                self.cx
                    .error_spanned(attr, diagnostics::checkpoint_arguments());
                None
            }
        }
    }
}

/// The first `break` of the loop itself (not of a loop inside), `return` or
/// `?` in a checkpointed body.
#[derive(Default)]
struct Exits {
    found: Option<Span>,
    depth: usize,
}

impl<'ast> Visit<'ast> for Exits {
    fn visit_expr(&mut self, expr: &'ast Expr) {
        if self.found.is_some() {
            return;
        }
        match expr {
            Expr::Break(e) if self.depth == 0 || e.label.is_some() => {
                self.found = Some(e.break_token.span);
            }
            Expr::Return(e) => self.found = Some(e.return_token.span),
            Expr::Try(e) => self.found = Some(e.question_token.span),
            Expr::Closure(_) => return,
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.depth += 1;
                syn::visit::visit_expr(self, expr);
                self.depth -= 1;
                return;
            }
            _ => {}
        }
        syn::visit::visit_expr(self, expr);
    }

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

fn is_checkpoint(attr: &Attribute) -> bool {
    attr.path().is_ident("checkpoint")
}

fn loop_attrs_mut(expr: &mut Expr) -> Option<&mut Vec<Attribute>> {
    match expr {
        Expr::ForLoop(e) => Some(&mut e.attrs),
        Expr::While(e) => Some(&mut e.attrs),
        Expr::Loop(e) => Some(&mut e.attrs),
        _ => None,
    }
}
