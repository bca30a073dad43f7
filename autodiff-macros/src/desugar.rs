//! Desugaring, syn → syn, before `lower`: iterator chains and local closures
//! become the loops and `let`s of the core language that `lower` knows, so
//! `lower` stays about that core language.
//!
//! ```text
//! local closure   let sq = |v: f64| v * v;  sq(x)     ->  { let v: f64 = x; v * v }
//! tuples, arrays  let (a, b) = (b, a);  s.0            ->  one local per component (see `scalarise`)
//! chain           xs.iter().map(f).sum::<f64>()       ->  { let mut acc = 0.0; for … { acc += …; } acc }
//! for over one    for c in xs.iter().rev() { … }      ->  for j in 0..xs.len() { let c = &xs[…]; … }
//! iter_mut loop   for (o, v) in out.iter_mut().zip(x) ->  for k in 0..min(..) { out[k] = … }
//! ```
//!
//! A chain runs from a source (`xs.iter()`, `xs.into_iter()`,
//! `xs.windows(k)`, `xs.chunks(k)`, `xs.chunks_exact(k)`, `lo..hi`) through adaptors (`zip enumerate map filter copied cloned skip
//! take step_by rev`) to a terminal (`sum product fold count`, `collect` into
//! a `Vec`). The loop runs over indices, `for i in 0..n`, the closures'
//! parameters naming the elements it reads (`let v = &x[i];`): the loop a
//! person writes, and a range loop, which the reverse sweep handles best (a
//! running `max` keeps only its winner's index, a summing loop's writes go
//! through a slice up to the bound). The adaptors that move the positions
//! (`rev skip take step_by`, in any order) map the counter back to an index.
//!
//! Anything else is left as written. The pass does not know which values are
//! differentiated, and a chain over constants is fine as it is; where the
//! chain does read one, `lower` reports the link with no rewrite
//! ([`iterator_culprit`]).

use crate::rules::Activations;
use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Pat, Stmt, parse_quote};

/// The function body with its chains and local closures rewritten.
pub fn block(sig: &syn::Signature, block: &syn::Block, activations: &Activations) -> syn::Block {
    let mut block = block.clone();
    // ndarray parameters: `a.iter()` walks every element, `a[k]` does not.
    // Those passed as `x: &Array1<f64>` are references already, passed to
    // `sigmoid` as they are.
    let mut arrays = Vec::new();
    let mut borrowed_arrays = Vec::new();
    for input in &sig.inputs {
        let syn::FnArg::Typed(typed) = input else {
            continue;
        };
        let Pat::Ident(name) = &*typed.pat else {
            continue;
        };
        let mut ty = &*typed.ty;
        let borrowed = matches!(ty, syn::Type::Reference(_));
        while let syn::Type::Reference(reference) = ty {
            ty = &reference.elem;
        }
        if matches!(ty, syn::Type::Path(path) if crate::lower::is_array_type(&path.path)) {
            arrays.push(name.ident.clone());
            if borrowed {
                borrowed_arrays.push(name.ident.clone());
            }
        }
    }
    let mut taken = Vec::new();
    names_in(block.to_token_stream(), &mut taken);
    let mut pass = Desugar {
        next: 0,
        taken,
        accumulators: Vec::new(),
        arrays,
        borrowed_arrays,
        generics: sig
            .generics
            .type_params()
            .map(|param| param.ident.clone())
            .collect(),
        activations,
    };
    pass.visit_block_mut(&mut block);
    crate::scalarise::block(&mut block, &mut pass.taken, &mut pass.next);
    block
}

struct Desugar<'a> {
    next: usize,
    /// The names the body mentions, and those the pass has given out: a new
    /// name is `acc`, `i`, … when free, else `__ad_acc3`, `__ad_i4`, ….
    taken: Vec<String>,
    /// The accumulators of rewritten chains, to recognise their blocks.
    accumulators: Vec<Ident>,
    /// The ndarray parameters, whose chains are left as written.
    arrays: Vec<Ident>,
    /// Those of them passed by reference.
    borrowed_arrays: Vec<Ident>,
    /// The function's type parameters.
    generics: Vec<Ident>,
    /// The runtime's activations, which `z.mapv(sigmoid)` applies to a
    /// whole array.
    activations: &'a Activations,
}

/// Every identifier in `tokens`.
fn names_in(tokens: TokenStream, names: &mut Vec<String>) {
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(ident) => names.push(ident.to_string()),
            proc_macro2::TokenTree::Group(group) => names_in(group.stream(), names),
            _ => {}
        }
    }
}

impl Desugar<'_> {
    /// A rewrite, or nothing and no fresh name spent.
    fn attempt(
        &mut self,
        rewrite: impl FnOnce(&mut Self) -> Rewrite<Option<Expr>>,
    ) -> Option<Expr> {
        let (next, taken) = (self.next, self.taken.len());
        let result = rewrite(self).ok().flatten();
        if result.is_none() {
            self.next = next;
            self.taken.truncate(taken);
        }
        result
    }

    /// A name nothing else in the function uses: `base` itself the first
    /// time, if the body does not mention it.
    fn fresh(&mut self, base: &str) -> Ident {
        if !self.taken.iter().any(|name| name == base) {
            self.taken.push(base.to_owned());
            return format_ident!("{}", base);
        }
        self.next += 1;
        format_ident!("__ad_{}{}", base, self.next)
    }

    /// Whether `block` is a rewritten chain: `{ let mut acc = …; … acc }`.
    fn is_chain_block(&self, block: &syn::Block) -> bool {
        let (Some(Stmt::Local(first)), Some(Stmt::Expr(Expr::Path(last), None))) =
            (block.stmts.first(), block.stmts.last())
        else {
            return false;
        };
        let pat = match &first.pat {
            Pat::Type(typed) => &*typed.pat,
            pat => pat,
        };
        matches!(pat, Pat::Ident(acc) if acc.mutability.is_some()
            && last.path.is_ident(&acc.ident)
            && self.accumulators.contains(&acc.ident))
    }
}

impl VisitMut for Desugar<'_> {
    // Input:  let sq = |v: f64| v * v;  sq(x) + sq(y)
    // Output: { let v: f64 = x; v * v } + { let v: f64 = y; v * v }
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        let mut k = 0;
        while k < block.stmts.len() {
            if let Some((name, mut closure)) = local_closure(&block.stmts[k]) {
                // Input:  let f = |v: f64| v * a; let a = 2.0; f(x)
                // Output: let __ad_a1 = a.clone(); let a = 2.0; { let v: f64 = x; v * __ad_a1 }
                // (a name the closure reads, bound again before a call:
                // the closure reads the value it captured)
                let mut frozen = Vec::new();
                for captured in rebound_captures(&closure, &block.stmts[k + 1..]) {
                    let copy = self.fresh(&captured.to_string());
                    Rename {
                        from: captured.clone(),
                        to: copy.clone(),
                    }
                    .visit_expr_mut(&mut closure.body);
                    frozen.push(parse_quote!(let #copy = #captured.clone();));
                }
                let rest = &mut block.stmts[k + 1..];
                if frozen.is_empty() || rest.iter().any(|stmt| occurrences(stmt, &name) > 0) {
                    block.stmts.splice(k..k, frozen.iter().cloned());
                    k += frozen.len();
                }
                let rest = &mut block.stmts[k + 1..];
                let mut subst = Substitute {
                    name: name.to_string(),
                    closure,
                    shadowed: false,
                };
                for stmt in rest.iter_mut() {
                    subst.visit_stmt_mut(stmt);
                    if subst.shadowed {
                        break;
                    }
                }
                block.stmts.remove(k);
                continue;
            }
            k += 1;
        }
        visit_mut::visit_block_mut(self, block);
        // Input:  { …; { let mut acc = 0.0; for … { … } acc } }   (a chain as the tail)
        // Output: { …; let mut acc = 0.0; for … { … } acc }       (as one would write it)
        if let Some(Stmt::Expr(Expr::Block(tail), None)) = block.stmts.last()
            && tail.label.is_none()
            && tail.attrs.is_empty()
            && self.is_chain_block(&tail.block)
        {
            let Some(Stmt::Expr(Expr::Block(tail), None)) = block.stmts.pop() else {
                unreachable!("matched above")
            };
            block.stmts.extend(tail.block.stmts);
        }
    }

    // Input:  let h: Vec<f64> = x.iter().map(|v| v.tanh()).collect();
    // Output: let h: Vec<f64> = { let mut acc = vec![zero; n]; for (j, v) in … { acc[j] = v.tanh(); } acc };
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        visit_mut::visit_local_mut(self, local);
        if let Pat::Type(typed) = &local.pat
            && is_float_vec(&typed.ty, &self.generics)
            && let Some(init) = &mut local.init
            && let Expr::MethodCall(call) = &*init.expr
            && call.method == "collect"
            && let Some(rewritten) = self.attempt(|this| this.chain(call, true))
        {
            *init.expr = rewritten;
        }
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::ForLoop(for_loop) = expr
            && let Some(rewritten) = self
                .iter_mut_loop(for_loop)
                .or_else(|| self.attempt(|this| Ok(this.for_chain(for_loop))))
        {
            *expr = rewritten;
        }
        visit_mut::visit_expr_mut(self, expr);
        match expr {
            // Input:  (|v: f64| v * v)(x)
            // Output: { let v: f64 = x; v * v }
            Expr::Call(call) => {
                if let Expr::Closure(closure) = strip_parens(&call.func)
                    && closure.inputs.len() == call.args.len()
                {
                    *expr = self.inline_call(closure, &call.args);
                }
            }
            // concatenate(Axis(0), &[a.view(), b.view()]).unwrap()
            Expr::MethodCall(call)
                if (call.method == "unwrap" && call.args.is_empty())
                    || (call.method == "expect" && call.args.len() == 1) =>
            {
                if let Expr::Call(inner) = strip_parens(&call.receiver)
                    && let Some(joined) = self.join_call(inner)
                {
                    *expr = joined;
                }
            }
            // concatenate![Axis(0), a, b], stack![Axis(1), a, b, c]
            Expr::Macro(mac) => {
                if let Some(mut joined) = self.join_macro(&mac.mac) {
                    // The arguments were tokens in the macro: rewritten now.
                    visit_mut::visit_expr_mut(self, &mut joined);
                    *expr = joined;
                }
            }
            Expr::MethodCall(call)
                if call.method == "fold"
                    && call.args.len() == 2
                    && !is_iterator(&call.receiver) =>
            {
                if let Some(rewritten) = self.fold_extremum(call) {
                    *expr = rewritten;
                }
            }
            Expr::MethodCall(call)
                if ["sum", "product", "fold", "collect", "count"]
                    .contains(&call.method.to_string().as_str()) =>
            {
                if let Some(rewritten) = self.attempt(|this| this.chain(call, false)) {
                    *expr = rewritten;
                }
            }
            Expr::MethodCall(call)
                if (call.method == "mapv" || call.method == "map")
                    && call.args.len() == 1
                    && !is_iterator(&call.receiver) =>
            {
                if let Some(lifted) = self.lift_map(call) {
                    *expr = lifted;
                }
            }
            _ => {}
        }
    }
}

