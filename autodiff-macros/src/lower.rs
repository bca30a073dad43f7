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

use crate::diagnostics;
use crate::front::Front;
use crate::ir::{
    BinOp, Block, BlockId, Call, Callee, Carried, End, Function, If, Loop, LoopKind, MethodShape,
    Mode, Node, Op, Operand, OperandKind, Param, Stmt, TypeClass, Var, VarId,
};
use crate::report::Errors;
use crate::rules;
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{ToTokens, quote};
use std::collections::{HashMap, HashSet};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, Pat, ReturnType, Signature, Type};

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
}

pub fn function(cx: &mut Errors, sig: &Signature, block: &syn::Block, front: &Front) -> Lowered {
    let mut lower = Lower {
        cx,
        structs: HashSet::new(),
        vars: Vec::new(),
        stmts: Vec::new(),
        cur: Vec::new(),
        loops: Vec::new(),
        items: Vec::new(),
        scopes: vec![HashMap::new()],
        names: Names {
            taken: HashSet::new(),
        },
        temps: 0,
        declared: HashMap::new(),
    };
    let params = lower.params(sig, front);
    reject_unsafe(lower.cx, block);
    let block = returns_in_loops(block, sig);
    let ret = lower.body(&block.stmts, sig);
    // The value returned reads as `y` in the generated code, if it is a
    // temporary.
    if let OperandKind::Var(var) = ret.kind
        && !lower.vars[var].is_param
        && lower.stmts.iter().any(|stmt| stmt.def == var)
        && is_temp(&lower.vars[var].name)
    {
        lower.vars[var].name = lower.names.fresh("y");
    }

    let mut body = Block {
        id: 0,
        nodes: lower.cur,
        end: End::Merge,
    };
    number_blocks(&mut body, &mut 0);
    let mut function = Function {
        vars: lower.vars,
        params,
        items: lower.items,
        stmts: lower.stmts,
        body,
        ret,
    };
    facts(&mut function);
    Lowered {
        function,
        names: lower.names,
    }
}

/// Fills in what each statement reads, and for opaque expressions whether
/// they are pure and whether they are an offset `v ± k` ([`Stmt::reads`],
/// [`Stmt::pure`], [`Stmt::offset`]): after lowering, when every variable
/// written in place is known, so that no later phase parses syn again.
/// Run again after a pass that changes statements.
pub fn facts(f: &mut Function) {
    // What an effectful opaque statement names (`w.push(x)`, `f(&mut w)`)
    // may change, beyond the element writes `lower` saw: an expression that
    // reads it is not computed again either.
    let mut touched: Vec<VarId> = Vec::new();
    for stmt in &f.stmts {
        if let Op::Opaque(tokens) = &stmt.op
            && let Ok(expr) = syn::parse2::<Expr>(tokens.clone())
            && !pure(f, &expr)
        {
            // (Parameters cannot change: the generated functions bind them
            // without `mut`.)
            touched.extend(
                changed_names(&expr)
                    .iter()
                    .filter_map(|name| f.vars.iter().position(|var| &var.name == name))
                    .filter(|&var| !f.vars[var].is_param),
            );
        }
    }
    for var in touched {
        f.vars[var].touched = true;
        f.vars[var].mutated = true;
    }
    for id in 0..f.stmts.len() {
        let (reads, pure, offset) = match &f.stmts[id].op {
            Op::Opaque(tokens) => {
                let mut reads = Vec::new();
                opaque_reads(f, tokens.clone(), &mut reads);
                let expr = syn::parse2::<Expr>(tokens.clone()).ok();
                let pure = expr.as_ref().is_some_and(|expr| pure(f, expr));
                let offset = expr.as_ref().and_then(|expr| offset(f, expr));
                (reads, pure, offset)
            }
            op => (
                crate::analyse::operands(op)
                    .into_iter()
                    .filter_map(|operand| match operand.kind {
                        OperandKind::Var(var) => Some(var),
                        OperandKind::Const(_) => None,
                    })
                    .collect(),
                false,
                None,
            ),
        };
        let stmt = &mut f.stmts[id];
        stmt.reads = reads;
        stmt.pure = pure;
        stmt.offset = offset;
    }
}

/// The locals an effectful expression may change: receivers of method calls
/// (`w.push(x)`) and what it borrows mutably (`f(&mut w)`).
fn changed_names(expr: &Expr) -> Vec<String> {
    struct Find(Vec<String>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
            if let Expr::Path(path) = &*call.receiver
                && let Some(ident) = path.path.get_ident()
            {
                self.0.push(ident.to_string());
            }
            syn::visit::visit_expr_method_call(self, call);
        }
        fn visit_expr_reference(&mut self, reference: &'ast syn::ExprReference) {
            if reference.mutability.is_some()
                && let Expr::Path(path) = &*reference.expr
                && let Some(ident) = path.path.get_ident()
            {
                self.0.push(ident.to_string());
            }
            syn::visit::visit_expr_reference(self, reference);
        }
    }
    let mut find = Find(Vec::new());
    find.visit_expr(expr);
    find.0
}

/// `v + k` or `v - k`, `v` a variable and `k` an integer literal.
fn offset(f: &Function, expr: &Expr) -> Option<crate::ir::Offset> {
    let Expr::Binary(sum) = expr else { return None };
    let add = match sum.op {
        syn::BinOp::Add(_) => true,
        syn::BinOp::Sub(_) => false,
        _ => return None,
    };
    let (Expr::Path(path), Expr::Lit(lit)) = (&*sum.left, &*sum.right) else {
        return None;
    };
    let syn::Lit::Int(step) = &lit.lit else {
        return None;
    };
    let name = path.path.get_ident()?.to_string();
    let base = f.vars.iter().position(|var| var.name == name)?;
    Some(crate::ir::Offset {
        base,
        step: step.clone(),
        add,
    })
}

/// The local names in an opaque expression's tokens (every generated name
/// is unique).
fn opaque_reads(f: &Function, tokens: TokenStream, out: &mut Vec<VarId>) {
    for tree in tokens {
        match tree {
            TokenTree::Ident(ident) => {
                let name = ident.to_string();
                if let Some(var) = f
                    .vars
                    .iter()
                    .position(|var| var.name == name && var.name != "_")
                    && !out.contains(&var)
                {
                    out.push(var);
                }
            }
            TokenTree::Group(group) => opaque_reads(f, group.stream(), out),
            _ => {}
        }
    }
}

// Input:  for x in xs.iter() { if c { return e; } … }  rest
// Output: let mut __autodiff_ret: f64 = 0.0; let mut __autodiff_returned = false;
//         for x in xs.iter() { if c { __autodiff_ret = e; __autodiff_returned = true; break; } … }
//         if __autodiff_returned { return __autodiff_ret; }  rest
// A `return` inside a loop becomes a `break` with the value in a carried
// variable; an enclosing loop breaks in turn, and the function returns after
// the outermost one. (Only for a float result: the slot starts at `0.0`.)
/// Gives every block of the body its own id (see [`Block::id`]), in
/// pre-order: the body is block 0.
fn number_blocks(block: &mut Block, next: &mut BlockId) {
    block.id = *next;
    *next += 1;
    for node in &mut block.nodes {
        match node {
            Node::Stmt(_) => {}
            Node::If(branch) => {
                number_blocks(&mut branch.then, next);
                number_blocks(&mut branch.els, next);
            }
            Node::Loop(lp) => number_blocks(&mut lp.body, next),
        }
    }
}

