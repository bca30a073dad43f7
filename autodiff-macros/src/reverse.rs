//! IR → reverse sweep. Never sees syn or tokens: it decides which pullback
//! feeds which adjoint, in the order the reverse sweep runs them; `emit`
//! writes them out.
//!
//! Entry point: [`adjoint`]. It cannot fail: every construct `lower` accepted
//! has a rule.

use crate::ir::{
    AdjStmt, Adjoint, BinOp, Function, Grad, MethodRule, MethodShape, Mode, Op, Operand,
    OperandKind, RuleArg, StmtId, VarId,
};
use crate::rules::pullback_name;

/// Float rules whose pullback reads the operand, never the output (their
/// f32, f64 and `Dual` implementations alike).
pub(crate) const OUTPUT_UNREAD: &[&str] = &[
    "ln", "log2", "log10", "sin", "cos", "asin", "acos", "atan", "sinh", "cosh", "abs", "ln_1p",
    "exp_m1", "asinh", "acosh", "atanh",
];

/// Float rules whose pullback reads the output, never the operand (their
/// f32, f64 and `Dual` implementations alike).
pub(crate) const OPERAND_UNREAD: &[&str] = &["exp", "exp2", "sqrt", "cbrt", "tan", "recip"];

/// Float rules whose pullback reads neither the operand nor the output, only
/// the adjoint (their f32, f64 and `Dual` implementations alike): linear
/// (`d · π/180`) or piecewise constant (`0`, and `d` for `fract`).
pub(crate) const BOTH_UNREAD: &[&str] = &[
    "to_radians",
    "to_degrees",
    "floor",
    "ceil",
    "round",
    "trunc",
    "fract",
    "signum",
];

// Input:  t0 = a * x;  t1 = t0 + b;  y = sigmoid(t1);  return y
// Output: for each statement, its pullbacks:
//         y:  d_t1 = sigmoid_pullback(t1, y, d_y)
//         t1: d_t0 = d_t1;  d_b = d_t1          (floats: the adjoint passes)
//         t0: d_a = mul_pullback_lhs(a, x, d_t0);  d_x = mul_pullback_rhs(a, x, d_t0)
// `emit` walks the body backwards and writes them, with the seed `d_y = seed`.
pub fn adjoint(f: &Function, active: &[bool]) -> Adjoint {
    // At the top level every forward value is still in scope when the
    // reverse sweep reads it: the pullbacks there keep their plain form.
    let top: Vec<StmtId> = f
        .body
        .nodes
        .iter()
        .filter_map(|node| match node {
            crate::ir::Node::Stmt(id) => Some(*id),
            _ => None,
        })
        .collect();
    let stmts = (0..f.stmts.len())
        .map(|id| stmt_pullbacks(f, id, active, !top.contains(&id)))
        .collect();
    let grads = f
        .params
        .iter()
        .map(|param| {
            if !param.wrt {
                Grad::Constant
            } else if active[param.var] {
                Grad::Adjoint(param.var)
            } else {
                Grad::Zero(param.var)
            }
        })
        .collect();
    Adjoint { stmts, grads }
}

