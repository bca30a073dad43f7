//! Activity analysis: a variable is *active* when it depends on a
//! differentiated parameter (varied, decided by `lower`) and the result
//! depends on it (useful, decided here by one backward pass over the
//! straight-line body). Only active variables get adjoints; everything else
//! costs nothing in the reverse sweep.

use crate::ir::{Function, Op, Operand, OperandKind, VarId};

/// `active[v]` for every variable `v` of `f`.
pub fn activity(f: &Function) -> Vec<bool> {
    let mut useful = vec![false; f.vars.len()];
    if let OperandKind::Var(ret) = f.ret.kind {
        useful[ret] = true;
    }
    for stmt in f.body.iter().rev() {
        if !useful[stmt.def] || !f.vars[stmt.def].varied {
            continue;
        }
        for operand in differentiable_operands(&stmt.op) {
            if let OperandKind::Var(var) = operand.kind {
                useful[var] = true;
            }
        }
    }
    (0..f.vars.len())
        .map(|var: VarId| useful[var] && f.vars[var].varied)
        .collect()
}

/// The operands through which a derivative flows (not `powi`'s exponent, not
/// what an opaque expression reads).
pub fn differentiable_operands(op: &Op) -> Vec<&Operand> {
    match op {
        Op::Copy(x) | Op::Neg(x) => vec![x],
        Op::Binary(_, a, b) => vec![a, b],
        Op::Method {
            rule, recv, args, ..
        } => {
            if rule.shape == crate::ir::MethodShape::Powi {
                vec![recv]
            } else {
                std::iter::once(recv).chain(args).collect()
            }
        }
        Op::Primitive { args, .. } => args.iter().collect(),
        Op::Call(call) => call.args.iter().collect(),
        Op::Opaque(_) => Vec::new(),
    }
}

/// Every operand an operation reads, differentiable or not.
pub fn operands(op: &Op) -> Vec<&Operand> {
    match op {
        Op::Method { recv, args, .. } => std::iter::once(recv).chain(args).collect(),
        other => differentiable_operands(other),
    }
}
