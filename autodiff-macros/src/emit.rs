//! IR → tokens: the only module that quotes.
//!
//! Entry point: [`functions`], which writes `f_grad`, `f_vjp` and the hidden
//! `__f_pullback` that other `#[grad]` functions call. Each holds the whole
//! derivative (forward sweep, reverse sweep), so none has to know whether it
//! lives in an `impl` block to call another. Generated code names only
//! `::core::…` and `::autodiff::__private::…`; the locals it invents have
//! mixed-site hygiene, so user code can neither see nor shadow them.

use crate::ir::{
    AdjStmt, Adjoint, Callee, Function, Grad, Mode, Op, Operand, OperandKind, RuleArg, TypeClass,
    VarId,
};
use crate::lower::{Lowered, Names, var_ident};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use std::collections::{HashMap, HashSet};
use syn::visit_mut::VisitMut;
use syn::{FnArg, Ident, ItemFn, Pat, ReturnType, Type};

/// Rules with an `_into` variant that takes the adjoint by value.
const INTO_RULES: &[&str] = &[
    "sigmoid_pullback",
    "relu_pullback",
    "softplus_pullback",
    "neg_pullback",
    "add_pullback_lhs",
    "add_pullback_rhs",
    "sub_pullback_lhs",
    "sub_pullback_rhs",
    "transpose_pullback",
];

/// Rules with an `_into` variant that takes their (array) operand by value.
const PRIMAL_INTO_RULES: &[&str] = &["norm_sq_pullback"];

