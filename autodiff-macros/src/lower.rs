//! syn → IR: A-normal form with every intermediate named.
//!
//! Entry point: [`function`]. It walks the body once, in order, and decides for
//! every expression whether it depends on a differentiated parameter
//! ("varied"). What is not varied is kept as written ([`Op::Opaque`]): it costs
//! nothing in the reverse sweep and may use any Rust. What is varied must be
//! made of constructs with derivative rules; anything else is an error on its
//! smallest span, pushed into `cx`, and lowering goes on so that one compile
//! reports every problem.
//!
//! Local variables get names unique in the function; re-assignment and
//! shadowing define new variables, so the reverse sweep can still read every
//! value the forward sweep computed.

use crate::args::GradArgs;
use crate::diagnostics;
use crate::ir::{
    BinOp, Call, Callee, Function, MethodShape, Mode, Op, Operand, OperandKind, Param, Stmt,
    TypeClass, Var, VarId,
};
use crate::report::Errors;
use crate::rules;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use std::collections::{HashMap, HashSet};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, Ident, Pat, ReturnType, Signature, Type};

/// Names the generated functions reserve beside the user's.
pub struct Names {
    taken: HashSet<String>,
}

impl Names {
    /// `base` if free, else `base_1`, `base_2`, …
    pub fn fresh(&mut self, base: &str) -> String {
        // `r#match` becomes `match_`: generated names are never raw.
        let unraw;
        let base = match base.strip_prefix("r#") {
            Some(name) => {
                unraw = format!("{name}_");
                unraw.as_str()
            }
            None => base,
        };
        if self.taken.insert(base.to_owned()) {
            return base.to_owned();
        }
        (1..)
            .map(|n| format!("{base}_{n}"))
            .find(|name| self.taken.insert(name.clone()))
            .expect("an unbounded range always yields a free name")
    }
}

pub struct Lowered {
    pub function: Function,
    pub names: Names,
    /// The `self` receiver, if any.
    pub receiver: Option<syn::Receiver>,
}

pub fn function(cx: &mut Errors, sig: &Signature, block: &syn::Block, args: &GradArgs) -> Lowered {
    let mut lower = Lower {
        cx,
        vars: Vec::new(),
        body: Vec::new(),
        items: Vec::new(),
        scopes: vec![HashMap::new()],
        names: Names {
            taken: HashSet::new(),
        },
        temps: 0,
    };
    check_signature(lower.cx, sig);
    let (params, receiver) = lower.params(sig, args);
    reject_unsafe(lower.cx, block);
    let ret = lower.body(&block.stmts, sig);
    // The value returned reads as `y` in the generated code, if it is a
    // temporary.
    if let OperandKind::Var(var) = ret.kind
        && !lower.vars[var].is_param
        && lower.body.iter().any(|stmt| stmt.def == var)
        && is_temp(&lower.vars[var].name)
    {
        lower.vars[var].name = lower.names.fresh("y");
    }

    Lowered {
        function: Function {
            vars: lower.vars,
            params,
            items: lower.items,
            body: lower.body,
            ret,
        },
        names: lower.names,
        receiver,
    }
}

// Qualifiers the generated functions cannot carry over: an `async fn` returns a
// future, not a value to differentiate; `extern` and variadic functions have
// an ABI the adjoint cannot share (variadic functions are `extern` too); an `unsafe fn` body is unsafe code.
fn check_signature(cx: &mut Errors, sig: &Signature) {
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

// `unsafe` blocks are rejected wherever they are: the macro cannot tell what
// they read or write, so it could not promise a correct gradient.
fn reject_unsafe(cx: &mut Errors, block: &syn::Block) {
    struct FindUnsafe<'a> {
        cx: &'a mut Errors,
    }
    impl<'ast> Visit<'ast> for FindUnsafe<'_> {
        fn visit_expr_unsafe(&mut self, node: &'ast syn::ExprUnsafe) {
            self.cx
                .error(node.unsafe_token.span, diagnostics::unsafe_block());
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    FindUnsafe { cx }.visit_block(block);
}

pub fn classify(ty: &Type) -> (TypeClass, bool) {
    match ty {
        Type::Reference(reference) => {
            if reference.mutability.is_some() {
                (TypeClass::MutRef, true)
            } else {
                (classify(&reference.elem).0, true)
            }
        }
        Type::Paren(inner) => classify(&inner.elem),
        Type::Group(inner) => classify(&inner.elem),
        Type::Path(path) if path.qself.is_none() && is_array_type(&path.path) => {
            (TypeClass::Array, false)
        }
        Type::Path(path) if path.qself.is_none() => match path.path.get_ident() {
            Some(ident) => {
                let name = ident.to_string();
                let class = match name.as_str() {
                    "f32" | "f64" => TypeClass::Float,
                    "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32"
                    | "u64" | "u128" | "usize" | "bool" | "char" | "str" | "String" => {
                        TypeClass::Discrete
                    }
                    _ => TypeClass::Other,
                };
                (class, false)
            }
            None => (TypeClass::Other, false),
        },
        // `impl Trait`, `dyn Trait`, `fn(..)`, `!`, `_`: no gradient type.
        Type::TraitObject(_)
        | Type::ImplTrait(_)
        | Type::FnPtr(_)
        | Type::Ptr(_)
        | Type::Never(_)
        | Type::Infer(_)
        | Type::Macro(_)
        | Type::Verbatim(_) => (TypeClass::Discrete, false),
        _ => (TypeClass::Other, false),
    }
}

struct Lower<'a> {
    cx: &'a mut Errors,
    vars: Vec<Var>,
    body: Vec<Stmt>,
    items: Vec<syn::Item>,
    /// User name → the variable that name currently means, innermost last.
    scopes: Vec<HashMap<String, VarId>>,
    names: Names,
    temps: usize,
}

