//! Statements and places: `let`, assignments, element writes `v[i] = e`,
//! compound assignments, and what a statement may not do.

use super::*;

impl Lower<'_> {
    // Input:  v[i] = e;   v[i] += e;   v[i] -= e;
    // Output: SetIndex { base: v, index: i, value: e, add }
    pub(super) fn set_index(&mut self, place: &syn::ExprIndex, value: &Expr, op: Option<BinOp>) {
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
    pub(super) fn local(&mut self, local: &syn::Local) {
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

    pub(super) fn expr_stmt(&mut self, expr: &Expr) {
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
                    // `x = (-2.0)`: a temporary holding a constant.
                    Op::Copy(Operand {
                        kind: OperandKind::Var(temp),
                        mode: Mode::Value,
                        ..
                    }) if !self.vars[temp].varied && is_temp(&self.vars[temp].name) => {
                        let previous = self.var_reference_tokens(old);
                        let value = var_ident(&self.vars[temp]);
                        Op::Opaque(
                            quote!(::autodiff::__private::rules::same_type(#previous, #value)),
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

    pub(super) fn unsupported_place(&mut self, place: &Expr) {
        let what = match place {
            Expr::Index(_) => diagnostics::assign_to_element(),
            Expr::Field(_) => diagnostics::assign_to_field(),
            Expr::Unary(_) => diagnostics::assign_through_reference(),
            _ => diagnostics::assign_to_other(),
        };
        self.cx.error_spanned(place, what);
    }

    pub(super) fn control_flow(&mut self, expr: &Expr) {
        let (span, what) = match expr {
            Expr::ForLoop(e) => (e.for_token.span, "`for` loop"),
            Expr::While(e) => (e.while_token.span, "`while` loop"),
            Expr::Loop(e) => (e.loop_token.span, "`loop`"),
            _ => (expr.span(), "loop"),
        };
        self.cx.error(span, diagnostics::control_flow(what));
    }
}