/// The reverse of one statement: its pullbacks, right to left.
/// `nested`: the statement sits in a branch or loop body, where what its
/// pullbacks read must be recorded or computed again, so they are handed as
/// little as they need (see [`OUTPUT_UNREAD`]).
fn stmt_pullbacks(f: &Function, index: StmtId, active: &[bool], nested: bool) -> Vec<AdjStmt> {
    let mut stmts = Vec::new();
    let is_active = |operand: &Operand| match operand.kind {
        OperandKind::Var(var) if active[var] => Some(var),
        _ => None,
    };
    let stmt = &f.stmts[index];
    let def = stmt.def;
    if let Op::SetIndex {
        base,
        index,
        value,
        add,
    } = &stmt.op
    {
        if active[*base] {
            match is_active(value) {
                Some(target) => stmts.push(AdjStmt::IndexTake {
                    target,
                    base: *base,
                    index: index.clone(),
                    take: !add,
                }),
                // An element overwritten by a constant: what reached it
                // before is cut off.
                None if !add => stmts.push(AdjStmt::IndexClear {
                    base: *base,
                    index: index.clone(),
                }),
                None => {}
            }
        }
        return stmts;
    }
    if !active[def] {
        return stmts;
    }
    let out = RuleArg::Output(def);
    let d = || RuleArg::Adjoint(def);
    let primal = |operand: &Operand| RuleArg::Primal(operand.clone());
    let scalar = |operand: &Operand| match &operand.kind {
        OperandKind::Var(var) => f.vars[*var].scalar,
        OperandKind::Const(_) => false,
    };
    // A float variable whose slot a pullback may fill with another operand.
    let slim = |operand: &Operand| nested && scalar(operand);
    // A method's or primitive's pullback says if it has an `_into` variant
    // (`transpose`, the activations); an operator's, by its name.
    let into_rule =
        matches!(&stmt.op, Op::Method { rule, .. } | Op::Primitive { rule, .. } if rule.into);
    let mut rule = |target: VarId, name: String, args: Vec<RuleArg>| {
        stmts.push(AdjStmt::Rule {
            target,
            into: into_rule || crate::rules::has_into(&name),
            rule: name,
            args,
            span: stmt.span,
        });
    };
    match &stmt.op {
        Op::Copy(x) | Op::Clone(x) => {
            if let Some(target) = is_active(x) {
                stmts.push(AdjStmt::Pass {
                    target,
                    source: def,
                    negate: false,
                });
            }
        }
        Op::Neg(x) => {
            if let Some(target) = is_active(x) {
                rule(target, pullback_name("neg", ""), vec![primal(x), d()]);
            }
        }
        // Floats added or subtracted: the adjoint passes through, and the
        // reverse sweep needs neither operand.
        Op::Binary(op @ (BinOp::Add | BinOp::Sub), a, b)
            if f.vars[def].scalar
                && (scalar(a) || is_active(a).is_none())
                && (scalar(b) || is_active(b).is_none()) =>
        {
            if let Some(target) = is_active(b) {
                stmts.push(AdjStmt::Pass {
                    target,
                    source: def,
                    negate: *op == BinOp::Sub,
                });
            }
            if let Some(target) = is_active(a) {
                stmts.push(AdjStmt::Pass {
                    target,
                    source: def,
                    negate: false,
                });
            }
        }
        // x[i] * x[i] of floats read from a parameter: both operands are
        // the same element, so one pullback, `powi`'s for n = 2, `d·2·a`,
        // goes to the first (the same value as `d·a + a·d`: doubling is
        // exact) and none to the second: one addition fewer into the
        // element's adjoint (Rosenbrock's `x[i] * x[i]`).
        Op::Binary(BinOp::Mul, a, b)
            if f.vars[def].scalar && scalar(a) && same_element(f, a, b) =>
        {
            if let Some(target) = is_active(a) {
                let two = Operand {
                    kind: OperandKind::Const(quote::quote!(2)),
                    ..a.clone()
                };
                rule(
                    target,
                    pullback_name("powi", ""),
                    vec![primal(a), RuleArg::Int(two), primal(a), d()],
                );
            }
        }
        Op::Binary(op, a, b) => {
            let name = op.rule();
            // Of floats, a product's pullback to one operand reads only the
            // other, and a quotient's only the divisor (and the quotient):
            // the slot of the operand it does not read gets the adjoint,
            // which has the same type and is in scope anyway, so the operand
            // is never needed.
            let floats = nested && f.vars[def].scalar && matches!(op, BinOp::Mul | BinOp::Div);
            let unread = || RuleArg::Adjoint(def);
            let (rhs_args, lhs_args) = match op {
                BinOp::Mul if floats => ([primal(a), unread()], [unread(), primal(b)]),
                BinOp::Div if floats => ([unread(), primal(b)], [unread(), primal(b)]),
                _ => ([primal(a), primal(b)], [primal(a), primal(b)]),
            };
            // Right first: the reverse sweep mirrors the forward order.
            if let Some(target) = is_active(b) {
                let mut args = Vec::from(rhs_args);
                if *op == BinOp::Div {
                    args.push(out);
                }
                args.push(d());
                rule(target, pullback_name(name, "rhs"), args);
            }
            if let Some(target) = is_active(a) {
                let mut args = Vec::from(lhs_args);
                args.push(d());
                rule(target, pullback_name(name, "lhs"), args);
            }
        }
        // x.min(p), x.max(p) of floats: routed by the recorded side.
        Op::Method {
            recv,
            args,
            side: Some(side),
            ..
        } => {
            let side = Operand {
                kind: OperandKind::Var(*side),
                mode: Mode::Value,
                span: stmt.span,
            };
            for (operand, which) in [(&args[0], "rhs"), (recv, "lhs")] {
                if let Some(target) = is_active(operand) {
                    rule(
                        target,
                        pullback_name("select", which),
                        vec![primal(&side), d()],
                    );
                }
            }
        }
        Op::Method {
            rule: method,
            recv,
            args,
            ..
        } => {
            let operands: Vec<&Operand> = std::iter::once(recv).chain(args).collect();
            for (target, name, args) in rule_pullbacks(method, &operands, def, &is_active, &slim) {
                rule(target, name, args);
            }
        }
        Op::Primitive {
            rule: primitive,
            args,
            ..
        } => {
            let operands: Vec<&Operand> = args.iter().collect();
            for (target, name, args) in rule_pullbacks(primitive, &operands, def, &is_active, &slim)
            {
                rule(target, name, args);
            }
        }
        Op::Call(call) => {
            let targets = call.args.iter().map(is_active).collect();
            stmts.push(AdjStmt::CallPullback {
                stmt: index as StmtId,
                targets,
            });
        }
        Op::Index { base, index, .. } => {
            if let Some(base) = is_active(base) {
                stmts.push(AdjStmt::IndexAdd {
                    base,
                    index: index.clone(),
                    source: def,
                });
            }
        }
        Op::Field { base, member } => {
            if let Some(base) = is_active(base) {
                stmts.push(AdjStmt::FieldAdd {
                    base,
                    member: member.clone(),
                    source: def,
                });
            }
        }
        Op::Opaque(_) | Op::SetIndex { .. } => {}
    }
    stmts
}