impl Lower<'_> {
    fn params(&mut self, sig: &Signature, args: &GradArgs) -> (Vec<Param>, Option<syn::Receiver>) {
        let mut params = Vec::new();
        let mut receiver = None;
        let mut rejected = false;
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(recv) => {
                    // `self` is a constant: differentiating wrt `self` needs
                    // parameter structs.
                    let var = self.new_var("self".to_owned(), recv.self_token.span, false, true);
                    self.vars[var].is_param = true;
                    self.bind("self", var);
                    receiver = Some(recv.clone());
                }
                FnArg::Typed(typed) => {
                    let ident = match &*typed.pat {
                        Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                            pat.ident.clone()
                        }
                        other => {
                            self.cx
                                .error_spanned(other, diagnostics::parameter_pattern());
                            rejected = true;
                            continue;
                        }
                    };
                    let (class, by_ref) = classify(&typed.ty);
                    let name = ident.to_string();
                    self.names.taken.insert(name.clone());
                    let var = self.new_var(name.clone(), ident.span(), false, by_ref);
                    self.vars[var].is_param = true;
                    self.bind(&name, var);
                    params.push(Param {
                        var,
                        ident,
                        ty: (*typed.ty).clone(),
                        class,
                        wrt: false,
                    });
                }
            }
        }
        match &args.wrt {
            // #[grad(wrt(x, w))]
            Some(names) => {
                for name in names {
                    let Some(param) = params.iter_mut().find(|param| param.ident == *name) else {
                        if name == "self" {
                            self.cx.error(name.span(), diagnostics::wrt_self());
                        } else {
                            self.cx.error(
                                name.span(),
                                diagnostics::wrt_not_a_parameter(name, &sig.ident),
                            );
                        }
                        continue;
                    };
                    match param.class {
                        TypeClass::Discrete => self.cx.error(
                            name.span(),
                            diagnostics::wrt_discrete(name, param.ty.to_token_stream()),
                        ),
                        TypeClass::MutRef => {
                            self.cx.error(name.span(), diagnostics::wrt_mut_ref(name))
                        }
                        TypeClass::Float | TypeClass::Array | TypeClass::Other => param.wrt = true,
                    }
                }
            }
            // #[grad]
            None => {
                for param in &mut params {
                    param.wrt = matches!(param.class, TypeClass::Float | TypeClass::Array);
                }
            }
        }
        if args.wrt.is_none() && !rejected && !params.iter().any(|param| param.wrt) {
            self.cx.error(
                sig.ident.span(),
                diagnostics::nothing_to_differentiate(&sig.ident),
            );
        }
        for param in &params {
            self.vars[param.var].varied = param.wrt;
            self.vars[param.var].scalar = param.class == TypeClass::Float;
        }
        (params, receiver)
    }

    fn new_var(&mut self, name: String, span: Span, varied: bool, by_ref: bool) -> VarId {
        self.vars.push(Var {
            name,
            span,
            varied,
            by_ref,
            scalar: false,
            is_param: false,
        });
        self.vars.len() - 1
    }

    fn bind(&mut self, name: &str, var: VarId) {
        self.scopes
            .last_mut()
            .expect("there is always a scope")
            .insert(name.to_owned(), var);
    }

    fn lookup(&self, name: &str) -> Option<VarId> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).copied())
    }

    /// Rebinds `name` where it is bound (an assignment in a nested block
    /// changes the outer variable).
    fn rebind(&mut self, name: &str, var: VarId) {
        if let Some(scope) = self
            .scopes
            .iter_mut()
            .rev()
            .find(|scope| scope.contains_key(name))
        {
            scope.insert(name.to_owned(), var);
        }
    }

    fn push(&mut self, def: VarId, op: Op, ty: Option<Type>, span: Span) {
        self.body.push(Stmt { def, op, ty, span });
    }

    /// Defines a new variable holding `op`; `name` is the user's, or `None`
    /// for a temporary.
    fn define(&mut self, name: Option<&str>, op: Op, ty: Option<Type>, span: Span) -> VarId {
        let varied = self.op_varied(&op);
        let by_ref = matches!(&op, Op::Copy(operand) if operand.mode == Mode::Borrow
            || matches!(operand.kind, OperandKind::Var(v) if self.vars[v].by_ref && operand.mode == Mode::Value));
        let emitted = match name {
            // `let _ = …`, a statement macro: never read, so never named.
            Some("_") => "_".to_owned(),
            Some(name) => self.names.fresh(name),
            None => loop {
                let candidate = format!("t{}", self.temps);
                self.temps += 1;
                if self.names.taken.insert(candidate.clone()) {
                    break candidate;
                }
            },
        };
        let scalar = self.op_scalar(&op);
        let var = self.new_var(emitted, span, varied, by_ref);
        self.vars[var].scalar = scalar;
        self.push(var, op, ty, span);
        var
    }

    fn operand_varied(&self, operand: &Operand) -> bool {
        match operand.kind {
            OperandKind::Var(var) => self.vars[var].varied,
            OperandKind::Const(_) => false,
        }
    }

    fn operand_scalar(&self, operand: &Operand) -> bool {
        match &operand.kind {
            OperandKind::Var(var) => self.vars[*var].scalar,
            OperandKind::Const(tokens) => {
                syn::parse2::<syn::LitFloat>(tokens.clone()).is_ok()
                    || syn::parse2::<syn::LitInt>(tokens.clone()).is_ok()
            }
        }
    }

    /// Whether `op`'s value is known to be a float (see [`Var::scalar`]).
    fn op_scalar(&self, op: &Op) -> bool {
        match op {
            Op::Copy(x) | Op::Neg(x) => self.operand_scalar(x),
            Op::Binary(_, a, b) => self.operand_scalar(a) && self.operand_scalar(b),
            Op::Method { rule, recv, .. } => match rule.shape {
                MethodShape::Reduce => rule.rule == "sum",
                MethodShape::Bilinear => false,
                _ => self.operand_scalar(recv),
            },
            Op::Primitive { rule, args, .. } => match rule.rule {
                "sum" | "mean" | "norm" | "norm_sq" | "dot" => true,
                "matmul" | "transpose" => false,
                _ => args.iter().all(|arg| self.operand_scalar(arg)),
            },
            Op::Call(_) | Op::Opaque(_) => false,
        }
    }

    fn op_varied(&self, op: &Op) -> bool {
        match op {
            Op::Copy(x) | Op::Neg(x) => self.operand_varied(x),
            Op::Binary(_, a, b) => self.operand_varied(a) || self.operand_varied(b),
            Op::Method {
                rule, recv, args, ..
            } => {
                self.operand_varied(recv)
                    || (rule.shape != MethodShape::Powi
                        && args.iter().any(|arg| self.operand_varied(arg)))
            }
            Op::Primitive { args, .. } => args.iter().any(|arg| self.operand_varied(arg)),
            Op::Call(call) => call.args.iter().any(|arg| self.operand_varied(arg)),
            Op::Opaque(_) => false,
        }
    }

    // Input:  the statements of the body
    // Output: the operand it returns (its tail, or a final `return`)
    fn body(&mut self, stmts: &[syn::Stmt], sig: &Signature) -> Operand {
        match self.block(stmts, true) {
            Some(ret) => ret,
            None => {
                if !matches!(sig.output, ReturnType::Default) {
                    let span = stmts.last().map_or(sig.ident.span(), Spanned::span);
                    self.cx.error(span, diagnostics::missing_tail());
                }
                dummy(sig.ident.span())
            }
        }
    }

    /// Lowers a block's statements; returns its tail value.
    fn block(&mut self, stmts: &[syn::Stmt], is_fn_body: bool) -> Option<Operand> {
        let mut tail = None;
        for (index, stmt) in stmts.iter().enumerate() {
            let last = index + 1 == stmts.len();
            match stmt {
                syn::Stmt::Local(local) => self.local(local),
                syn::Stmt::Item(item) => self.items.push(item.clone()),
                syn::Stmt::Macro(mac) => {
                    // A statement macro (`println!`, `assert!`) produces no
                    // value: it runs in the forward sweep as written.
                    let tokens = rename_tokens(self, mac.mac.to_token_stream());
                    self.define(Some("_"), Op::Opaque(tokens), None, mac.span());
                }
                // A lone `;`.
                syn::Stmt::Expr(Expr::Verbatim(tokens), _) if tokens.is_empty() => {}
                syn::Stmt::Expr(Expr::Return(ret), _) => {
                    if !(last && is_fn_body) {
                        self.cx
                            .error(ret.return_token.span, diagnostics::early_return());
                        continue;
                    }
                    tail = Some(match &ret.expr {
                        Some(expr) => self.operand(expr),
                        None => {
                            self.cx
                                .error(ret.return_token.span, diagnostics::return_without_value());
                            dummy(ret.return_token.span)
                        }
                    });
                }
                syn::Stmt::Expr(expr, None) if last => tail = Some(self.operand(expr)),
                // `y;` at the end of the body: `missing_tail` says it.
                syn::Stmt::Expr(expr, Some(_))
                    if last
                        && is_fn_body
                        && !matches!(expr, Expr::Assign(_) | Expr::Binary(_))
                        && self.varied(expr) => {}
                syn::Stmt::Expr(expr, _) => self.expr_stmt(expr),
            }
        }
        tail
    }

    // Input:  let x: T = a * b;
    // Output: Stmt { def: x, op: Binary(Mul, a, b), ty: Some(T) }
    fn local(&mut self, local: &syn::Local) {
        let Some(init) = &local.init else {
            self.cx
                .error_spanned(&local.pat, diagnostics::let_without_value());
            // Bind the names anyway, so that their later uses report nothing more.
            let mut names = Vec::new();
            collect_pat_names(&local.pat, &mut names);
            for name in names {
                let emitted = self.names.fresh(&name);
                let var = self.new_var(emitted, local.pat.span(), false, false);
                self.bind(&name, var);
            }
            return;
        };
        if let Some((else_token, _)) = &init.diverge {
            self.cx.error(else_token.span, diagnostics::let_else());
            return;
        }
        let (pat, ty) = match &local.pat {
            Pat::Type(typed) => (&*typed.pat, Some((*typed.ty).clone())),
            pat => (pat, None),
        };
        match pat {
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                let op = self.op(&init.expr);
                let name = ident.ident.to_string();
                let var = self.define(Some(&name), op, ty, ident.ident.span());
                self.bind(&name, var);
            }
            Pat::Wild(wild) => {
                let op = self.op(&init.expr);
                self.define(Some("_"), op, ty, wild.underscore_token.span);
            }
            other => self
                .cx
                .error_spanned(other, diagnostics::destructuring_let()),
        }
    }

    fn expr_stmt(&mut self, expr: &Expr) {
        match expr {
            // x = e;
            Expr::Assign(assign) => {
                let Some(name) = local_name(&assign.left) else {
                    self.unsupported_place(&assign.left);
                    return;
                };
                let Some(_) = self.lookup(&name) else {
                    self.cx
                        .error(assign.left.span(), diagnostics::assign_to_non_local(&name));
                    return;
                };
                let old = self.lookup(&name).expect("checked above");
                let op = match self.op(&assign.right) {
                    // `x = 0.5`: a constant has no type of its own here; the
                    // new variable takes the type of the one it replaces.
                    Op::Copy(Operand {
                        kind: OperandKind::Const(tokens),
                        mode,
                        ..
                    }) => {
                        let previous = self.var_reference_tokens(old);
                        let value = match mode {
                            Mode::Value => tokens,
                            Mode::Borrow => quote!(&#tokens),
                            Mode::Deref => quote!(*#tokens),
                        };
                        Op::Opaque(
                            quote!(::autodiff::__private::rules::same_type(#previous, #value)),
                        )
                    }
                    Op::Opaque(tokens) => {
                        let previous = self.var_reference_tokens(old);
                        Op::Opaque(
                            quote!(::autodiff::__private::rules::same_type(#previous, #tokens)),
                        )
                    }
                    op => op,
                };
                let var = self.define(Some(&name), op, None, assign.left.span());
                self.rebind(&name, var);
            }
            // x += e;  x -= e;  x *= e;  x /= e;
            Expr::Binary(binary) if compound_op(&binary.op).is_some() => {
                let op = compound_op(&binary.op).expect("checked by the guard");
                let Some(name) = local_name(&binary.left) else {
                    self.unsupported_place(&binary.left);
                    return;
                };
                let Some(old) = self.lookup(&name) else {
                    self.cx
                        .error(binary.left.span(), diagnostics::assign_to_non_local(&name));
                    return;
                };
                let lhs = Operand {
                    kind: OperandKind::Var(old),
                    mode: Mode::Value,
                    span: binary.left.span(),
                };
                let rhs = self.operand(&binary.right);
                let op = if self.operand_varied(&lhs) || self.operand_varied(&rhs) {
                    Op::Binary(op, lhs, rhs)
                } else {
                    Op::Opaque(self.rename(&Expr::Binary(syn::ExprBinary {
                        attrs: Vec::new(),
                        left: binary.left.clone(),
                        op: plain_op(op, binary.op.span()),
                        right: binary.right.clone(),
                    })))
                };
                let var = self.define(Some(&name), op, None, binary.left.span());
                self.rebind(&name, var);
            }
            Expr::Binary(binary) if is_other_compound(&binary.op) => {
                if self.varied(expr) {
                    self.cx.error_spanned(
                        binary.op,
                        diagnostics::no_operator_rule(binary.op.to_token_stream()),
                    );
                } else {
                    self.cx.error_spanned(
                        binary.op,
                        diagnostics::unsupported_compound(binary.op.to_token_stream()),
                    );
                }
            }
            Expr::If(_) | Expr::Match(_) | Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.control_flow(expr);
            }
            _ => {
                if self.varied(expr) {
                    self.cx.error_spanned(expr, diagnostics::dropped_value());
                    return;
                }
                let tokens = self.rename(expr);
                self.define(Some("_"), Op::Opaque(tokens), None, expr.span());
            }
        }
    }

    fn unsupported_place(&mut self, place: &Expr) {
        let what = match place {
            Expr::Index(_) => diagnostics::assign_to_element(),
            Expr::Field(_) => diagnostics::assign_to_field(),
            Expr::Unary(_) => diagnostics::assign_through_reference(),
            _ => diagnostics::assign_to_other(),
        };
        self.cx.error_spanned(place, what);
    }

    fn control_flow(&mut self, expr: &Expr) {
        let (span, what) = match expr {
            Expr::If(e) => (e.if_token.span, "`if`"),
            Expr::Match(e) => (e.match_token.span, "`match`"),
            Expr::ForLoop(e) => (e.for_token.span, "`for` loop"),
            Expr::While(e) => (e.while_token.span, "`while` loop"),
            Expr::Loop(e) => (e.loop_token.span, "`loop`"),
            _ => (expr.span(), "control flow"),
        };
        if self.varied(expr) {
            self.cx.error(span, diagnostics::control_flow(what));
        } else {
            self.cx
                .error(span, diagnostics::control_flow_statement(what));
        }
    }

    /// Lowers `expr` to an operand: a variable or a constant.
    fn operand(&mut self, expr: &Expr) -> Operand {
        let span = expr.span();
        match expr {
            Expr::Paren(inner) => self.operand(&inner.expr),
            Expr::Group(inner) => self.operand(&inner.expr),
            Expr::Lit(lit) => Operand {
                kind: OperandKind::Const(lit.to_token_stream()),
                mode: Mode::Value,
                span,
            },
            Expr::Path(path) => match path_local(path).and_then(|name| self.lookup(&name)) {
                Some(var) => Operand {
                    kind: OperandKind::Var(var),
                    mode: Mode::Value,
                    span,
                },
                // A constant, a static or a unit struct: as written.
                None => Operand {
                    kind: OperandKind::Const(path.to_token_stream()),
                    mode: Mode::Value,
                    span,
                },
            },
            // &x
            Expr::Reference(reference) if reference.mutability.is_none() => {
                let mut inner = self.operand(&reference.expr);
                if inner.mode != Mode::Value {
                    let op = Op::Copy(inner);
                    let var = self.define(None, op, None, span);
                    inner = Operand {
                        kind: OperandKind::Var(var),
                        mode: Mode::Value,
                        span,
                    };
                }
                Operand {
                    mode: Mode::Borrow,
                    span,
                    ..inner
                }
            }
            // *x
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => {
                let mut inner = self.operand(&unary.expr);
                if inner.mode != Mode::Value {
                    let op = Op::Copy(inner);
                    let var = self.define(None, op, None, span);
                    inner = Operand {
                        kind: OperandKind::Var(var),
                        mode: Mode::Value,
                        span,
                    };
                }
                Operand {
                    mode: Mode::Deref,
                    span,
                    ..inner
                }
            }
            _ => {
                let op = self.op(expr);
                let var = self.define(None, op, None, span);
                Operand {
                    kind: OperandKind::Var(var),
                    mode: Mode::Value,
                    span,
                }
            }
        }
    }

    /// Lowers `expr` to the operation that computes it.
    fn op(&mut self, expr: &Expr) -> Op {
        if !self.varied(expr) {
            return match expr {
                Expr::Lit(_)
                | Expr::Path(_)
                | Expr::Paren(_)
                | Expr::Group(_)
                | Expr::Reference(syn::ExprReference {
                    mutability: None, ..
                }) => Op::Copy(self.operand(expr)),
                Expr::Block(block) if block.label.is_none() => self.block_expr(block),
                _ => Op::Opaque(self.rename(expr)),
            };
        }
        match expr {
            Expr::Paren(inner) => self.op(&inner.expr),
            Expr::Group(inner) => self.op(&inner.expr),
            Expr::Reference(reference) if reference.mutability.is_some() => {
                self.cx
                    .error_spanned(reference, diagnostics::assign_through_reference());
                Op::Opaque(TokenStream::new())
            }
            Expr::Lit(_)
            | Expr::Path(_)
            | Expr::Reference(syn::ExprReference {
                mutability: None, ..
            }) => Op::Copy(self.operand(expr)),
            Expr::Unary(unary) => match unary.op {
                syn::UnOp::Neg(_) => Op::Neg(self.operand(&unary.expr)),
                syn::UnOp::Deref(_) => Op::Copy(self.operand(expr)),
                _ => {
                    self.cx.error(
                        unary.op.span(),
                        diagnostics::no_operator_rule(unary.op.to_token_stream()),
                    );
                    Op::Opaque(TokenStream::new())
                }
            },
            Expr::Binary(binary) => self.binary(binary),
            Expr::MethodCall(call) => self.method_call(call),
            Expr::Call(call) => self.call(call),
            Expr::Block(block) if block.label.is_none() => self.block_expr(block),
            Expr::Cast(cast) => {
                self.cx.error(cast.as_token.span, diagnostics::cast());
                Op::Opaque(TokenStream::new())
            }
            Expr::If(_) | Expr::Match(_) | Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
                self.control_flow(expr);
                Op::Opaque(TokenStream::new())
            }
            Expr::Return(ret) => {
                self.cx
                    .error(ret.return_token.span, diagnostics::early_return());
                Op::Opaque(TokenStream::new())
            }
            Expr::Closure(closure) => {
                self.cx
                    .error(closure.inputs_begin.span, diagnostics::closure());
                Op::Opaque(TokenStream::new())
            }
            Expr::Macro(mac) => {
                let name = mac
                    .mac
                    .path
                    .segments
                    .last()
                    .map_or_else(String::new, |s| s.ident.to_string());
                self.cx
                    .error(mac.mac.path.span(), diagnostics::macro_call(&name));
                Op::Opaque(TokenStream::new())
            }
            Expr::Index(index) => {
                self.cx
                    .error(index.bracket_token.span.join(), diagnostics::index());
                Op::Opaque(TokenStream::new())
            }
            Expr::Field(field) => {
                self.cx.error(field.member.span(), diagnostics::field());
                Op::Opaque(TokenStream::new())
            }
            Expr::Unsafe(_) => Op::Opaque(TokenStream::new()), // reported by `reject_unsafe`
            Expr::Tuple(_) | Expr::Array(_) | Expr::Repeat(_) | Expr::Struct(_) => {
                self.cx.error(expr.span(), diagnostics::aggregate());
                Op::Opaque(TokenStream::new())
            }
            Expr::Try(t) => {
                self.cx
                    .error(t.question_token.span, diagnostics::try_operator());
                Op::Opaque(TokenStream::new())
            }
            _ => {
                self.cx.error_spanned(expr, diagnostics::other_expression());
                Op::Opaque(TokenStream::new())
            }
        }
    }

    fn block_expr(&mut self, block: &syn::ExprBlock) -> Op {
        self.scopes.push(HashMap::new());
        let tail = self.block(&block.block.stmts, false);
        self.scopes.pop();
        match tail {
            Some(tail) => Op::Copy(tail),
            None => {
                self.cx.error(
                    block.block.brace_token.span.join(),
                    diagnostics::block_without_value(),
                );
                Op::Opaque(TokenStream::new())
            }
        }
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> Op {
        let op = match binary.op {
            syn::BinOp::Add(_) => BinOp::Add,
            syn::BinOp::Sub(_) => BinOp::Sub,
            syn::BinOp::Mul(_) => BinOp::Mul,
            syn::BinOp::Div(_) => BinOp::Div,
            // Comparisons give a `bool`, which carries no derivative.
            syn::BinOp::Eq(_)
            | syn::BinOp::Ne(_)
            | syn::BinOp::Lt(_)
            | syn::BinOp::Le(_)
            | syn::BinOp::Gt(_)
            | syn::BinOp::Ge(_) => {
                return Op::Opaque(self.rename(&Expr::Binary(binary.clone())));
            }
            ref other => {
                let message = if compound_op(other).is_some() || is_other_compound(other) {
                    diagnostics::compound_in_expression(other.to_token_stream())
                } else {
                    diagnostics::no_operator_rule(other.to_token_stream())
                };
                self.cx.error(other.span(), message);
                return Op::Opaque(TokenStream::new());
            }
        };
        let lhs = self.operand(&binary.left);
        let rhs = self.operand(&binary.right);
        Op::Binary(op, lhs, rhs)
    }

    // Input:  x.powf(p)          f64::powf(x, p)
    // Output: Op::Method { method: powf, recv: x, args: [p] }
    fn method_call(&mut self, call: &syn::ExprMethodCall) -> Op {
        let name = call.method.to_string();
        if name == "clone" && call.args.is_empty() {
            return Op::Copy(self.operand(&call.receiver));
        }
        if let Some(rule) = rules::method(&name) {
            let args: Vec<&Expr> = call.args.iter().collect();
            return self.float_method(rule, &call.method, &call.receiver, &args, None);
        }
        let receiver_is_self = matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("self"));
        if receiver_is_self && !self.varied(&call.receiver) {
            // self.helper(x): a `#[grad]` method of the same type.
            let args = call.args.iter().map(|arg| self.operand(arg)).collect();
            return Op::Call(Call {
                callee: Callee::SelfMethod {
                    receiver: call.receiver.to_token_stream(),
                    method: call.method.clone(),
                },
                args,
            });
        }
        self.cx.error(
            call.method.span(),
            diagnostics::no_method_rule(&name, rules::method_list()),
        );
        Op::Opaque(TokenStream::new())
    }

    fn float_method(
        &mut self,
        rule: &'static crate::ir::MethodRule,
        method: &Ident,
        receiver: &Expr,
        args: &[&Expr],
        qualified: Option<TokenStream>,
    ) -> Op {
        let arity = rule.shape.arity();
        if args.len() != arity {
            let plural = if arity == 1 { "" } else { "s" };
            self.cx.error(
                method.span(),
                diagnostics::method_arity(rule.name, arity, plural),
            );
            return Op::Opaque(TokenStream::new());
        }
        if rule.shape == MethodShape::Powi && self.varied(args[0]) {
            self.cx.error(args[0].span(), diagnostics::powi_exponent());
            return Op::Opaque(TokenStream::new());
        }
        let recv = self.operand(receiver);
        let args = args.iter().map(|arg| self.operand(arg)).collect();
        Op::Method {
            method: method.clone(),
            rule,
            recv,
            args,
            qualified,
        }
    }

    fn call(&mut self, call: &syn::ExprCall) -> Op {
        let Expr::Path(func) = &*call.func else {
            self.cx
                .error_spanned(&call.func, diagnostics::call_not_a_path());
            return Op::Opaque(TokenStream::new());
        };
        if func.qself.is_some() {
            self.cx
                .error_spanned(func, diagnostics::qualified_self_call());
            return Op::Opaque(TokenStream::new());
        }
        let path = &func.path;
        let Some(last) = path.segments.last() else {
            return Op::Opaque(TokenStream::new());
        };
        let name = last.ident.to_string();
        let args: Vec<&Expr> = call.args.iter().collect();

        // f64::exp(x), f32::powf(x, p)
        if path.segments.len() == 2 && path.leading_colon.is_none() {
            let first = path.segments[0].ident.to_string();
            if first == "f32" || first == "f64" {
                // A call without arguments reads nothing differentiated, so it
                // never reaches here: `args` has the receiver.
                if let Some(rule) = rules::method(&name)
                    && let Some((receiver, rest)) = args.split_first()
                {
                    let qualified = path.segments[0].to_token_stream();
                    return self.float_method(rule, &last.ident, receiver, rest, Some(qualified));
                }
                self.cx.error(
                    last.ident.span(),
                    diagnostics::qualified_no_rule(&first, &name, rules::method_list()),
                );
                return Op::Opaque(TokenStream::new());
            }
        }

        // sigmoid(x), autodiff::relu(x)
        if let Some(rule) = rules::primitive(&name)
            && is_runtime_path(path)
        {
            let arity = rule.shape.arity() + 1;
            if args.len() != arity {
                let plural = if arity == 1 { "" } else { "s" };
                self.cx.error(
                    last.ident.span(),
                    diagnostics::primitive_arity(&name, arity, plural),
                );
                return Op::Opaque(TokenStream::new());
            }
            let args = args.iter().map(|arg| self.operand(arg)).collect();
            return Op::Primitive {
                rule,
                callee: func.to_token_stream(),
                args,
            };
        }

        // foo(x): another `#[grad]` function, through its pullback.
        let args = args.iter().map(|arg| self.operand(arg)).collect();
        Op::Call(Call {
            callee: Callee::Path(path.clone()),
            args,
        })
    }

    /// Whether `expr` reads a differentiated variable.
    fn varied(&self, expr: &Expr) -> bool {
        struct Find<'a, 'b> {
            lower: &'a Lower<'b>,
            found: bool,
        }
        impl<'ast> Visit<'ast> for Find<'_, '_> {
            fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
                if let Some(var) = path_local(node).and_then(|name| self.lower.lookup(&name)) {
                    self.found |= self.lower.vars[var].varied;
                }
            }
            fn visit_macro(&mut self, node: &'ast syn::Macro) {
                self.found |= self.lower.tokens_varied(node.tokens.clone());
            }
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        let mut find = Find {
            lower: self,
            found: false,
        };
        find.visit_expr(expr);
        find.found
    }

    fn tokens_varied(&self, tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => self
                .lookup(&ident.to_string())
                .is_some_and(|var| self.vars[var].varied),
            TokenTree::Group(group) => self.tokens_varied(group.stream()),
            _ => false,
        })
    }

    /// `&v`, for `rules::same_type`.
    fn var_reference_tokens(&self, var: VarId) -> TokenStream {
        let ident = self.var_ident(var);
        quote!(&#ident)
    }

    /// The ident the generated code uses for a variable.
    pub fn var_ident(&self, var: VarId) -> Ident {
        var_ident(&self.vars[var])
    }

    /// `expr` with every local variable renamed to the generated name it has
    /// now.
    fn rename(&self, expr: &Expr) -> TokenStream {
        let mut expr = expr.clone();
        Rename {
            lower: self,
            shadowed: Vec::new(),
        }
        .visit_expr_mut(&mut expr);
        expr.to_token_stream()
    }
}

pub fn var_ident(var: &Var) -> Ident {
    // Parameters keep the user's identifier (and `self` stays `self`); the
    // variables the macro names are invisible to user code.
    let span = if var.is_param {
        var.span
    } else {
        Span::mixed_site()
    };
    match var.name.strip_prefix("r#") {
        Some(name) => Ident::new_raw(name, span),
        None => Ident::new(&var.name, span),
    }
}

struct Rename<'a, 'b> {
    lower: &'a Lower<'b>,
    /// Names bound by closures inside the expression, which shadow locals.
    shadowed: Vec<String>,
}

impl VisitMut for Rename<'_, '_> {
    fn visit_expr_path_mut(&mut self, node: &mut syn::ExprPath) {
        let Some(name) = path_local(node) else { return };
        if self.shadowed.contains(&name) {
            return;
        }
        if let Some(var) = self.lower.lookup(&name) {
            let mut ident = self.lower.var_ident(var);
            if self.lower.vars[var].is_param {
                ident.set_span(node.path.segments[0].ident.span());
            }
            node.path.segments[0].ident = ident;
        }
    }
    fn visit_expr_closure_mut(&mut self, node: &mut syn::ExprClosure) {
        let before = self.shadowed.len();
        for input in &node.inputs {
            collect_pat_names(input, &mut self.shadowed);
        }
        self.visit_expr_mut(&mut node.body);
        self.shadowed.truncate(before);
    }
    fn visit_macro_mut(&mut self, node: &mut syn::Macro) {
        node.tokens = rename_tokens(self.lower, node.tokens.clone());
    }
    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

fn rename_tokens(lower: &Lower, tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Ident(ident) => match lower.lookup(&ident.to_string()) {
                Some(var) if !lower.vars[var].is_param => TokenTree::Ident(lower.var_ident(var)),
                _ => TokenTree::Ident(ident),
            },
            TokenTree::Group(group) => {
                let mut renamed = proc_macro2::Group::new(
                    group.delimiter(),
                    rename_tokens(lower, group.stream()),
                );
                renamed.set_span(group.span());
                TokenTree::Group(renamed)
            }
            other => other,
        })
        .collect()
}

fn collect_pat_names(pat: &Pat, names: &mut Vec<String>) {
    struct Collect<'a>(&'a mut Vec<String>);
    impl<'ast> Visit<'ast> for Collect<'_> {
        fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
            self.0.push(node.ident.to_string());
        }
    }
    Collect(names).visit_pat(pat);
}

