//! Liveness of forward values and adjoints, for the writer of the sweeps:
//! where each value is last read (so the forward sweep borrows rather than
//! moves what is still needed, and the reverse may consume what is not), and
//! how many places add into each adjoint (one that is defined by its only
//! contribution needs no `mut`).

use crate::ir::{
    AdjStmt, Adjoint, Block, End, Function, LoopKind, Node, Op, Operand, OperandKind, RuleArg,
    StmtId, VarId,
};
use std::collections::{HashMap, HashSet};

#[derive(Default)]
pub struct Liveness {
    /// The position of each statement in the forward sweep.
    pub position: HashMap<StmtId, usize>,
    /// The last forward position that reads each value (a read inside a
    /// loop counts at the outermost loop's end).
    pub last_forward_use: HashMap<VarId, usize>,
    /// The first top-level node (in forward order) whose reverse reads each
    /// forward value: the last to read it in the reverse sweep, which may
    /// consume an array nothing else needs (`norm_sq_pullback_into`).
    pub last_primal_reader: HashMap<VarId, usize>,
    /// The index among the top block's nodes of each statement there.
    pub top_index: HashMap<StmtId, usize>,
    /// How many places add into each adjoint.
    pub sites: HashMap<VarId, usize>,
}

/// The liveness of `f`'s values, `needed` being what the reverse sweep reads.
pub fn liveness(f: &Function, adjoint: &Adjoint, needed: &HashSet<VarId>) -> Liveness {
    let mut scan = Scan {
        f,
        adjoint,
        needed,
        position: HashMap::new(),
        last_forward_use: HashMap::new(),
        last_primal_reader: HashMap::new(),
        top_index: HashMap::new(),
        sites: HashMap::new(),
    };
    scan.count_sites(&f.body);
    if let OperandKind::Var(ret) = f.ret.kind {
        *scan.sites.entry(ret).or_default() += 1;
    }
    scan.positions(&f.body, &mut 0, None);
    scan.primal_readers();
    Liveness {
        position: scan.position,
        last_forward_use: scan.last_forward_use,
        last_primal_reader: scan.last_primal_reader,
        top_index: scan.top_index,
        sites: scan.sites,
    }
}

/// The number of nodes in `block` and the blocks nested in it: the
/// positions [`Scan::positions`] gives them.
fn count_nodes(block: &Block) -> usize {
    block
        .nodes
        .iter()
        .map(|node| {
            1 + match node {
                Node::Stmt(_) => 0,
                Node::If(branch) => count_nodes(&branch.then) + count_nodes(&branch.els),
                Node::Loop(lp) => count_nodes(&lp.body),
            }
        })
        .sum()
}

struct Scan<'a> {
    f: &'a Function,
    adjoint: &'a Adjoint,
    needed: &'a HashSet<VarId>,
    position: HashMap<StmtId, usize>,
    last_forward_use: HashMap<VarId, usize>,
    last_primal_reader: HashMap<VarId, usize>,
    top_index: HashMap<StmtId, usize>,
    sites: HashMap<VarId, usize>,
}

