//! Control flow: the body and blocks, `if`/`match` (with values, and with
//! early exits absorbed into their branches), and every kind of loop.

use super::*;

impl Lower<'_> {
    // Input:  the statements of the body
    // Output: the operand it returns (its tail, or a `return`; with early
    //         returns, the variable where the paths meet)
    pub(super) fn body(&mut self, stmts: &[syn::Stmt], sig: &Signature) -> Operand {
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
    pub(super) fn block(&mut self, stmts: &[syn::Stmt]) -> Option<Operand> {
        match self.seq(stmts, &[], Ctx::Block) {
            Tail::Value(value) => value,
            Tail::End(_) => None,
        }
    }

    /// Lowers `stmts`, then each slice of `rest` in turn (the statements that
    /// follow an `if` whose branches absorbed them), until the path ends.
    pub(super) fn seq(&mut self, stmts: &[syn::Stmt], rest: &[&[syn::Stmt]], ctx: Ctx) -> Tail {
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
    pub(super) fn has_exit(&self, expr: &Expr, ctx: Ctx) -> bool {
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
    pub(super) fn as_if(&mut self, expr: &Expr) -> Option<syn::ExprIf> {
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
    pub(super) fn match_to_if(&mut self, m: &syn::ExprMatch) -> Option<syn::ExprIf> {
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
    pub(super) fn absorbing_if(
        &mut self,
        branch: &syn::ExprIf,
        cont: &[&[syn::Stmt]],
        ctx: Ctx,
    ) -> Tail {
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
    pub(super) fn hoisted_let(&mut self, local: &syn::Local) -> Option<syn::ExprIf> {
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
    pub(super) fn assign_tails(&mut self, mut branch: syn::ExprIf, ident: &Ident) -> syn::ExprIf {
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

    pub(super) fn assign_tail(&mut self, block: &mut syn::Block, ident: &Ident) {
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
    pub(super) fn sub<T>(&mut self, lower: impl FnOnce(&mut Self) -> T) -> (Vec<Node>, T) {
        let outer = std::mem::take(&mut self.cur);
        let out = lower(self);
        (std::mem::replace(&mut self.cur, outer), out)
    }

    /// A variable where two branches meet, holding `a` or `b`.
    pub(super) fn phi(&mut self, name: &str, a: &Operand, b: &Operand, span: Span) -> VarId {
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
    pub(super) fn if_phi(&mut self, branch: &syn::ExprIf, want_value: bool) -> Option<Operand> {
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
                            .error_spanned(other, diagnostics::other_expression(this.activations));
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

    pub(super) fn fresh_temp(&mut self) -> String {
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
    pub(super) fn carried_values(&mut self) -> Vec<Operand> {
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
    pub(super) fn lower_loop(&mut self, expr: &Expr) {
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
    pub(super) fn while_body(&mut self, e: &syn::ExprWhile) -> End {
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
    pub(super) fn loop_source(&mut self, e: &syn::ExprForLoop) -> Option<LoopSource> {
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
    pub(super) fn sequence_base(&mut self, expr: &Expr) -> Option<VarId> {
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
    pub(super) fn bind_iteration(&mut self, expr: &Expr, source: Option<&LoopSource>) -> LoopKind {
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

    pub(super) fn snapshot(&self) -> Snapshot {
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

    pub(super) fn restore(&mut self, snapshot: Snapshot) {
        self.vars.truncate(snapshot.vars);
        self.stmts.truncate(snapshot.stmts);
        self.cx.truncate(snapshot.errors);
        self.items.truncate(snapshot.items);
        self.names.taken = snapshot.taken;
        self.temps = snapshot.temps;
        self.scopes = snapshot.scopes;
    }
}