/// Lints the expansion may trigger in code the user did not write.
fn allowed_lints() -> TokenStream {
    quote! {
        #[allow(
            unused_variables,
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

pub fn functions(item: &ItemFn, lowered: Lowered, adjoint: &Adjoint) -> TokenStream {
    let Lowered {
        function: f,
        mut names,
        receiver,
    } = lowered;
    let sig = &item.sig;
    let name = &sig.ident;
    let vis = &item.vis;
    let generics = &sig.generics;
    let where_clause = &generics.where_clause;
    let cfgs: Vec<_> = item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
        .collect();
    let ret_ty = match &sig.output {
        ReturnType::Type(_, ty) => (**ty).clone(),
        ReturnType::Default => syn::parse_quote!(()),
    };

    let seed = Ident::new(&names.fresh("seed"), Span::mixed_site());
    let mut body = Body {
        f: &f,
        names: &mut names,
        adjoints: HashMap::new(),
        reverse_uses: HashSet::new(),
        last_forward_use: HashMap::new(),
    };
    let core = body.core(adjoint, &seed);
    let ret_value = body.operand(&f.ret);
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

    let wrt_types: Vec<TokenStream> = f
        .params
        .iter()
        .filter(|param| param.wrt)
        .map(|param| tangent_type(&param.ty, param.class))
        .collect();
    let all_types: Vec<TokenStream> = f
        .params
        .iter()
        .map(|param| {
            if param.wrt {
                tangent_type(&param.ty, param.class)
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    let (grad_ty, grad_value) = if wrt_types.len() == 1 {
        (wrt_types[0].clone(), wrt_grads[0].clone())
    } else {
        (quote!((#(#wrt_types),*)), quote!((#(#wrt_grads),*)))
    };

    let inputs = inputs(sig, receiver.as_ref());
    let items = &f.items;
    let allow = allowed_lints();
    let grad_name = format_ident!("{}_grad", name);
    let vjp_name = format_ident!("{}_vjp", name);
    let pullback_name = format_ident!("__{}_pullback", name);

    let vjp_body = quote! {
        #(#items)*
        #core
        (#ret_value, #grad_value)
    };
    let listing = listing(&vjp_name, &inputs, &seed, &ret_ty, &grad_ty, &vjp_body);

    // `_grad` exists for every function; for an output the macro cannot see
    // is a float, the bound below turns a call on a non-scalar output into an
    // error at the call, naming `_vjp` (a higher-ranked bound is checked where
    // the function is used, not where it is defined).
    let grad_where = match crate::lower::classify(&ret_ty).0 {
        TypeClass::Float => quote!(#where_clause),
        _ => {
            let mut clause = where_clause
                .clone()
                .unwrap_or_else(|| syn::parse_quote!(where));
            clause.predicates.push(
                syn::parse_quote!(for<'__autodiff> #ret_ty: ::autodiff::__private::ScalarOutput),
            );
            quote!(#clause)
        }
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
         The derivative code, as generated:\n\n```text\n{listing}```",
        describe(&f)
    );
    let pullback_doc = format!(
        "Pullback of `{name}` for other `#[grad]` functions: the gradient of every parameter, \
         `NotDifferentiated` for constants. Not public API."
    );

    quote! {
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
fn inputs(sig: &syn::Signature, receiver: Option<&syn::Receiver>) -> TokenStream {
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
fn tangent_type(ty: &Type, class: TypeClass) -> TokenStream {
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

/// The `_vjp` function as `cargo expand` would show it, paths shortened, for
/// its doc comment.
fn listing(
    name: &Ident,
    inputs: &TokenStream,
    seed: &Ident,
    ret: &Type,
    grad: &TokenStream,
    body: &TokenStream,
) -> String {
    let tokens = quote! {
        fn #name(#inputs #seed: #ret) -> (#ret, #grad) { #body }
    };
    match syn::parse2::<syn::File>(tokens) {
        // prettyplease panics on syntax it does not print (`become` and the
        // other `Verbatim` nodes); the listing is documentation, so go
        // without it rather than print a panic.
        Ok(file) if format!("{file:?}").contains("Verbatim") => String::new(),
        Ok(file) => std::panic::catch_unwind(|| prettyplease::unparse(&file))
            .unwrap_or_default()
            .replace("::autodiff::__private::rules::", "")
            .replace(
                " as ::autodiff::__private::Differentiable>",
                " as Differentiable>",
            ),
        Err(_) => String::new(),
    }
}

struct Body<'a> {
    f: &'a Function,
    names: &'a mut Names,
    adjoints: HashMap<VarId, Ident>,
    /// Values the reverse sweep (or the returned tuple) reads.
    reverse_uses: HashSet<VarId>,
    /// The last forward statement that reads each value.
    last_forward_use: HashMap<VarId, usize>,
}

impl Body<'_> {
    fn ident(&self, var: VarId) -> TokenStream {
        let var = &self.f.vars[var];
        if var.name == "_" {
            quote!(_)
        } else {
            var_ident(var).into_token_stream()
        }
    }

    fn adjoint(&mut self, var: VarId) -> Ident {
        if let Some(ident) = self.adjoints.get(&var) {
            return ident.clone();
        }
        let name = self.names.fresh(&format!(
            "d_{}",
            self.f.vars[var]
                .name
                .trim_start_matches("r#")
                .trim_start_matches('_')
        ));
        let ident = Ident::new(&name, Span::mixed_site());
        self.adjoints.insert(var, ident.clone());
        ident
    }

    /// An operand as the forward sweep uses it: `x`, `&x`, `*x`, `2.0`.
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

    fn grad(&mut self, grad: &Grad) -> TokenStream {
        match grad {
            Grad::Adjoint(var) => self.adjoint(*var).into_token_stream(),
            Grad::Zero(var) => {
                let value = self.var_reference(*var);
                quote!(::autodiff::__private::rules::zero(#value))
            }
            Grad::Constant => quote!(::autodiff::__private::NotDifferentiated),
        }
    }

    /// Fills `reverse_uses` and `last_forward_use`.
    fn uses(&mut self, adjoint: &Adjoint) {
        let var_of = |operand: &Operand| match operand.kind {
            OperandKind::Var(var) => Some(var),
            OperandKind::Const(_) => None,
        };
        for (index, stmt) in self.f.body.iter().enumerate() {
            for operand in crate::analyse::operands(&stmt.op) {
                if let Some(var) = var_of(operand) {
                    self.last_forward_use.insert(var, index);
                }
            }
        }
        self.reverse_uses.extend(var_of(&self.f.ret));
        for stmt in &adjoint.stmts {
            match stmt {
                AdjStmt::Rule { args, .. } => {
                    for arg in args {
                        match arg {
                            RuleArg::Primal(operand) | RuleArg::Int(operand) => {
                                self.reverse_uses.extend(var_of(operand));
                            }
                            RuleArg::Output(var) => {
                                self.reverse_uses.insert(*var);
                            }
                            RuleArg::Adjoint(_) => {}
                        }
                    }
                }
                AdjStmt::CallPullback { stmt, .. } => {
                    if let Op::Call(call) = &self.f.body[*stmt].op {
                        self.reverse_uses
                            .extend(call.args.iter().filter_map(var_of));
                    }
                }
                AdjStmt::Seed { .. } | AdjStmt::Pass { .. } => {}
            }
        }
    }

    /// The forward sweep, then the reverse sweep.
    fn core(&mut self, adjoint: &Adjoint, seed: &Ident) -> TokenStream {
        let mut tokens = TokenStream::new();
        self.uses(adjoint);
        for (index, stmt) in self.f.body.iter().enumerate() {
            let name = self.ident(stmt.def);
            let value = self.op(&stmt.op, index);
            let ty = stmt.ty.as_ref().map(|ty| quote!(: #ty));
            quote_spanned!(stmt.span=> let #name #ty = #value;).to_tokens(&mut tokens);
        }

        // How many contributions each adjoint receives: the first defines it,
        // the others accumulate into it.
        let mut remaining: HashMap<VarId, usize> = HashMap::new();
        for stmt in &adjoint.stmts {
            match stmt {
                AdjStmt::Seed { target }
                | AdjStmt::Rule { target, .. }
                | AdjStmt::Pass { target, .. } => {
                    *remaining.entry(*target).or_default() += 1;
                }
                AdjStmt::CallPullback { targets, .. } => {
                    for target in targets.iter().flatten() {
                        *remaining.entry(*target).or_default() += 1;
                    }
                }
            }
        }
        let mut defined: HashMap<VarId, ()> = HashMap::new();
        let mut contribute =
            |this: &mut Self, tokens: &mut TokenStream, target: VarId, value: TokenStream| {
                let d = this.adjoint(target);
                if defined.insert(target, ()).is_none() {
                    let mutability = (remaining[&target] > 1).then(|| quote!(mut));
                    quote!(let #mutability #d = #value;).to_tokens(tokens);
                } else {
                    quote!(::autodiff::__private::rules::accumulate(&mut #d, #value);)
                        .to_tokens(tokens);
                }
            };

        // The index of the last reverse statement that reads each adjoint.
        let mut last_reader: HashMap<VarId, usize> = HashMap::new();
        for (index, stmt) in adjoint.stmts.iter().enumerate() {
            match stmt {
                AdjStmt::Rule { args, .. } => {
                    for arg in args {
                        if let RuleArg::Adjoint(var) = arg {
                            last_reader.insert(*var, index);
                        }
                    }
                }
                AdjStmt::Pass { source, .. } => {
                    last_reader.insert(*source, index);
                }
                AdjStmt::CallPullback { stmt, .. } => {
                    last_reader.insert(self.f.body[*stmt].def, index);
                }
                AdjStmt::Seed { .. } => {}
            }
        }
        // And of each forward value (the returned one is read at the very end).
        let mut last_primal_reader: HashMap<VarId, usize> = HashMap::new();
        for (index, stmt) in adjoint.stmts.iter().enumerate() {
            let reads: Vec<VarId> = match stmt {
                AdjStmt::Rule { args, .. } => args
                    .iter()
                    .filter_map(|arg| match arg {
                        RuleArg::Primal(Operand {
                            kind: OperandKind::Var(var),
                            ..
                        })
                        | RuleArg::Int(Operand {
                            kind: OperandKind::Var(var),
                            ..
                        })
                        | RuleArg::Output(var) => Some(*var),
                        _ => None,
                    })
                    .collect(),
                AdjStmt::CallPullback { stmt, .. } => match &self.f.body[*stmt].op {
                    Op::Call(call) => call
                        .args
                        .iter()
                        .filter_map(|arg| match arg.kind {
                            OperandKind::Var(var) => Some(var),
                            OperandKind::Const(_) => None,
                        })
                        .collect(),
                    _ => Vec::new(),
                },
                AdjStmt::Seed { .. } | AdjStmt::Pass { .. } => Vec::new(),
            };
            for var in reads {
                last_primal_reader.insert(var, index);
            }
        }
        if let OperandKind::Var(ret) = self.f.ret.kind {
            last_primal_reader.insert(ret, usize::MAX);
        }

        for (index, stmt) in adjoint.stmts.iter().enumerate() {
            match stmt {
                AdjStmt::Seed { target } => {
                    contribute(self, &mut tokens, *target, seed.to_token_stream())
                }
                AdjStmt::Pass { target, source } => {
                    let d = self.adjoint(*source);
                    contribute(self, &mut tokens, *target, d.into_token_stream());
                }
                AdjStmt::Rule {
                    target,
                    rule,
                    args,
                    span,
                } => {
                    // The last read of an array adjoint hands it over by value
                    // to a rule that can reuse its buffer (`sigmoid_pullback_into`).
                    let consumed = args.iter().find_map(|arg| match arg {
                        RuleArg::Adjoint(var)
                            if INTO_RULES.contains(&rule.as_str())
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
                            && *mode != Mode::Deref
                            && !self.f.vars[*var].scalar
                            && !self.f.vars[*var].by_ref
                            && !self.f.vars[*var].is_param
                            && last_primal_reader.get(var) == Some(&index) =>
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
                    contribute(self, &mut tokens, *target, value);
                }
                AdjStmt::CallPullback { stmt, targets } => {
                    let stmt = &self.f.body[*stmt];
                    let Op::Call(call) = &stmt.op else { continue };
                    let d = self.adjoint(stmt.def);
                    let args: Vec<TokenStream> =
                        call.args.iter().map(|arg| self.operand(arg)).collect();
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
                    .to_tokens(&mut tokens);
                    for (target, g, span) in received {
                        let value = quote_spanned!(span=> ::autodiff::__private::rules::callee_gradient(#g));
                        contribute(self, &mut tokens, target, value);
                    }
                }
            }
        }
        tokens
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

    /// An operand the forward sweep passes by value at statement `index`.
    ///
    /// A value that is not known to be a float (an array) and is still
    /// needed afterwards — by a later statement or by the reverse sweep — is
    /// borrowed (`&h - &y` instead of `h - y`) or, for a call, cloned, rather
    /// than moved. Floats are `Copy` and stay as written.
    fn moved(&self, operand: &Operand, index: usize, clone: bool) -> TokenStream {
        let tokens = self.operand(operand);
        let OperandKind::Var(var) = operand.kind else {
            return tokens;
        };
        let info = &self.f.vars[var];
        let needed = self.reverse_uses.contains(&var)
            || self
                .last_forward_use
                .get(&var)
                .is_some_and(|&last| last > index);
        if operand.mode != Mode::Value || info.scalar || info.by_ref || !needed {
            tokens
        } else if clone {
            quote!(::core::clone::Clone::clone(&#tokens))
        } else {
            quote!(&#tokens)
        }
    }

    fn op(&self, op: &Op, index: usize) -> TokenStream {
        match op {
            Op::Copy(x) => self.moved(x, index, true),
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
                recv,
                args,
                qualified,
                ..
            } => {
                let args: Vec<TokenStream> = args.iter().map(|arg| self.operand(arg)).collect();
                let recv_tokens = self.operand(recv);
                match qualified {
                    Some(path) => quote!(#path::#method(#recv_tokens, #(#args),*)),
                    None => match recv.kind {
                        OperandKind::Const(_) => quote!((#recv_tokens).#method(#(#args),*)),
                        OperandKind::Var(_) => quote!(#recv_tokens.#method(#(#args),*)),
                    },
                }
            }
            Op::Primitive { callee, args, .. } => {
                let args: Vec<TokenStream> = args
                    .iter()
                    .map(|arg| self.moved(arg, index, false))
                    .collect();
                quote!(#callee(#(#args),*))
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
                        quote!(#receiver.#method(#(#args),*))
                    }
                }
            }
            Op::Opaque(tokens) => tokens.clone(),
        }
    }
}

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
