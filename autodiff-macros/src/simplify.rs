//! IR → IR clean-ups that leave less for the reverse sweep to record.
//!
//! Entry point: [`forward_elements`], run between `lower` and `analyse`.

use crate::ir::{Block, Function, Node, Op, Operand, OperandKind, VarId};
use std::collections::HashMap;

/// An element of a local array, by the identity of its index: the same SSA
/// variable, or the same constant, is the same element.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Element {
    Var(VarId),
    Const(String),
}

fn element(index: &Operand) -> Element {
    match &index.kind {
        OperandKind::Var(var) => Element::Var(*var),
        OperandKind::Const(tokens) => Element::Const(tokens.to_string()),
    }
}

// Input:  xc[i] = t6;  t9 = xc[i];  t10 = q * t9;  t11 = xc[i];
// Output: xc[i] = t6;  t9 = t6;     t10 = q * t9;  t11 = t6;
//
// A float read from a local array element that the same straight run of
// code wrote (or read) before, with no write to the array in between, is the
// value written (or read): a copy of it. The reverse sweep then needs that
// value, often cheap to compute again, instead of a recorded read of an
// array that a later iteration overwrites.
pub fn forward_elements(f: &mut Function) {
    let mut body = std::mem::take(&mut f.body);
    block(f, &mut body);
    f.body = body;
}

fn block(f: &mut Function, block_: &mut Block) {
    let mut known: HashMap<(VarId, Element), Operand> = HashMap::new();
    for node in &mut block_.nodes {
        match node {
            Node::Stmt(id) => {
                let id = *id;
                let def = f.stmts[id].def;
                match &f.stmts[id].op {
                    Op::SetIndex {
                        base,
                        index,
                        value,
                        add,
                    } => {
                        let base = *base;
                        known.retain(|(array, _), _| *array != base);
                        if !add && f.vars[base].elem_scalar && !f.vars[base].touched {
                            known.insert((base, element(index)), value.clone());
                        }
                    }
                    Op::Index {
                        base:
                            Operand {
                                kind: OperandKind::Var(base),
                                ..
                            },
                        index,
                        borrow: false,
                    } if f.vars[*base].mutated
                        && !f.vars[*base].touched
                        && f.vars[*base].elem_scalar =>
                    {
                        let key = (*base, element(index));
                        match known.get(&key) {
                            Some(value) => {
                                let mut value = value.clone();
                                value.span = f.stmts[id].span;
                                f.stmts[id].op = Op::Copy(value);
                            }
                            None => {
                                let span = f.stmts[id].span;
                                known.insert(
                                    key,
                                    Operand {
                                        kind: OperandKind::Var(def),
                                        mode: crate::ir::Mode::Value,
                                        span,
                                    },
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
            Node::If(branch) => {
                block(f, &mut branch.then);
                block(f, &mut branch.els);
                known.clear();
            }
            Node::Loop(lp) => {
                block(f, &mut lp.body);
                known.clear();
            }
        }
    }
}
