//! Calls: float and ndarray methods, runtime primitives, `#[grad]`
//! functions and methods (through their pullbacks).

use super::*;

impl Lower<'_> {
    // Input:  x.powf(p)          f64::powf(x, p)
    // Output: Op::Method { method: powf, recv: x, args: [p] }
    pub(super) fn method_call(&mut self, call: &syn::ExprMethodCall) -> Op {
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
            self.cx.error(
                call.method.span(),
                diagnostics::map_closure(&name, self.activations),
            );
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

    pub(super) fn float_method(
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

    pub(super) fn call(&mut self, call: &syn::ExprCall) -> Op {
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
        if let Some(rule) = rules::primitive(&name, self.activations)
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
                callee: runtime_callee(path),
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
}

/// The callee of a runtime primitive, as the forward sweep calls it.
///
/// Input:  `sigmoid` (one segment: whatever is in scope by that name)
/// Output: `::autodiff::__private::rules::runtime_fn(sigmoid, ::autodiff::__private::runtime::sigmoid)`,
///         which is `sigmoid` itself, and does not compile unless that is
///         the runtime's function: a user's own `fn sigmoid` would otherwise
///         be differentiated by the runtime's rule.
///
/// A path through the crate (`autodiff::sigmoid`) is the runtime's already.
fn runtime_callee(path: &syn::Path) -> TokenStream {
    if path.segments.len() != 1 || path.leading_colon.is_some() {
        return path.to_token_stream();
    }
    let last = &path.segments[0];
    let span = last.ident.span();
    quote::quote_spanned! {span=>
        ::autodiff::__private::rules::runtime_fn(#path, ::autodiff::__private::runtime::#last)
    }
}