fn returns_in_loops(block: &syn::Block, sig: &Signature) -> syn::Block {
    struct Rewrite {
        loops: usize,
        changed: bool,
    }
    fn has_return(expr: &Expr) -> bool {
        struct Find(bool);
        impl<'ast> Visit<'ast> for Find {
            fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
                self.0 = true;
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        let mut find = Find(false);
        find.visit_expr(expr);
        find.0
    }
    impl VisitMut for Rewrite {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let mut stmts = Vec::new();
            for stmt in std::mem::take(&mut block.stmts) {
                match stmt {
                    syn::Stmt::Expr(Expr::Return(ret), _)
                        if self.loops > 0 && ret.expr.is_some() =>
                    {
                        let value = ret.expr.expect("checked by the guard");
                        let span = ret.return_token.span;
                        stmts.push(syn::parse_quote_spanned!(span=> __autodiff_ret = #value;));
                        stmts.push(syn::parse_quote_spanned!(span=> __autodiff_returned = true;));
                        stmts.push(syn::parse_quote_spanned!(span=> break;));
                        self.changed = true;
                    }
                    syn::Stmt::Expr(mut expr, semi) => {
                        let is_loop =
                            matches!(expr, Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_));
                        let returns = is_loop && has_return(&expr);
                        self.loops += usize::from(is_loop);
                        self.visit_expr_mut(&mut expr);
                        self.loops -= usize::from(is_loop);
                        stmts.push(syn::Stmt::Expr(expr, semi));
                        if returns {
                            stmts.push(if self.loops > 0 {
                                syn::parse_quote!(if __autodiff_returned {
                                    break;
                                })
                            } else {
                                syn::parse_quote!(if __autodiff_returned {
                                    return __autodiff_ret;
                                })
                            });
                        }
                    }
                    mut other => {
                        syn::visit_mut::visit_stmt_mut(self, &mut other);
                        stmts.push(other);
                    }
                }
            }
            block.stmts = stmts;
        }
        fn visit_expr_for_loop_mut(&mut self, node: &mut syn::ExprForLoop) {
            self.visit_block_mut(&mut node.body);
        }
        fn visit_expr_while_mut(&mut self, node: &mut syn::ExprWhile) {
            self.visit_block_mut(&mut node.body);
        }
        fn visit_expr_loop_mut(&mut self, node: &mut syn::ExprLoop) {
            self.visit_block_mut(&mut node.body);
        }
        fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        fn visit_item_mut(&mut self, _: &mut syn::Item) {}
    }
    let mut rewritten = block.clone();
    let mut rewrite = Rewrite {
        loops: 0,
        changed: false,
    };
    rewrite.visit_block_mut(&mut rewritten);
    if !rewrite.changed {
        return rewritten;
    }
    let ReturnType::Type(_, ty) = &sig.output else {
        return block.clone();
    };
    if classify(ty) != (TypeClass::Float, false) {
        // Left as it was: `lower` reports each `return` in a loop.
        return block.clone();
    }
    rewritten.stmts.splice(
        0..0,
        [
            syn::parse_quote!(let mut __autodiff_ret: #ty = 0.0;),
            syn::parse_quote!(let mut __autodiff_returned = false;),
        ],
    );
    rewritten
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
        Type::Slice(_) | Type::Array(_) if elem_is_float(ty) => (TypeClass::Sequence, false),
        Type::Path(path)
            if path.qself.is_none()
                && path.path.segments.len() == 1
                && path.path.segments[0].ident == "Vec"
                && elem_is_float(ty) =>
        {
            (TypeClass::Sequence, false)
        }
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
    /// Parameters of a type the macro does not know (a `#[derive(Params)]`
    /// struct, say): `p.eval(x)` on one calls the method's pullback.
    structs: HashSet<VarId>,
    vars: Vec<Var>,
    /// Every statement lowered so far.
    stmts: Vec<Stmt>,
    /// The nodes of the block being lowered.
    cur: Vec<Node>,
    /// The loops around the code being lowered, innermost last.
    loops: Vec<LoopFrame>,
    items: Vec<syn::Item>,
    /// User name → the variable that name currently means, innermost last.
    scopes: Vec<HashMap<String, VarId>>,
    names: Names,
    temps: usize,
    /// Variables declared by a `let` whose value an `if` with an exit gives
    /// in each branch (see [`Lower::hoisted_let`]), with the `let`'s type:
    /// bound, never defined, and never read.
    declared: HashMap<VarId, Option<Type>>,
}

impl Lower<'_> {
    /// The parameters `front` classified, as variables of the body.
    fn params(&mut self, sig: &Signature, front: &Front) -> Vec<Param> {
        let mut params = Vec::new();
        for input in &front.inputs {
            let name = input.ident.to_string();
            if !input.receiver {
                self.names.taken.insert(name.clone());
            }
            let var = self.new_var(name.clone(), input.ident.span(), input.wrt, input.by_ref);
            self.vars[var].is_param = true;
            self.vars[var].scalar = input.class == TypeClass::Float;
            self.vars[var].elem_scalar =
                elem_is_float(&input.ty) || generic_elem(&input.ty, sig).is_some();
            self.vars[var].sequence = input.class == TypeClass::Sequence;
            if input.class == TypeClass::Other && !input.receiver {
                self.structs.insert(var);
            }
            self.bind(&name, var);
            params.push(Param {
                var,
                ident: input.ident.clone(),
                ty: input.ty.clone(),
                class: input.class,
                wrt: input.wrt,
            });
        }
        params
    }

    fn new_var(&mut self, name: String, span: Span, varied: bool, by_ref: bool) -> VarId {
        self.vars.push(Var {
            name,
            span,
            varied,
            by_ref,
            scalar: false,
            is_param: false,
            elem_scalar: false,
            sequence: false,
            mutated: false,
            touched: false,
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
        self.stmts.push(Stmt {
            def,
            op,
            ty,
            span,
            reads: Vec::new(),
            pure: false,
            offset: None,
        });
        self.cur.push(Node::Stmt(self.stmts.len() - 1));
    }

    /// Defines a new variable holding `op`; `name` is the user's, or `None`
    /// for a temporary.
    fn define(&mut self, name: Option<&str>, op: Op, ty: Option<Type>, span: Span) -> VarId {
        let varied = self.op_varied(&op);
        let by_ref = matches!(&op, Op::Copy(operand) if operand.mode == Mode::Borrow
            || matches!(operand.kind, OperandKind::Var(v) if self.vars[v].by_ref && operand.mode == Mode::Value))
            || matches!(&op, Op::Index { borrow: true, .. } | Op::Field { .. });
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
        let elem_scalar = self.op_elem_scalar(&op);
        let sequence = self.op_sequence(&op);
        let var = self.new_var(emitted, span, varied, by_ref);
        self.vars[var].scalar = scalar;
        self.vars[var].elem_scalar = elem_scalar;
        self.vars[var].sequence = sequence;
        self.push(var, op, ty, span);
        var
    }

    /// Whether `op`'s value is a sequence of known floats: `vec![0.0; n]`,
    /// `[0.0; N]`, or a copy of one.
    fn op_elem_scalar(&self, op: &Op) -> bool {
        match op {
            Op::Copy(x) | Op::Clone(x) => match x.kind {
                OperandKind::Var(var) => self.vars[var].elem_scalar,
                OperandKind::Const(_) => false,
            },
            Op::Opaque(tokens) => {
                syn::parse2::<Expr>(tokens.clone()).is_ok_and(|expr| self.expr_elem_scalar(&expr))
            }
            // `[a, b]` of floats.
            Op::Primitive { rule, args, .. } if rule.name == "array" => {
                args.iter().all(|arg| self.operand_scalar(arg))
            }
            _ => false,
        }
    }

    /// Whether `op`'s value is a slice, `Vec` or array: `vec![…]`, `[v; n]`,
    /// `[a, b, …]`, or a copy of one.
    fn op_sequence(&self, op: &Op) -> bool {
        match op {
            Op::Copy(x) | Op::Clone(x) => match x.kind {
                OperandKind::Var(var) => self.vars[var].sequence && x.mode != Mode::Deref,
                OperandKind::Const(_) => false,
            },
            Op::Opaque(tokens) => syn::parse2::<Expr>(tokens.clone()).is_ok_and(|expr| {
                let mut expr = &expr;
                while let Expr::Paren(inner) = expr {
                    expr = &inner.expr;
                }
                match expr {
                    Expr::Repeat(_) | Expr::Array(_) => true,
                    Expr::Macro(mac) => mac.mac.path.is_ident("vec"),
                    _ => false,
                }
            }),
            _ => false,
        }
    }

    fn expr_elem_scalar(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Paren(e) => self.expr_elem_scalar(&e.expr),
            Expr::Repeat(e) => self.expr_scalar(&e.expr),
            Expr::Array(e) => !e.elems.is_empty() && e.elems.iter().all(|e| self.expr_scalar(e)),
            Expr::Macro(mac) if mac.mac.path.is_ident("vec") => {
                // `vec![value; count]`
                let repeat = |input: syn::parse::ParseStream| {
                    let value: Expr = input.parse()?;
                    input.parse::<syn::Token![;]>()?;
                    input.parse::<Expr>()?;
                    Ok(value)
                };
                if let Ok(value) = mac.mac.parse_body_with(repeat) {
                    return self.expr_scalar(&value);
                }
                // `vec![a, b, …]`
                let parser = Punctuated::<Expr, syn::Token![,]>::parse_terminated;
                mac.mac.parse_body_with(parser).is_ok_and(|elems| {
                    !elems.is_empty() && elems.iter().all(|e| self.expr_scalar(e))
                })
            }
            Expr::Path(path) => path
                .path
                .get_ident()
                .and_then(|ident| self.var_named(&ident.to_string()))
                .is_some_and(|var| self.vars[var].elem_scalar),
            _ => false,
        }
    }

    /// A float operand by reference, for a rule called in an opaque
    /// expression: `&x`, `x` (a `&f64` parameter), `&(0.5)`.
    fn side_operand(&self, operand: &Operand) -> TokenStream {
        match &operand.kind {
            OperandKind::Var(var) => {
                let ident = self.var_ident(*var);
                if self.vars[*var].by_ref || operand.mode == Mode::Deref {
                    ident.into_token_stream()
                } else {
                    quote!(&#ident)
                }
            }
            OperandKind::Const(tokens) => quote!(&(#tokens)),
        }
    }

    /// The variable a generated name in an opaque expression stands for.
    fn var_named(&self, name: &str) -> Option<VarId> {
        self.vars.iter().rposition(|var| var.name == name)
    }

    /// Whether an expression the macro does not differentiate (a constant,
    /// or an opaque expression, its locals already renamed) is known to be a
    /// float: float literals, `f64::` constants, `as f64` casts, float
    /// variables, elements of float sequences, and arithmetic and float
    /// methods of those.
    fn expr_scalar(&self, expr: &Expr) -> bool {
        match expr {
            Expr::Lit(lit) => matches!(lit.lit, syn::Lit::Float(_)),
            Expr::Paren(e) => self.expr_scalar(&e.expr),
            Expr::Group(e) => self.expr_scalar(&e.expr),
            Expr::Unary(e) => matches!(e.op, syn::UnOp::Neg(_)) && self.expr_scalar(&e.expr),
            Expr::Binary(e) => {
                matches!(
                    e.op,
                    syn::BinOp::Add(_)
                        | syn::BinOp::Sub(_)
                        | syn::BinOp::Mul(_)
                        | syn::BinOp::Div(_)
                        | syn::BinOp::Rem(_)
                ) && self.expr_scalar(&e.left)
                    && self.expr_scalar(&e.right)
            }
            Expr::Cast(e) => is_float_type(&e.ty),
            // `x = 0.5` is lowered as `same_type(&x, 0.5)`.
            Expr::Call(call) => {
                let Expr::Path(path) = &*call.func else {
                    return false;
                };
                let last = path.path.segments.last().map(|last| &last.ident);
                // The start of a `.sum()` or `.product()` that `desugar`
                // turned into a loop: a float (or an integer that carries no
                // derivative) whose type its use infers.
                if path.path.segments.iter().any(|s| s.ident == "__private")
                    && last.is_some_and(|last| last == "sum_start" || last == "product_start")
                {
                    return true;
                }
                last.is_some_and(|last| last == "same_type")
                    && call
                        .args
                        .first()
                        .is_some_and(|first| self.expr_scalar(first))
            }
            Expr::Path(path) => {
                if let Some(ident) = path.path.get_ident() {
                    return self
                        .var_named(&ident.to_string())
                        .is_some_and(|var| self.vars[var].scalar);
                }
                // `f64::INFINITY`, `f64::consts::PI`, `core::f32::EPSILON`
                let segments: Vec<String> = path
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let last = segments.last().map_or("", String::as_str);
                segments[..segments.len().saturating_sub(1)]
                    .iter()
                    .any(|s| s == "f64" || s == "f32")
                    && !last.is_empty()
                    && last
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                    && !matches!(
                        last,
                        "DIGITS"
                            | "MANTISSA_DIGITS"
                            | "RADIX"
                            | "MAX_EXP"
                            | "MIN_EXP"
                            | "MAX_10_EXP"
                            | "MIN_10_EXP"
                    )
            }
            Expr::Index(e) => match &*e.expr {
                Expr::Path(path) => path
                    .path
                    .get_ident()
                    .and_then(|ident| self.var_named(&ident.to_string()))
                    .is_some_and(|var| self.vars[var].elem_scalar),
                _ => false,
            },
            Expr::MethodCall(call) => {
                rules::method(&call.method.to_string()).is_some_and(|rule| {
                    !matches!(rule.shape, MethodShape::Reduce) && !rule.shape.makes_array()
                }) && self.expr_scalar(&call.receiver)
            }
            _ => false,
        }
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
                syn::parse2::<syn::LitInt>(tokens.clone()).is_ok()
                    || syn::parse2::<Expr>(tokens.clone()).is_ok_and(|expr| self.expr_scalar(&expr))
            }
        }
    }

    /// Whether `op`'s value is known to be a float (see [`Var::scalar`]).
    fn op_scalar(&self, op: &Op) -> bool {
        match op {
            Op::Copy(x) | Op::Clone(x) | Op::Neg(x) => self.operand_scalar(x),
            Op::Binary(_, a, b) => self.operand_scalar(a) && self.operand_scalar(b),
            Op::Method { rule, recv, .. } => match rule.shape {
                MethodShape::Reduce => matches!(rule.rule, "sum" | "mean"),
                shape if shape.makes_array() => false,
                _ => self.operand_scalar(recv),
            },
            Op::Primitive { rule, args, .. } => match rule.rule {
                "sum" | "mean" | "norm" | "norm_sq" | "dot" | "logsumexp" | "max_element"
                | "min_element" => true,
                "matmul" | "transpose" | "tuple" | "array" => false,
                _ if rule.shape.makes_array() => false,
                _ => args.iter().all(|arg| self.operand_scalar(arg)),
            },
            Op::Index { base, .. } => match base.kind {
                OperandKind::Var(var) => self.vars[var].elem_scalar,
                OperandKind::Const(_) => false,
            },
            Op::Opaque(tokens) => {
                syn::parse2::<Expr>(tokens.clone()).is_ok_and(|expr| self.expr_scalar(&expr))
            }
            Op::Call(_) | Op::SetIndex { .. } | Op::Field { .. } => false,
        }
    }

    fn op_varied(&self, op: &Op) -> bool {
        match op {
            Op::Copy(x) | Op::Clone(x) | Op::Neg(x) => self.operand_varied(x),
            Op::Binary(_, a, b) => self.operand_varied(a) || self.operand_varied(b),
            Op::Method {
                rule, recv, args, ..
            } => {
                self.operand_varied(recv)
                    || (!rule.shape.constant_args()
                        && args.iter().any(|arg| self.operand_varied(arg)))
            }
            Op::Primitive { rule, args, .. } => args
                .iter()
                .enumerate()
                .any(|(k, arg)| !rule.shape.constant_at(k) && self.operand_varied(arg)),
            Op::Call(call) => call.args.iter().any(|arg| self.operand_varied(arg)),
            Op::Index { base, .. } | Op::Field { base, .. } => self.operand_varied(base),
            Op::Opaque(_) | Op::SetIndex { .. } => false,
        }
    }

    // Input:  the statements of the body
    // Output: the operand it returns (its tail, or a `return`; with early
    //         returns, the variable where the paths meet)
    fn body(&mut self, stmts: &[syn::Stmt], sig: &Signature) -> Operand {
        self.scopes.push(HashMap::new());
        let tail = self.seq(stmts, &[], Ctx::Fn);
        match tail {
            Tail::Value(Some(ret)) => ret,
            _ => {
                if !matches!(sig.output, ReturnType::Default) {
                    let span = stmts.last().map_or(sig.ident.span(), Spanned::span);
                    self.cx.error(span, diagnostics::missing_tail());
                }
                dummy(sig.ident.span())
            }
        }
    }

    /// Lowers a block's statements (no `break`, `continue` or `return`);
    /// returns its tail value.
    fn block(&mut self, stmts: &[syn::Stmt]) -> Option<Operand> {
        match self.seq(stmts, &[], Ctx::Block) {
            Tail::Value(value) => value,
            Tail::End(_) => None,
        }
    }

    /// Lowers `stmts`, then each slice of `rest` in turn (the statements that
    /// follow an `if` whose branches absorbed them), until the path ends.
    fn seq(&mut self, stmts: &[syn::Stmt], rest: &[&[syn::Stmt]], ctx: Ctx) -> Tail {
        for (index, stmt) in stmts.iter().enumerate() {
            let last = index + 1 == stmts.len() && rest.is_empty();
            match stmt {
                // let y = if c { return x; } else { e };
                syn::Stmt::Local(local)
                    if ctx != Ctx::Block
                        && local.init.as_ref().is_some_and(|init| {
                            init.diverge.is_none()
                                && matches!(&*init.expr, Expr::If(_) | Expr::Match(_))
                                && self.has_exit(&init.expr, ctx)
                        })
                        && let_name(&local.pat).is_some() =>
                {
                    let Some(branch) = self.hoisted_let(local) else {
                        continue;
                    };
                    let cont: Vec<&[syn::Stmt]> = std::iter::once(&stmts[index + 1..])
                        .chain(rest.iter().copied())
                        .collect();
                    return self.absorbing_if(&branch, &cont, ctx);
                }
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
                    if ctx != Ctx::Fn || !self.loops.is_empty() {
                        self.cx
                            .error(ret.return_token.span, diagnostics::early_return());
                        continue;
                    }
                    return Tail::Value(Some(match &ret.expr {
                        Some(expr) => self.operand(expr),
                        None => {
                            self.cx
                                .error(ret.return_token.span, diagnostics::return_without_value());
                            dummy(ret.return_token.span)
                        }
                    }));
                }
                syn::Stmt::Expr(Expr::Break(exit), _) if ctx == Ctx::Loop => {
                    if exit.label.is_some() || exit.expr.is_some() {
                        self.cx.error_spanned(exit, diagnostics::labelled_exit());
                    }
                    return Tail::End(End::Break(self.carried_values()));
                }
                syn::Stmt::Expr(Expr::Continue(exit), _) if ctx == Ctx::Loop => {
                    if exit.label.is_some() {
                        self.cx.error_spanned(exit, diagnostics::labelled_exit());
                    }
                    return Tail::End(End::Continue(self.carried_values()));
                }
                syn::Stmt::Expr(Expr::Break(_) | Expr::Continue(_), _) => {
                    self.cx
                        .error_spanned(stmt, diagnostics::exit_outside_loop());
                }
                syn::Stmt::Expr(expr @ (Expr::If(_) | Expr::Match(_)), semi)
                    if ctx != Ctx::Block && self.has_exit(expr, ctx) =>
                {
                    let _ = semi;
                    let Some(branch) = self.as_if(expr) else {
                        continue;
                    };
                    let cont: Vec<&[syn::Stmt]> = std::iter::once(&stmts[index + 1..])
                        .chain(rest.iter().copied())
                        .collect();
                    return self.absorbing_if(&branch, &cont, ctx);
                }
                // `if c { x = 1.0; }` closing a block: a statement, not its
                // value.
                syn::Stmt::Expr(expr, None)
                    if last && ctx == Ctx::Block && !block_like_has_value(expr) =>
                {
                    self.expr_stmt(expr);
                }
                syn::Stmt::Expr(expr, None) if last && ctx != Ctx::Loop => {
                    return Tail::Value(Some(self.operand(expr)));
                }
                // `y;` at the end of the body: `missing_tail` says it.
                syn::Stmt::Expr(expr, Some(_))
                    if last
                        && ctx == Ctx::Fn
                        && !matches!(
                            expr,
                            Expr::Assign(_)
                                | Expr::Binary(_)
                                | Expr::If(_)
                                | Expr::Match(_)
                                | Expr::ForLoop(_)
                                | Expr::While(_)
                                | Expr::Loop(_)
                        )
                        && self.varied(expr) => {}
                syn::Stmt::Expr(expr, _) => self.expr_stmt(expr),
            }
        }
        match rest.split_first() {
            Some((next, more)) => {
                // Leaving a block: its `let`s go out of scope.
                if self.scopes.len() > 1 {
                    self.scopes.pop();
                }
                self.seq(next, more, ctx)
            }
            None if ctx == Ctx::Loop => Tail::End(End::Continue(self.carried_values())),
            None => Tail::Value(None),
        }
    }

    /// Whether `expr` (an `if` or `match`) can leave the enclosing loop or
    /// function.
    fn has_exit(&self, expr: &Expr, ctx: Ctx) -> bool {
        struct Find {
            loops: usize,
            in_loop: bool,
            found: bool,
        }
        impl<'ast> Visit<'ast> for Find {
            fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
                self.found = true;
            }
            fn visit_expr_break(&mut self, _: &'ast syn::ExprBreak) {
                self.found |= self.in_loop && self.loops == 0;
            }
            fn visit_expr_continue(&mut self, _: &'ast syn::ExprContinue) {
                self.found |= self.in_loop && self.loops == 0;
            }
            fn visit_expr_for_loop(&mut self, node: &'ast syn::ExprForLoop) {
                self.loops += 1;
                syn::visit::visit_expr_for_loop(self, node);
                self.loops -= 1;
            }
            fn visit_expr_while(&mut self, node: &'ast syn::ExprWhile) {
                self.loops += 1;
                syn::visit::visit_expr_while(self, node);
                self.loops -= 1;
            }
            fn visit_expr_loop(&mut self, node: &'ast syn::ExprLoop) {
                self.loops += 1;
                syn::visit::visit_expr_loop(self, node);
                self.loops -= 1;
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
            fn visit_item(&mut self, _: &'ast syn::Item) {}
        }
        let mut find = Find {
            loops: 0,
            in_loop: ctx == Ctx::Loop,
            found: false,
        };
        find.visit_expr(expr);
        find.found
    }

    /// `if` as it is, `match` as a chain of `if`s (`None` after an error).
    fn as_if(&mut self, expr: &Expr) -> Option<syn::ExprIf> {
        match expr {
            Expr::If(branch) => Some(branch.clone()),
            Expr::Match(m) => self.match_to_if(m),
            _ => None,
        }
    }

    // Input:  match k { 0 => a, 1 | 2 => b, _ => c }
    // Output: if matches!(k, 0) { a } else if matches!(k, 1 | 2) { b } else { c }
    //         (the scrutinee evaluated once; rustc checks the original `match`
    //         is exhaustive, so the last arm is the final `else`)
    fn match_to_if(&mut self, m: &syn::ExprMatch) -> Option<syn::ExprIf> {
        if self.varied(&m.expr) {
            self.cx
                .error_spanned(&m.expr, diagnostics::match_on_differentiated());
            return None;
        }
        for arm in &m.arms {
            if pattern_binds(&arm.pat) {
                self.cx
                    .error_spanned(&arm.pat, diagnostics::match_binding());
                return None;
            }
        }
        let scrutinee = self.operand(&m.expr);
        let name = format!("__autodiff_scrutinee_{}", self.stmts.len());
        let var = match scrutinee.kind {
            OperandKind::Var(var) => var,
            OperandKind::Const(_) => self.define(None, Op::Copy(scrutinee), None, m.expr.span()),
        };
        self.bind(&name, var);
        let ident = Ident::new(&name, m.expr.span());
        let mut chain: Option<syn::ExprIf> = None;
        for (index, arm) in m.arms.iter().enumerate().rev() {
            let body: syn::Block = match &*arm.body {
                Expr::Block(block) if block.label.is_none() => block.block.clone(),
                // `1 => s += x,`: an assignment arm is a statement.
                other if is_assignment(other) => syn::Block {
                    brace_token: Default::default(),
                    stmts: vec![syn::Stmt::Expr(other.clone(), Some(Default::default()))],
                },
                other => syn::Block {
                    brace_token: Default::default(),
                    stmts: vec![syn::Stmt::Expr(other.clone(), None)],
                },
            };
            if index + 1 == m.arms.len() {
                chain = Some(syn::ExprIf {
                    attrs: Vec::new(),
                    if_token: Default::default(),
                    cond: Box::new(syn::parse_quote!(true)),
                    then_branch: body,
                    else_branch: None,
                });
                continue;
            }
            let pat = &arm.pat;
            let cond: Expr =
                syn::parse_quote_spanned!(arm.pat.span()=> ::core::matches!(#ident, #pat));
            let next = chain.take().expect("the last arm comes first");
            let else_branch: Expr = if index + 2 == m.arms.len() {
                Expr::Block(syn::ExprBlock {
                    attrs: Vec::new(),
                    label: None,
                    block: next.then_branch,
                })
            } else {
                Expr::If(next)
            };
            chain = Some(syn::ExprIf {
                attrs: Vec::new(),
                if_token: syn::Token![if](m.match_token.span),
                cond: Box::new(cond),
                then_branch: body,
                else_branch: Some((Default::default(), Box::new(else_branch))),
            });
        }
        if m.arms.len() == 1 {
            // `match k { _ => a }`: just the arm.
            let only = chain?;
            return Some(syn::ExprIf {
                cond: Box::new(syn::parse_quote!(true)),
                ..only
            });
        }
        chain
    }

    /// An `if` some of whose paths leave the loop or the function: each
    /// branch goes on with `cont`, the statements after the `if`, so every
    /// path ends by itself.
    fn absorbing_if(&mut self, branch: &syn::ExprIf, cont: &[&[syn::Stmt]], ctx: Ctx) -> Tail {
        if let Expr::Let(binding) = &*branch.cond {
            self.cx.error(binding.let_token.span, diagnostics::if_let());
            return Tail::End(End::Diverge);
        }
        let cond = self.operand(&branch.cond);
        let scopes = self.scopes.clone();
        let (then_nodes, then_tail) = self.sub(|this| {
            this.scopes.push(HashMap::new());
            this.seq(&branch.then_branch.stmts, cont, ctx)
        });
        self.scopes = scopes.clone();
        let (else_nodes, else_tail) = self.sub(|this| {
            this.scopes.push(HashMap::new());
            match branch.else_branch.as_ref().map(|(_, els)| &**els) {
                None => this.seq(&[], cont, ctx),
                Some(Expr::Block(block)) => this.seq(&block.block.stmts, cont, ctx),
                Some(other) => {
                    let stmt = syn::Stmt::Expr(other.clone(), None);
                    this.seq(std::slice::from_ref(&stmt), cont, ctx)
                }
            }
        });
        self.scopes = scopes;
        let span = branch.if_token.span;
        match (then_tail, else_tail) {
            (Tail::End(then_end), Tail::End(else_end)) => {
                self.cur.push(Node::If(Box::new(If {
                    cond,
                    then: Block {
                        id: 0,
                        nodes: then_nodes,
                        end: then_end,
                    },
                    els: Block {
                        id: 0,
                        nodes: else_nodes,
                        end: else_end,
                    },
                    phis: Vec::new(),
                    span,
                })));
                Tail::End(End::Diverge)
            }
            (then_tail, else_tail) => {
                let value = |this: &mut Self, tail: Tail| match tail {
                    Tail::Value(Some(value)) => value,
                    _ => {
                        this.cx.error(span, diagnostics::missing_tail());
                        dummy(span)
                    }
                };
                let a = value(self, then_tail);
                let b = value(self, else_tail);
                let phi = self.phi("y", &a, &b, span);
                self.cur.push(Node::If(Box::new(If {
                    cond,
                    then: Block {
                        id: 0,
                        nodes: then_nodes,
                        end: End::Values(vec![a]),
                    },
                    els: Block {
                        id: 0,
                        nodes: else_nodes,
                        end: End::Values(vec![b]),
                    },
                    phis: vec![phi],
                    span,
                })));
                Tail::Value(Some(Operand {
                    kind: OperandKind::Var(phi),
                    mode: Mode::Value,
                    span,
                }))
            }
        }
    }

    // Input:  let y = if c { if d { return x; } a } else { b };  rest
    // Output: y declared, and  if c { if d { return x; } y = a; } else { y = b; }
    //         whose branches each go on with `rest` (see `absorbing_if`)
    fn hoisted_let(&mut self, local: &syn::Local) -> Option<syn::ExprIf> {
        let (ident, ty) = let_name(&local.pat)?;
        let init = local.init.as_ref()?;
        let branch = self.as_if(&init.expr)?;
        let name = ident.to_string();
        let emitted = self.names.fresh(&name);
        let var = self.new_var(emitted, ident.span(), false, false);
        self.declared.insert(var, ty.cloned());
        self.bind(&name, var);
        Some(self.assign_tails(branch, ident))
    }

    /// `if c { …; a } else { b }` → `if c { …; y = a; } else { y = b; }`,
    /// through `else if`, `match` and nested `if`s and blocks in tail position.
    fn assign_tails(&mut self, mut branch: syn::ExprIf, ident: &Ident) -> syn::ExprIf {
        self.assign_tail(&mut branch.then_branch, ident);
        if let Some((_, els)) = &mut branch.else_branch {
            match &mut **els {
                Expr::Block(block) => self.assign_tail(&mut block.block, ident),
                Expr::If(inner) => *inner = self.assign_tails(inner.clone(), ident),
                other => {
                    let mut block = syn::Block {
                        brace_token: Default::default(),
                        stmts: vec![syn::Stmt::Expr(other.clone(), None)],
                    };
                    self.assign_tail(&mut block, ident);
                    *other = Expr::Block(syn::ExprBlock {
                        attrs: Vec::new(),
                        label: None,
                        block,
                    });
                }
            }
        }
        branch
    }

    fn assign_tail(&mut self, block: &mut syn::Block, ident: &Ident) {
        let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last_mut() else {
            return;
        };
        match tail {
            Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => {}
            Expr::If(branch) => *branch = self.assign_tails(branch.clone(), ident),
            Expr::Match(m) => {
                if let Some(branch) = self.match_to_if(&m.clone()) {
                    *tail = Expr::If(self.assign_tails(branch, ident));
                }
            }
            Expr::Block(inner) if inner.label.is_none() => {
                self.assign_tail(&mut inner.block, ident)
            }
            value => {
                let value = value.clone();
                let assign: Expr = syn::parse_quote_spanned!(value.span()=> #ident = #value);
                *block.stmts.last_mut().expect("matched above") =
                    syn::Stmt::Expr(assign, Some(Default::default()));
            }
        }
    }

    /// Runs `lower` on a fresh block; returns its nodes and what it returned.
    fn sub<T>(&mut self, lower: impl FnOnce(&mut Self) -> T) -> (Vec<Node>, T) {
        let outer = std::mem::take(&mut self.cur);
        let out = lower(self);
        (std::mem::replace(&mut self.cur, outer), out)
    }

    /// A variable where two branches meet, holding `a` or `b`.
    fn phi(&mut self, name: &str, a: &Operand, b: &Operand, span: Span) -> VarId {
        let varied = self.operand_varied(a) || self.operand_varied(b);
        let scalar = self.operand_scalar(a) && self.operand_scalar(b);
        let by_ref = [a, b].iter().all(|operand| match operand.kind {
            OperandKind::Var(var) => self.vars[var].by_ref && operand.mode == Mode::Value,
            OperandKind::Const(_) => false,
        });
        let emitted = self.names.fresh(name);
        let var = self.new_var(emitted, span, varied, by_ref);
        self.vars[var].scalar = scalar;
        self.vars[var].elem_scalar = [a, b].iter().all(|operand| match operand.kind {
            OperandKind::Var(var) => self.vars[var].elem_scalar,
            OperandKind::Const(_) => false,
        });
        var
    }

    // Input:  if c { x = a; } else { x = b; }     let y = if c { a } else { b };
    // Output: If { cond: c, then: [..] Values(a), els: [..] Values(b), phis: [x'] }
    fn if_phi(&mut self, branch: &syn::ExprIf, want_value: bool) -> Option<Operand> {
        if let Expr::Let(binding) = &*branch.cond {
            self.cx.error(binding.let_token.span, diagnostics::if_let());
            return None;
        }
        let cond = self.operand(&branch.cond);
        let assigned: Vec<String> = assigned_names(&Expr::If(branch.clone()))
            .into_iter()
            .filter(|name| self.lookup(name).is_some())
            .collect();
        let scopes = self.scopes.clone();
        let (then_nodes, then_tail) = self.sub(|this| {
            this.scopes.push(HashMap::new());
            let tail = this.block(&branch.then_branch.stmts);
            this.scopes.pop();
            tail
        });
        let then_vals: Vec<Option<VarId>> = assigned.iter().map(|name| self.lookup(name)).collect();
        self.scopes = scopes.clone();
        let (else_nodes, else_tail) =
            self.sub(
                |this| match branch.else_branch.as_ref().map(|(_, els)| &**els) {
                    None => None,
                    Some(Expr::Block(block)) => {
                        this.scopes.push(HashMap::new());
                        let tail = this.block(&block.block.stmts);
                        this.scopes.pop();
                        tail
                    }
                    Some(Expr::If(inner)) => this.if_phi(inner, want_value),
                    Some(Expr::Match(m)) => {
                        let inner = this.match_to_if(m)?;
                        this.if_phi(&inner, want_value)
                    }
                    Some(other) => {
                        this.cx
                            .error_spanned(other, diagnostics::other_expression());
                        None
                    }
                },
            );
        let else_vals: Vec<Option<VarId>> = assigned.iter().map(|name| self.lookup(name)).collect();
        self.scopes = scopes;
        let span = branch.if_token.span;
        let var_operand = |var: VarId| Operand {
            kind: OperandKind::Var(var),
            mode: Mode::Value,
            span,
        };
        let (mut then_end, mut else_end, mut phis) = (Vec::new(), Vec::new(), Vec::new());
        let mut value = None;
        if want_value {
            match (then_tail, else_tail) {
                (Some(a), Some(b)) => {
                    let phi = self.phi("t", &a, &b, span);
                    self.vars[phi].name = self.fresh_temp();
                    then_end.push(a);
                    else_end.push(b);
                    phis.push(phi);
                    value = Some(var_operand(phi));
                }
                _ => {
                    self.cx.error(span, diagnostics::if_without_value());
                    return None;
                }
            }
        }
        for ((name, a), b) in assigned.iter().zip(then_vals).zip(else_vals) {
            let (Some(a), Some(b)) = (a, b) else { continue };
            if a == b {
                continue;
            }
            let (a, b) = (var_operand(a), var_operand(b));
            let phi = self.phi(name, &a, &b, span);
            then_end.push(a);
            else_end.push(b);
            phis.push(phi);
            self.rebind(name, phi);
        }
        self.cur.push(Node::If(Box::new(If {
            cond,
            then: Block {
                id: 0,
                nodes: then_nodes,
                end: End::Values(then_end),
            },
            els: Block {
                id: 0,
                nodes: else_nodes,
                end: End::Values(else_end),
            },
            phis,
            span,
        })));
        value
    }

    fn fresh_temp(&mut self) -> String {
        loop {
            let candidate = format!("t{}", self.temps);
            self.temps += 1;
            if self.names.taken.insert(candidate.clone()) {
                break candidate;
            }
        }
    }

    /// The current values of the innermost loop's carried variables (read
    /// where the loop bound them, past any shadowing `let` in the body).
    fn carried_values(&mut self) -> Vec<Operand> {
        let Some(frame) = self.loops.last() else {
            return Vec::new();
        };
        let values: Vec<Operand> = frame
            .names
            .iter()
            .map(|name| {
                let var = self.scopes[frame.depth]
                    .get(name)
                    .copied()
                    .expect("the loop binds its carried names");
                Operand {
                    kind: OperandKind::Var(var),
                    mode: Mode::Value,
                    span: frame.span,
                }
            })
            .collect();
        let frame = self.loops.last_mut().expect("checked above");
        frame.ends.push(values.clone());
        values
    }

    // Input:  for i in lo..hi { body }   for (x, y) in xs.iter().zip(ys) { body }
    //         while c { body }           loop { body }
    // Output: Loop { kind, carried: the outer variables the body assigns, body }
    fn lower_loop(&mut self, expr: &Expr) {
        let (label, body_block, span) = match expr {
            Expr::ForLoop(e) => (&e.label, &e.body, e.for_token.span),
            Expr::While(e) => (&e.label, &e.body, e.while_token.span),
            Expr::Loop(e) => (&e.label, &e.body, e.loop_token.span),
            _ => return,
        };
        if let Some(label) = label {
            self.cx
                .error_spanned(&label.name, diagnostics::labelled_exit());
        }
        let checkpoint = match expr {
            Expr::ForLoop(e) => e
                .attrs
                .iter()
                .find(|attr| attr.path().is_ident(crate::checkpoint::MARK))
                .and_then(|attr| attr.parse_args::<Expr>().ok())
                .map(|snapshots| self.operand(&snapshots)),
            _ => None,
        };
        // What the iteration needs, evaluated once before the loop.
        let source = match expr {
            Expr::ForLoop(e) => match self.loop_source(e) {
                Some(source) => Some(source),
                None => return,
            },
            _ => None,
        };
        let names: Vec<String> = assigned_names(expr)
            .into_iter()
            .filter(|name| self.lookup(name).is_some())
            .collect();
        let inits: Vec<VarId> = names
            .iter()
            .map(|name| self.lookup(name).expect("filtered above"))
            .collect();
        let mut assume_varied: Vec<bool> = inits.iter().map(|&v| self.vars[v].varied).collect();
        let mut assume_scalar: Vec<bool> = inits.iter().map(|&v| self.vars[v].scalar).collect();
        for _ in 0..=names.len() + self.vars.len() {
            let snapshot = self.snapshot();
            let varied_before: Vec<bool> = self.vars.iter().map(|var| var.varied).collect();
            let elem_scalar_before: Vec<bool> =
                self.vars.iter().map(|var| var.elem_scalar).collect();
            self.scopes.push(HashMap::new());
            let depth = self.scopes.len() - 1;
            let headers: Vec<VarId> = names
                .iter()
                .zip(&inits)
                .enumerate()
                .map(|(k, (name, &init))| {
                    let emitted = self.names.fresh(name);
                    let by_ref = self.vars[init].by_ref;
                    let var = self.new_var(emitted, span, assume_varied[k], by_ref);
                    self.vars[var].scalar = assume_scalar[k];
                    self.vars[var].elem_scalar = self.vars[init].elem_scalar;
                    self.bind(name, var);
                    var
                })
                .collect();
            self.loops.push(LoopFrame {
                names: names.clone(),
                depth,
                span,
                ends: Vec::new(),
            });
            let (nodes, (kind, end)) = self.sub(|this| {
                let kind = this.bind_iteration(expr, source.as_ref());
                this.scopes.push(HashMap::new());
                let end = match expr {
                    Expr::While(e) => this.while_body(e),
                    _ => match this.seq(&body_block.stmts, &[], Ctx::Loop) {
                        Tail::End(end) => end,
                        Tail::Value(_) => End::Continue(this.carried_values()),
                    },
                };
                (kind, end)
            });
            let frame = self.loops.pop().expect("pushed above");
            let mut changed = false;
            for (k, values) in (0..names.len()).map(|k| (k, frame.ends.iter().map(move |e| &e[k])))
            {
                let values: Vec<&Operand> = values.collect();
                let varied = assume_varied[k] || values.iter().any(|v| self.operand_varied(v));
                let scalar = assume_scalar[k] && values.iter().all(|v| self.operand_scalar(v));
                changed |= varied != assume_varied[k] || scalar != assume_scalar[k];
                assume_varied[k] = varied;
                assume_scalar[k] = scalar;
            }
            // An array written in the body may have become differentiated:
            // what the body read from it before must be lowered again.
            changed |= varied_before
                .iter()
                .zip(&self.vars)
                .any(|(before, var)| var.mutated && var.varied && !before);
            // Likewise an array whose elements a write showed to be floats.
            changed |= elem_scalar_before
                .iter()
                .zip(&self.vars)
                .any(|(before, var)| var.mutated && var.elem_scalar && !before);
            if changed {
                self.restore(snapshot);
                continue;
            }
            self.scopes.truncate(depth);
            let trip_name = self.names.fresh("trip");
            let trip = self.new_var(trip_name, span, false, false);
            let carried = inits
                .iter()
                .zip(&headers)
                .zip(&names)
                .map(|((&init, &header), name)| {
                    let emitted = self.names.fresh(name);
                    let exit = self.new_var(emitted, span, self.vars[header].varied, false);
                    self.vars[exit].scalar = self.vars[header].scalar;
                    self.vars[exit].by_ref = self.vars[header].by_ref;
                    self.vars[exit].elem_scalar = self.vars[header].elem_scalar;
                    self.rebind(name, exit);
                    Carried {
                        init: Operand {
                            kind: OperandKind::Var(init),
                            mode: Mode::Value,
                            span,
                        },
                        header,
                        exit,
                    }
                })
                .collect();
            self.cur.push(Node::Loop(Box::new(Loop {
                kind,
                carried,
                body: Block { id: 0, nodes, end },
                trip,
                span,
                checkpoint,
            })));
            return;
        }
        unreachable!("assumptions only grow, so the loop settles");
    }

    // `while c { body }` is `loop { if c { body } else { break } }`.
    fn while_body(&mut self, e: &syn::ExprWhile) -> End {
        if let Expr::Let(binding) = &*e.cond {
            self.cx.error(binding.let_token.span, diagnostics::if_let());
            return End::Break(self.carried_values());
        }
        let cond = self.operand(&e.cond);
        let scopes = self.scopes.clone();
        let (then_nodes, then_tail) = self.sub(|this| {
            this.scopes.push(HashMap::new());
            this.seq(&e.body.stmts, &[], Ctx::Loop)
        });
        self.scopes = scopes;
        let then_end = match then_tail {
            Tail::End(end) => end,
            Tail::Value(_) => End::Continue(self.carried_values()),
        };
        let else_end = End::Break(self.carried_values());
        self.cur.push(Node::If(Box::new(If {
            cond,
            then: Block {
                id: 0,
                nodes: then_nodes,
                end: then_end,
            },
            els: Block {
                id: 0,
                nodes: Vec::new(),
                end: else_end,
            },
            phis: Vec::new(),
            span: e.while_token.span,
        })));
        End::Diverge
    }

    // Input:  lo..hi    xs.iter()    xs.iter().enumerate()    xs.iter().zip(ys)
    // Output: what the loop iterates over, evaluated before the loop
    fn loop_source(&mut self, e: &syn::ExprForLoop) -> Option<LoopSource> {
        let mut expr = &*e.expr;
        while let Expr::Paren(inner) = expr {
            expr = &inner.expr;
        }
        if let Expr::Range(range) = expr {
            let (Some(lo), Some(hi)) = (&range.start, &range.end) else {
                self.cx.error_spanned(range, diagnostics::unbounded_range());
                return None;
            };
            if self.varied(lo) || self.varied(hi) {
                self.cx.error_spanned(range, diagnostics::unbounded_range());
                return None;
            }
            let lo = self.operand(lo);
            let hi = self.operand(hi);
            let inclusive = matches!(range.limits, syn::RangeLimits::Closed(_));
            return Some(LoopSource::Range { lo, hi, inclusive });
        }
        // Peel `.enumerate()` and `.zip(..)` off the end.
        let mut enumerate = false;
        let mut zipped: Vec<&Expr> = Vec::new();
        let mut current = expr;
        if let Expr::MethodCall(call) = current
            && call.method == "enumerate"
            && call.args.is_empty()
        {
            enumerate = true;
            current = &call.receiver;
        }
        while let Expr::MethodCall(call) = current
            && call.method == "zip"
            && call.args.len() == 1
        {
            zipped.push(&call.args[0]);
            current = &call.receiver;
        }
        zipped.push(current);
        zipped.reverse();
        let mut bases = Vec::new();
        for part in zipped {
            match self.sequence_base(part) {
                Some(base) => bases.push(base),
                None => {
                    self.cx.error_spanned(&e.expr, diagnostics::loop_iterator());
                    return None;
                }
            }
        }
        let lens: Vec<TokenStream> = bases
            .iter()
            .map(|&base| {
                let ident = self.var_ident(base);
                quote!(#ident.len())
            })
            .collect();
        let len_tokens = lens.iter().skip(1).fold(
            lens[0].clone(),
            |acc, len| quote!(::core::cmp::min(#acc, #len)),
        );
        let len = self.define(None, Op::Opaque(len_tokens), None, e.expr.span());
        Some(LoopSource::Counted {
            bases,
            enumerate,
            len,
        })
    }

    /// `xs.iter()`, `&xs`, `xs` (a reference) or `ys` inside `.zip(ys)`: the
    /// local variable iterated over.
    fn sequence_base(&mut self, expr: &Expr) -> Option<VarId> {
        let expr = match expr {
            Expr::MethodCall(call) if call.method == "iter" && call.args.is_empty() => {
                &*call.receiver
            }
            Expr::Reference(reference) if reference.mutability.is_none() => &*reference.expr,
            other => other,
        };
        let name = local_name(expr)?;
        self.lookup(&name)
    }

    /// Binds the loop's index and elements at the start of the body.
    fn bind_iteration(&mut self, expr: &Expr, source: Option<&LoopSource>) -> LoopKind {
        let Expr::ForLoop(e) = expr else {
            return LoopKind::Plain;
        };
        match source {
            Some(LoopSource::Range { lo, hi, inclusive }) => {
                let (name, span) = match &*e.pat {
                    Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                        (ident.ident.to_string(), ident.ident.span())
                    }
                    Pat::Wild(wild) => ("_".to_owned(), wild.underscore_token.span),
                    other => {
                        self.cx.error_spanned(other, diagnostics::loop_pattern());
                        ("_".to_owned(), other.span())
                    }
                };
                let emitted = if name == "_" {
                    self.names.fresh("i")
                } else {
                    self.names.fresh(&name)
                };
                let index = self.new_var(emitted, span, false, false);
                if name != "_" {
                    self.bind(&name, index);
                }
                LoopKind::Range {
                    index,
                    lo: lo.clone(),
                    hi: hi.clone(),
                    inclusive: *inclusive,
                }
            }
            Some(LoopSource::Counted {
                bases,
                enumerate,
                len,
            }) => {
                let counter_name = self.names.fresh("k");
                let counter = self.new_var(counter_name, e.for_token.span, false, false);
                let counter_operand = Operand {
                    kind: OperandKind::Var(counter),
                    mode: Mode::Value,
                    span: e.for_token.span,
                };
                let mut pat = &*e.pat;
                if *enumerate {
                    match pat {
                        Pat::Tuple(tuple) if tuple.elems.len() == 2 => {
                            match &tuple.elems[0] {
                                Pat::Ident(ident)
                                    if ident.by_ref.is_none() && ident.subpat.is_none() =>
                                {
                                    let name = ident.ident.to_string();
                                    self.bind(&name, counter);
                                }
                                Pat::Wild(_) => {}
                                other => self.cx.error_spanned(other, diagnostics::loop_pattern()),
                            }
                            pat = &tuple.elems[1];
                        }
                        other => self.cx.error_spanned(other, diagnostics::loop_pattern()),
                    }
                }
                let elems: Vec<&Pat> = if bases.len() == 1 {
                    vec![pat]
                } else {
                    match pat {
                        Pat::Tuple(tuple) if tuple.elems.len() == bases.len() => {
                            tuple.elems.iter().collect()
                        }
                        other => {
                            self.cx.error_spanned(other, diagnostics::loop_pattern());
                            Vec::new()
                        }
                    }
                };
                for (&base, elem) in bases.iter().zip(elems) {
                    let (ident, borrow) = match elem {
                        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                            (Some(&ident.ident), true)
                        }
                        Pat::Reference(reference) => match &*reference.pat {
                            Pat::Ident(ident)
                                if ident.by_ref.is_none() && ident.subpat.is_none() =>
                            {
                                (Some(&ident.ident), false)
                            }
                            other => {
                                self.cx.error_spanned(other, diagnostics::loop_pattern());
                                (None, false)
                            }
                        },
                        Pat::Wild(_) => (None, false),
                        other => {
                            self.cx.error_spanned(other, diagnostics::loop_pattern());
                            (None, false)
                        }
                    };
                    let Some(ident) = ident else { continue };
                    let base_operand = Operand {
                        kind: OperandKind::Var(base),
                        mode: Mode::Value,
                        span: ident.span(),
                    };
                    let op = Op::Index {
                        base: base_operand,
                        index: counter_operand.clone(),
                        borrow,
                    };
                    let name = ident.to_string();
                    let var = self.define(Some(&name), op, None, ident.span());
                    self.bind(&name, var);
                }
                LoopKind::Counted {
                    counter,
                    len: Operand {
                        kind: OperandKind::Var(*len),
                        mode: Mode::Value,
                        span: e.for_token.span,
                    },
                }
            }
            None => LoopKind::Plain,
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            vars: self.vars.len(),
            stmts: self.stmts.len(),
            errors: self.cx.len(),
            items: self.items.len(),
            taken: self.names.taken.clone(),
            temps: self.temps,
            scopes: self.scopes.clone(),
        }
    }

    fn restore(&mut self, snapshot: Snapshot) {
        self.vars.truncate(snapshot.vars);
        self.stmts.truncate(snapshot.stmts);
        self.cx.truncate(snapshot.errors);
        self.items.truncate(snapshot.items);
        self.names.taken = snapshot.taken;
        self.temps = snapshot.temps;
        self.scopes = snapshot.scopes;
    }

    // Input:  v[i] = e;   v[i] += e;   v[i] -= e;
    // Output: SetIndex { base: v, index: i, value: e, add }
    fn set_index(&mut self, place: &syn::ExprIndex, value: &Expr, op: Option<BinOp>) {
        let Some(name) = local_name(&place.expr) else {
            self.unsupported_place(&Expr::Index(place.clone()));
            return;
        };
        let Some(base) = self.lookup(&name) else {
            self.cx
                .error(place.expr.span(), diagnostics::assign_to_non_local(&name));
            return;
        };
        if self.vars[base].is_param {
            self.cx
                .error_spanned(&place.expr, diagnostics::assign_to_parameter_element());
            return;
        }
        if self.varied(&place.index) {
            self.cx
                .error_spanned(&place.index, diagnostics::index_differentiated());
            return;
        }
        let index = self.operand(&place.index);
        let mut value = self.operand(value);
        let add = match op {
            None => false,
            Some(BinOp::Add) => true,
            Some(BinOp::Sub) => {
                let span = value.span;
                let neg = self.define(None, Op::Neg(value), None, span);
                value = Operand {
                    kind: OperandKind::Var(neg),
                    mode: Mode::Value,
                    span,
                };
                true
            }
            Some(_) => {
                self.cx
                    .error_spanned(place, diagnostics::element_compound());
                return;
            }
        };
        self.vars[base].mutated = true;
        if self.operand_varied(&value) {
            self.vars[base].varied = true;
        }
        if !self.vars[base].elem_scalar {
            self.vars[base].elem_scalar = self.operand_scalar(&value);
        }
        let op = Op::SetIndex {
            base,
            index,
            value,
            add,
        };
        self.define(Some("_"), op, None, place.span());
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
                let mut op = self.op(&init.expr);
                // `let v = x[i];` copies the element (Rust allows it only
                // for a `Copy` one), whatever the macro knows of its type.
                if let (Op::Index { borrow, .. }, Expr::Index(_)) =
                    (&mut op, strip_parens(&init.expr))
                {
                    *borrow = false;
                }
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
            // v[i] = e;
            Expr::Assign(assign) if matches!(&*assign.left, Expr::Index(_)) => {
                let Expr::Index(place) = &*assign.left else {
                    unreachable!("checked by the guard")
                };
                self.set_index(place, &assign.right, None);
            }
            // v[i] += e;
            Expr::Binary(binary)
                if compound_op(&binary.op).is_some() && matches!(&*binary.left, Expr::Index(_)) =>
            {
                let Expr::Index(place) = &*binary.left else {
                    unreachable!("checked by the guard")
                };
                self.set_index(place, &binary.right, compound_op(&binary.op));
            }
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
                // The first value of a variable `hoisted_let` declared: its
                // `let`'s, with the `let`'s type.
                if let Some(ty) = self.declared.get(&old).cloned() {
                    let op = self.op(&assign.right);
                    let var = self.define(Some(&name), op, ty, assign.left.span());
                    self.rebind(&name, var);
                    return;
                }
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
            Expr::If(branch) => {
                self.if_phi(branch, false);
            }
            Expr::Match(m) => {
                if let Some(branch) = self.match_to_if(m) {
                    self.if_phi(&branch, false);
                }
            }
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => self.lower_loop(expr),
            // `{ let a = 2.0 * x; y = a; }`: a scope run for its assignments.
            Expr::Block(block) if block.label.is_none() && block.attrs.is_empty() => {
                self.scopes.push(HashMap::new());
                let tail = self.block(&block.block.stmts);
                self.scopes.pop();
                if tail.is_some_and(|tail| self.operand_varied(&tail)) {
                    self.cx.error_spanned(expr, diagnostics::dropped_value());
                }
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
            Expr::ForLoop(e) => (e.for_token.span, "`for` loop"),
            Expr::While(e) => (e.while_token.span, "`while` loop"),
            Expr::Loop(e) => (e.loop_token.span, "`loop`"),
            _ => (expr.span(), "loop"),
        };
        self.cx.error(span, diagnostics::control_flow(what));
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
                // `&p.w`, `&v[i]` of non-float elements: the variable already
                // holds that reference.
                let place = matches!(
                    strip_parens(&reference.expr),
                    Expr::Field(_) | Expr::Index(_)
                );
                if place
                    && inner.mode == Mode::Value
                    && matches!(inner.kind, OperandKind::Var(var) if self.vars[var].by_ref
                        && self.stmts.iter().any(|stmt| stmt.def == var
                            && matches!(stmt.op, Op::Field { .. } | Op::Index { borrow: true, .. })))
                {
                    return Operand { span, ..inner };
                }
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
                // `!(x > 0.0)`: a `bool`, which carries no derivative.
                syn::UnOp::Not(_) => Op::Opaque(self.rename(expr)),
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
            Expr::If(branch) => match self.if_phi(branch, true) {
                Some(value) => Op::Copy(value),
                None => Op::Opaque(TokenStream::new()),
            },
            Expr::Match(m) => match self
                .match_to_if(m)
                .and_then(|branch| self.if_phi(&branch, true))
            {
                Some(value) => Op::Copy(value),
                None => Op::Opaque(TokenStream::new()),
            },
            Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => {
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
            Expr::Index(index) => self.index(index),
            // p.w1: a field of a parameter struct, borrowed.
            Expr::Field(field) => Op::Field {
                base: self.operand(&field.base),
                member: field.member.clone(),
            },
            Expr::Unsafe(_) => Op::Opaque(TokenStream::new()), // reported by `reject_unsafe`
            // (a, b): a tuple of differentiated values (a function's
            // output, or a value read back by field).
            Expr::Tuple(tuple) if (2..=rules::TUPLE_MAX).contains(&tuple.elems.len()) => {
                let args = tuple.elems.iter().map(|elem| self.operand(elem)).collect();
                Op::Primitive {
                    rule: &rules::TUPLE,
                    callee: TokenStream::new(),
                    args,
                }
            }
            // [a, b]: an array of differentiated values.
            Expr::Array(array) if (1..=rules::ARRAY_MAX).contains(&array.elems.len()) => {
                let args = array.elems.iter().map(|elem| self.operand(elem)).collect();
                Op::Primitive {
                    rule: &rules::ARRAY,
                    callee: TokenStream::new(),
                    args,
                }
            }
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
        let tail = self.block(&block.block.stmts);
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

    // Input:  x[i]     (x a differentiated slice, `Vec`, array or ndarray)
    // Output: Op::Index { base: x, index: i }
    fn index(&mut self, index: &syn::ExprIndex) -> Op {
        if self.varied(&index.index) {
            self.cx
                .error_spanned(&index.index, diagnostics::index_differentiated());
            return Op::Opaque(TokenStream::new());
        }
        let base = self.operand(&index.expr);
        let index_operand = self.operand(&index.index);
        // Elements that are not known to be floats are borrowed, not moved.
        let borrow = match base.kind {
            OperandKind::Var(var) => !self.vars[var].elem_scalar,
            OperandKind::Const(_) => true,
        };
        Op::Index {
            base,
            index: index_operand,
            borrow,
        }
    }

    fn binary(&mut self, binary: &syn::ExprBinary) -> Op {
        let op = match binary.op {
            syn::BinOp::Add(_) => BinOp::Add,
            syn::BinOp::Sub(_) => BinOp::Sub,
            syn::BinOp::Mul(_) => BinOp::Mul,
            syn::BinOp::Div(_) => BinOp::Div,
            // Comparisons give a `bool`, which carries no derivative.
            syn::BinOp::And(_)
            | syn::BinOp::Or(_)
            | syn::BinOp::Eq(_)
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
            return Op::Clone(self.operand(&call.receiver));
        }
        // x.mean().unwrap(), x.mean_axis(Axis(0)).expect("…"): ndarray's
        // methods that return an `Option`, differentiated with their unwrap.
        if ((name == "unwrap" && call.args.is_empty())
            || (name == "expect" && call.args.len() == 1))
            && let Expr::MethodCall(inner) = strip_parens(&call.receiver)
            && let Some(rule) = rules::method(&inner.method.to_string())
            && rule.unwrap
        {
            let args: Vec<&Expr> = inner.args.iter().collect();
            return self.float_method(rule, &inner.method, &inner.receiver, &args, None);
        }
        if let Some(rule) = rules::method(&name) {
            if rule.unwrap {
                self.cx
                    .error(call.method.span(), diagnostics::unwrap_needed(&name));
                return Op::Opaque(TokenStream::new());
            }
            let args: Vec<&Expr> = call.args.iter().collect();
            return self.float_method(rule, &call.method, &call.receiver, &args, None);
        }
        // x.mean().unwrap_or(0.0): the `Option` is the problem, not `unwrap_or`.
        if let Expr::MethodCall(inner) = strip_parens(&call.receiver)
            && rules::method(&inner.method.to_string()).is_some_and(|rule| rule.unwrap)
        {
            self.cx.error(
                inner.method.span(),
                diagnostics::unwrap_needed(&inner.method),
            );
            return Op::Opaque(TokenStream::new());
        }
        if name == "mapv" || (name == "map" && !crate::desugar::is_iterator(&call.receiver)) {
            self.cx
                .error(call.method.span(), diagnostics::map_closure(&name));
            return Op::Opaque(TokenStream::new());
        }
        let receiver_is_self = matches!(&*call.receiver, Expr::Path(p) if p.path.is_ident("self"));
        // p.eval(x), `p` a parameter of a type the macro does not know: the
        // method is `#[grad(wrt(self, …))]` on that type, and its pullback
        // is called the same way (rustc names the method if it is not).
        let receiver_is_struct = local_name(&call.receiver)
            .and_then(|name| self.lookup(&name))
            .is_some_and(|var| self.structs.contains(&var));
        if receiver_is_self || receiver_is_struct {
            // self.helper(x): a `#[grad]` method of the same type. Its
            // pullback has a slot for `self` first, as every method's does;
            // `self` is the first argument here, not written in the call.
            let mut args = vec![self.operand(&call.receiver)];
            args.extend(call.args.iter().map(|arg| self.operand(arg)));
            return Op::Call(Call {
                callee: Callee::SelfMethod {
                    receiver: call.receiver.to_token_stream(),
                    method: call.method.clone(),
                },
                args,
            });
        }
        // concatenate(axis, &[…]).unwrap() of more arrays than `desugar` joins.
        if (name == "unwrap" || name == "expect")
            && let Expr::Call(inner) = strip_parens(&call.receiver)
            && let Expr::Path(func) = strip_parens(&inner.func)
            && let Some(last) = func.path.segments.last()
            && (last.ident == "concatenate" || last.ident == "stack")
        {
            self.cx.error(
                last.ident.span(),
                diagnostics::array_join(last.ident.to_string()),
            );
            return Op::Opaque(TokenStream::new());
        }
        if name == "fold" && !crate::desugar::is_iterator(&call.receiver) {
            self.cx.error(call.method.span(), diagnostics::array_fold());
            return Op::Opaque(TokenStream::new());
        }
        if let Some(link) = crate::desugar::iterator_culprit(call) {
            self.cx
                .error(link.span(), diagnostics::iterator_chain(link));
            return Op::Opaque(TokenStream::new());
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
        if rule.shape.constant_args()
            && let Some(arg) = args.iter().find(|arg| self.varied(arg))
        {
            self.cx
                .error(arg.span(), diagnostics::constant_argument(rule.name));
            return Op::Opaque(TokenStream::new());
        }
        let recv = self.operand(receiver);
        let args: Vec<Operand> = args.iter().map(|arg| self.operand(arg)).collect();
        // x.min(p) of floats: which side was taken, as a `bool`.
        let side = match (rule.name, &args[..]) {
            (name, [p])
                if rules::SIDED.contains(&name)
                    && self.operand_scalar(&recv)
                    && self.operand_scalar(p)
                    && (self.operand_varied(&recv) || self.operand_varied(p)) =>
            {
                let side = quote::format_ident!("{}_side", rule.name);
                let (x, p) = (self.side_operand(&recv), self.side_operand(p));
                let op = Op::Opaque(quote!(::autodiff::__private::rules::#side(#x, #p)));
                Some(self.define(Some("side"), op, None, method.span()))
            }
            _ => None,
        };
        Op::Method {
            method: method.clone(),
            rule,
            recv,
            args,
            qualified,
            side,
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

        // concatenate(axis, &[a.view(), …]) that `desugar` did not take.
        if matches!(name.as_str(), "concatenate" | "stack")
            && (path.segments.len() == 1 || path.segments[0].ident == "ndarray")
        {
            self.cx
                .error(last.ident.span(), diagnostics::array_join(&name));
            return Op::Opaque(TokenStream::new());
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
                // `vec![0.0; x.len()]`, `format!("{}", x.len())`: the
                // arguments as expressions, where they parse as such.
                let exprs = node
                    .parse_body_with(Punctuated::<Expr, syn::Token![,]>::parse_terminated)
                    .map(|list| list.into_iter().collect::<Vec<_>>())
                    .or_else(|_| {
                        node.parse_body_with(|input: syn::parse::ParseStream| {
                            let value: Expr = input.parse()?;
                            input.parse::<syn::Token![;]>()?;
                            let count: Expr = input.parse()?;
                            Ok(vec![value, count])
                        })
                    });
                match exprs {
                    Ok(exprs) => exprs.iter().for_each(|expr| self.visit_expr(expr)),
                    Err(_) => self.found |= self.lower.tokens_varied(node.tokens.clone()),
                }
            }
            fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
                // `x.len()`: a count, whatever the elements.
                if !QUERY_METHODS.contains(&node.method.to_string().as_str()) {
                    self.visit_expr(&node.receiver);
                }
                for arg in &node.args {
                    self.visit_expr(arg);
                }
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
                Some(var) if !lower.vars[var].is_param || ident != lower.vars[var].name => {
                    TokenTree::Ident(lower.var_ident(var))
                }
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
        // `::autodiff::__private::max_element`, as `desugar` writes it.
        3 => {
            path.leading_colon.is_some()
                && path.segments[0].ident == "autodiff"
                && path.segments[1].ident == "__private"
        }
        _ => false,
    }
}

/// `Array2<f64>`, `ndarray::ArrayView1<'_, f32>`, `ArrayBase<S, D>`: the
/// differentiable ndarray types (not `ArrayViewMut`).
pub(crate) fn is_array_type(path: &syn::Path) -> bool {
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

/// The name and type of a `let` that binds one name: `y`, `mut y`, `y: f64`.
fn let_name(pat: &Pat) -> Option<(&Ident, Option<&Type>)> {
    match pat {
        Pat::Type(typed) => match let_name(&typed.pat)? {
            (ident, None) => Some((ident, Some(&typed.ty))),
            _ => None,
        },
        Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
            Some((&ident.ident, None))
        }
        _ => None,
    }
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

/// Methods that return a count or a flag, never a differentiable value:
/// `x.len()` reads a differentiated `x` but is a constant.
const QUERY_METHODS: &[&str] = &[
    "len",
    "is_empty",
    "shape",
    "dim",
    "raw_dim",
    "ndim",
    "nrows",
    "ncols",
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_sign_negative",
    "is_sign_positive",
];

/// Where a statement sequence sits: what ends its paths.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    /// The function body: paths end with the returned value.
    Fn,
    /// A loop body: paths end with `continue` or `break`.
    Loop,
    /// A block with a value and no way out (a branch that merges).
    Block,
}

/// How a lowered statement sequence ended.
enum Tail {
    /// Its value (the function's, or the block's), if it has one.
    Value(Option<Operand>),
    /// A loop-body path's end.
    End(End),
}

struct LoopFrame {
    /// The outer variables the body assigns.
    names: Vec<String>,
    /// The scope where the loop binds them.
    depth: usize,
    span: Span,
    /// The carried values at each `continue`, `break` and end of the body.
    ends: Vec<Vec<Operand>>,
}

enum LoopSource {
    Range {
        lo: Operand,
        hi: Operand,
        inclusive: bool,
    },
    Counted {
        bases: Vec<VarId>,
        enumerate: bool,
        len: VarId,
    },
}

struct Snapshot {
    vars: usize,
    stmts: usize,
    errors: usize,
    items: usize,
    taken: HashSet<String>,
    temps: usize,
    scopes: Vec<HashMap<String, VarId>>,
}

/// The local names `expr` assigns to (`x = …`, `x += …`), outside closures.
fn assigned_names(expr: &Expr) -> Vec<String> {
    struct Find(Vec<String>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_expr_assign(&mut self, node: &'ast syn::ExprAssign) {
            if let Some(name) = local_name(&node.left)
                && !self.0.contains(&name)
            {
                self.0.push(name);
            }
            syn::visit::visit_expr_assign(self, node);
        }
        fn visit_expr_binary(&mut self, node: &'ast syn::ExprBinary) {
            if (compound_op(&node.op).is_some() || is_other_compound(&node.op))
                && let Some(name) = local_name(&node.left)
                && !self.0.contains(&name)
            {
                self.0.push(name);
            }
            syn::visit::visit_expr_binary(self, node);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut find = Find(Vec::new());
    find.visit_expr(expr);
    find.0
}

/// Whether a `match` pattern binds a variable (a lower-case name that is not
/// a path, or `x @ …`).
fn pattern_binds(pat: &Pat) -> bool {
    struct Find(bool);
    impl<'ast> Visit<'ast> for Find {
        fn visit_pat_ident(&mut self, node: &'ast syn::PatIdent) {
            let name = node.ident.to_string();
            if node.subpat.is_some() || name.starts_with(|c: char| c.is_lowercase() || c == '_') {
                self.0 = true;
            }
        }
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    let mut find = Find(false);
    find.visit_pat(pat);
    find.0
}

/// Whether `ty` is a slice, array, `Vec` or ndarray array of `f32`/`f64`.
fn elem_is_float(ty: &Type) -> bool {
    let is_float = |ty: &Type| matches!(classify(ty), (TypeClass::Float, false));
    match ty {
        Type::Reference(reference) => elem_is_float(&reference.elem),
        Type::Paren(inner) => elem_is_float(&inner.elem),
        Type::Group(inner) => elem_is_float(&inner.elem),
        Type::Slice(slice) => is_float(&slice.elem),
        Type::Array(array) => is_float(&array.elem),
        Type::Path(path) => path.path.segments.last().is_some_and(|segment| {
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                return false;
            };
            let name = segment.ident.to_string();
            (name == "Vec" || is_array_type(&path.path))
                && args.args.iter().any(|arg| match arg {
                    syn::GenericArgument::Type(ty) => is_float(ty),
                    _ => false,
                })
        }),
        _ => false,
    }
}

/// Whether a block-like expression (`if`, `match`, a loop) ends with a value;
/// other expressions always have one.
fn block_like_has_value(expr: &Expr) -> bool {
    let block_value = |block: &syn::Block| matches!(block.stmts.last(), Some(syn::Stmt::Expr(expr, None)) if block_like_has_value(expr));
    match expr {
        Expr::If(branch) => {
            block_value(&branch.then_branch)
                && branch
                    .else_branch
                    .as_ref()
                    .is_some_and(|(_, els)| block_like_has_value(els))
        }
        Expr::Block(block) => block_value(&block.block),
        Expr::Match(m) => m.arms.iter().any(|arm| match &*arm.body {
            Expr::Block(block) => block_value(&block.block),
            _ => true,
        }),
        Expr::ForLoop(_) | Expr::While(_) | Expr::Loop(_) => false,
        _ => true,
    }
}

/// `x = e` or `x op= e`.
fn is_assignment(expr: &Expr) -> bool {
    match expr {
        Expr::Assign(_) => true,
        Expr::Binary(binary) => compound_op(&binary.op).is_some() || is_other_compound(&binary.op),
        _ => false,
    }
}

fn strip_parens(expr: &Expr) -> &Expr {
    match expr {
        Expr::Paren(inner) => strip_parens(&inner.expr),
        Expr::Group(inner) => strip_parens(&inner.expr),
        other => other,
    }
}

/// The type parameter of `sig` that `ty` is (perhaps behind `&`), if any.
pub fn generic_scalar<'a>(ty: &Type, sig: &'a Signature) -> Option<&'a Ident> {
    match ty {
        Type::Reference(reference) => generic_scalar(&reference.elem, sig),
        Type::Paren(inner) => generic_scalar(&inner.elem, sig),
        Type::Path(path) if path.qself.is_none() => {
            let ident = path.path.get_ident()?;
            sig.generics
                .type_params()
                .map(|param| &param.ident)
                .find(|param| *param == ident)
        }
        _ => None,
    }
}

/// The type parameter of `sig` that the elements of `ty` are, for a slice,
/// array or `Vec` of it (perhaps behind `&`).
pub fn generic_elem<'a>(ty: &Type, sig: &'a Signature) -> Option<&'a Ident> {
    match ty {
        Type::Reference(reference) => generic_elem(&reference.elem, sig),
        Type::Paren(inner) => generic_elem(&inner.elem, sig),
        Type::Slice(slice) => generic_scalar(&slice.elem, sig),
        Type::Array(array) => generic_scalar(&array.elem, sig),
        Type::Path(path) if path.qself.is_none() => {
            let segment = path.path.segments.last()?;
            if segment.ident != "Vec" {
                return None;
            }
            let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
                return None;
            };
            match args.args.first()? {
                syn::GenericArgument::Type(elem) => generic_scalar(elem, sig),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether `ty` is `f32` or `f64` (an `as` cast's target).
fn is_float_type(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.path.is_ident("f64") || path.path.is_ident("f32"))
}

/// Whether an opaque expression is plain arithmetic, comparison, casts,
/// counts and reads of variables nothing writes: no calls with effects.
fn pure(f: &Function, expr: &Expr) -> bool {
    struct Check<'a> {
        f: &'a Function,
        pure: bool,
    }
    impl<'ast> Visit<'ast> for Check<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            match expr {
                Expr::Lit(_)
                | Expr::Binary(_)
                | Expr::Unary(_)
                | Expr::Paren(_)
                | Expr::Group(_)
                | Expr::Cast(_)
                | Expr::Index(_)
                | Expr::Reference(_)
                | Expr::Tuple(_) => syn::visit::visit_expr(self, expr),
                Expr::Path(path) => {
                    if let Some(ident) = path.path.get_ident() {
                        let name = ident.to_string();
                        if self
                            .f
                            .vars
                            .iter()
                            .any(|var| var.mutated && var.name == name)
                        {
                            self.pure = false;
                        }
                    }
                }
                Expr::MethodCall(call) => {
                    let name = call.method.to_string();
                    if rules::method(&name).is_some()
                        || matches!(
                            name.as_str(),
                            "len"
                                | "is_empty"
                                | "min"
                                | "max"
                                | "abs"
                                | "saturating_sub"
                                | "div_ceil"
                        )
                    {
                        syn::visit::visit_expr(self, expr);
                    } else {
                        self.pure = false;
                    }
                }
                Expr::Call(call) => {
                    let allowed = matches!(&*call.func, Expr::Path(path)
                    if path.path.segments.last().is_some_and(|last| {
                        matches!(
                            last.ident.to_string().as_str(),
                            "min" | "max" | "same_type" | "min_side" | "max_side"
                        )
                    }));
                    if allowed {
                        syn::visit::visit_expr(self, expr);
                    } else {
                        self.pure = false;
                    }
                }
                Expr::Macro(mac) => {
                    let is_matches = mac
                        .mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|last| last.ident == "matches");
                    if !is_matches {
                        self.pure = false;
                    }
                }
                _ => self.pure = false,
            }
        }
    }
    let mut check = Check { f, pure: true };
    check.visit_expr(expr);
    check.pure
}