/// Whether `a` and `b` are two reads of one element of a parameter, at
/// the same index variable (`let t3 = x[i]; let t4 = x[i];`): a parameter
/// is never written, so they hold the same value.
fn same_element(f: &Function, a: &Operand, b: &Operand) -> bool {
    let read = |operand: &Operand| {
        let OperandKind::Var(var) = operand.kind else {
            return None;
        };
        if operand.mode != Mode::Value {
            return None;
        }
        f.stmts
            .iter()
            .find(|stmt| stmt.def == var)
            .and_then(|stmt| match &stmt.op {
                Op::Index {
                    base,
                    index,
                    borrow: false,
                } => match (&base.kind, &index.kind) {
                    (OperandKind::Var(base_var), OperandKind::Var(at))
                        if f.vars[*base_var].is_param
                            && !f.vars[*base_var].touched
                            && index.mode == Mode::Value =>
                    {
                        Some((*base_var, *at, base.mode))
                    }
                    _ => None,
                },
                _ => None,
            })
    };
    matches!((&a.kind, &b.kind), (OperandKind::Var(x), OperandKind::Var(y)) if x != y)
        && read(a).is_some()
        && read(a) == read(b)
}

/// The pullbacks of `rule` applied to `operands` (the receiver first), one per
/// active operand, right to left: `(target, rule function, its arguments)`.
pub(crate) fn rule_pullbacks(
    rule: &MethodRule,
    operands: &[&Operand],
    def: VarId,
    is_active: &dyn Fn(&Operand) -> Option<VarId>,
    scalar: &dyn Fn(&Operand) -> bool,
) -> Vec<(VarId, String, Vec<RuleArg>)> {
    let primal = |operand: &Operand| RuleArg::Primal(operand.clone());
    let (out, d) = (RuleArg::Output(def), RuleArg::Adjoint(def));
    let name = rule.rule;
    let mut pullbacks = Vec::new();
    match (rule.shape, operands) {
        // x.exp(), sigmoid(x), norm(x)
        (MethodShape::Unary, [x]) => {
            if let Some(target) = is_active(x) {
                // A float rule that reads only its operand is handed the
                // operand in the output's place (same type): the reverse
                // sweep then needs the operand alone.
                // Likewise, one that reads only its output gets the output in
                // the operand's place, and one that reads neither gets the
                // adjoint in both (needing nothing of the forward sweep).
                let (x_arg, out) = if OUTPUT_UNREAD.contains(&name) && scalar(x) {
                    (primal(x), primal(x))
                } else if OPERAND_UNREAD.contains(&name) && scalar(x) {
                    (RuleArg::Output(def), out)
                } else if BOTH_UNREAD.contains(&name) && scalar(x) {
                    (RuleArg::Adjoint(def), RuleArg::Adjoint(def))
                } else {
                    (primal(x), out)
                };
                pullbacks.push((target, pullback_name(name, ""), vec![x_arg, out, d]));
            }
        }
        // x.sum(), x.t(), mean(x)
        (MethodShape::Reduce, [x]) => {
            if let Some(target) = is_active(x) {
                pullbacks.push((target, pullback_name(name, ""), vec![primal(x), d]));
            }
        }
        // x.powi(n): the exponent is a constant.
        (MethodShape::Powi, [x, n]) => {
            if let Some(target) = is_active(x) {
                let out = if scalar(x) { primal(x) } else { out };
                let args = vec![primal(x), RuleArg::Int((*n).clone()), out, d];
                pullbacks.push((target, pullback_name(name, ""), args));
            }
        }
        // x.sum_axis(a), x.row(i), x.slice(s![…]): the arguments are constants.
        (MethodShape::Select(_), [x, consts @ ..]) => {
            if let Some(target) = is_active(x) {
                let mut args = vec![primal(x)];
                args.extend(consts.iter().map(|c| RuleArg::Int((*c).clone())));
                args.push(d);
                pullbacks.push((target, pullback_name(name, ""), args));
            }
        }
        // softmax(x, axis): the axis is a constant; the output is read.
        (MethodShape::AxisWise, [x, axis]) => {
            if let Some(target) = is_active(x) {
                let args = vec![primal(x), RuleArg::Int((*axis).clone()), out, d];
                pullbacks.push((target, pullback_name(name, ""), args));
            }
        }
        // x.powf(p): the method's output is an argument of both pullbacks.
        (MethodShape::Binary, [x, p]) => {
            for (operand, side) in [(p, "rhs"), (x, "lhs")] {
                if let Some(target) = is_active(operand) {
                    let args = vec![
                        primal(x),
                        primal(p),
                        RuleArg::Output(def),
                        RuleArg::Adjoint(def),
                    ];
                    pullbacks.push((target, pullback_name(name, side), args));
                }
            }
        }
        // matmul(a, b), a.dot(b), dot(a, b)
        (MethodShape::Bilinear, [a, b]) => {
            for (operand, side) in [(b, "rhs"), (a, "lhs")] {
                if let Some(target) = is_active(operand) {
                    let args = vec![primal(a), primal(b), RuleArg::Adjoint(def)];
                    pullbacks.push((target, pullback_name(name, side), args));
                }
            }
        }
        // x.mul_add(a, b), x.clamp(lo, hi)
        (MethodShape::MulAdd | MethodShape::Clamp, [x, a, b]) => {
            let &[x_name, a_name, b_name] = rule.shape.sides() else {
                return pullbacks;
            };
            for (operand, which) in [(b, b_name), (a, a_name), (x, x_name)] {
                if let Some(target) = is_active(operand) {
                    let args = vec![primal(x), primal(a), primal(b), RuleArg::Adjoint(def)];
                    pullbacks.push((target, pullback_name(name, which), args));
                }
            }
        }
        // concatenate2(axis, a, b): part k of the adjoint flows back into
        // array k.
        (MethodShape::Join(_), [axis, parts @ ..]) => {
            for (k, part) in parts.iter().enumerate().rev() {
                if let Some(target) = is_active(part) {
                    let mut args = vec![RuleArg::Int((*axis).clone())];
                    args.extend(parts.iter().map(|p| primal(p)));
                    args.push(RuleArg::Adjoint(def));
                    pullbacks.push((target, format!("{name}_pullback_{k}"), args));
                }
            }
        }
        // (a, b): component k of the adjoint flows back into operand k.
        (MethodShape::Tuple, operands) => {
            for (k, operand) in operands.iter().enumerate().rev() {
                if let Some(target) = is_active(operand) {
                    let args = vec![RuleArg::Adjoint(def)];
                    pullbacks.push((target, format!("tuple_pullback_{k}"), args));
                }
            }
        }
        // `lower` checks the arity of every rule it accepts.
        _ => {}
    }
    pullbacks
}