impl Scan<'_> {
    /// Numbers the forward statements and finds each value's last reader.
    fn positions(&mut self, block: &Block, counter: &mut usize, loop_end: Option<usize>) {
        let read = |this: &mut Self, operand: &Operand, at: usize| {
            if let OperandKind::Var(var) = operand.kind {
                let at = loop_end.unwrap_or(at);
                let last = this.last_forward_use.entry(var).or_insert(at);
                *last = (*last).max(at);
            }
        };
        for node in &block.nodes {
            *counter += 1;
            match node {
                Node::Stmt(id) => {
                    self.position.insert(*id, *counter);
                    for operand in crate::analyse::operands(&self.f.stmts[*id].op) {
                        read(self, operand, *counter);
                    }
                    if let Op::Opaque(_) = &self.f.stmts[*id].op {
                        for var in self.f.stmts[*id].reads.clone() {
                            let at = loop_end.unwrap_or(*counter);
                            let last = self.last_forward_use.entry(var).or_insert(at);
                            *last = (*last).max(at);
                        }
                    }
                    if let Op::SetIndex { base, .. } = &self.f.stmts[*id].op {
                        let at = loop_end.unwrap_or(*counter);
                        let last = self.last_forward_use.entry(*base).or_insert(at);
                        *last = (*last).max(at);
                    }
                }
                Node::If(branch) => {
                    read(self, &branch.cond, *counter);
                    self.positions(&branch.then, counter, loop_end);
                    self.positions(&branch.els, counter, loop_end);
                }
                Node::Loop(lp) => {
                    // Everything read in a loop is read again by the next
                    // iteration: it counts as read at the loop's end (the
                    // outermost loop's last position).
                    let end = loop_end.unwrap_or(*counter + count_nodes(&lp.body));
                    for carried in &lp.carried {
                        read(self, &carried.init, *counter);
                    }
                    if let Some(snapshots) = &lp.checkpoint {
                        read(self, snapshots, *counter);
                    }
                    if let LoopKind::Range { lo, hi, .. } = &lp.kind {
                        read(self, lo, *counter);
                        read(self, hi, *counter);
                    }
                    if let LoopKind::Counted { len, .. } = &lp.kind {
                        read(self, len, *counter);
                    }
                    self.positions(&lp.body, counter, Some(end));
                }
            }
        }
        if let End::Values(values) | End::Continue(values) | End::Break(values) = &block.end {
            for value in values {
                read(self, value, *counter + 1);
            }
        }
    }

    fn primal_readers(&mut self) {
        for (index, node) in self.f.body.nodes.iter().enumerate().rev() {
            let mut reads: Vec<VarId> = Vec::new();
            match node {
                Node::Stmt(id) => {
                    self.top_index.insert(*id, index);
                    for stmt in &self.adjoint.stmts[*id] {
                        match stmt {
                            AdjStmt::Rule { args, .. } => {
                                for arg in args {
                                    match arg {
                                        RuleArg::Primal(Operand {
                                            kind: OperandKind::Var(var),
                                            ..
                                        })
                                        | RuleArg::Int(Operand {
                                            kind: OperandKind::Var(var),
                                            ..
                                        })
                                        | RuleArg::Output(var) => reads.push(*var),
                                        _ => {}
                                    }
                                }
                            }
                            AdjStmt::CallPullback { stmt, .. } => {
                                if let Op::Call(call) = &self.f.stmts[*stmt].op {
                                    reads.extend(call.args.iter().filter_map(
                                        |arg| match arg.kind {
                                            OperandKind::Var(var) => Some(var),
                                            OperandKind::Const(_) => None,
                                        },
                                    ));
                                }
                            }
                            _ => {}
                        }
                    }
                }
                // Anything a nested block reads may be read by its reverse.
                Node::If(_) | Node::Loop(_) => {
                    reads.extend(self.needed.iter().copied());
                }
            }
            for var in reads {
                self.last_primal_reader.insert(var, index);
            }
        }
        // The result is read after the whole reverse sweep: never consumed.
        if let OperandKind::Var(ret) = self.f.ret.kind {
            self.last_primal_reader.remove(&ret);
        }
    }

    /// Counts the places that add into each adjoint: one that is defined by
    /// its only contribution needs no `mut`.
    fn count_sites(&mut self, block: &Block) {
        if let End::Values(values) | End::Continue(values) | End::Break(values) = &block.end {
            for value in values {
                if let OperandKind::Var(var) = value.kind {
                    *self.sites.entry(var).or_default() += 1;
                }
            }
        }
        for node in &block.nodes {
            match node {
                Node::Stmt(id) => {
                    for stmt in &self.adjoint.stmts[*id] {
                        match stmt {
                            AdjStmt::Rule { target, .. } | AdjStmt::Pass { target, .. } => {
                                *self.sites.entry(*target).or_default() += 1;
                            }
                            // The element is taken out of the base's adjoint.
                            AdjStmt::IndexTake { target, base, .. } => {
                                *self.sites.entry(*target).or_default() += 1;
                                *self.sites.entry(*base).or_default() += 2;
                            }
                            AdjStmt::IndexAdd { base, .. }
                            | AdjStmt::FieldAdd { base, .. }
                            | AdjStmt::IndexClear { base, .. } => {
                                *self.sites.entry(*base).or_default() += 2;
                            }
                            AdjStmt::CallPullback { targets, .. } => {
                                for target in targets.iter().flatten() {
                                    *self.sites.entry(*target).or_default() += 1;
                                }
                            }
                        }
                    }
                }
                Node::If(branch) => {
                    // Contributions in both branches count twice: the
                    // adjoint is declared before the `if`.
                    self.count_sites(&branch.then);
                    self.count_sites(&branch.els);
                }
                Node::Loop(lp) => {
                    self.count_sites(&lp.body);
                    for carried in &lp.carried {
                        if let OperandKind::Var(var) = carried.init.kind {
                            *self.sites.entry(var).or_default() += 1;
                        }
                    }
                }
            }
        }
    }
}
