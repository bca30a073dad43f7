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
//!
//! `Lower`'s methods are split by construct: this file holds the variables,
//! their scopes and what is known of them (varied, a float, a sequence);
//! `control.rs` the body, blocks, `if`/`match` and loops; `statements.rs`
//! `let`s, assignments and element writes; `expressions.rs` operands,
//! operators and indexing; `calls.rs` methods, primitives and calls.

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

mod calls;
mod control;
mod expressions;
mod statements;

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

pub fn function(
    cx: &mut Errors,
    sig: &Signature,
    block: &syn::Block,
    front: &Front,
    activations: &rules::Activations,
) -> Lowered {
    let mut lower = Lower {
        cx,
        activations,
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
            // (`s.tanh()`, `v.len()`: the float and length methods take
            // `self` by value or by `&`, and change nothing.)
            if let Expr::Path(path) = &*call.receiver
                && let Some(ident) = path.path.get_ident()
                && !by_value_method(&call.method.to_string())
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
    /// The runtime's activations: `sigmoid(x)` is a primitive.
    activations: &'a rules::Activations,
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
            slice_range: false,
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
        // `&x[a..b]` of a sequence of floats.
        if let Some(base) = op.sub_slice_of(&self.vars) {
            return self.vars[base].elem_scalar;
        }
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
        // `&x[a..b]`: a slice.
        if op.sub_slice_of(&self.vars).is_some() {
            return true;
        }
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

/// A method that changes nothing it is called on: a float method with a
/// derivative rule, or one of the length and integer methods.
fn by_value_method(name: &str) -> bool {
    rules::method(name).is_some()
        || matches!(
            name,
            "len" | "is_empty" | "min" | "max" | "abs" | "saturating_sub" | "div_ceil"
        )
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
                    if by_value_method(&call.method.to_string()) {
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