/// `x` in `x`, if it can name a local variable.
fn path_local(path: &syn::ExprPath) -> Option<String> {
    if path.qself.is_some() || path.path.leading_colon.is_some() || path.path.segments.len() != 1 {
        return None;
    }
    let segment = &path.path.segments[0];
    if !segment.arguments.is_none() {
        return None;
    }
    Some(segment.ident.to_string())
}

fn local_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(path) => path_local(path),
        Expr::Paren(inner) => local_name(&inner.expr),
        _ => None,
    }
}

fn compound_op(op: &syn::BinOp) -> Option<BinOp> {
    match op {
        syn::BinOp::AddAssign(_) => Some(BinOp::Add),
        syn::BinOp::SubAssign(_) => Some(BinOp::Sub),
        syn::BinOp::MulAssign(_) => Some(BinOp::Mul),
        syn::BinOp::DivAssign(_) => Some(BinOp::Div),
        _ => None,
    }
}

fn is_other_compound(op: &syn::BinOp) -> bool {
    matches!(
        op,
        syn::BinOp::RemAssign(_)
            | syn::BinOp::BitXorAssign(_)
            | syn::BinOp::BitAndAssign(_)
            | syn::BinOp::BitOrAssign(_)
            | syn::BinOp::ShlAssign(_)
            | syn::BinOp::ShrAssign(_)
    )
}

