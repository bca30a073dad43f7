//! Expressions: operands, operators, blocks as values, indexing.

use super::*;

impl Lower<'_> {
    /// Lowers `expr` to an operand: a variable or a constant.
    pub(super) fn operand(&mut self, expr: &Expr) -> Operand {
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
                let inner = self.operand(&reference.expr);
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
                let inner = self.by_value(inner, span);
                Operand {
                    mode: Mode::Borrow,
                    span,
                    ..inner
                }
            }
            // *x
            Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Deref(_)) => {
                let inner = self.operand(&unary.expr);
                let inner = self.by_value(inner, span);
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

    /// `inner` as a plain value: a borrow or a dereference is copied into a
    /// temporary first (`&&x`, `*&x`).
    fn by_value(&mut self, inner: Operand, span: Span) -> Operand {
        if inner.mode == Mode::Value {
            return inner;
        }
        let var = self.define(None, Op::Copy(inner), None, span);
        Operand {
            kind: OperandKind::Var(var),
            mode: Mode::Value,
            span,
        }
    }

    /// Lowers `expr` to the operation that computes it.
    pub(super) fn op(&mut self, expr: &Expr) -> Op {
        if !self.varied(expr) {
            // `&xs[a..b]` of a constant slice: as written (the sub-slice is
            // unsized, so it is borrowed in place, not copied out first).
            if let Expr::Reference(reference) = expr
                && let Expr::Index(index) = strip_parens(&reference.expr)
                && matches!(strip_parens(&index.index), Expr::Range(_))
            {
                return Op::Opaque(self.rename(expr));
            }
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
                self.cx
                    .error_spanned(expr, diagnostics::other_expression(self.activations));
                Op::Opaque(TokenStream::new())
            }
        }
    }

    pub(super) fn block_expr(&mut self, block: &syn::ExprBlock) -> Op {
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
    pub(super) fn index(&mut self, index: &syn::ExprIndex) -> Op {
        if self.varied(&index.index) {
            self.cx
                .error_spanned(&index.index, diagnostics::index_differentiated());
            return Op::Opaque(TokenStream::new());
        }
        let base = self.operand(&index.expr);
        // Input:  &x[a..b]   (any range: `a..=b`, `a..`, `..b`, `..`)
        // Output: t = rules::slice_range(a..b);  &x[t]
        // `SliceRange` is `Copy`, so the reverse sweep adds into `d_x[t]`
        // with the same value.
        if matches!(strip_parens(&index.index), Expr::Range(_)) {
            let range = self.rename(&index.index);
            let span = index.index.span();
            let op = Op::Opaque(quote!(::autodiff::__private::rules::slice_range(#range)));
            let var = self.define(None, op, None, span);
            self.vars[var].slice_range = true;
            return Op::Index {
                base,
                index: Operand {
                    kind: OperandKind::Var(var),
                    mode: Mode::Value,
                    span,
                },
                borrow: true,
            };
        }
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

    pub(super) fn binary(&mut self, binary: &syn::ExprBinary) -> Op {
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
}