impl Desugar<'_> {
    // Input:  (|a, b| a - b)(b, a)
    // Output: { let __ad_a1 = b; let __ad_a2 = a; let a = __ad_a1; let b = __ad_a2; a - b }
    // (through temporaries only where an argument reads a parameter's name)
    fn inline_call(
        &mut self,
        closure: &syn::ExprClosure,
        args: &syn::punctuated::Punctuated<Expr, syn::Token![,]>,
    ) -> Expr {
        let mut names = Vec::new();
        for pat in &closure.inputs {
            pattern_names(pat, &mut names);
        }
        let clash = closure.inputs.len() > 1
            && args
                .iter()
                .any(|arg| names.iter().any(|name| occurrences(arg, name) > 0));
        let mut stmts: Vec<Stmt> = Vec::new();
        if clash {
            let mut temps = Vec::new();
            for arg in args {
                let temp = self.fresh("a");
                stmts.push(parse_quote!(let #temp = #arg;));
                temps.push(temp);
            }
            for (pat, temp) in closure.inputs.iter().zip(temps) {
                stmts.push(parse_quote!(let #pat = #temp;));
            }
        } else {
            for (pat, arg) in closure.inputs.iter().zip(args) {
                stmts.push(parse_quote!(let #pat = #arg;));
            }
        }
        let body = &closure.body;
        parse_quote!({ #(#stmts)* #body })
    }
}

impl Desugar<'_> {
    // Input:  z.mapv(|v| (v - m).exp())     z.mapv(f64::tanh)    z.map(|&v| sigmoid(v) * v)
    // Output: (z - m).exp()                  z.tanh()             sigmoid(&z) * z
    //
    // The closure is applied to the whole array at once: its parameter
    // becomes the array, what does not read it broadcasts as a scalar.
    // A receiver that is not a name is bound first:
    // Input:  a.dot(&b).mapv(|v| v * v)
    // Output: { let __ad_m1 = a.dot(&b); __ad_m1 * __ad_m1 }
    // A closure with anything else (a branch, a comparison, a call of
    // another function) is left as written; `lower` reports it.
    fn lift_map(&mut self, call: &syn::ExprMethodCall) -> Option<Expr> {
        let receiver = match strip_parens(&call.receiver) {
            Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
            receiver => receiver,
        };
        let (array, bind) = match local_path(receiver) {
            Some(name) => (name.clone(), None),
            None => {
                let temp = self.fresh("m");
                (temp.clone(), Some((temp, receiver.clone())))
            }
        };
        let arg = strip_parens(&call.args[0]);
        let lifted = match arg {
            Expr::Closure(closure) if closure.inputs.len() == 1 => {
                // `map`'s closure takes `&A`: its parameter is used as `*v`
                // or through auto-deref, or `|&v|` binds the value.
                let param = closure_param(&closure.inputs[0])?;
                if occurrences(&closure.body, &param) == 0 {
                    return None;
                }
                let lift = Lift {
                    params: vec![param],
                    array: &array,
                    borrowed: self.borrowed_arrays.contains(&array),
                    activations: self.activations,
                };
                lift.expr(&closure.body)?
            }
            Expr::Path(path) if path.qself.is_none() => {
                let borrowed = self.borrowed_arrays.contains(&array);
                lift_call(&path.path, parse_quote!(#array), borrowed, self.activations)?
            }
            _ => return None,
        };
        Some(match bind {
            None => lifted,
            Some((temp, init)) => parse_quote!({ let #temp = #init; #lifted }),
        })
    }
}

impl Desugar<'_> {
    // Input:  ndarray::concatenate(Axis(0), &[a.view(), b.view()]).unwrap()
    // Output: ::autodiff::__private::concatenate2(Axis(0), &a, &b)
    //
    // Two or three arrays, `concatenate` or `stack`, under `.unwrap()` or
    // `.expect(…)`; anything else is left as written.
    fn join_call(&self, call: &syn::ExprCall) -> Option<Expr> {
        let Expr::Path(path) = strip_parens(&call.func) else {
            return None;
        };
        let name = join_name(&path.path)?;
        let [axis, parts] = [call.args.first()?, call.args.get(1)?];
        if call.args.len() != 2 {
            return None;
        }
        let Expr::Reference(slice) = strip_parens(parts) else {
            return None;
        };
        let Expr::Array(list) = strip_parens(&slice.expr) else {
            return None;
        };
        let parts: Vec<&Expr> = list.elems.iter().collect();
        self.join(name, axis, &parts)
    }

    // Input:  concatenate![Axis(0), a, b]
    // Output: ::autodiff::__private::concatenate2(Axis(0), &a, &b)
    fn join_macro(&self, mac: &syn::Macro) -> Option<Expr> {
        let name = join_name(&mac.path)?;
        let args = mac
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
            .ok()?;
        let (axis, parts) = args
            .iter()
            .collect::<Vec<_>>()
            .split_first()
            .map(|(a, p)| (*a, p.to_vec()))?;
        self.join(name, axis, &parts)
    }

    fn join(&self, name: &str, axis: &Expr, parts: &[&Expr]) -> Option<Expr> {
        if !(2..=3).contains(&parts.len()) {
            return None;
        }
        let primitive = format_ident!("{name}{}", parts.len());
        let refs: Vec<Expr> = parts
            .iter()
            .map(|part| {
                // `a.view()`, `&a`, `a`: the array itself, borrowed.
                let mut array = strip_parens(part);
                if let Expr::MethodCall(view) = array
                    && view.method == "view"
                    && view.args.is_empty()
                {
                    array = strip_parens(&view.receiver);
                }
                if let Expr::Reference(reference) = array
                    && reference.mutability.is_none()
                {
                    array = strip_parens(&reference.expr);
                }
                match local_path(array) {
                    Some(name) if self.borrowed_arrays.contains(name) => parse_quote!(#name),
                    Some(name) => parse_quote!(&#name),
                    None => parse_quote!(&(#array)),
                }
            })
            .collect();
        Some(parse_quote!(::autodiff::__private::#primitive(#axis, #(#refs),*)))
    }

    // Input:  z.fold(f64::NEG_INFINITY, |m, &v| m.max(v))
    // Output: ::autodiff::__private::max_element(&z)
    // Input:  z.fold(0.0, |m, v| f64::min(m, *v))
    // Output: ::autodiff::__private::min_element(&z).min(0.0)
    //
    // ndarray's `fold` over a whole array, for its largest or smallest
    // element; any other closure is left as written, and `lower` reports it.
    fn fold_extremum(&mut self, call: &syn::ExprMethodCall) -> Option<Expr> {
        let Expr::Closure(closure) = strip_parens(&call.args[1]) else {
            return None;
        };
        let [acc_pat, elem_pat] = [closure.inputs.first()?, closure.inputs.get(1)?];
        if closure.inputs.len() != 2 || matches!(acc_pat, Pat::Reference(_)) {
            return None;
        }
        let acc = closure_param(acc_pat)?;
        let elem = closure_param(elem_pat)?;
        let by_value = matches!(elem_pat, Pat::Reference(_))
            || matches!(elem_pat, Pat::Type(typed) if matches!(&*typed.pat, Pat::Reference(_)));
        // The element as the body reads it: `v` after `&v`, else `*v`.
        let is_elem = |expr: &Expr| match strip_parens(expr) {
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) && !by_value => {
                local_path(&unary.expr) == Some(&elem)
            }
            other => by_value && local_path(other) == Some(&elem),
        };
        let is_acc = |expr: &Expr| local_path(expr) == Some(&acc);
        let mut body = strip_parens(&closure.body);
        while let Expr::Block(block) = body
            && block.block.stmts.len() == 1
            && let Stmt::Expr(inner, None) = &block.block.stmts[0]
        {
            body = strip_parens(inner);
        }
        let (which, a, b) = match body {
            Expr::MethodCall(m) if m.args.len() == 1 => (&m.method, &*m.receiver, &m.args[0]),
            Expr::Call(c) if c.args.len() == 2 => match strip_parens(&c.func) {
                Expr::Path(path)
                    if path.path.segments.len() == 2
                        && ["f64", "f32"]
                            .iter()
                            .any(|t| path.path.segments[0].ident == t) =>
                {
                    (&path.path.segments[1].ident, &c.args[0], &c.args[1])
                }
                _ => return None,
            },
            _ => return None,
        };
        let max = match which.to_string().as_str() {
            "max" => true,
            "min" => false,
            _ => return None,
        };
        if !((is_acc(a) && is_elem(b)) || (is_elem(a) && is_acc(b))) {
            return None;
        }
        let receiver = match strip_parens(&call.receiver) {
            Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
            receiver => receiver,
        };
        let array: Expr = match local_path(receiver) {
            Some(name) if self.borrowed_arrays.contains(name) => parse_quote!(#name),
            Some(name) => parse_quote!(&#name),
            None => parse_quote!(&(#receiver)),
        };
        let (primitive, neutral) = if max {
            (quote!(max_element), "NEG_INFINITY")
        } else {
            (quote!(min_element), "INFINITY")
        };
        let extremum: Expr = parse_quote!(::autodiff::__private::#primitive(#array));
        // `init` as ±∞ (`f64::NEG_INFINITY`, `-f64::INFINITY`) changes nothing.
        let init = &call.args[0];
        let neutral_init = match strip_parens(init) {
            Expr::Path(path) => path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == neutral),
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) && max => {
                matches!(strip_parens(&unary.expr), Expr::Path(path)
                    if path.path.segments.last().is_some_and(|s| s.ident == "INFINITY"))
            }
            _ => false,
        };
        Some(if neutral_init {
            extremum
        } else {
            parse_quote!(#extremum.#which(#init))
        })
    }
}

/// `concatenate`, `stack`, `ndarray::concatenate`, …: the join it names.
fn join_name(path: &syn::Path) -> Option<&'static str> {
    let last = path.segments.last()?;
    let name = match last.ident.to_string().as_str() {
        "concatenate" => "concatenate",
        "stack" => "stack",
        _ => return None,
    };
    let prefix_ok = match path.segments.len() {
        1 => path.leading_colon.is_none(),
        2 => path.segments[0].ident == "ndarray",
        _ => false,
    };
    (prefix_ok && last.arguments.is_none()).then_some(name)
}

/// The name a closure parameter binds: `v`, `v: f64`, `&v`.
fn closure_param(pat: &Pat) -> Option<Ident> {
    match pat {
        Pat::Ident(ident) if ident.subpat.is_none() && ident.by_ref.is_none() => {
            Some(ident.ident.clone())
        }
        Pat::Type(typed) => closure_param(&typed.pat),
        Pat::Reference(reference) => closure_param(&reference.pat),
        _ => None,
    }
}

/// The float methods ndarray's arrays have with the same meaning
/// elementwise, and that `#[grad]` differentiates.
const ARRAY_METHODS: &[&str] = &[
    "exp",
    "exp2",
    "exp_m1",
    "ln",
    "log2",
    "log10",
    "ln_1p",
    "sqrt",
    "cbrt",
    "sin",
    "cos",
    "tan",
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "tanh",
    "asinh",
    "acosh",
    "atanh",
    "abs",
    "recip",
    "to_degrees",
    "to_radians",
    "floor",
    "ceil",
    "round",
    "trunc",
    "signum",
];

/// `f64::tanh` → `z.tanh()`, `sigmoid` → `sigmoid(&z)`: a fn path applied to
/// the whole array `array` (`borrowed`: a reference already).
fn lift_call(
    path: &syn::Path,
    array: Expr,
    borrowed: bool,
    activations: &Activations,
) -> Option<Expr> {
    let last = path.segments.last()?;
    let name = last.ident.to_string();
    let method = &last.ident;
    let float_path = path.segments.len() == 2
        && path.leading_colon.is_none()
        && (path.segments[0].ident == "f64" || path.segments[0].ident == "f32");
    if float_path && ARRAY_METHODS.contains(&name.as_str()) {
        let array = receiver_of(array);
        return Some(parse_quote!(#array.#method()));
    }
    let runtime = path.segments.len() == 1
        || (path.segments.len() == 2 && path.segments[0].ident == "autodiff");
    if runtime && activations.contains(&name) {
        return Some(if borrowed {
            parse_quote!(#path(#array))
        } else {
            parse_quote!(#path(&#array))
        });
    }
    None
}

/// `expr` as the receiver of a method call: in parentheses unless it is a
/// name, a call or already parenthesised.
fn receiver_of(expr: Expr) -> Expr {
    match expr {
        Expr::Path(_) | Expr::Paren(_) | Expr::MethodCall(_) | Expr::Call(_) => expr,
        other => parse_quote!((#other)),
    }
}

/// A closure body rewritten to apply to a whole array: the names in
/// `params` (the closure's parameter, and the `let`s of its body that read
/// it) stand for arrays.
struct Lift<'a> {
    params: Vec<Ident>,
    array: &'a Ident,
    /// Whether `array` is a reference parameter.
    borrowed: bool,
    activations: &'a Activations,
}

impl Lift<'_> {
    fn reads_param(&self, expr: &impl ToTokens) -> bool {
        self.params.iter().any(|param| occurrences(expr, param) > 0)
    }

    fn expr(&self, expr: &Expr) -> Option<Expr> {
        if !self.reads_param(expr) {
            return Some(expr.clone());
        }
        Some(match expr {
            Expr::Path(path) => {
                let name = path.path.get_ident()?;
                if *name == self.params[0] {
                    let array = self.array;
                    parse_quote!(#array)
                } else {
                    expr.clone()
                }
            }
            Expr::Paren(inner) => {
                let inner = self.expr(&inner.expr)?;
                parse_quote!((#inner))
            }
            Expr::Unary(unary) => {
                let operand = self.expr(&unary.expr)?;
                match unary.op {
                    syn::UnOp::Neg(_) => parse_quote!(-#operand),
                    // `*v` of `map`'s `&A` parameter.
                    syn::UnOp::Deref(_) if matches!(&*unary.expr, Expr::Path(_)) => operand,
                    _ => return None,
                }
            }
            Expr::Binary(binary) => {
                let (lhs, rhs) = (self.expr(&binary.left)?, self.expr(&binary.right)?);
                let op = &binary.op;
                match op {
                    syn::BinOp::Add(_)
                    | syn::BinOp::Sub(_)
                    | syn::BinOp::Mul(_)
                    | syn::BinOp::Div(_) => parse_quote!(#lhs #op #rhs),
                    _ => return None,
                }
            }
            Expr::MethodCall(call) if call.turbofish.is_none() => {
                let receiver = self.expr(&call.receiver)?;
                let method = &call.method;
                let name = method.to_string();
                if call.args.iter().any(|arg| self.reads_param(arg)) {
                    return None;
                }
                if (ARRAY_METHODS.contains(&name.as_str()) && call.args.is_empty())
                    || (name == "powi" && call.args.len() == 1)
                {
                    let args = &call.args;
                    let receiver = receiver_of(receiver);
                    parse_quote!(#receiver.#method(#args))
                } else {
                    return None;
                }
            }
            Expr::Call(call) if call.args.len() == 1 => {
                let Expr::Path(func) = &*call.func else {
                    return None;
                };
                let borrowed = self.borrowed
                    && matches!(strip_parens(&call.args[0]), Expr::Path(path)
                        if path.path.is_ident(&self.params[0]));
                let arg = self.expr(&call.args[0])?;
                lift_call(&func.path, arg, borrowed, self.activations)?
            }
            Expr::Block(block) if block.label.is_none() => {
                let mut lift = Lift {
                    params: self.params.clone(),
                    array: self.array,
                    borrowed: self.borrowed,
                    activations: self.activations,
                };
                let mut stmts: Vec<Stmt> = Vec::new();
                let (last, init) = block.block.stmts.split_last()?;
                for stmt in init {
                    let Stmt::Local(local) = stmt else {
                        return None;
                    };
                    let Pat::Ident(name) = &local.pat else {
                        return None;
                    };
                    let value = local.init.as_ref()?;
                    if value.diverge.is_some() {
                        return None;
                    }
                    let reads = lift.reads_param(&value.expr);
                    let lifted = lift.expr(&value.expr)?;
                    if reads {
                        lift.params.push(name.ident.clone());
                    } else {
                        // A name that shadows a parameter ends it.
                        lift.params.retain(|param| *param != name.ident);
                    }
                    stmts.push(parse_quote!(let #name = #lifted;));
                }
                let Stmt::Expr(tail, None) = last else {
                    return None;
                };
                if !lift.reads_param(tail) {
                    return None;
                }
                let tail = lift.expr(tail)?;
                parse_quote!({ #(#stmts)* #tail })
            }
            _ => return None,
        })
    }
}

/// Whether `expr` is an iterator (a chain from `iter()`, `zip`, …, or a
/// range), whose `map` is `Iterator::map`, not ndarray's.
pub fn is_iterator(expr: &Expr) -> bool {
    match strip_parens(expr) {
        Expr::Range(_) => true,
        Expr::MethodCall(call) => {
            ITERATOR_METHODS.contains(&call.method.to_string().as_str())
                || is_iterator(&call.receiver)
        }
        _ => false,
    }
}

/// `let sq = |v: f64| v * v;`: the name and the closure.
fn local_closure(stmt: &Stmt) -> Option<(Ident, syn::ExprClosure)> {
    let Stmt::Local(local) = stmt else {
        return None;
    };
    let Pat::Ident(ident) = &local.pat else {
        return None;
    };
    let init = local.init.as_ref()?;
    if ident.mutability.is_some() || init.diverge.is_some() {
        return None;
    }
    match &*init.expr {
        Expr::Closure(closure) if closure.asyncness.is_none() => {
            Some((ident.ident.clone(), closure.clone()))
        }
        _ => None,
    }
}

/// The names a closure's body reads that a `let` after it binds again: the
/// closure would read another variable where it is called.
fn rebound_captures(closure: &syn::ExprClosure, rest: &[Stmt]) -> Vec<Ident> {
    struct Lets(Vec<Ident>);
    impl<'ast> syn::visit::Visit<'ast> for Lets {
        fn visit_local(&mut self, local: &'ast syn::Local) {
            pattern_names(&local.pat, &mut self.0);
            syn::visit::visit_local(self, local);
        }
        fn visit_expr_closure(&mut self, closure: &'ast syn::ExprClosure) {
            for pat in &closure.inputs {
                pattern_names(pat, &mut self.0);
            }
            syn::visit::visit_expr_closure(self, closure);
        }
    }
    // The closure's own names: its parameters and its body's `let`s.
    let mut own = Lets(Vec::new());
    syn::visit::Visit::visit_expr_closure(&mut own, closure);
    let mut lets = Lets(Vec::new());
    for stmt in rest {
        syn::visit::Visit::visit_stmt(&mut lets, stmt);
    }
    let body = &closure.body;
    let mut rebound: Vec<Ident> = Vec::new();
    for name in lets.0 {
        if !own.0.contains(&name) && occurrences(body, &name) > 0 && !rebound.contains(&name) {
            rebound.push(name);
        }
    }
    rebound
}

/// Replaces the uses of a local closure's name by the closure, up to a `let`
/// that binds the name again.
struct Substitute {
    name: String,
    closure: syn::ExprClosure,
    shadowed: bool,
}

impl VisitMut for Substitute {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Path(path) = expr
            && path.qself.is_none()
            && path.path.is_ident(&self.name)
        {
            let closure = &self.closure;
            *expr = parse_quote!((#closure));
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_local_mut(&mut self, local: &mut syn::Local) {
        if let Some(init) = &mut local.init {
            self.visit_expr_mut(&mut init.expr);
        }
        let mut binds = false;
        let pat = local.pat.to_token_stream();
        for tree in pat {
            if let proc_macro2::TokenTree::Ident(ident) = tree {
                binds |= ident == self.name;
            }
        }
        self.shadowed |= binds;
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(inner) => strip_parens(&inner.expr),
        Expr::Group(inner) => strip_parens(&inner.expr),
        other => other,
    }
}

/// A single local name: `x`.
fn local_path(expr: &Expr) -> Option<&Ident> {
    match strip_parens(expr) {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
        _ => None,
    }
}

/// What one step of the chain yields.
#[derive(Clone)]
enum Item {
    /// The element of source slice `k` (see [`Slot`]).
    Slot(usize),
    /// The index `enumerate` adds.
    Index,
    /// A window `x.windows(k)` yields: read as `w[j]`.
    Window,
    /// A value the loop body computes.
    Value(Expr),
    Tuple(Vec<Item>),
}

/// An element of a source slice: bound at the top of the loop body.
struct Slot {
    base: Ident,
    /// Its name, once a closure parameter or a fresh name gave it one.
    name: Option<Ident>,
    /// Whether the name holds `&x[k]` (as `xs.iter()` yields) or `x[k]`.
    by_ref: bool,
    /// The moves of this slice's own positions, before the zip that
    /// joined it: `xs.iter().zip(ys.iter().rev().skip(1))` reads
    /// `ys[ys.len() - 1 - (k + 1)]` at position `k`.
    moves: Vec<Move>,
}

enum Source {
    Slices,
    Range {
        lo: Expr,
        hi: Expr,
    },
    /// `x.windows(k)`, `x.chunks(k)`, `x.chunks_exact(k)`.
    Windows {
        base: Ident,
        size: Expr,
        kind: Sliding,
    },
}

/// How a sub-slice source steps through its slice.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sliding {
    /// `windows(k)`: one element at a time, `len + 1 - k` windows.
    Windows,
    /// `chunks(k)`: `k` at a time, the last chunk shorter.
    Chunks,
    /// `chunks_exact(k)`: `k` at a time, the remainder left out.
    ChunksExact,
}

struct Chain {
    source: Source,
    slots: Vec<Slot>,
    index_name: Option<Ident>,
    /// `skip`, `take`, `step_by` and `rev`, in the order written: the
    /// positions of the items among the source's (index mode).
    moves: Vec<Move>,
    /// `enumerate` right after the slices: a `for` over `xs.iter()…enumerate()`.
    enumerated: bool,
    /// Statements of the body, and the `filter` conditions that guard the
    /// statements after them.
    body: Vec<(Vec<Stmt>, Option<Expr>)>,
    position_frozen: bool,
    /// The index into the source slices of the current item (index mode).
    base_index: Option<Ident>,
    /// The whole chain (with its terminal, or the `for` loop with its body),
    /// and the closure (or `for` loop) whose parameters are being bound: a
    /// parameter may name a source element, bound at the top of the loop
    /// body, only if nothing else in the chain mentions that name.
    all: TokenStream,
    binder: TokenStream,
}

impl Chain {
    /// Whether `name` can name a source element or the loop index: nothing
    /// but the binder mentions it.
    fn free(&self, name: &Ident) -> bool {
        occurrences(&self.all, name) <= occurrences(&self.binder, name)
    }
    fn push(&mut self, stmt: Stmt) {
        self.body.last_mut().expect("never empty").0.push(stmt);
    }
}

/// The chain has no rewrite: it is left as written, and `lower` reports it
/// where it reads a differentiated value (see `diagnostics::iterator_method`).
struct Skip;

type Rewrite<T> = Result<T, Skip>;

impl Desugar<'_> {
    // Input:  x.iter().map(|v| v * v).sum::<f64>()
    // Output: { let mut __ad_acc1: f64 = 0.0; for v in x.iter() { __ad_acc1 += v * v; } __ad_acc1 }
    //
    // Input:  coeffs.iter().rev().fold(0.0, |acc, c| acc * x + c)
    // Output: { let mut acc = 0.0;
    //           for __ad_j2 in 0..coeffs.len() { let __ad_i3 = coeffs.len() - 1 - __ad_j2;
    //                                            let c = &coeffs[__ad_i3]; acc = acc * x + c; }
    //           acc }
    fn chain(&mut self, terminal: &syn::ExprMethodCall, into_vec: bool) -> Rewrite<Option<Expr>> {
        let Some((mut chain, item)) =
            self.adaptors(&terminal.receiver, terminal.to_token_stream())?
        else {
            return Ok(None);
        };
        // The terminal.
        let method = terminal.method.to_string();
        let turbofish = terminal
            .turbofish
            .as_ref()
            .and_then(|t| match t.args.first() {
                Some(syn::GenericArgument::Type(ty)) => Some(ty.clone()),
                _ => None,
            });
        let mut acc = self.fresh("acc");
        self.accumulators.push(acc.clone());
        let (init, combine, ty): (Expr, Stmt, Option<syn::Type>) = match method.as_str() {
            "sum" | "product" if terminal.args.is_empty() => {
                let value = self.value(&mut chain, item)?;
                let is_sum = method == "sum";
                let init: Expr = match (&turbofish, is_sum) {
                    (Some(ty), true) if is_float(ty) => parse_quote!(0.0),
                    (Some(ty), false) if is_float(ty) => parse_quote!(1.0),
                    (Some(ty), true) => {
                        parse_quote!(::autodiff::__private::rules::sum_start::<#ty>())
                    }
                    (Some(ty), false) => {
                        parse_quote!(::autodiff::__private::rules::product_start::<#ty>())
                    }
                    // The type the use of the result infers.
                    (None, true) => parse_quote!(::autodiff::__private::rules::sum_start()),
                    (None, false) => parse_quote!(::autodiff::__private::rules::product_start()),
                };
                let combine = if is_sum {
                    parse_quote!(#acc += #value;)
                } else {
                    parse_quote!(#acc *= #value;)
                };
                (init, combine, turbofish)
            }
            "count" if terminal.args.is_empty() => {
                (parse_quote!(0usize), parse_quote!(#acc += 1;), None)
            }
            "fold" if terminal.args.len() == 2 => {
                let init = terminal.args[0].clone();
                let f = &terminal.args[1];
                // `|acc, v| …`: the accumulator keeps the closure's name, as in
                // the loop one would write, unless the chain reads that name.
                if let Expr::Closure(closure) = strip_parens(f)
                    && let Some(Pat::Ident(first)) = closure.inputs.first()
                    && first.by_ref.is_none()
                    && first.subpat.is_none()
                    && occurrences(&terminal.receiver, &first.ident) == 0
                    && occurrences(&init, &first.ident) == 0
                    && closure
                        .inputs
                        .iter()
                        .skip(1)
                        .all(|pat| occurrences(pat, &first.ident) == 0)
                {
                    acc = first.ident.clone();
                    self.accumulators.push(acc.clone());
                }
                let acc_item = Item::Value(parse_quote!(#acc));
                let value = self.apply(&mut chain, f, vec![acc_item, item])?;
                (init, parse_quote!(#acc = #value;), None)
            }
            // Into a `Vec` (a `let` of type `Vec<…>` or a turbofish): written
            // by index, as `lower` knows local `Vec`s.
            "collect"
                if terminal.args.is_empty()
                    && (into_vec
                        || turbofish
                            .as_ref()
                            .is_some_and(|ty| is_float_vec(ty, &self.generics)))
                    && chain.body.len() == 1 =>
            {
                let value = self.value(&mut chain, item)?;
                let index = self.index_expr(&mut chain);
                let count = self.count(&chain);
                return Ok(Some(self.emit(
                    chain,
                    parse_quote!(#acc[#index] = #value;),
                    &acc,
                    parse_quote!(::std::vec![::autodiff::__private::rules::sum_start(); #count]),
                    None,
                )));
            }
            _ => return Ok(None),
        };
        Ok(Some(self.emit(chain, combine, &acc, init, ty)))
    }

    // Input:  x.iter().zip(y).map(|(a, b)| a * b)     (a chain without its terminal)
    // Output: the loop it runs (source, positions, body so far) and the item
    //         each iteration yields
    fn adaptors(&mut self, expr: &Expr, context: TokenStream) -> Rewrite<Option<(Chain, Item)>> {
        // The calls from the source outwards.
        let mut calls: Vec<&syn::ExprMethodCall> = Vec::new();
        let mut current: &Expr = expr;
        while let Expr::MethodCall(call) = strip_parens(current) {
            calls.push(call);
            current = &call.receiver;
        }
        calls.reverse();
        let root = strip_parens(current);
        let mut chain = Chain {
            source: Source::Slices,
            slots: Vec::new(),
            index_name: None,
            moves: Vec::new(),
            enumerated: false,
            body: vec![(Vec::new(), None)],
            position_frozen: false,
            base_index: None,
            all: context,
            binder: TokenStream::new(),
        };
        let mut rest: &[&syn::ExprMethodCall] = &calls;
        let mut item;
        if let Expr::Range(range) = root {
            let (Some(lo), Some(hi)) = (&range.start, &range.end) else {
                return Ok(None);
            };
            if matches!(range.limits, syn::RangeLimits::Closed(_)) {
                return Ok(None);
            }
            chain.source = Source::Range {
                lo: (**lo).clone(),
                hi: (**hi).clone(),
            };
            item = Item::Index; // the range's value
            if let Some((first, tail)) = rest.split_first()
                && first.method == "into_iter"
            {
                rest = tail;
            }
        } else {
            let Some((first, tail)) = rest.split_first() else {
                return Ok(None);
            };
            let Some(base) = local_path(&first.receiver) else {
                return Ok(None);
            };
            rest = tail;
            match first.method.to_string().as_str() {
                "iter" | "into_iter" if first.args.is_empty() => {
                    chain.slots.push(Slot {
                        base: base.clone(),
                        name: None,
                        by_ref: true,
                        moves: Vec::new(),
                    });
                    item = Item::Slot(0);
                }
                // Input:  x.chunks(k).map(|c| c[0] * c[1])
                // Output: a loop over the chunks' numbers `i`, `c[j]` read as
                //         `x[i * k + j]` (see [`Windows`])
                method @ ("windows" | "chunks" | "chunks_exact") if first.args.len() == 1 => {
                    chain.source = Source::Windows {
                        base: base.clone(),
                        size: first.args[0].clone(),
                        kind: match method {
                            "windows" => Sliding::Windows,
                            "chunks" => Sliding::Chunks,
                            _ => Sliding::ChunksExact,
                        },
                    };
                    item = Item::Window;
                }
                _ => return Ok(None),
            }
        }
        for call in rest {
            let method = call.method.to_string();
            let args: Vec<&Expr> = call.args.iter().collect();
            match (method.as_str(), args.as_slice()) {
                // Input:  xs.iter().step_by(2).zip(ys.iter().rev().copied())
                // Output: slots `xs` and `ys`, each with the moves of its own
                //         positions (`step_by(2)`, `rev`); the chain's moves
                //         start again from the zipped pairs
                ("zip", [other]) if !chain.position_frozen => {
                    let (other, other_moves, other_by_ref) = zip_operand(other).ok_or(Skip)?;
                    let (Some(base), true) = (
                        local_path(other),
                        matches!(chain.source, Source::Slices) && !chain.enumerated,
                    ) else {
                        return Err(Skip);
                    };
                    // The slices read so far move on by the chain's moves,
                    // after their own.
                    let moved = std::mem::take(&mut chain.moves);
                    for slot in &mut chain.slots {
                        slot.moves.extend(moved.iter().cloned());
                    }
                    chain.slots.push(Slot {
                        base: base.clone(),
                        name: None,
                        by_ref: other_by_ref,
                        moves: other_moves,
                    });
                    let k = chain.slots.len() - 1;
                    item = Item::Tuple(vec![item, Item::Slot(k)]);
                }
                ("copied" | "cloned", []) => {
                    if let Item::Slot(k) = item {
                        chain.slots[k].by_ref = false;
                    } else if !matches!(item, Item::Value(_)) || chain.position_frozen {
                        return Err(Skip);
                    }
                }
                ("enumerate", []) if !chain.enumerated => {
                    if chain.body.len() > 1 {
                        return Err(Skip);
                    }
                    chain.enumerated = true;
                    chain.position_frozen = true;
                    item = Item::Tuple(vec![Item::Index, item]);
                }
                ("rev", []) if !chain.position_frozen => chain.moves.push(Move::Rev),
                ("skip", [n]) if !chain.position_frozen => {
                    chain.moves.push(Move::Skip((*n).clone()))
                }
                ("take", [n]) if !chain.position_frozen => {
                    chain.moves.push(Move::Take((*n).clone()))
                }
                ("step_by", [k]) if !chain.position_frozen => {
                    chain.moves.push(Move::StepBy((*k).clone()));
                }
                ("map", [f]) => {
                    chain.position_frozen = true;
                    let value = self.apply(&mut chain, f, vec![item])?;
                    item = Item::Value(value);
                }
                ("filter", [f]) => {
                    chain.position_frozen = true;
                    if let Item::Value(value) = &item {
                        let name = self.fresh("m");
                        chain.push(parse_quote!(let #name = #value;));
                        item = Item::Value(parse_quote!(#name));
                    }
                    let cond = self.apply_filter(&mut chain, f, item.clone())?;
                    chain.body.push((Vec::new(), Some(cond)));
                }
                _ => return Err(Skip),
            }
        }
        if matches!(chain.source, Source::Range { .. }) && chain.enumerated {
            return Err(Skip);
        }
        let windows_base = match &chain.source {
            Source::Windows { base, .. } => Some(base),
            _ => None,
        };
        if chain
            .slots
            .iter()
            .map(|slot| &slot.base)
            .chain(windows_base)
            .any(|base| self.arrays.contains(base))
        {
            return Err(Skip);
        }
        Ok(Some((chain, item)))
    }

    /// The position of the current item among those the chain yields.
    fn index_expr(&mut self, chain: &mut Chain) -> Expr {
        if chain.index_name.is_none() {
            chain.index_name = Some(self.fresh("j"));
        }
        let name = &chain.index_name;
        parse_quote!(#name)
    }

    /// How many items the source yields, then after each move in turn.
    fn counts(&self, chain: &Chain) -> Vec<TokenStream> {
        let len = match &chain.source {
            Source::Slices => {
                // Each slice's count after its own moves; the shortest.
                let lens: Vec<TokenStream> = chain
                    .slots
                    .iter()
                    .map(|slot| {
                        let base = &slot.base;
                        counts_after(quote!(#base.len()), &slot.moves)
                            .pop()
                            .expect("never empty")
                    })
                    .collect();
                lens.iter()
                    .skip(1)
                    .fold(lens[0].clone(), |a, b| quote!(::core::cmp::min(#a, #b)))
            }
            Source::Windows {
                base,
                size,
                kind: Sliding::Windows,
            } => quote!((#base.len() + 1).saturating_sub(#size)),
            Source::Windows {
                base,
                size,
                kind: Sliding::Chunks,
            } => quote!(#base.len().div_ceil(#size)),
            Source::Windows {
                base,
                size,
                kind: Sliding::ChunksExact,
            } => quote!(#base.len() / (#size)),
            Source::Range { lo, hi } if is_zero(lo) => atom(hi),
            Source::Range { lo, hi } => quote!((#hi).saturating_sub(#lo)),
        };
        counts_after(len, &chain.moves)
    }

    /// How many items the chain yields.
    fn count(&self, chain: &Chain) -> TokenStream {
        self.counts(chain).pop().expect("never empty")
    }

    /// The item as a single value.
    fn value(&mut self, chain: &mut Chain, item: Item) -> Rewrite<Expr> {
        match item {
            Item::Value(value) => Ok(value),
            Item::Slot(k) => {
                if chain.slots[k].name.is_none() {
                    // Bound by value: `for &e in xs.iter()`.
                    chain.slots[k].by_ref = false;
                }
                let name = self.slot_name(chain, k);
                if chain.slots[k].by_ref {
                    Ok(parse_quote!(*#name))
                } else {
                    Ok(parse_quote!(#name))
                }
            }
            Item::Index => Ok(self.index_expr(chain)),
            Item::Window | Item::Tuple(_) => Err(Skip),
        }
    }

    /// The index into the source slices (index mode), named on first use.
    fn base_index(&mut self, chain: &mut Chain) -> Ident {
        if chain.base_index.is_none() {
            chain.base_index = Some(self.fresh("i"));
        }
        chain.base_index.clone().expect("set above")
    }

    fn slot_name(&mut self, chain: &mut Chain, k: usize) -> Ident {
        if chain.slots[k].name.is_none() {
            chain.slots[k].name = Some(self.fresh("e"));
        }
        chain.slots[k].name.clone().expect("set above")
    }

    // Input:  |(a, b)| a * b   applied to (slot x, slot w)
    // Output: the slots named `a` and `b`, value `a * b`
    fn apply(&mut self, chain: &mut Chain, f: &Expr, items: Vec<Item>) -> Rewrite<Expr> {
        match strip_parens(f) {
            Expr::Closure(closure) if closure.inputs.len() == items.len() => {
                let closure = self.isolate(chain, closure);
                let mut renames = Vec::new();
                for (pat, item) in closure.inputs.iter().zip(items) {
                    self.bind(chain, pat, item, &mut renames)?;
                }
                let mut body = (*closure.body).clone();
                if !renames.is_empty() {
                    let mut windows = Windows::new(renames);
                    windows.visit_expr_mut(&mut body);
                    for stmt in window_lets(chain, &windows) {
                        chain.push(stmt);
                    }
                }
                Ok(body)
            }
            Expr::Path(path) => {
                let mut args = Vec::new();
                for item in items {
                    args.push(self.value(chain, item)?);
                }
                Ok(parse_quote!(#path(#(#args),*)))
            }
            _ => Err(Skip),
        }
    }

    // Input:  filter(|v| **v > 0.0) on the elements of `x.iter()`
    // Output: the condition `(*e) > 0.0`, `e` the element (the closure gets a
    //         reference to the item, so `v` is read through two references)
    fn apply_filter(&mut self, chain: &mut Chain, f: &Expr, item: Item) -> Rewrite<Expr> {
        let Expr::Closure(closure) = strip_parens(f) else {
            return Err(Skip);
        };
        if closure.inputs.len() != 1 {
            return Err(Skip);
        }
        let closure = self.isolate(chain, closure);
        let mut reads = Vec::new();
        let mut renames = Vec::new();
        self.bind_filter(chain, &closure.inputs[0], item, 1, &mut reads, &mut renames)?;
        let mut body = (*closure.body).clone();
        for (name, value, depth) in reads {
            Derefs { name, value, depth }.visit_expr_mut(&mut body);
        }
        let mut windows = Windows::new(renames);
        windows.visit_expr_mut(&mut body);
        for stmt in window_lets(chain, &windows) {
            chain.push(stmt);
        }
        Ok(body)
    }

    /// Binds a `filter` parameter, `extra` references above the item: a name
    /// is read through as many references as it holds (`extra`, and one more
    /// for an element of `xs.iter()`); `&p` takes one off.
    fn bind_filter(
        &mut self,
        chain: &mut Chain,
        pat: &Pat,
        item: Item,
        extra: usize,
        reads: &mut Vec<(String, Expr, usize)>,
        renames: &mut Vec<(String, Ident, Expr)>,
    ) -> Rewrite<()> {
        match (pat, item) {
            (Pat::Wild(_), _) => Ok(()),
            (Pat::Reference(reference), item) if extra == 1 => {
                self.bind(chain, &reference.pat, item, renames)
            }
            (Pat::Reference(reference), item) if extra > 1 => {
                self.bind_filter(chain, &reference.pat, item, extra - 1, reads, renames)
            }
            (Pat::Ident(ident), item @ (Item::Slot(_) | Item::Index | Item::Value(_)))
                if ident.by_ref.is_none() && ident.subpat.is_none() =>
            {
                let level = match &item {
                    Item::Slot(k) => usize::from(chain.slots[*k].by_ref),
                    _ => 0,
                };
                let value = self.value(chain, item)?;
                reads.push((ident.ident.to_string(), value, extra + level));
                Ok(())
            }
            (Pat::Tuple(tuple), Item::Tuple(items)) if tuple.elems.len() == items.len() => {
                for (pat, item) in tuple.elems.iter().zip(items) {
                    self.bind_filter(chain, pat, item, extra, reads, renames)?;
                }
                Ok(())
            }
            // Input:  .filter(|w| w[0] > 0.0)   over `x.windows(k)`
            // Output: the condition `x[i] > 0.0` (a window is read through
            //         any number of references alike)
            (Pat::Ident(_), Item::Window) => self.bind(chain, pat, Item::Window, renames),
            _ => Err(Skip),
        }
    }

    // Input:  |v| v * w    where the chain mentions `v` elsewhere too
    // Output: |__ad_v3| __ad_v3 * w
    // (the parameters of all closures end up in one loop body: a name that
    // another part of the chain reads must not be bound there)
    fn isolate(&mut self, chain: &mut Chain, closure: &syn::ExprClosure) -> syn::ExprClosure {
        let mut closure = closure.clone();
        let own = closure.to_token_stream();
        let mut names = Vec::new();
        for pat in &closure.inputs {
            pattern_names(pat, &mut names);
        }
        for name in names {
            if occurrences(&chain.all, &name) > occurrences(&own, &name) {
                let to = self.fresh(&name.to_string());
                Rename { from: name, to }.visit_expr_closure_mut(&mut closure);
            }
        }
        chain.binder = closure.to_token_stream();
        closure
    }

    // Input:  pattern `(a, &b)`, item (slot x, slot y)
    // Output: slot x named `a`, slot y named `b` and read by value
    fn bind(
        &mut self,
        chain: &mut Chain,
        pat: &Pat,
        item: Item,
        windows: &mut Vec<(String, Ident, Expr)>,
    ) -> Rewrite<()> {
        match (pat, item) {
            (Pat::Wild(_), _) => Ok(()),
            (Pat::Type(typed), item) => {
                let ty = &typed.ty;
                let inner = &typed.pat;
                match (&**inner, item) {
                    (Pat::Ident(ident), item) if !matches!(item, Item::Tuple(_) | Item::Window) => {
                        let value = self.value(chain, item)?;
                        let value = if matches!(&**ty, syn::Type::Reference(_)) {
                            parse_quote!(&#value)
                        } else {
                            value
                        };
                        chain.push(parse_quote!(let #ident: #ty = #value;));
                        Ok(())
                    }
                    (inner, item) => self.bind(chain, inner, item, windows),
                }
            }
            (Pat::Tuple(tuple), Item::Tuple(items)) if tuple.elems.len() == items.len() => {
                for (pat, item) in tuple.elems.iter().zip(items) {
                    self.bind(chain, pat, item, windows)?;
                }
                Ok(())
            }
            (Pat::Ident(ident), Item::Window)
                if ident.by_ref.is_none() && ident.subpat.is_none() =>
            {
                let Source::Windows {
                    base, size, kind, ..
                } = &chain.source
                else {
                    return Err(Skip);
                };
                let (base, size, kind) = (base.clone(), size.clone(), *kind);
                let i = self.base_index(chain);
                let start: Expr = if kind == Sliding::Windows {
                    parse_quote!(#i)
                } else {
                    parse_quote!((#i * (#size)))
                };
                windows.push((ident.ident.to_string(), base, start));
                Ok(())
            }
            (Pat::Ident(ident), Item::Slot(k))
                if ident.by_ref.is_none()
                    && ident.subpat.is_none()
                    && ident.mutability.is_none()
                    && chain.slots[k].name.is_none()
                    && chain.free(&ident.ident) =>
            {
                chain.slots[k].name = Some(ident.ident.clone());
                Ok(())
            }
            (Pat::Reference(reference), Item::Slot(k))
                if chain.slots[k].by_ref && chain.slots[k].name.is_none() =>
            {
                if let Pat::Ident(ident) = &*reference.pat
                    && ident.by_ref.is_none()
                    && ident.subpat.is_none()
                    && ident.mutability.is_none()
                    && chain.free(&ident.ident)
                {
                    chain.slots[k].name = Some(ident.ident.clone());
                    chain.slots[k].by_ref = false;
                    return Ok(());
                }
                let value = self.value(chain, Item::Slot(k))?;
                let inner = &reference.pat;
                chain.push(parse_quote!(let #inner = #value;));
                Ok(())
            }
            (Pat::Reference(reference), Item::Value(value)) => {
                // `|&v|` on a value the chain holds by reference.
                let inner = &reference.pat;
                chain.push(parse_quote!(let #inner = *(#value);));
                Ok(())
            }
            (Pat::Reference(reference), Item::Slot(k)) => {
                let name = self.slot_name(chain, k);
                let inner = &reference.pat;
                if chain.slots[k].by_ref {
                    chain.push(parse_quote!(let #inner = *#name;));
                } else {
                    chain.push(parse_quote!(let #inner = #name;));
                }
                Ok(())
            }
            (Pat::Ident(ident), Item::Value(Expr::Path(path)))
                if ident.by_ref.is_none()
                    && ident.subpat.is_none()
                    && path.path.is_ident(&ident.ident) =>
            {
                Ok(())
            }
            (Pat::Ident(ident), Item::Index)
                if ident.by_ref.is_none()
                    && ident.subpat.is_none()
                    && ident.mutability.is_none()
                    && chain.index_name.is_none()
                    && chain.free(&ident.ident) =>
            {
                chain.index_name = Some(ident.ident.clone());
                Ok(())
            }
            (Pat::Ident(ident), item @ (Item::Index | Item::Value(_) | Item::Slot(_)))
                if ident.by_ref.is_none() && ident.subpat.is_none() =>
            {
                let value = self.value(chain, item)?;
                chain.push(parse_quote!(let #ident = #value;));
                Ok(())
            }
            _ => Err(Skip),
        }
    }

    /// Builds `{ let mut acc = init; for … { slots; body; combine } acc }`.
    fn emit(
        &mut self,
        mut chain: Chain,
        combine: Stmt,
        acc: &Ident,
        init: Expr,
        ty: Option<syn::Type>,
    ) -> Expr {
        chain.push(combine);
        let for_loop = self.emit_loop(chain);
        let ty = ty.map(|ty| quote!(: #ty));
        parse_quote!({
            let mut #acc #ty = #init;
            #for_loop
            #acc
        })
    }

    // Input:  a chain and the statements of its body
    // Output: for i in 0..n { let v = &x[i]; … }          (slices, zip, enumerate)
    //         for i in lo..hi { … }                        (a range)
    //         for j in 0..count { let i = lo + j * k; let v = &x[i]; … }   (adaptors moved it)
    fn emit_loop(&mut self, mut chain: Chain) -> Expr {
        // The body, guards nested from the inside out.
        let mut inner: Vec<Stmt> = Vec::new();
        for (stmts, guard) in chain.body.drain(..).rev() {
            let mut block = stmts;
            block.extend(inner);
            inner = match guard {
                // Parenthesised: a condition ending in `return` or a struct
                // name would take the block as its own.
                Some(cond) => vec![parse_quote!(if (#cond) { #(#block)* })],
                None => block,
            };
        }
        let counts = self.counts(&chain);
        let count = counts.last().expect("never empty");
        let moved = !chain.moves.is_empty();
        let i = self.base_index(&mut chain);
        let mut top: Vec<Stmt> = Vec::new();
        if let Source::Range { lo: start, hi: end } = &chain.source {
            // The item is the range's value.
            let value = chain.index_name.clone().unwrap_or_else(|| i.clone());
            if !moved {
                let (start, end) = (atom(start), atom(end));
                return parse_quote!(for #value in #start..#end { #(#inner)* });
            }
            let j = self.fresh("j");
            let position = position(&chain, &j, &counts);
            top.push(if is_zero(start) {
                parse_quote!(let #value = #position;)
            } else {
                parse_quote!(let #value = (#start) + #position;)
            });
            return parse_quote!(for #j in 0..#count { #(#top)* #(#inner)* });
        }
        let j = if moved || chain.index_name.is_some() {
            let j = chain.index_name.clone().unwrap_or_else(|| self.fresh("j"));
            let position = position(&chain, &j, &counts);
            top.push(parse_quote!(let #i = #position;));
            j
        } else {
            // No adaptor moved the positions: the loop counter is the index.
            i.clone()
        };
        for slot in &chain.slots {
            let base = &slot.base;
            if let Some(name) = &slot.name {
                let at = if slot.moves.is_empty() {
                    quote!(#i)
                } else {
                    let counts = counts_after(quote!(#base.len()), &slot.moves);
                    moved_back(&slot.moves, &counts, quote!(#i), true)
                };
                top.push(if slot.by_ref {
                    parse_quote!(let #name = &#base[#at];)
                } else {
                    parse_quote!(let #name = #base[#at];)
                });
            }
        }
        parse_quote!(for #j in 0..#count { #(#top)* #(#inner)* })
    }

    // Input:  for c in coeffs.iter().rev() { acc = acc * x + c; }
    // Output: for __ad_j2 in 0..coeffs.len() {
    //             let __ad_i1 = coeffs.len() - 1 - __ad_j2; let c = &coeffs[__ad_i1];
    //             acc = acc * x + c; }
    // (only where `lower` does not take the loop as written)
    fn for_chain(&mut self, for_loop: &syn::ExprForLoop) -> Option<Expr> {
        let (for_loop_pat, for_loop_body) = (&for_loop.pat, &for_loop.body);
        // The chain's methods, and those of a `zip` argument
        // (`x.iter().zip(y.iter().rev())`).
        let mut links = Vec::new();
        let mut current = &*for_loop.expr;
        while let Expr::MethodCall(call) = strip_parens(current) {
            links.push(call.method.to_string());
            if call.method == "zip"
                && let Some(mut inner) = call.args.first()
            {
                while let Expr::MethodCall(call) = strip_parens(inner) {
                    links.push(call.method.to_string());
                    inner = &call.receiver;
                }
            }
            current = &call.receiver;
        }
        let needed = [
            "rev",
            "skip",
            "take",
            "step_by",
            "windows",
            "chunks",
            "chunks_exact",
            "map",
            "filter",
            "copied",
            "cloned",
            "into_iter",
        ];
        if !links.iter().any(|link| needed.contains(&link.as_str())) {
            return None;
        }
        let (mut chain, item) = self
            .adaptors(&for_loop.expr, for_loop.to_token_stream())
            .ok()??;
        chain.binder = quote!(#for_loop_pat #for_loop_body);
        let mut renames = Vec::new();
        self.bind(&mut chain, &for_loop.pat, item, &mut renames)
            .ok()?;
        let mut body = for_loop.body.clone();
        let mut windows = Windows::new(renames);
        windows.visit_block_mut(&mut body);
        for stmt in window_lets(&chain, &windows) {
            chain.push(stmt);
        }
        for stmt in body.stmts {
            chain.push(stmt);
        }
        let mut rewritten = self.emit_loop(chain);
        if let Expr::ForLoop(new) = &mut rewritten {
            new.label.clone_from(&for_loop.label);
            new.attrs.clone_from(&for_loop.attrs);
        }
        Some(rewritten)
    }

    // Input:  for (o, v) in out.iter_mut().zip(x) { *o = v.tanh(); }
    // Output: for __ad_k1 in 0..::core::cmp::min(out.len(), x.len()) {
    //             let v = &x[__ad_k1]; out[__ad_k1] = v.tanh(); }
    fn iter_mut_loop(&mut self, for_loop: &syn::ExprForLoop) -> Option<Expr> {
        let Expr::MethodCall(zip) = strip_parens(&for_loop.expr) else {
            return None;
        };
        let (first, other) = if zip.method == "zip" && zip.args.len() == 1 {
            (strip_parens(&zip.receiver), Some(&zip.args[0]))
        } else {
            (strip_parens(&for_loop.expr), None)
        };
        let Expr::MethodCall(iter_mut) = first else {
            return None;
        };
        if iter_mut.method != "iter_mut" || !iter_mut.args.is_empty() {
            return None;
        }
        let out = local_path(&iter_mut.receiver)?.clone();
        let (out_pat, other_pat) = match (&*for_loop.pat, other) {
            (Pat::Tuple(tuple), Some(_)) if tuple.elems.len() == 2 => {
                (&tuple.elems[0], Some(&tuple.elems[1]))
            }
            (pat, None) => (pat, None),
            _ => return None,
        };
        let Pat::Ident(o) = out_pat else { return None };
        let k = self.fresh("k");
        let mut stmts: Vec<Stmt> = Vec::new();
        let mut len = quote!(#out.len());
        if let (Some(other), Some(pat)) = (other, other_pat) {
            let other = match strip_parens(other) {
                Expr::MethodCall(inner) if inner.method == "iter" => &inner.receiver,
                Expr::Reference(reference) => &reference.expr,
                other => other,
            };
            let base = local_path(other)?;
            len = quote!(::core::cmp::min(#len, #base.len()));
            match pat {
                Pat::Ident(v) => stmts.push(parse_quote!(let #v = &#base[#k];)),
                Pat::Reference(r) => {
                    let inner = &r.pat;
                    stmts.push(parse_quote!(let #inner = #base[#k];));
                }
                Pat::Wild(_) => {}
                _ => return None,
            }
        }
        let mut body = for_loop.body.clone();
        let mut place = Place {
            name: o.ident.to_string(),
            out: out.clone(),
            k: k.clone(),
        };
        place.visit_block_mut(&mut body);
        let body_stmts = body.stmts;
        Some(parse_quote!(for #k in 0..#len { #(#stmts)* #(#body_stmts)* }))
    }
}

/// `expr` as an operand that nothing after it can extend: in parentheses
/// unless it is a name, a literal, a call, a method call, a field or an
/// index (`0..return` before a loop body would take the body as its value).
fn atom(expr: &Expr) -> TokenStream {
    match strip_parens(expr) {
        inner @ (Expr::Path(_)
        | Expr::Lit(_)
        | Expr::Call(_)
        | Expr::MethodCall(_)
        | Expr::Field(_)
        | Expr::Index(_)) => inner.to_token_stream(),
        other => quote!((#other)),
    }
}

/// The literal `0` (`0usize` too).
fn is_zero(expr: &Expr) -> bool {
    matches!(strip_parens(expr), Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. })
        if int.base10_digits() == "0")
}

/// A move of the positions a chain reads: `skip(n)`, `take(n)`,
/// `step_by(k)`, `rev()`.
#[derive(Clone, PartialEq)]
enum Move {
    Skip(Expr),
    Take(Expr),
    StepBy(Expr),
    Rev,
}

/// The argument of `zip`: the slice it reads, the moves of its positions,
/// and whether its items are references.
///
/// `ys`, `&ys`, `ys.iter()`, and `ys.iter()` through `rev skip take
/// step_by` (in any order) and one `copied`/`cloned`: `None` for anything
/// else.
fn zip_operand(other: &Expr) -> Option<(&Expr, Vec<Move>, bool)> {
    let mut moves = Vec::new();
    let mut by_ref = true;
    let mut current = strip_parens(other);
    while let Expr::MethodCall(call) = current {
        let args: Vec<&Expr> = call.args.iter().collect();
        match (call.method.to_string().as_str(), args.as_slice()) {
            ("iter" | "into_iter", []) => break,
            ("rev", []) => moves.push(Move::Rev),
            ("skip", [n]) => moves.push(Move::Skip((*n).clone())),
            ("take", [n]) => moves.push(Move::Take((*n).clone())),
            ("step_by", [k]) => moves.push(Move::StepBy((*k).clone())),
            ("copied" | "cloned", []) if by_ref => by_ref = false,
            _ => return None,
        }
        current = strip_parens(&call.receiver);
    }
    // From the source outwards.
    moves.reverse();
    let base = match current {
        Expr::MethodCall(inner) => &*inner.receiver,
        // `ys.rev()` is no iterator: left for rustc to reject.
        _ if !moves.is_empty() || !by_ref => return None,
        Expr::Reference(reference) => &*reference.expr,
        other => other,
    };
    Some((base, moves, by_ref))
}

/// The index into the source of item `j`: each move, from the last to the
/// first, maps a position after it to one before it (`counts[k]` items come
/// before move `k`). No step goes below zero, as `j < count`.
fn position(chain: &Chain, j: &Ident, counts: &[TokenStream]) -> TokenStream {
    moved_back(&chain.moves, counts, quote!(#j), true)
}

/// How many items `len` positions yield, then after each of `moves` in turn.
fn counts_after(len: TokenStream, moves: &[Move]) -> Vec<TokenStream> {
    let mut counts = vec![len];
    for step in moves {
        let c = counts.last().expect("never empty");
        counts.push(match step {
            Move::Skip(n) => quote!((#c).saturating_sub(#n)),
            Move::Take(n) => quote!(::core::cmp::min(#c, #n)),
            Move::StepBy(k) => quote!((#c).div_ceil(#k)),
            Move::Rev => c.clone(),
        });
    }
    counts
}

/// Position `j` after `moves` (of which `counts[k]` items come before move
/// `k`) mapped back to the position before them, from the last move to the
/// first. `atomic`: `j` needs no parentheses.
fn moved_back(moves: &[Move], counts: &[TokenStream], j: TokenStream, atomic: bool) -> TokenStream {
    let mut at = j;
    let mut atomic = atomic;
    for (step, before) in moves.iter().zip(counts).rev() {
        let inner = if atomic { at.clone() } else { quote!((#at)) };
        at = match step {
            Move::Skip(n) => {
                let n = atom(n);
                quote!(#inner + #n)
            }
            Move::Take(_) => continue,
            Move::StepBy(k) => {
                let k = atom(k);
                quote!(#inner * #k)
            }
            Move::Rev => quote!(#before - 1 - #inner),
        };
        atomic = false;
    }
    at
}

/// The methods of `Iterator` and of slices that start one.
const ITERATOR_METHODS: &[&str] = &[
    "iter",
    "into_iter",
    "iter_mut",
    "windows",
    "chunks",
    "chunks_exact",
    "rchunks",
    "rchunks_exact",
    "chunk_by",
    "split",
    "rsplit",
    "map",
    "filter",
    "filter_map",
    "flat_map",
    "flatten",
    "zip",
    "enumerate",
    "rev",
    "skip",
    "take",
    "step_by",
    "skip_while",
    "take_while",
    "map_while",
    "scan",
    "chain",
    "cycle",
    "copied",
    "cloned",
    "inspect",
    "peekable",
    "fold",
    "reduce",
    "sum",
    "product",
    "count",
    "collect",
    "for_each",
    "max_by",
    "min_by",
    "max_by_key",
    "min_by_key",
    "last",
    "nth",
    "any",
    "all",
    "position",
    "find",
    "try_fold",
];

/// The adaptors [`Desugar::chain`] rewrites.
const REWRITTEN: &[&str] = &[
    "iter",
    "into_iter",
    "windows",
    "chunks",
    "chunks_exact",
    "zip",
    "enumerate",
    "map",
    "filter",
    "copied",
    "cloned",
    "skip",
    "take",
    "step_by",
    "rev",
];

/// For an iterator method call `lower` has no rule for (a chain this pass
/// left as written): the link to blame, the first from the source that has
/// no rewrite, else the method itself.
pub fn iterator_culprit(call: &syn::ExprMethodCall) -> Option<&Ident> {
    if !ITERATOR_METHODS.contains(&call.method.to_string().as_str()) {
        return None;
    }
    let mut links = vec![&call.method];
    let mut current = &*call.receiver;
    while let Expr::MethodCall(inner) = strip_parens(current) {
        links.push(&inner.method);
        current = &inner.receiver;
    }
    let culprit = links
        .iter()
        .skip(1)
        .rev()
        .find(|link| !REWRITTEN.contains(&link.to_string().as_str()));
    Some(culprit.copied().unwrap_or(&call.method))
}

/// `Vec<…>`, `std::vec::Vec<…>`.
/// `Vec<f64>`, `Vec<f32>`, `Vec<_>`, `Vec<T>` (`T` a type parameter of the
/// function), also as `std::vec::Vec<…>`: a `Vec` of floats, as far as the
/// pass can tell (a `Vec<String>` is left to `collect`).
fn is_float_vec(ty: &syn::Type, generics: &[Ident]) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return false;
    };
    path.qself.is_none()
        && last.ident == "Vec"
        && args.args.len() == 1
        && match &args.args[0] {
            syn::GenericArgument::Type(syn::Type::Infer(_)) => true,
            syn::GenericArgument::Type(elem) => {
                is_float(elem)
                    || matches!(elem, syn::Type::Path(p)
                        if p.path.get_ident().is_some_and(|ident| generics.contains(ident)))
            }
            _ => false,
        }
}

/// How often `name` occurs in `tokens`.
pub(crate) fn occurrences(tokens: &impl ToTokens, name: &Ident) -> usize {
    fn walk(stream: TokenStream, name: &Ident) -> usize {
        stream
            .into_iter()
            .map(|tree| match tree {
                proc_macro2::TokenTree::Ident(ident) => usize::from(ident == *name),
                proc_macro2::TokenTree::Group(group) => walk(group.stream(), name),
                _ => 0,
            })
            .sum()
    }
    walk(tokens.to_token_stream(), name)
}

fn is_float(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(path) if path.path.is_ident("f64") || path.path.is_ident("f32"))
}

/// `w[j]` in a closure over `x.windows(k)` -> `x[i + j]` (over
/// `x.chunks(k)`, `x[(i * k) + j]`). A window named other than in `w[j]`
/// (`w.iter()`, `w.len()`) is marked `whole`: it is bound as
/// `let w = &x[i..i + k];` (see [`window_lets`]).
struct Windows {
    renames: Vec<(String, Ident, Expr)>,
    whole: Vec<usize>,
}

impl Windows {
    fn new(renames: Vec<(String, Ident, Expr)>) -> Self {
        Windows {
            renames,
            whole: Vec::new(),
        }
    }
}

impl VisitMut for Windows {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Index(index) = expr
            && let Some(name) = local_path(&index.expr)
            && let Some((_, base, i)) = self.renames.iter().find(|(w, _, _)| *name == w)
        {
            let (base, i) = (base.clone(), i.clone());
            self.visit_expr_mut(&mut index.index);
            let j = &index.index;
            *expr = if matches!(&**j, Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(int), .. })
                if int.base10_digits() == "0")
            {
                parse_quote!(#base[#i])
            } else {
                parse_quote!(#base[#i + #j])
            };
            return;
        }
        if let Some(name) = local_path(expr)
            && let Some(k) = self.renames.iter().position(|(w, _, _)| *name == w)
            && !self.whole.contains(&k)
        {
            self.whole.push(k);
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// `let w = &x[i..i + k];` for each window of `windows` named whole.
fn window_lets(chain: &Chain, windows: &Windows) -> Vec<Stmt> {
    let Source::Windows { size, kind, .. } = &chain.source else {
        return Vec::new();
    };
    windows
        .whole
        .iter()
        .map(|&k| {
            let (name, base, start) = &windows.renames[k];
            let name = Ident::new(name, proc_macro2::Span::call_site());
            if *kind == Sliding::Chunks {
                parse_quote!(let #name = &#base[#start..::core::cmp::min(#start + (#size), #base.len())];)
            } else {
                parse_quote!(let #name = &#base[#start..#start + (#size)];)
            }
        })
        .collect()
}

/// `*o` -> `out[k]` in the body of a `for` over `out.iter_mut()`.
struct Place {
    name: String,
    out: Ident,
    k: Ident,
}

impl VisitMut for Place {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Expr::Unary(unary) = expr
            && matches!(unary.op, syn::UnOp::Deref(_))
            && local_path(&unary.expr).is_some_and(|ident| *ident == self.name)
        {
            let out = &self.out;
            let k = &self.k;
            *expr = parse_quote!(#out[#k]);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
}

/// In a `filter` condition `|v| **v > 0.0`, `v` holding the item behind
/// `depth` references: `**v` -> the item, `*v` -> `&item`, `v` -> `&&item`.
struct Derefs {
    name: String,
    value: Expr,
    depth: usize,
}

impl VisitMut for Derefs {
    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        let mut derefs = 0;
        let mut inner: &Expr = expr;
        while let Expr::Unary(unary) = strip_parens(inner)
            && matches!(unary.op, syn::UnOp::Deref(_))
        {
            derefs += 1;
            inner = &unary.expr;
        }
        if derefs <= self.depth && local_path(inner).is_some_and(|ident| *ident == self.name) {
            let value = &self.value;
            let mut read = quote!((#value));
            if derefs < self.depth {
                for _ in derefs..self.depth {
                    read = quote!(&#read);
                }
                read = quote!((#read));
            }
            *expr = parse_quote!(#read);
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }
    fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
}

/// Renames a local everywhere in a closure: its patterns and its reads.
struct Rename {
    from: Ident,
    to: Ident,
}

impl VisitMut for Rename {
    fn visit_pat_ident_mut(&mut self, node: &mut syn::PatIdent) {
        if node.ident == self.from {
            node.ident = self.to.clone();
        }
        visit_mut::visit_pat_ident_mut(self, node);
    }
    fn visit_expr_path_mut(&mut self, node: &mut syn::ExprPath) {
        if node.qself.is_none()
            && let Some(ident) = node.path.get_ident()
            && *ident == self.from
        {
            node.path = self.to.clone().into();
        }
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// The names a pattern binds.
pub(crate) fn pattern_names(pat: &Pat, names: &mut Vec<Ident>) {
    struct Names<'a>(&'a mut Vec<Ident>);
    impl<'ast> syn::visit::Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
            self.0.push(node.ident.clone());
            syn::visit::visit_pat_ident(self, node);
        }
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    syn::visit::Visit::visit_pat(&mut Names(names), pat);
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    /// `body` after the pass, as text.
    fn desugared(body: syn::Block) -> String {
        let sig: syn::Signature = syn::parse_quote!(fn f(a: &Array2<f64>));
        super::block(&sig, &body, &crate::tests::activations())
            .into_token_stream()
            .to_string()
    }

    #[track_caller]
    fn assert_desugars(body: syn::Block, want: syn::Block) {
        assert_eq!(desugared(body), want.into_token_stream().to_string());
    }

    #[test]
    fn sum_of_a_map_is_the_loop_one_would_write() {
        assert_desugars(
            syn::parse_quote!({ x.iter().map(|v| v * v).sum::<f64>() }),
            syn::parse_quote!({
                let mut acc: f64 = 0.0;
                for i in 0..x.len() {
                    let v = &x[i];
                    acc += v * v;
                }
                acc
            }),
        );
    }

    #[test]
    fn zip_reads_both_slices_at_one_index_named_as_the_closure_does() {
        assert_desugars(
            syn::parse_quote!({ w.iter().zip(x).map(|(a, b)| a * b).sum() }),
            syn::parse_quote!({
                let mut acc = ::autodiff::__private::rules::sum_start();
                for i in 0..::core::cmp::min(w.len(), x.len()) {
                    let a = &w[i];
                    let b = &x[i];
                    acc += a * b;
                }
                acc
            }),
        );
    }

    #[test]
    fn rev_fold_runs_over_indices_and_keeps_the_accumulator_name() {
        assert_desugars(
            syn::parse_quote!({ coeffs.iter().rev().fold(0.0, |acc, c| acc * x + c) }),
            syn::parse_quote!({
                let mut acc = 0.0;
                for j in 0..coeffs.len() {
                    let i = coeffs.len() - 1 - j;
                    let c = &coeffs[i];
                    acc = acc * x + c;
                }
                acc
            }),
        );
    }

    #[test]
    fn windows_read_the_slice_at_an_offset() {
        assert_desugars(
            syn::parse_quote!({ x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() }),
            syn::parse_quote!({
                let mut acc: f64 = 0.0;
                for i in 0..(x.len() + 1).saturating_sub(2) {
                    acc += (x[i + 1] - x[i]).powi(2);
                }
                acc
            }),
        );
    }

    #[test]
    fn chunks_read_the_slice_at_the_chunk_start() {
        assert_desugars(
            syn::parse_quote!({ x.chunks(3).map(|c| c[1] * c.len() as f64).sum::<f64>() }),
            syn::parse_quote!({
                let mut acc: f64 = 0.0;
                for i in 0..x.len().div_ceil(3) {
                    let c = &x[(i * (3))..::core::cmp::min((i * (3)) + (3), x.len())];
                    acc += x[(i * (3)) + 1] * c.len() as f64;
                }
                acc
            }),
        );
    }

    #[test]
    fn a_window_named_whole_is_bound_as_a_sub_slice() {
        assert_desugars(
            syn::parse_quote!({ x.windows(2).map(|w| w.iter().sum::<f64>()).sum::<f64>() }),
            // (The inner chain reads `x` too; `w` stays for `w.len()`.)
            syn::parse_quote!({
                let mut __ad_acc2: f64 = 0.0;
                for __ad_i1 in 0..(x.len() + 1).saturating_sub(2) {
                    let w = &x[__ad_i1..__ad_i1 + (2)];
                    __ad_acc2 += {
                        let mut acc: f64 = 0.0;
                        for i in 0..w.len() {
                            let e = x[__ad_i1 + i];
                            acc += e;
                        }
                        acc
                    };
                }
                __ad_acc2
            }),
        );
    }

    #[test]
    fn filter_is_an_if_in_the_loop() {
        assert_desugars(
            syn::parse_quote!({ x.iter().filter(|v| **v > 0.0).count() }),
            syn::parse_quote!({
                let mut acc = 0usize;
                for i in 0..x.len() {
                    let e = x[i];
                    if ((e) > 0.0) {
                        acc += 1;
                    }
                }
                acc
            }),
        );
    }

    #[test]
    fn collect_into_a_vec_writes_by_index() {
        assert_desugars(
            syn::parse_quote!({
                let h: Vec<f64> = x.iter().map(|v| v.tanh()).collect();
            }),
            syn::parse_quote!({
                let h: Vec<f64> = {
                    let mut acc = ::std::vec![::autodiff::__private::rules::sum_start(); x.len()];
                    for j in 0..x.len() {
                        let i = j;
                        let v = &x[i];
                        acc[j] = v.tanh();
                    }
                    acc
                };
            }),
        );
    }

    #[test]
    fn local_closures_are_inlined() {
        assert_desugars(
            syn::parse_quote!({
                let sq = |v: f64| v * v;
                let r = sq(x) + sq(y);
                r
            }),
            syn::parse_quote!({
                let r = {
                    let v: f64 = x;
                    v * v
                } + {
                    let v: f64 = y;
                    v * v
                };
                r
            }),
        );
    }

    #[test]
    fn mapv_applies_the_closure_to_the_whole_array() {
        // `a` is a `&Array2` parameter: `sigmoid` takes it as it is. `m`
        // is taken, so the bound receiver is `__ad_m1`.
        assert_desugars(
            syn::parse_quote!({
                let p = a.mapv(|v| (v - m).exp() + sigmoid(v));
                let q = p.map(|&v| v.powi(2));
                let r = a.dot(&b).mapv(f64::tanh);
                let s = p.mapv(sigmoid);
                q + r + s
            }),
            syn::parse_quote!({
                let p = (a - m).exp() + sigmoid(a);
                let q = p.powi(2);
                let r = {
                    let __ad_m1 = a.dot(&b);
                    __ad_m1.tanh()
                };
                let s = sigmoid(&p);
                q + r + s
            }),
        );
    }

    #[test]
    fn a_closure_with_a_branch_or_a_constant_body_is_left_as_written() {
        let body: syn::Block = syn::parse_quote!({
            let p = a.mapv(|v| if v > 0.0 { v } else { 0.0 });
            let q = a.mapv(|_| 1.0);
            let r = a.mapv(|v| 2.0);
            let t = x.iter().map(|v| v * v);
            p + q + r
        });
        assert_eq!(
            desugared(body.clone()),
            body.into_token_stream().to_string()
        );
    }

    #[test]
    fn iter_mut_writes_by_index() {
        assert_desugars(
            syn::parse_quote!({
                for (o, v) in out.iter_mut().zip(x) {
                    *o = v.tanh();
                }
            }),
            syn::parse_quote!({
                for k in 0..::core::cmp::min(out.len(), x.len()) {
                    let v = &x[k];
                    out[k] = v.tanh();
                }
            }),
        );
    }

    #[test]
    fn a_closure_parameter_read_elsewhere_in_the_chain_is_renamed() {
        assert_desugars(
            syn::parse_quote!({ x.iter().map(|v| v * 2.0).fold(0.0, |acc, w| acc + w * v) }),
            syn::parse_quote!({
                let mut acc = 0.0;
                for i in 0..x.len() {
                    let __ad_v1 = &x[i];
                    let w = __ad_v1 * 2.0;
                    acc = acc + w * v;
                }
                acc
            }),
        );
    }

    #[test]
    fn names_the_body_uses_are_not_given_out() {
        assert_desugars(
            syn::parse_quote!({
                let acc = 1.0;
                let s = x.iter().sum::<f64>();
                s + acc
            }),
            syn::parse_quote!({
                let acc = 1.0;
                let s = {
                    let mut __ad_acc1: f64 = 0.0;
                    for i in 0..x.len() {
                        let e = x[i];
                        __ad_acc1 += e;
                    }
                    __ad_acc1
                };
                s + acc
            }),
        );
    }

    #[test]
    fn a_closure_reads_what_it_captured_past_a_let_that_shadows_it() {
        assert_desugars(
            syn::parse_quote!({
                let f = |t: f64| t * a;
                let a = 2.0;
                f(x)
            }),
            syn::parse_quote!({
                let __ad_a1 = a.clone();
                let a = 2.0;
                {
                    let t: f64 = x;
                    t * __ad_a1
                }
            }),
        );
    }

    #[test]
    fn each_move_of_the_positions_maps_back_in_turn() {
        // `rev` then `skip`: item j is the (j + 1)-th from the end.
        assert_desugars(
            syn::parse_quote!({ x.iter().rev().skip(1).map(|v| v * v).sum::<f64>() }),
            syn::parse_quote!({
                let mut acc: f64 = 0.0;
                for j in 0..(x.len()).saturating_sub(1) {
                    let i = x.len() - 1 - (j + 1);
                    let v = &x[i];
                    acc += v * v;
                }
                acc
            }),
        );
    }

    #[test]
    fn what_has_no_rewrite_is_left_as_written() {
        for body in [
            syn::parse_quote!({ x.iter().map(|v| v * v).collect::<HashSet<_>>() }),
            syn::parse_quote!({ x.iter().enumerate().skip(1).map(|(i, v)| v).sum::<f64>() }),
            syn::parse_quote!({ x.iter().scan(0.0, |s, v| Some(*s + v)).sum::<f64>() }),
            syn::parse_quote!({ a.iter().map(|v| v * v).sum::<f64>() }),
            syn::parse_quote!({
                let s: Vec<String> = names.iter().cloned().collect();
            }),
        ] {
            let body: syn::Block = body;
            assert_eq!(
                desugared(body.clone()),
                body.into_token_stream().to_string()
            );
        }
    }
}