fn plain_op(op: BinOp, span: Span) -> syn::BinOp {
    match op {
        BinOp::Add => syn::BinOp::Add(syn::Token![+](span)),
        BinOp::Sub => syn::BinOp::Sub(syn::Token![-](span)),
        BinOp::Mul => syn::BinOp::Mul(syn::Token![*](span)),
        BinOp::Div => syn::BinOp::Div(syn::Token![/](span)),
    }
}

/// `sigmoid`, `autodiff::sigmoid`, `::autodiff::sigmoid`,
/// `autodiff_runtime::sigmoid`: a runtime primitive, not a user function of
/// the same name in another module.
fn is_runtime_path(path: &syn::Path) -> bool {
    match path.segments.len() {
        1 => path.leading_colon.is_none(),
        2 => {
            let krate = path.segments[0].ident.to_string();
            krate == "autodiff" || krate == "autodiff_runtime"
        }
        _ => false,
    }
}

/// `Array2<f64>`, `ndarray::ArrayView1<'_, f32>`, `ArrayBase<S, D>`: the
/// differentiable ndarray types (not `ArrayViewMut`).
fn is_array_type(path: &syn::Path) -> bool {
    path.segments.last().is_some_and(|segment| {
        let name = segment.ident.to_string();
        let rest = name
            .strip_prefix("ArrayView")
            .or_else(|| name.strip_prefix("ArcArray"))
            .or_else(|| name.strip_prefix("CowArray"))
            .or_else(|| name.strip_prefix("Array"));
        name == "ArrayBase"
            || rest.is_some_and(|rest| {
                rest.is_empty()
                    || rest == "D"
                    || (rest.len() == 1 && rest.as_bytes()[0].is_ascii_digit())
            })
    })
}

fn is_temp(name: &str) -> bool {
    name.strip_prefix('t')
        .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit()))
}

fn dummy(span: Span) -> Operand {
    Operand {
        kind: OperandKind::Const(quote!(0.0)),
        mode: Mode::Value,
        span,
    }
}
