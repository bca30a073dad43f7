//! IR → reverse sweep. Never sees syn or tokens: it decides which pullback
//! feeds which adjoint, in the order the reverse sweep runs them; `emit`
//! writes them out.
//!
//! Entry point: [`adjoint`]. It cannot fail: every construct `lower` accepted
//! has a rule.

use crate::ir::{
    AdjStmt, Adjoint, BinOp, Function, Grad, MethodShape, Op, Operand, OperandKind, RuleArg,
    StmtId, VarId,
};

// Input:  t0 = a * x;  t1 = t0 + b;  y = sigmoid(t1);  return y
// Output: d_y = seed
//         d_t1 = sigmoid_pullback(t1, y, d_y)
//         d_t0 = add_pullback_lhs(t0, b, d_t1);  d_b = add_pullback_rhs(t0, b, d_t1)
//         d_a = mul_pullback_lhs(a, x, d_t0);    d_x = mul_pullback_rhs(a, x, d_t0)
pub fn adjoint(f: &Function, active: &[bool]) -> Adjoint {
    let mut stmts = Vec::new();
    let is_active = |operand: &Operand| match operand.kind {
        OperandKind::Var(var) if active[var] => Some(var),
        _ => None,
    };
    if let Some(ret) = is_active(&f.ret) {
        stmts.push(AdjStmt::Seed { target: ret });
    }
    for (index, stmt) in f.body.iter().enumerate().rev() {
        let def = stmt.def;
        if !active[def] {
            continue;
        }
        let out = RuleArg::Output(def);
        let d = || RuleArg::Adjoint(def);
        let primal = |operand: &Operand| RuleArg::Primal(operand.clone());
        let mut rule = |target: VarId, name: String, args: Vec<RuleArg>| {
            stmts.push(AdjStmt::Rule {
                target,
                rule: name,
                args,
                span: stmt.span,
            });
        };
        match &stmt.op {
            Op::Copy(x) => {
                if let Some(target) = is_active(x) {
                    stmts.push(AdjStmt::Pass {
                        target,
                        source: def,
                    });
                }
            }
            Op::Neg(x) => {
                if let Some(target) = is_active(x) {
                    rule(target, "neg_pullback".into(), vec![primal(x), d()]);
                }
            }
            Op::Binary(op, a, b) => {
                let name = match op {
                    BinOp::Add => "add",
                    BinOp::Sub => "sub",
                    BinOp::Mul => "mul",
                    BinOp::Div => "div",
                };
                // Right first: the reverse sweep mirrors the forward order.
                if let Some(target) = is_active(b) {
                    let mut args = vec![primal(a), primal(b)];
                    if *op == BinOp::Div {
                        args.push(out);
                    }
                    args.push(d());
                    rule(target, format!("{name}_pullback_rhs"), args);
                }
                if let Some(target) = is_active(a) {
                    rule(
                        target,
                        format!("{name}_pullback_lhs"),
                        vec![primal(a), primal(b), d()],
                    );
                }
            }
            Op::Method {
                rule: method,
                recv,
                args,
                ..
            } => match method.shape {
                MethodShape::Unary => {
                    if let Some(target) = is_active(recv) {
                        rule(
                            target,
                            format!("{}_pullback", method.name),
                            vec![primal(recv), out, d()],
                        );
                    }
                }
                MethodShape::Powi => {
                    if let Some(target) = is_active(recv) {
                        let n = RuleArg::Int(args[0].clone());
                        rule(
                            target,
                            "powi_pullback".into(),
                            vec![primal(recv), n, out, d()],
                        );
                    }
                }
                MethodShape::Binary => {
                    let p = &args[0];
                    if let Some(target) = is_active(p) {
                        let args = vec![primal(recv), primal(p), RuleArg::Output(def), d()];
                        rule(target, format!("{}_pullback_rhs", method.name), args);
                    }
                    if let Some(target) = is_active(recv) {
                        let args = vec![primal(recv), primal(p), RuleArg::Output(def), d()];
                        rule(target, format!("{}_pullback_lhs", method.name), args);
                    }
                }
                MethodShape::MulAdd => {
                    let operands = [(recv, "x"), (&args[0], "a"), (&args[1], "b")];
                    for (operand, which) in operands.into_iter().rev() {
                        if let Some(target) = is_active(operand) {
                            let args = vec![primal(recv), primal(&args[0]), primal(&args[1]), d()];
                            rule(target, format!("mul_add_pullback_{which}"), args);
                        }
                    }
                }
            },
            Op::Primitive {
                rule: primitive,
                arg,
                ..
            } => {
                if let Some(target) = is_active(arg) {
                    rule(
                        target,
                        format!("{}_pullback", primitive.name),
                        vec![primal(arg), out, d()],
                    );
                }
            }
            Op::Call(call) => {
                let targets = call.args.iter().map(is_active).collect();
                stmts.push(AdjStmt::CallPullback {
                    stmt: index as StmtId,
                    targets,
                });
            }
            Op::Opaque(_) => {}
        }
    }
    let received = |var: VarId| {
        stmts.iter().any(|stmt| match stmt {
            AdjStmt::Seed { target }
            | AdjStmt::Rule { target, .. }
            | AdjStmt::Pass { target, .. } => *target == var,
            AdjStmt::CallPullback { targets, .. } => targets.contains(&Some(var)),
        })
    };
    let grads = f
        .params
        .iter()
        .map(|param| {
            if !param.wrt {
                Grad::Constant
            } else if received(param.var) {
                Grad::Adjoint(param.var)
            } else {
                Grad::Zero(param.var)
            }
        })
        .collect();
    Adjoint { stmts, grads }
}
