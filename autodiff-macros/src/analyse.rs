//! The middle phase: what the reverse sweep needs, and how it gets it.
//!
//! - [`activity`]: a variable is *active* when it depends on a
//!   differentiated parameter (varied, decided by `lower`) and the result
//!   depends on it (useful, decided here by backward passes over the body,
//!   repeated until loops settle). Only active variables get adjoints;
//!   everything else costs nothing in the reverse sweep.
//! - [`plan`]: the to-be-recorded analysis and every other decision that
//!   sets the cost of the reverse sweep, as data ([`Plan`]): which forward
//!   values each pullback reads; which of them are in scope, computed again
//!   (cheap and reading nothing that would not be had anyway), rebuilt from
//!   their one writer, stepped back (counters) or replayed (forward-order
//!   loops), and which are recorded; how each loop is reversed (over its
//!   bounds or a recorded trip count, in forward order, fused into the
//!   forward loop, skipped or stopped when its adjoints are zero); how each
//!   tape is sized. `emit` prints the plan and decides nothing; the unit
//!   tests in `tests.rs` assert on it.

use crate::ir::{
    AdjStmt, Adjoint, Block, End, Function, Loop, LoopKind, Mode, Node, Op, Operand, OperandKind,
    RuleArg, StmtId, VarId,
};
use std::collections::{HashMap, HashSet};

/// `active[v]` for every variable `v` of `f`.
pub fn activity(f: &Function) -> Vec<bool> {
    let mut useful = vec![false; f.vars.len()];
    if let OperandKind::Var(ret) = f.ret.kind {
        useful[ret] = true;
    }
    loop {
        let before = useful.clone();
        block(f, &f.body, &mut useful, Merge::None);
        if before == useful {
            break;
        }
    }
    (0..f.vars.len())
        .map(|var: VarId| useful[var] && f.vars[var].varied)
        .collect()
}

/// Where a block's end values go.
#[derive(Clone, Copy)]
pub enum Merge<'a> {
    None,
    /// The `phis` of the `if` the block is a branch of.
    Phis(&'a [VarId]),
    /// The carried variables of the innermost loop.
    Loop(&'a Loop),
}

fn mark(useful: &mut [bool], operand: &Operand) {
    if let OperandKind::Var(var) = operand.kind {
        useful[var] = true;
    }
}

fn block(f: &Function, block_: &Block, useful: &mut [bool], merge: Merge) {
    match (&block_.end, merge) {
        (End::Values(values), Merge::Phis(phis)) => {
            for (value, &phi) in values.iter().zip(phis) {
                if useful[phi] {
                    mark(useful, value);
                }
            }
        }
        (End::Continue(values) | End::Break(values), Merge::Loop(lp)) => {
            for (value, carried) in values.iter().zip(&lp.carried) {
                if useful[carried.header] || useful[carried.exit] {
                    mark(useful, value);
                }
            }
        }
        _ => {}
    }
    for node in block_.nodes.iter().rev() {
        match node {
            Node::Stmt(id) => {
                let stmt = &f.stmts[*id];
                if let Op::SetIndex { base, value, .. } = &stmt.op {
                    if useful[*base] {
                        mark(useful, value);
                    }
                    continue;
                }
                if !useful[stmt.def] || !f.vars[stmt.def].varied {
                    continue;
                }
                for operand in differentiable_operands(&stmt.op) {
                    mark(useful, operand);
                }
            }
            Node::If(branch) => {
                let inner = if branch.phis.is_empty() {
                    merge
                } else {
                    Merge::Phis(&branch.phis)
                };
                block(f, &branch.then, useful, inner);
                block(f, &branch.els, useful, inner);
            }
            Node::Loop(lp) => {
                for carried in &lp.carried {
                    if useful[carried.exit] || useful[carried.header] {
                        useful[carried.exit] = true;
                        useful[carried.header] = true;
                        mark(useful, &carried.init);
                    }
                }
                block(f, &lp.body, useful, Merge::Loop(lp));
            }
        }
    }
}

/// The operands through which a derivative flows (not `powi`'s exponent or
/// an axis, not
/// what an opaque expression reads, not an index).
pub fn differentiable_operands(op: &Op) -> Vec<&Operand> {
    match op {
        Op::Copy(x) | Op::Clone(x) | Op::Neg(x) => vec![x],
        Op::Binary(_, a, b) => vec![a, b],
        Op::Method {
            rule, recv, args, ..
        } => {
            if rule.shape.constant_args() {
                vec![recv]
            } else {
                std::iter::once(recv).chain(args).collect()
            }
        }
        Op::Primitive { rule, args, .. } => args
            .iter()
            .enumerate()
            .filter(|(k, _)| !rule.shape.constant_at(*k))
            .map(|(_, arg)| arg)
            .collect(),
        Op::Call(call) => call.args.iter().collect(),
        Op::Index { base, .. } | Op::Field { base, .. } => vec![base],
        Op::SetIndex { value, .. } => vec![value],
        Op::Opaque(_) => Vec::new(),
    }
}

/// Every operand an operation reads, differentiable or not.
pub fn operands(op: &Op) -> Vec<&Operand> {
    match op {
        Op::Method { recv, args, .. } => std::iter::once(recv).chain(args).collect(),
        Op::Primitive { args, .. } => args.iter().collect(),
        Op::Index { base, index, .. } => vec![base, index],
        Op::SetIndex { index, value, .. } => vec![index, value],
        other => differentiable_operands(other),
    }
}

/// A block's identity: its id, numbered by `lower`.
pub type BlockKey = crate::ir::BlockId;

pub fn key(block: &Block) -> BlockKey {
    block.id
}

/// What the reverse sweep reads of the forward sweep, and how it gets it
/// (to-be-recorded analysis). A value of the function's top block is still
/// in scope when the reverse sweep reads it. A value computed inside a
/// branch or a loop body is not: the reverse of that block either recomputes
/// it (cheap and pure: float arithmetic, indexing a slice nothing writes,
/// comparisons) or pops it from a tape the forward sweep pushed it on.
pub struct Plan {
    /// The block each variable is defined in.
    pub home: HashMap<VarId, BlockKey>,
    /// Blocks inside a loop (their values are recorded once per iteration).
    pub in_loop: HashSet<BlockKey>,
    /// Forward values the reverse sweep reads.
    pub needed: HashSet<VarId>,
    /// Values pushed on a tape in the forward sweep, in definition order.
    pub recorded: Vec<VarId>,
    /// Statements the reverse sweep computes again.
    pub recompute: HashSet<StmtId>,
    /// The statement that defines each variable (not the phis, exits and
    /// headers of branches and loops).
    pub defining: HashMap<VarId, StmtId>,
    /// Floats whose adjoint the reverse sweep starts at zero where the value
    /// itself is out of scope: only their type is kept (a zero-sized
    /// `PhantomData` set in the forward sweep), never the value.
    pub witnessed: Vec<VarId>,
    /// Loops (by body) whose iterations the reverse sweep counts again from
    /// their bounds, read on entry, rather than from a recorded trip count:
    /// ranges and counted loops that nothing leaves early.
    pub recounted: HashSet<BlockKey>,
    /// Summing loops (by body) whose reverse runs inside the forward loop
    /// (see [`fusable`]), with the index of their accumulator among the
    /// carried variables. Everything their bodies define is in scope there:
    /// nothing is recorded or computed again for them.
    pub fused: HashMap<BlockKey, usize>,
    /// Tapes sized once: for the outermost loop (by body) around recorded
    /// values, each tape to reserve on its entry and the trip counts whose
    /// product it reserves (the loops from the outermost in, as far as their
    /// bounds are known on entry and nothing leaves them early).
    pub reserve: HashMap<BlockKey, Vec<Reserve>>,
    /// Loops (by body) whose reverse may stop at the first iteration whose
    /// carried adjoints are all zero, as a `min`/`max` in them can make
    /// them: nothing after it contributes (a `min` over an inner loop stops
    /// at the winner).
    pub breakable: HashSet<BlockKey>,
    /// Counters a loop steps by a constant (`l += 1`) that its reverse steps
    /// back from their value after the loop, instead of recording them: the
    /// header, and how (its exit, the step, `true` for `+`).
    pub inductions: HashMap<VarId, Induction>,
    /// Reads of local arrays written in place that come after every write to
    /// the array (its writes are all in earlier top-level nodes): the array
    /// holds the value read until the end, so the read can be done again.
    pub settled: HashSet<StmtId>,
    /// Branches and loops (by the id of their first block: `then`, or the
    /// loop's body) whose reverse has anything to do.
    pub busy: HashSet<BlockKey>,
    /// For each branch and loop (keyed likewise), the variables defined
    /// outside it whose adjoints its reverse adds into: bound before it.
    pub outer: HashMap<BlockKey, Vec<VarId>>,
    /// Loops (by body) whose reverse runs in forward order: recounted,
    /// straight-line, writing no array, with one differentiated carried
    /// value that only sums (`s += …`), so that each iteration's reverse is
    /// the same whatever the order. Their other carried values (`p *= t`,
    /// counters) are replayed from their initial value as the reverse goes,
    /// instead of recorded.
    pub forward_order: HashMap<BlockKey, Vec<Replay>>,
    /// Reads `a[j]` of a local array that one loop `for w in lo..hi { a[w] =
    /// v; }` earlier in the same block writes, and nothing else writes, with
    /// `j` the index of a loop over the same `lo..hi`: the element is `v`
    /// with `w = j`, computed again from `v`'s cheap definition instead of
    /// recorded (GMM's centred point `xcentered[i]` in the triangle).
    pub remat: HashMap<StmtId, Remat>,
    /// For each fused loop (by body) and each sequence parameter its body
    /// adds into, the offset `k` from the loop's index of each read
    /// `base[i + k]` (all its reads have one): their adjoints are summed in
    /// registers, written once.
    pub offsets: HashMap<(BlockKey, VarId), HashMap<StmtId, usize>>,
    /// Borrows that are recorded, and read back, as copies: a borrow of an
    /// element or field of a value written in place (`&y[i]` of a local `y`
    /// with `y[j] = …`), of a local value (`&t` of a `let t = x[i];` in a
    /// loop body, as `for v in x.iter().rev()` binds `v`), or a sub-slice of
    /// a local (`&y[a..b]`, a temporary copy). None can be kept as a borrow
    /// past the next write or the end of the block.
    pub copied: HashSet<VarId>,
    /// Where each forward value is last read, and how many places add into
    /// each adjoint.
    pub live: crate::liveness::Liveness,
    /// Loops (by body) whose reverse may be skipped when the adjoints of
    /// their carried floats are all zero at the exit: their reverse is then
    /// exactly zero (it is linear in those adjoints, reads no adjoint of an
    /// array the body writes) and pops nothing. A `min` over an inner loop
    /// reverses only the inner loop that won.
    pub skippable: HashSet<BlockKey>,
    /// Loops (by body) whose one differentiated carried value is a running
    /// `min`/`max` (`best = best.min(v)`) and nothing else: only the
    /// iteration whose `v` won has a reverse. The forward sweep keeps that
    /// iteration's index in the loop's trip variable (recorded, one entry per
    /// loop instance), instead of which side each iteration took; the
    /// reverse runs the body once, for it, or not at all if the initial
    /// value won.
    pub winners: HashMap<BlockKey, Winner>,
    /// Loops (by body) that write the values their body records at its top
    /// level into a segment of each tape sized on entry of the loop
    /// (`rules::segment`), instead of pushing them one at a time: recounted
    /// loops, for values of `Copy` types with a default (floats, the sides
    /// of `min`/`max`, winners' trips, integer counters). The reverse drains
    /// the same segment.
    pub segmented: HashMap<BlockKey, Vec<VarId>>,
    /// Recounted loops (by body) whose top-level records are all floats or
    /// [`segmented`](Plan::segmented): the reverse binds each tape's last
    /// segment as a slice and reads it at the iteration's slot (one loop
    /// counter, no check per entry), then truncates it. The others drain
    /// and zip their segments.
    pub indexed: HashSet<BlockKey>,
    /// Loops over the segments of a `#[checkpoint]` loop (by body), and the
    /// arrays defined before them that they change in place: with the
    /// carried values, the state a snapshot keeps at the start of each
    /// segment. The forward sweep runs the body recording nothing and
    /// pushes a snapshot per segment; the reverse sweep, for each segment
    /// from the last, restores its snapshot, runs the body again recording
    /// it, then reverses it. Never recounted, fused, segmented or sliced:
    /// what the body records is pushed and popped within one segment.
    pub checkpointed: HashMap<BlockKey, Vec<VarId>>,
    /// Values defined before a checkpointed loop that its body reads: the
    /// reverse sweep runs the body again, so they are [`needed`](Plan::needed)
    /// (borrowed, never moved or consumed; recorded if out of scope there).
    pub kept: HashSet<VarId>,
    /// For each loop (by body) reversed backwards over its bounds, and each
    /// array whose elements its straight-line body reads only as `a[i]`
    /// and `a[i - k]` (`k ≤ 8`, some `k > 0`) and never writes, the `k` of
    /// each read: the reverse adds into `d_a[i - k]` through `k + 1`
    /// running sums in registers, writing each element once, when no later
    /// iteration of the reverse adds to it (RK4's `tmp[i - 1] - tmp[i]`).
    pub lagged: HashMap<(BlockKey, VarId), HashMap<StmtId, usize>>,
    /// For each loop (by body) that runs over its bounds again, the slices,
    /// `Vec`s and arrays of floats that a statement at the top of its body,
    /// before any branch or loop, indexes at exactly the loop's index, and
    /// that the body uses only element by element: every iteration read or
    /// wrote element `i`, so the reverse binds `&mut d_a[..hi]` (and, for a
    /// parameter, `&a[..hi]`) around the loop, whose length rustc then knows
    /// to be the bound: no check per element, and the loop vectorises.
    pub sliced: HashMap<BlockKey, Vec<VarId>>,
    /// The reads of [`Plan::offsets`] and [`Plan::lagged`] whose adjoint is
    /// the first the reversed iteration adds to the running sum of the
    /// widest offset, unconditionally (a statement at the top of the body,
    /// after every other read at that offset): the sum is set there, not
    /// zeroed at the end of the iteration before and added to (`0 + d` is
    /// an addition rustc may not drop, as `0.0 + -0.0` is `0.0`).
    pub opening: HashSet<StmtId>,
    /// For each loop (by body), the arrays of floats whose adjoint its
    /// reverse adds to at given elements only, at indices the loop does not
    /// change (the index of a loop around it, a constant, or an index it
    /// [hoists](Plan::hoisted): `x[i + 1]` in a loop over `j`), and touches
    /// nowhere else: `d_xcentered[i] += …` in the reverse of the triangle's
    /// inner loop. The reverse sums those contributions in a register and
    /// adds the sum to the element once, after the loop. In memory, each
    /// iteration's addition would wait on the store of the one before, as
    /// rustc cannot tell the arrays apart to keep the element in a register.
    pub held: HashMap<BlockKey, Vec<(VarId, Operand)>>,
    /// For each loop (by body) that runs over its bounds again, the values
    /// its reverse computes again at the top of its body
    /// ([`recompute`](Plan::recompute), [`remat`](Plan::remat)) from
    /// values the loop does not change: computed once before the loop's
    /// reverse, if it runs at all (the forward read them only then: `x[i]`
    /// may be out of bounds when the loop is empty), not per iteration
    /// (the centred point `xcentered[i]` in the triangle's loop over `j`).
    pub hoisted: HashMap<BlockKey, Vec<StmtId>>,
}

/// A loop of [`Plan::winners`].
pub struct Winner {
    /// The `bool` that says which side the `min`/`max` took.
    pub side: VarId,
    /// The value of `side` when the iteration's own value won (`false` for
    /// `best.min(v)`, whose receiver is the carried value).
    pub won: bool,
    /// The loop's index, and the trip variable that keeps the winner's.
    pub index: VarId,
    pub trip: VarId,
    /// Set when the carried value is never NaN (see [`Ordered`]).
    pub ordered: Option<Ordered>,
}

/// A running `min`/`max` whose carried value is never NaN: it starts at a
/// float constant that is not NaN (`f64::INFINITY`, `0.0`), and only this
/// `min`/`max` updates it, which returns its non-NaN operand if the other is
/// NaN. Then `c.min(o)` is `if o < c { o } else { c }` (ties keep `c`, which
/// differ only in the sign of a zero), and the side it took is that one
/// comparison: the forward sweep compares and selects, with no NaN test on
/// the carried value's chain from one iteration to the next.
///
/// Input:  `closest = closest.min(dist)`, `closest` starting at `f64::INFINITY`
/// Output: `let side = !takes_min(&closest_1, &dist_3);`
///         `let closest_2 = if side { closest_1 } else { dist_3 };`
pub struct Ordered {
    /// The `min`/`max`'s result, the carried value's next.
    pub value: VarId,
    /// The carried value, and the other operand.
    pub carried: Operand,
    pub other: Operand,
    /// `max` rather than `min`.
    pub max: bool,
}

/// A carried counter `h = h + step` (or `- step`) of a loop that runs over
/// its bounds again: at the top of each reverse iteration it is the value
/// after the iteration, stepped back.
pub struct Induction {
    pub exit: VarId,
    pub step: proc_macro2::TokenStream,
    pub add: bool,
    /// Stepped by a loop nested in the body, not by the body itself (see
    /// [`nested_inductions`]).
    pub through: Option<Through>,
}

/// A counter a nested loop steps: its exit is the counter's value after
/// each iteration of the outer loop.
pub struct Through {
    /// The nested loop, by its body.
    pub inner: BlockKey,
    /// The nested loop's exit value of the counter.
    pub exit: VarId,
}

/// The carried variables of `lp` that are such counters.
fn inductions(f: &Function, active: &[bool], lp: &Loop) -> Vec<(VarId, Induction)> {
    let End::Continue(values) = &lp.body.end else {
        return Vec::new();
    };
    if !recountable(lp) {
        return Vec::new();
    }
    let defined_here = |var: VarId| {
        lp.body.nodes.iter().find_map(|node| match node {
            Node::Stmt(id) if f.stmts[*id].def == var => Some(*id),
            _ => None,
        })
    };
    let mut out = Vec::new();
    for (carried, value) in lp.carried.iter().zip(values) {
        if active[carried.header] {
            continue;
        }
        let OperandKind::Var(next) = value.kind else {
            continue;
        };
        let Some(id) = defined_here(next) else {
            continue;
        };
        let Some(offset) = &f.stmts[id].offset else {
            continue;
        };
        if offset.base != carried.header {
            continue;
        }
        out.push((
            carried.header,
            Induction {
                exit: carried.exit,
                step: quote::ToTokens::to_token_stream(&offset.step),
                add: offset.add,
                through: None,
            },
        ));
    }
    out
}

/// The carried counters of `lp` that a loop nested in its body steps, and
/// nothing else reads: the packed triangle's `l` (`for i in 0..d { for j in
/// i + 1..d { …icf[l]…; l += 1 } }`). The reverse binds the nested loop's
/// exit to the counter's value after the iteration, and steps it back once
/// per iteration of the nested loop after that loop's reverse: no tape of
/// the counter's value per iteration.
fn nested_inductions(
    f: &Function,
    adjoint: &Adjoint,
    active: &[bool],
    lp: &Loop,
) -> Vec<(VarId, Induction)> {
    let End::Continue(values) = &lp.body.end else {
        return Vec::new();
    };
    if !recountable(lp) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (carried, value) in lp.carried.iter().zip(values) {
        let OperandKind::Var(next) = value.kind else {
            continue;
        };
        if active[carried.header] {
            continue;
        }
        let found = lp.body.nodes.iter().find_map(|node| match node {
            Node::Loop(inner) => inner
                .carried
                .iter()
                .find(|c| c.exit == next)
                .map(|c| (node, inner, c)),
            _ => None,
        });
        let Some((node, inner, start)) = found else {
            continue;
        };
        // (Stepped after the nested loop's reverse, which must run and
        // bind the nested loop's bounds.)
        // (`inductions` asks that the nested loop be recounted.)
        if !matches!(start.init.kind, OperandKind::Var(v) if v == carried.header)
            || !has_work(f, adjoint, active, node)
            // (Its one mention: the nested loop's start.)
            || mentions(f, &lp.body, carried.header) != 1
        {
            continue;
        }
        let Some((_, step)) = inductions(f, active, inner)
            .into_iter()
            .find(|(header, _)| *header == start.header)
        else {
            continue;
        };
        out.push((
            carried.header,
            Induction {
                exit: carried.exit,
                step: step.step,
                add: step.add,
                through: Some(Through {
                    inner: key(&inner.body),
                    exit: next,
                }),
            },
        ));
    }
    out
}

/// A carried value replayed in a forward-order reverse (see
/// [`Plan::forward_order`]).
pub struct Replay {
    pub header: VarId,
    /// Its value before the loop.
    pub init: Operand,
    /// Its value for the next iteration, computed again from the header.
    pub next: VarId,
}

/// Fills [`Plan::forward_order`] (not for the fused loops, whose reverse runs
/// inside the forward loop anyway).
fn forward_order(f: &Function, adjoint: &Adjoint, active: &[bool], plan: &mut Plan) {
    // A loop nested in a fused one records what it carries: its tape holds
    // one iteration of the fused loop, and a load is cheaper than a replay
    // of a carried chain.
    let mut nested: HashSet<BlockKey> = HashSet::new();
    for lp in loops(&f.body) {
        if plan.fused.contains_key(&key(&lp.body)) {
            for inner in loops(&lp.body) {
                nested.insert(key(&inner.body));
            }
        }
    }
    for lp in loops(&f.body) {
        if plan.fused.contains_key(&key(&lp.body))
            || nested.contains(&key(&lp.body))
            // (Nested loops pop their tapes last in, first out.)
            || lp.body.nodes.iter().any(|node| !matches!(node, Node::Stmt(_)))
            || !recountable(lp)
            || fusable(f, adjoint, active, lp, &HashSet::new()).is_none()
        {
            continue;
        }
        let End::Continue(values) = &lp.body.end else {
            continue;
        };
        let writes = lp.body.nodes.iter().any(
            |node| matches!(node, Node::Stmt(id) if matches!(f.stmts[*id].op, Op::SetIndex { .. })),
        );
        if writes {
            continue;
        }
        let body = key(&lp.body);
        let index = iteration_vars(lp);
        let mut replays = Vec::new();
        let mut ok = true;
        for (carried, value) in lp.carried.iter().zip(values) {
            if active[carried.header] {
                continue;
            }
            let OperandKind::Var(next) = value.kind else {
                ok = false;
                break;
            };
            // The next value: the header itself, or one cheap
            // statement of the body reading the header, the index
            // and values from outside the body.
            let replayable = next == carried.header
                || plan.defining.get(&next).is_some_and(|&id| {
                    plan.home.get(&next) == Some(&body)
                        && cheap_stmt(f, plan, id)
                        && f.stmts[id].reads.iter().all(|read| {
                            *read == carried.header
                                || index.contains(read)
                                || plan.home.get(read) != Some(&body)
                        })
                });
            let init_ok = match carried.init.kind {
                OperandKind::Var(init) => !f.vars[init].mutated,
                OperandKind::Const(_) => true,
            };
            if !replayable || !init_ok || !f.vars[carried.header].scalar {
                ok = false;
                break;
            }
            replays.push(Replay {
                header: carried.header,
                init: carried.init.clone(),
                next,
            });
        }
        if ok {
            plan.forward_order.insert(body, replays);
        }
    }
}

/// How a read `a[j]` is computed again (see [`Plan::remat`]).
pub struct Remat {
    /// The writer loop's index, bound to the read's index `j`.
    pub index: VarId,
    /// `j`.
    pub at: Operand,
    /// The statements of the writer's body that compute the value, in order.
    pub chain: Vec<StmtId>,
    /// The value written.
    pub value: Operand,
}

/// Finds [`Plan::remat`]'s reads in `f`.
fn remats(f: &Function, plan: &Plan) -> HashMap<StmtId, Remat> {
    // The one write of each local array, and the loop it is directly in.
    let mut writes: HashMap<VarId, Vec<StmtId>> = HashMap::new();
    for (id, stmt) in f.stmts.iter().enumerate() {
        if let Op::SetIndex { base, .. } = &stmt.op {
            writes.entry(*base).or_default().push(id);
        }
    }
    let mut out = HashMap::new();
    remats_in(f, plan, &f.body, &writes, &mut out);
    out
}

fn remats_in(
    f: &Function,
    plan: &Plan,
    block_: &Block,
    writes: &HashMap<VarId, Vec<StmtId>>,
    out: &mut HashMap<StmtId, Remat>,
) {
    let same = |a: &Operand, b: &Operand| match (&a.kind, &b.kind) {
        (OperandKind::Var(x), OperandKind::Var(y)) => x == y && a.mode == b.mode,
        (OperandKind::Const(x), OperandKind::Const(y)) => x.to_string() == y.to_string(),
        _ => false,
    };
    for (position, node) in block_.nodes.iter().enumerate() {
        match node {
            Node::Stmt(_) => {}
            Node::If(branch) => {
                remats_in(f, plan, &branch.then, writes, out);
                remats_in(f, plan, &branch.els, writes, out);
            }
            Node::Loop(lp) => {
                remats_in(f, plan, &lp.body, writes, out);
                let LoopKind::Range {
                    index: w,
                    lo,
                    hi,
                    inclusive,
                } = &lp.kind
                else {
                    continue;
                };
                if !recountable(lp) {
                    continue;
                }
                for node in &lp.body.nodes {
                    let Node::Stmt(write) = node else { continue };
                    let Op::SetIndex {
                        base,
                        index,
                        value,
                        add: false,
                    } = &f.stmts[*write].op
                    else {
                        continue;
                    };
                    let only = writes.get(base).is_some_and(|ids| ids.len() == 1);
                    if !only || !matches!(index.kind, OperandKind::Var(v) if v == *w) {
                        continue;
                    }
                    let Some(chain) = value_chain(f, plan, lp, value) else {
                        continue;
                    };
                    // The reads in the later nodes of this block, at an index
                    // that runs over the same range.
                    for later in &block_.nodes[position + 1..] {
                        reads_of(f, later, *base, &mut |read, at, reader| {
                            let LoopKind::Range {
                                lo: lo2,
                                hi: hi2,
                                inclusive: inclusive2,
                                ..
                            } = &reader.kind
                            else {
                                return;
                            };
                            if same(lo, lo2) && same(hi, hi2) && inclusive == inclusive2 {
                                out.insert(
                                    read,
                                    Remat {
                                        index: *w,
                                        at: at.clone(),
                                        chain: chain.clone(),
                                        value: value.clone(),
                                    },
                                );
                            }
                        });
                    }
                }
            }
        }
    }
}

/// The statements of `lp`'s body that compute `value`, in order, if each is
/// cheap and reads only the body's own values, the loop's index, or values
/// from outside the loop.
fn value_chain(f: &Function, plan: &Plan, lp: &Loop, value: &Operand) -> Option<Vec<StmtId>> {
    let OperandKind::Var(value) = value.kind else {
        return Some(Vec::new());
    };
    if !f.vars[value].scalar {
        return None;
    }
    let here = key(&lp.body);
    let index = iteration_vars(lp);
    let mut chain = Vec::new();
    let mut order = vec![value];
    while let Some(var) = order.pop() {
        if plan.home.get(&var) != Some(&here) || index.contains(&var) {
            continue;
        }
        let id = *plan.defining.get(&var)?;
        if chain.contains(&id) {
            continue;
        }
        if !cheap_stmt(f, plan, id) {
            return None;
        }
        chain.push(id);
        order.extend(f.stmts[id].reads.iter().copied());
    }
    chain.sort_unstable();
    Some(chain)
}

/// Calls `found(read, index, loop)` for each float read `base[j]` inside
/// `node` whose index `j` is the index of an enclosing range loop within it.
fn reads_of(
    f: &Function,
    node: &Node,
    base: VarId,
    found: &mut dyn FnMut(StmtId, &Operand, &Loop),
) {
    fn walk<'a>(
        f: &Function,
        block_: &'a Block,
        base: VarId,
        loops: &mut Vec<&'a Loop>,
        found: &mut dyn FnMut(StmtId, &Operand, &Loop),
    ) {
        for node in &block_.nodes {
            match node {
                Node::Stmt(id) => {
                    if let Op::Index {
                        base:
                            Operand {
                                kind: OperandKind::Var(read),
                                ..
                            },
                        index,
                        borrow: false,
                    } = &f.stmts[*id].op
                        && *read == base
                        && f.vars[f.stmts[*id].def].scalar
                        && let OperandKind::Var(j) = index.kind
                        && let Some(reader) = loops.iter().rev().find(
                            |lp| matches!(lp.kind, LoopKind::Range { index, .. } if index == j),
                        )
                    {
                        found(*id, index, reader);
                    }
                }
                Node::If(branch) => {
                    walk(f, &branch.then, base, loops, found);
                    walk(f, &branch.els, base, loops, found);
                }
                Node::Loop(lp) => {
                    loops.push(lp);
                    walk(f, &lp.body, base, loops, found);
                    loops.pop();
                }
            }
        }
    }
    let mut loops = Vec::new();
    match node {
        Node::Stmt(_) => {}
        Node::If(branch) => {
            walk(f, &branch.then, base, &mut loops, found);
            walk(f, &branch.els, base, &mut loops, found);
        }
        Node::Loop(lp) => {
            loops.push(lp);
            walk(f, &lp.body, base, &mut loops, found);
        }
    }
}

/// A tape reserved on entry of the outermost loop that fills it.
pub struct Reserve {
    /// The recorded value.
    pub tape: VarId,
    /// The trip counts whose product is reserved, outermost first.
    pub counts: Vec<Count>,
    /// Pure statements the counts read, computed again on entry.
    pub prelude: Vec<StmtId>,
}

/// The trip count of a loop, from bounds read before it starts.
#[derive(Clone)]
pub enum Count {
    /// `lo..hi` or `lo..=hi`.
    Range {
        lo: Operand,
        hi: Operand,
        inclusive: bool,
    },
    /// The length of what a counted loop runs over.
    Len(Operand),
}

/// Whether control can leave `block_` other than by its end: a `break` (or a
/// `return`, lowered as one) of the loop whose body it is, at any depth of
/// `if`s but not inside a nested loop.
pub fn breaks(block_: &Block) -> bool {
    matches!(block_.end, End::Break(_))
        || block_.nodes.iter().any(|node| match node {
            Node::If(branch) => breaks(&branch.then) || breaks(&branch.els),
            Node::Stmt(_) | Node::Loop(_) => false,
        })
}

/// Whether the reverse sweep of `lp` counts its iterations from its bounds.
/// (Not a checkpointed loop's: what it records is pushed in its reverse.)
pub fn recountable(lp: &Loop) -> bool {
    !matches!(lp.kind, LoopKind::Plain) && !breaks(&lp.body) && lp.checkpoint.is_none()
}

/// The variables a loop binds by itself in each iteration (its index).
pub fn iteration_vars(lp: &Loop) -> Vec<VarId> {
    match &lp.kind {
        LoopKind::Range { index, .. } => vec![*index],
        LoopKind::Counted { counter, .. } => vec![*counter],
        LoopKind::Plain => Vec::new(),
    }
}

/// The borrows of [`Plan::copied`].
fn copied(f: &Function, defining: &HashMap<VarId, StmtId>) -> HashSet<VarId> {
    let mut copied = defining
        .iter()
        .filter(|&(&var, &id)| {
            let op = &f.stmts[id].op;
            f.vars[var].by_ref
                && match op {
                    // A sub-slice of a local: a temporary copy (see
                    // `emit`), gone at the end of its block.
                    _ if let Some(base) = op.sub_slice_of(&f.vars) => !f.vars[base].is_param,
                    Op::Index {
                        base:
                            Operand {
                                kind: OperandKind::Var(base),
                                ..
                            },
                        borrow: true,
                        ..
                    }
                    | Op::Field {
                        base:
                            Operand {
                                kind: OperandKind::Var(base),
                                ..
                            },
                        ..
                    } => f.vars[*base].mutated,
                    Op::Copy(Operand {
                        kind: OperandKind::Var(base),
                        mode: Mode::Borrow,
                        ..
                    }) => !f.vars[*base].is_param,
                    _ => false,
                }
        })
        .map(|(&var, _)| var)
        .collect::<HashSet<VarId>>();
    // A plain copy of one (`let prev = &y[a..b];` lowered as a temporary and
    // a copy) is one too.
    loop {
        let more: Vec<VarId> = defining
            .iter()
            .filter(|&(var, &id)| {
                f.vars[*var].by_ref
                    && !copied.contains(var)
                    && matches!(&f.stmts[id].op, Op::Copy(Operand {
                        kind: OperandKind::Var(base),
                        mode: Mode::Value,
                        ..
                    }) if copied.contains(base))
            })
            .map(|(&var, _)| var)
            .collect();
        if more.is_empty() {
            return copied;
        }
        copied.extend(more);
    }
}

pub fn plan(f: &Function, adjoint: &Adjoint, active: &[bool]) -> Plan {
    let mut plan = Plan {
        home: HashMap::new(),
        in_loop: HashSet::new(),
        needed: HashSet::new(),
        recorded: Vec::new(),
        recompute: HashSet::new(),
        witnessed: Vec::new(),
        recounted: HashSet::new(),
        fused: HashMap::new(),
        reserve: HashMap::new(),
        skippable: HashSet::new(),
        breakable: HashSet::new(),
        live: crate::liveness::Liveness::default(),
        busy: HashSet::new(),
        outer: HashMap::new(),
        offsets: HashMap::new(),
        remat: HashMap::new(),
        forward_order: HashMap::new(),
        inductions: HashMap::new(),
        winners: HashMap::new(),
        segmented: HashMap::new(),
        indexed: HashSet::new(),
        checkpointed: HashMap::new(),
        kept: HashSet::new(),
        sliced: HashMap::new(),
        opening: HashSet::new(),
        held: HashMap::new(),
        hoisted: HashMap::new(),
        lagged: HashMap::new(),
        settled: settled(f),
        copied: HashSet::new(),
        defining: f
            .stmts
            .iter()
            .enumerate()
            .map(|(id, stmt)| (stmt.def, id))
            .collect(),
    };
    homes(f, &f.body, false, &mut plan);
    plan.copied = copied(f, &plan.defining);
    let mut free: HashSet<VarId> = HashSet::new();
    let mut zeros: HashSet<VarId> = HashSet::new();
    let mut seeds = Seeds {
        f,
        adjoint,
        active,
        needed: &mut plan.needed,
        zeros: &mut zeros,
        free: &mut free,
        recounted: &mut plan.recounted,
        inductions: &mut plan.inductions,
    };
    seeds.block(&f.body);
    if let OperandKind::Var(ret) = f.ret.kind {
        plan.needed.insert(ret);
    }
    // What a checkpointed loop reads from outside is read again by its
    // reverse.
    checkpointed(f, adjoint, active, &mut plan);
    plan.needed.extend(plan.kept.iter().copied());
    // A zero of a float's type needs no value; a zero of an array's shape
    // reads the array.
    let top = key(&f.body);
    for var in zeros {
        let out_of_scope = plan.home.get(&var).is_some_and(|&home| home != top);
        if f.vars[var].scalar && out_of_scope && !plan.needed.contains(&var) {
            plan.witnessed.push(var);
        } else {
            plan.needed.insert(var);
        }
    }
    plan.witnessed.sort_unstable();
    // Summing loops at the top level whose bodies need nothing recorded.
    for (at, node) in f.body.nodes.iter().enumerate() {
        if let Node::Loop(lp) = node {
            let private = private_arrays(f, &plan, lp, &f.body.nodes[at + 1..]);
            // (A body that writes arrays in place reads them back in
            // its reverse: fused, they are in scope, one iteration's worth.)
            if let Some(k) = fusable(f, adjoint, active, lp, &private)
                && (!private.is_empty() || self_contained(f, &plan, lp))
            {
                plan.fused.insert(key(&lp.body), k);
            }
        }
    }
    // Loops reversed in forward order: their values carried but not
    // differentiated are replayed from their initial value, not recorded.
    let mut forced: Vec<StmtId> = Vec::new();
    forward_order(f, adjoint, active, &mut plan);
    for replays in plan.forward_order.values() {
        for replay in replays {
            free.insert(replay.header);
            plan.inductions.remove(&replay.header);
            if let OperandKind::Var(init) = replay.init.kind {
                plan.needed.insert(init);
            }
            if let Some(&id) = plan.defining.get(&replay.next) {
                forced.push(id);
            }
        }
    }
    for &id in &forced {
        plan.recompute.insert(id);
        plan.needed.extend(f.stmts[id].reads.iter().copied());
    }
    // Close over recomputation: a recomputed value needs its operands. A
    // value is computed again when that is cheap (no transcendental call)
    // and reads nothing that would not be had anyway: in scope, computed
    // again by the same rule, or read by a pullback itself. Otherwise the
    // value itself is recorded: one tape entry, not one per operand.
    let available = |plan: &Plan, var: VarId| {
        plan.home
            .get(&var)
            .is_none_or(|home| *home == top || plan.fused.contains_key(home))
            || free.contains(&var)
    };
    plan.remat = remats(f, &plan);
    plan.remat
        .retain(|read, _| plan.needed.contains(&f.stmts[*read].def));
    for remat in plan.remat.values() {
        for &id in &remat.chain {
            let outside = f.stmts[id].reads.iter().copied().filter(|&var| {
                var != remat.index
                    && !remat
                        .chain
                        .contains(&plan.defining.get(&var).copied().unwrap_or(usize::MAX))
            });
            plan.needed.extend(outside.collect::<Vec<_>>());
        }
        if let OperandKind::Var(at) = remat.at.kind {
            plan.needed.insert(at);
        }
    }
    let remat_defs: HashSet<VarId> = plan.remat.keys().map(|&id| f.stmts[id].def).collect();
    let seeds = plan.needed.clone();
    let mut cheap: HashMap<VarId, bool> = HashMap::new();
    let mut order: Vec<VarId> = plan.needed.iter().copied().collect();
    order.sort_unstable();
    let mut recorded: HashSet<VarId> = HashSet::new();
    while let Some(var) = order.pop() {
        if available(&plan, var) || remat_defs.contains(&var) {
            continue;
        }
        let recompute = plan.defining.get(&var).copied().filter(|&id| {
            cheap_stmt(f, &plan, id)
                && f.stmts[id].reads.iter().copied().all(|read| {
                    seeds.contains(&read) || cheap_to_have(f, &plan, &available, read, &mut cheap)
                })
        });
        match recompute {
            Some(id) => {
                if plan.recompute.insert(id) {
                    for read in f.stmts[id].reads.iter().copied() {
                        if plan.needed.insert(read) {
                            order.push(read);
                        }
                    }
                }
            }
            None => {
                recorded.insert(var);
            }
        }
    }
    let mut recorded: Vec<VarId> = recorded.into_iter().collect();
    recorded.sort_unstable();
    plan.recorded = recorded;
    winners(f, adjoint, active, &mut plan);
    reserve(f, &f.body, &mut Vec::new(), &mut plan);
    segmented(f, &mut plan);
    sliced(f, &mut plan);
    lagged(f, adjoint, active, &mut plan);
    skippable(f, adjoint, active, &mut plan);
    plan.live = crate::liveness::liveness(f, adjoint, &plan.needed);
    nested(f, adjoint, active, &f.body, &mut plan);
    for node in &f.body.nodes {
        let Node::Loop(lp) = node else { continue };
        let (Some(&k), Some(&index)) = (plan.fused.get(&key(&lp.body)), iteration_vars(lp).first())
        else {
            continue;
        };
        let header = lp.carried[k].header;
        for base in plan.outer(&lp.body).to_vec() {
            if base != header
                && let Some(found) = offsets(f, &plan, lp, base, index)
            {
                plan.offsets.insert((key(&lp.body), base), found);
            }
        }
    }
    let mut opening = HashSet::new();
    for lp in loops(&f.body) {
        let body = key(&lp.body);
        for ((of, _), reads) in plan.offsets.iter().chain(&plan.lagged) {
            // (A read whose value carries no adjoint has no pullback: it
            // adds nothing, and cannot set the sum.)
            let reads: HashMap<StmtId, usize> = reads
                .iter()
                .filter(|(id, _)| !adjoint.stmts[**id].is_empty())
                .map(|(&id, &k)| (id, k))
                .collect();
            if *of == body
                && let Some(id) = opens(&lp.body, &reads)
            {
                opening.insert(id);
            }
        }
    }
    plan.opening = opening;
    hoisted(f, &mut plan);
    held(f, adjoint, &f.body, &mut Vec::new(), &mut plan);
    plan
}

/// Fills [`Plan::hoisted`].
fn hoisted(f: &Function, plan: &mut Plan) {
    for lp in loops(&f.body) {
        let body = key(&lp.body);
        if !plan.recounted.contains(&body)
            || matches!(lp.kind, LoopKind::Plain)
            || lp.checkpoint.is_some()
            || plan.fused.contains_key(&body)
            || plan.winners.contains_key(&body)
        {
            continue;
        }
        let mut inside = HashSet::new();
        inside.extend(iteration_vars(lp));
        inside.extend(lp.carried.iter().map(|carried| carried.header));
        defs(f, &lp.body, &mut inside);
        // An element of an array written in place may differ from what it
        // was in the forward iteration, until the reverse restores it.
        let steady = |id: StmtId| match &f.stmts[id].op {
            Op::Index { base, .. } => match base.kind {
                OperandKind::Var(var) => !f.vars[var].mutated,
                OperandKind::Const(_) => true,
            },
            Op::Opaque(_) => f.stmts[id].pure,
            Op::Call(_) | Op::SetIndex { .. } => false,
            _ => true,
        };
        let mut found = Vec::new();
        for node in &lp.body.nodes {
            let Node::Stmt(id) = node else { continue };
            let stmt = &f.stmts[*id];
            let def = &f.vars[stmt.def];
            // A float, or an index at an offset (`i + 1`): values of a type
            // with a `Default`, for the loop that does not run.
            if !(def.scalar || stmt.offset.is_some()) || def.by_ref {
                continue;
            }
            let reads: Vec<VarId> = if let Some(remat) = plan.remat.get(id) {
                if !remat.chain.iter().all(|&link| steady(link)) {
                    continue;
                }
                let chain: HashSet<VarId> =
                    remat.chain.iter().map(|&link| f.stmts[link].def).collect();
                let at = match remat.at.kind {
                    OperandKind::Var(var) => Some(var),
                    OperandKind::Const(_) => None,
                };
                remat
                    .chain
                    .iter()
                    .flat_map(|&link| f.stmts[link].reads.iter().copied())
                    .filter(|read| *read != remat.index && !chain.contains(read))
                    .chain(at)
                    .collect()
            } else if plan.recompute.contains(id) && steady(*id) {
                stmt.reads.clone()
            } else {
                continue;
            };
            if reads.iter().all(|read| !inside.contains(read)) {
                found.push(*id);
                // What reads it may be hoisted too.
                inside.remove(&stmt.def);
            }
        }
        if !found.is_empty() {
            plan.hoisted.insert(body, found);
        }
    }
}

/// Fills [`Plan::held`] for the loops in `block_`, `around` the indices of
/// the loops around it.
fn held(f: &Function, adjoint: &Adjoint, block_: &Block, around: &mut Vec<VarId>, plan: &mut Plan) {
    for node in &block_.nodes {
        match node {
            Node::Stmt(_) => {}
            Node::If(branch) => {
                held(f, adjoint, &branch.then, around, plan);
                held(f, adjoint, &branch.els, around, plan);
            }
            Node::Loop(lp) => {
                let body = key(&lp.body);
                if !plan.fused.contains_key(&body) {
                    let found = held_in(f, adjoint, lp, around, plan);
                    if !found.is_empty() {
                        plan.held.insert(body, found);
                    }
                }
                let depth = around.len();
                around.extend(iteration_vars(lp));
                held(f, adjoint, &lp.body, around, plan);
                around.truncate(depth);
            }
        }
    }
}

/// The arrays of [`Plan::held`] for `lp`, and the element of each.
fn held_in(
    f: &Function,
    adjoint: &Adjoint,
    lp: &Loop,
    around: &[VarId],
    plan: &Plan,
) -> Vec<(VarId, Operand)> {
    let summed: HashSet<StmtId> = plan
        .offsets
        .values()
        .chain(plan.lagged.values())
        .flat_map(|reads| reads.keys().copied())
        .collect();
    // An index computed once before the loop's reverse (see `hoisted`):
    // the sum is added to its element only if the loop ran.
    let hoisted: Vec<VarId> = plan
        .hoisted
        .get(&key(&lp.body))
        .into_iter()
        .flatten()
        .map(|&id| f.stmts[id].def)
        .collect();
    let invariant = |at: &Operand| {
        at.mode == Mode::Value
            && match at.kind {
                OperandKind::Var(var) => around.contains(&var) || hoisted.contains(&var),
                OperandKind::Const(_) => true,
            }
    };
    // For each base: its elements, or `None` once anything else touches
    // its adjoint. (Two of them may be the same element at run time: each
    // sum is added to it.)
    let mut found: Vec<(VarId, Option<Vec<Operand>>)> = Vec::new();
    let spoil = |found: &mut Vec<(VarId, Option<Vec<Operand>>)>, base: VarId| match found
        .iter_mut()
        .find(|(b, _)| *b == base)
    {
        Some(entry) => entry.1 = None,
        None => found.push((base, None)),
    };
    let mut ids = Vec::new();
    collect_stmts(&lp.body, &mut ids);
    for id in ids {
        for adj in &adjoint.stmts[id] {
            match adj {
                AdjStmt::IndexAdd { base, index, .. } => {
                    let var = &f.vars[*base];
                    let ok = invariant(index)
                        && var.elem_scalar
                        && var.sequence
                        && !summed.contains(&id);
                    match found.iter_mut().find(|(b, _)| b == base) {
                        Some((_, Some(ats))) if ok => {
                            if !ats.iter().any(|at| same_value(at, index)) {
                                ats.push(index.clone());
                            }
                        }
                        None if ok => found.push((*base, Some(vec![index.clone()]))),
                        _ => spoil(&mut found, *base),
                    }
                }
                AdjStmt::IndexTake { base, target, .. } => {
                    spoil(&mut found, *base);
                    spoil(&mut found, *target);
                }
                AdjStmt::IndexClear { base, .. } | AdjStmt::FieldAdd { base, .. } => {
                    spoil(&mut found, *base);
                }
                AdjStmt::Pass { target, source, .. } => {
                    spoil(&mut found, *target);
                    spoil(&mut found, *source);
                }
                AdjStmt::Rule { target, args, .. } => {
                    spoil(&mut found, *target);
                    for arg in args {
                        if let RuleArg::Adjoint(var) = arg {
                            spoil(&mut found, *var);
                        }
                    }
                }
                AdjStmt::CallPullback { stmt, targets } => {
                    spoil(&mut found, f.stmts[*stmt].def);
                    for target in targets.iter().flatten() {
                        spoil(&mut found, *target);
                    }
                }
            }
        }
    }
    found
        .into_iter()
        .filter_map(|(base, ats)| ats.map(|ats| (base, ats)))
        .flat_map(|(base, ats)| ats.into_iter().map(move |at| (base, at)))
        .collect()
}

/// Every statement in `block_`, at any depth.
fn collect_stmts(block_: &Block, out: &mut Vec<StmtId>) {
    for node in &block_.nodes {
        match node {
            Node::Stmt(id) => out.push(*id),
            Node::If(branch) => {
                collect_stmts(&branch.then, out);
                collect_stmts(&branch.els, out);
            }
            Node::Loop(lp) => collect_stmts(&lp.body, out),
        }
    }
}

/// Of `reads` (a running sum's reads in `body`, each with its offset), the
/// one the reverse reaches first among those at the widest offset, if it is
/// a statement at the top of `body` (see [`Plan::opening`]).
fn opens(body: &Block, reads: &HashMap<StmtId, usize>) -> Option<StmtId> {
    let widest = reads.values().copied().max()?;
    let at_widest = |id: &StmtId| reads.get(id) == Some(&widest);
    body.nodes.iter().rev().find_map(|node| match node {
        Node::Stmt(id) if at_widest(id) => Some(Some(*id)),
        Node::Stmt(_) => None,
        Node::If(branch) => (contains(&branch.then, &at_widest)
            || contains(&branch.els, &at_widest))
        .then_some(None),
        Node::Loop(lp) => contains(&lp.body, &at_widest).then_some(None),
    })?
}

/// Whether a statement of `block_`, at any depth, is one `which` accepts.
fn contains(block_: &Block, which: &dyn Fn(&StmtId) -> bool) -> bool {
    block_.nodes.iter().any(|node| match node {
        Node::Stmt(id) => which(id),
        Node::If(branch) => contains(&branch.then, which) || contains(&branch.els, which),
        Node::Loop(lp) => contains(&lp.body, which),
    })
}

/// For each `base[…]` read in the body, its offset `k` from the loop's
/// index (`x[i]`, `x[i + 1]`), if every read of `base` has one.
fn offsets(
    f: &Function,
    plan: &Plan,
    lp: &Loop,
    base: VarId,
    index: VarId,
) -> Option<HashMap<StmtId, usize>> {
    let param = f.params.iter().find(|param| param.var == base)?;
    if param.class != crate::ir::TypeClass::Sequence {
        return None;
    }
    let mut offsets = HashMap::new();
    for node in &lp.body.nodes {
        let Node::Stmt(id) = node else { return None };
        let Op::Index {
            base: read,
            index: at,
            ..
        } = &f.stmts[*id].op
        else {
            continue;
        };
        if !matches!(read.kind, OperandKind::Var(var) if var == base) {
            continue;
        }
        let OperandKind::Var(at) = at.kind else {
            return None;
        };
        let offset = if at == index {
            0
        } else {
            let stmt = &f.stmts[*plan.defining.get(&at)?];
            let offset = stmt.offset.as_ref()?;
            if offset.base != index || !offset.add || !offset.step.suffix().is_empty() {
                return None;
            }
            let k: usize = offset.step.base10_parse().ok()?;
            (k <= 8).then_some(k)?
        };
        offsets.insert(*id, offset);
    }
    Some(offsets)
}

impl Plan {
    /// Whether the reverse sweep has anything to do for `node`.
    pub fn busy(&self, adjoint: &Adjoint, node: &Node) -> bool {
        match node {
            Node::Stmt(id) => !adjoint.stmts[*id].is_empty(),
            Node::If(branch) => self.busy.contains(&key(&branch.then)),
            Node::Loop(lp) => self.busy.contains(&key(&lp.body)),
        }
    }

    /// The variables defined outside the branch or loop whose first block
    /// is `first` whose adjoints its reverse adds into.
    pub fn outer(&self, first: &Block) -> &[VarId] {
        self.outer.get(&key(first)).map_or(&[], Vec::as_slice)
    }
}

/// Fills [`Plan::busy`] and [`Plan::outer`] for the branches and loops in
/// `block_`.
fn nested(f: &Function, adjoint: &Adjoint, active: &[bool], block_: &Block, plan: &mut Plan) {
    for node in &block_.nodes {
        let (first, blocks): (&Block, Vec<&Block>) = match node {
            Node::Stmt(_) => continue,
            Node::If(branch) => (&branch.then, vec![&branch.then, &branch.els]),
            Node::Loop(lp) => (&lp.body, vec![&lp.body]),
        };
        if has_work(f, adjoint, active, node) {
            plan.busy.insert(key(first));
        }
        plan.outer
            .insert(key(first), outer_targets(f, adjoint, active, &blocks, &[]));
        for inner in blocks {
            nested(f, adjoint, active, inner, plan);
        }
    }
}

/// [`Plan::settled`]: the reads `a[i]` of local arrays none of whose writes
/// lies in the same top-level node as the read or after it.
fn settled(f: &Function) -> HashSet<StmtId> {
    let stmts = collect_stmts;
    let mut top_of: HashMap<StmtId, usize> = HashMap::new();
    for (position, node) in f.body.nodes.iter().enumerate() {
        let mut inside = Vec::new();
        match node {
            Node::Stmt(id) => inside.push(*id),
            Node::If(branch) => {
                stmts(&branch.then, &mut inside);
                stmts(&branch.els, &mut inside);
            }
            Node::Loop(lp) => stmts(&lp.body, &mut inside),
        }
        for id in inside {
            top_of.insert(id, position);
        }
    }
    let mut last_write: HashMap<VarId, usize> = HashMap::new();
    for (&id, &position) in &top_of {
        if let Op::SetIndex { base, .. } = &f.stmts[id].op {
            let last = last_write.entry(*base).or_insert(position);
            *last = (*last).max(position);
        }
    }
    top_of
        .iter()
        .filter(|&(&id, &position)| match &f.stmts[id].op {
            Op::Index {
                base:
                    Operand {
                        kind: OperandKind::Var(base),
                        ..
                    },
                ..
            } => {
                f.vars[*base].mutated
                    && !f.vars[*base].touched
                    && last_write.get(base).is_none_or(|&w| w < position)
            }
            _ => false,
        })
        .map(|(&id, _)| id)
        .collect()
}

/// Fills [`Plan::skippable`] and [`Plan::breakable`].
fn skippable(f: &Function, adjoint: &Adjoint, active: &[bool], plan: &mut Plan) {
    for lp in loops(&f.body) {
        let mut inside = HashSet::new();
        blocks(&lp.body, &mut inside);
        let floats = lp
            .carried
            .iter()
            .filter(|carried| active[carried.header])
            .all(|carried| f.vars[carried.header].scalar);
        let records = plan
            .recorded
            .iter()
            .any(|var| plan.home.get(var).is_some_and(|home| inside.contains(home)));
        let mut defined = HashSet::new();
        defs(f, &lp.body, &mut defined);
        let takes = defined.iter().any(|&var| {
            plan.defining.get(&var).is_some_and(|&id| {
                adjoint.stmts[id].iter().any(|adj| {
                    matches!(adj, AdjStmt::IndexTake { .. } | AdjStmt::IndexClear { .. })
                })
            })
        });
        if floats && !records && !takes {
            plan.skippable.insert(key(&lp.body));
        }
        // Records only at the body's top level, taken back as one
        // drained segment: the reverse may stop as soon as the
        // carried adjoints are zero (the rest of the segment is
        // dropped with the drain).
        let nested_records = plan.recorded.iter().any(|var| {
            plan.home
                .get(var)
                .is_some_and(|home| inside.contains(home) && *home != key(&lp.body))
        });
        let carries = lp.carried.iter().any(|carried| active[carried.header]);
        // Worth a test per iteration where an adjoint can stop: a
        // `min`/`max` routing it to one side.
        let selects = lp.body.nodes.iter().any(|node| {
            matches!(node, Node::Stmt(id)
                        if matches!(f.stmts[*id].op, Op::Method { side: Some(_), .. }))
        });
        if floats && carries && selects && !nested_records && !takes && recountable(lp) {
            plan.breakable.insert(key(&lp.body));
        }
    }
}

/// Fills [`Plan::winners`], and records their trip variables in place of
/// their sides.
///
/// Input:  `for j in 0..k { …; let side = min_side(&best, &v); best = best.min(v); }`
///         records `side` once per iteration.
/// Output: the forward sweep sets `trip = j` only where `!side` (`trip`
///         starts at `rules::no_last`, the index type's MAX), and records
///         `trip` once per loop; the reverse is
///         `if let Some(j) = rules::last(trip) { let side = false; …the body's reverse… }`.
fn winners(f: &Function, adjoint: &Adjoint, active: &[bool], plan: &mut Plan) {
    for lp in loops(&f.body) {
        let LoopKind::Range {
            index,
            inclusive: false,
            ..
        } = lp.kind
        else {
            continue;
        };
        let ([carried], End::Continue(values)) = (&lp.carried[..], &lp.body.end) else {
            continue;
        };
        let header = carried.header;
        if !recountable(lp) || !active[header] || !f.vars[header].scalar {
            continue;
        }
        let Some(OperandKind::Var(next)) = values.first().map(|value| &value.kind) else {
            continue;
        };
        // The `min`/`max` at the body's top level that gives the next value.
        let select = lp.body.nodes.iter().find_map(|node| match node {
            Node::Stmt(id) if f.stmts[*id].def == *next => match &f.stmts[*id].op {
                Op::Method {
                    recv,
                    args,
                    side: Some(side),
                    rule,
                    ..
                } => Some((recv, args, *side, rule.name == "max")),
                _ => None,
            },
            _ => None,
        });
        let Some((recv, args, side, max)) = select else {
            continue;
        };
        let won = match (&recv.kind, args.first().map(|arg| &arg.kind)) {
            (OperandKind::Var(var), _) if *var == header => false,
            (_, Some(OperandKind::Var(var))) if *var == header => true,
            _ => continue,
        };
        // The carried value goes nowhere else, and no adjoint enters the
        // body but its own: no array is written, nothing else is recorded.
        // (It is read by the `min`/`max` and by the side's test.)
        if mentions(f, &lp.body, header) != 2 || writes(f, &lp.body) {
            continue;
        }
        let mut inside = HashSet::new();
        blocks(&lp.body, &mut inside);
        let records = plan.recorded.iter().any(|&var| {
            var != side
                && plan
                    .home
                    .get(&var)
                    .is_some_and(|home| inside.contains(home))
        });
        let mut defined = HashSet::new();
        defs(f, &lp.body, &mut defined);
        let takes = defined.iter().any(|&var| {
            plan.defining.get(&var).is_some_and(|&id| {
                adjoint.stmts[id].iter().any(|adj| {
                    matches!(adj, AdjStmt::IndexTake { .. } | AdjStmt::IndexClear { .. })
                })
            })
        });
        if records || takes || !plan.recorded.contains(&side) {
            continue;
        }
        plan.recorded.retain(|&var| var != side);
        // (A loop of the top block, or of a fused loop's body, leaves its
        // trip in scope.)
        let home = plan.home.get(&lp.trip).copied();
        if home != Some(key(&f.body)) && !home.is_some_and(|home| plan.fused.contains_key(&home)) {
            plan.recorded.push(lp.trip);
            plan.recorded.sort_unstable();
        }
        plan.needed.insert(lp.trip);
        let ordered = non_nan_constant(f, plan, &carried.init).then(|| {
            let (carried, other) = if won {
                (&args[0], recv)
            } else {
                (recv, &args[0])
            };
            Ordered {
                value: *next,
                carried: carried.clone(),
                other: other.clone(),
                max,
            }
        });
        plan.winners.insert(
            key(&lp.body),
            Winner {
                side,
                won,
                index,
                trip: lp.trip,
                ordered,
            },
        );
    }
}

/// Whether `operand` is a float constant other than NaN: a literal, an
/// associated constant of `f32`/`f64` but `NAN` (`f64::INFINITY`,
/// `f64::consts::PI`), the negation of one, or a variable defined as one.
fn non_nan_constant(f: &Function, plan: &Plan, operand: &Operand) -> bool {
    match &operand.kind {
        OperandKind::Const(tokens) => {
            syn::parse2::<syn::Expr>(tokens.clone()).is_ok_and(|expr| non_nan_expr(&expr))
        }
        OperandKind::Var(var) => {
            plan.defining
                .get(var)
                .is_some_and(|&id| match &f.stmts[id].op {
                    Op::Copy(inner) | Op::Neg(inner) => non_nan_constant(f, plan, inner),
                    Op::Opaque(tokens) => syn::parse2::<syn::Expr>(tokens.clone())
                        .is_ok_and(|expr| non_nan_expr(&expr)),
                    _ => false,
                })
        }
    }
}

/// See [`non_nan_constant`].
fn non_nan_expr(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Lit(lit) => matches!(lit.lit, syn::Lit::Float(_) | syn::Lit::Int(_)),
        syn::Expr::Path(path) if path.qself.is_none() => {
            let mut names = path.path.segments.iter().map(|s| s.ident.to_string());
            names.clone().any(|name| name == "f64" || name == "f32")
                && names.next_back().is_some_and(|last| last != "NAN")
        }
        syn::Expr::Unary(unary) if matches!(unary.op, syn::UnOp::Neg(_)) => {
            non_nan_expr(&unary.expr)
        }
        syn::Expr::Paren(inner) => non_nan_expr(&inner.expr),
        syn::Expr::Group(inner) => non_nan_expr(&inner.expr),
        _ => false,
    }
}

/// Integer counters: the headers and exits of [`Plan::inductions`] (stepped
/// by an integer literal), and of the carried values of outer loops that
/// take them over from one iteration to the next (the packed triangle's `l`).
fn counters(f: &Function, plan: &Plan) -> HashSet<VarId> {
    let mut out: HashSet<VarId> = plan
        .inductions
        .iter()
        .flat_map(|(&header, induction)| [header, induction.exit])
        .collect();
    let all = loops(&f.body);
    loop {
        let before = out.len();
        for lp in &all {
            let End::Continue(values) = &lp.body.end else {
                continue;
            };
            for (carried, value) in lp.carried.iter().zip(values) {
                if matches!(value.kind, OperandKind::Var(var) if out.contains(&var)) {
                    out.extend([carried.header, carried.exit]);
                }
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

/// Fills [`Plan::lagged`].
fn lagged(f: &Function, adjoint: &Adjoint, active: &[bool], plan: &mut Plan) {
    for lp in loops(&f.body) {
        let body = key(&lp.body);
        let LoopKind::Range { index, .. } = lp.kind else {
            continue;
        };
        if !plan.recounted.contains(&body)
            || plan.fused.contains_key(&body)
            || plan.forward_order.contains_key(&body)
            || plan.winners.contains_key(&body)
        {
            continue;
        }
        let mut stmts = Vec::new();
        for node in &lp.body.nodes {
            match node {
                Node::Stmt(id) => stmts.push(*id),
                _ => break,
            }
        }
        if stmts.len() != lp.body.nodes.len() {
            continue;
        }
        // The differentiated arrays read by index in the body.
        let mut bases: Vec<VarId> = stmts
            .iter()
            .filter_map(|&id| match &f.stmts[id].op {
                Op::Index {
                    base:
                        Operand {
                            kind: OperandKind::Var(base),
                            ..
                        },
                    borrow: false,
                    ..
                } if active[*base] => Some(*base),
                _ => None,
            })
            .collect();
        bases.sort_unstable();
        bases.dedup();
        for base in bases {
            let mut found = HashMap::new();
            let mut ok = true;
            for &id in &stmts {
                let stmt = &f.stmts[id];
                let read = match &stmt.op {
                    Op::Index {
                        base: read,
                        index: at,
                        borrow: false,
                    } if matches!(read.kind, OperandKind::Var(var) if var == base) => Some(at),
                    _ => None,
                };
                let Some(at) = read else {
                    // Anything else that reads, writes or takes from it.
                    let written =
                        matches!(stmt.op, Op::SetIndex { base: written, .. } if written == base);
                    let other = adjoint.stmts[id].iter().any(|adj| match adj {
                        AdjStmt::IndexAdd { base: b, .. }
                        | AdjStmt::IndexTake { base: b, .. }
                        | AdjStmt::IndexClear { base: b, .. }
                        | AdjStmt::FieldAdd { base: b, .. } => *b == base,
                        _ => false,
                    });
                    if written || other || stmt.reads.contains(&base) || f.vars[base].touched {
                        ok = false;
                    }
                    continue;
                };
                let k = lag(f, plan, at, index).filter(|&k| k <= 8);
                match k {
                    Some(k) if f.vars[stmt.def].scalar => {
                        found.insert(id, k);
                    }
                    _ => ok = false,
                }
            }
            if ok && found.values().any(|&k| k > 0) {
                plan.lagged.insert((body, base), found);
            }
        }
    }
}

/// Fills [`Plan::checkpointed`] and [`Plan::kept`].
fn checkpointed(f: &Function, adjoint: &Adjoint, active: &[bool], plan: &mut Plan) {
    for lp in loops(&f.body) {
        // (A loop whose reverse has nothing to do runs as written.)
        if lp.checkpoint.is_none() || !block_has_work(f, adjoint, active, &lp.body) {
            continue;
        }
        let (state, read) = checkpoint_state(f, lp);
        plan.kept.extend(read);
        plan.checkpointed.insert(key(&lp.body), state);
    }
}

/// What a checkpointed loop's snapshot keeps besides its carried values:
/// the arrays defined before it that it changes in place; and every value
/// defined before it that it reads.
fn checkpoint_state(f: &Function, lp: &Loop) -> (Vec<VarId>, Vec<VarId>) {
    let mut inside: HashSet<VarId> = lp.carried.iter().map(|c| c.header).collect();
    inside.extend(iteration_vars(lp));
    inside.insert(lp.trip);
    defs(f, &lp.body, &mut inside);
    let mut mentioned = HashSet::new();
    used(f, &lp.body, &mut mentioned);
    let mut read: Vec<VarId> = mentioned
        .into_iter()
        .filter(|var| !inside.contains(var))
        .collect();
    read.sort_unstable();
    let state = read
        .iter()
        .copied()
        .filter(|&var| f.vars[var].mutated)
        .collect();
    (state, read)
}

/// The checkpointed loops that carry nothing from one iteration to the
/// next (they assign no variable declared before them, change no array in
/// place): nothing for a snapshot to keep. (The loop over segments carries
/// what the loop as written carries.)
pub fn idle_checkpoints(f: &Function) -> Vec<proc_macro2::Span> {
    loops(&f.body)
        .into_iter()
        .filter(|lp| {
            lp.checkpoint.is_some() && lp.carried.is_empty() && checkpoint_state(f, lp).0.is_empty()
        })
        .map(|lp| lp.span)
        .collect()
}

/// Every variable `block_` reads or writes in place, at any depth.
fn used(f: &Function, block_: &Block, out: &mut HashSet<VarId>) {
    if let End::Values(values) | End::Continue(values) | End::Break(values) = &block_.end {
        out.extend(values.iter().filter_map(operand_var));
    }
    for node in &block_.nodes {
        used_by(f, node, out);
    }
}

/// Every variable `node` reads or writes in place, at any depth: in its
/// statements, a branch's condition, a loop's bounds, snapshot count and
/// carried values, and the values its blocks end with.
fn used_by(f: &Function, node: &Node, out: &mut HashSet<VarId>) {
    match node {
        Node::Stmt(id) => {
            out.extend(f.stmts[*id].reads.iter().copied());
            if let Op::SetIndex { base, .. } = &f.stmts[*id].op {
                out.insert(*base);
            }
        }
        Node::If(branch) => {
            out.extend(operand_var(&branch.cond));
            used(f, &branch.then, out);
            used(f, &branch.els, out);
        }
        Node::Loop(lp) => {
            out.extend(lp.checkpoint.as_ref().and_then(operand_var));
            match &lp.kind {
                LoopKind::Range { lo, hi, .. } => {
                    out.extend(operand_var(lo).into_iter().chain(operand_var(hi)))
                }
                LoopKind::Counted { len, .. } => out.extend(operand_var(len)),
                LoopKind::Plain => {}
            }
            out.extend(
                lp.carried
                    .iter()
                    .filter_map(|carried| operand_var(&carried.init)),
            );
            used(f, &lp.body, out);
        }
    }
}

/// The variable an operand names, if it is one.
fn operand_var(operand: &Operand) -> Option<VarId> {
    match operand.kind {
        OperandKind::Var(var) => Some(var),
        OperandKind::Const(_) => None,
    }
}

/// Two operands that are the same variable, or the same constant as written.
fn same_value(a: &Operand, b: &Operand) -> bool {
    match (&a.kind, &b.kind) {
        (OperandKind::Var(a), OperandKind::Var(b)) => a == b,
        (OperandKind::Const(a), OperandKind::Const(b)) => a.to_string() == b.to_string(),
        _ => false,
    }
}

/// Fills [`Plan::segmented`] and [`Plan::indexed`].
fn segmented(f: &Function, plan: &mut Plan) {
    let sides: HashSet<VarId> = f
        .stmts
        .iter()
        .filter_map(|stmt| match stmt.op {
            Op::Method { side, .. } => side,
            _ => None,
        })
        .chain(plan.winners.values().map(|winner| winner.trip))
        .chain(counters(f, plan))
        .collect();
    for lp in loops(&f.body) {
        let body = key(&lp.body);
        if !plan.recounted.contains(&body) || plan.fused.contains_key(&body) {
            continue;
        }
        let vars: Vec<VarId> = plan
            .recorded
            .iter()
            .copied()
            .filter(|var| plan.home.get(var) == Some(&body))
            .filter(|&var| (f.vars[var].scalar && !f.vars[var].by_ref) || sides.contains(&var))
            .collect();
        let indexed = plan
            .recorded
            .iter()
            .filter(|&&var| plan.home.get(&var) == Some(&body))
            .all(|var| f.vars[*var].scalar || vars.contains(var));
        if indexed {
            plan.indexed.insert(body);
        }
        if !vars.is_empty() {
            plan.segmented.insert(body, vars);
        }
    }
}

/// Fills [`Plan::sliced`].
fn sliced(f: &Function, plan: &mut Plan) {
    for lp in loops(&f.body) {
        let body = key(&lp.body);
        if !plan.recounted.contains(&body) || plan.fused.contains_key(&body) {
            continue;
        }
        let index = match &lp.kind {
            LoopKind::Range { index, .. } => *index,
            LoopKind::Counted { counter, .. } => *counter,
            LoopKind::Plain => continue,
        };
        let at_index = |operand: &Operand| {
            matches!(operand.kind, OperandKind::Var(v) if v == index) && operand.mode == Mode::Value
        };
        // `i`, or `i - k` for a literal `k`: below the bound in every
        // iteration (the forward ran it without a panic).
        let below = |operand: &Operand| {
            operand.mode == Mode::Value && lag(f, plan, operand, index).is_some()
        };
        let mut found: Vec<VarId> = Vec::new();
        for node in &lp.body.nodes {
            let Node::Stmt(id) = node else { break };
            let base = match &f.stmts[*id].op {
                Op::Index {
                    base:
                        Operand {
                            kind: OperandKind::Var(base),
                            ..
                        },
                    index,
                    ..
                } if at_index(index) => *base,
                Op::SetIndex { base, index, .. } if at_index(index) => *base,
                _ => continue,
            };
            let var = &f.vars[base];
            if found.contains(&base)
                || !var.sequence
                || !var.elem_scalar
                || var.touched
                || carries(lp, base)
                || mentions(f, &lp.body, base) != element_uses(f, &lp.body, base, &below)
                || writes_elsewhere(f, &lp.body, base, &below)
            {
                continue;
            }
            found.push(base);
        }
        if !found.is_empty() {
            plan.sliced.insert(body, found);
        }
    }
}

/// How far `at` lags behind the loop index `index`: `Some(0)` for `index`
/// itself, `Some(k)` for a variable defined as `index - k` with `k` a
/// literal `usize`.
fn lag(f: &Function, plan: &Plan, at: &Operand, index: VarId) -> Option<usize> {
    match at.kind {
        OperandKind::Var(at) if at == index => Some(0),
        OperandKind::Var(at) => plan
            .defining
            .get(&at)
            .and_then(|&def| f.stmts[def].offset.as_ref())
            .filter(|offset| offset.base == index && !offset.add && offset.step.suffix().is_empty())
            .and_then(|offset| offset.step.base10_parse::<usize>().ok()),
        OperandKind::Const(_) => None,
    }
}

/// Whether `lp` or a loop in it carries `var` (its initial value, header
/// or exit).
fn carries(lp: &Loop, var: VarId) -> bool {
    std::iter::once(lp).chain(loops(&lp.body)).any(|lp| {
        lp.carried.iter().any(|carried| {
            carried.header == var
                || carried.exit == var
                || matches!(carried.init.kind, OperandKind::Var(v) if v == var)
        })
    })
}

/// How many statements in `block_`, at any depth, read `var` as the base of
/// an element read `var[j]` or write its element `j`, for a `j` that
/// `below` accepts, reading it nowhere else: an access at any other index
/// (`var[i + 1]`, or the index of an inner loop) is not counted, as the
/// slice's bound may not cover it.
fn element_uses(
    f: &Function,
    block_: &Block,
    var: VarId,
    below: &dyn Fn(&Operand) -> bool,
) -> usize {
    let is = |operand: &Operand| matches!(operand.kind, OperandKind::Var(v) if v == var);
    let at = below;
    block_
        .nodes
        .iter()
        .map(|node| match node {
            Node::Stmt(id) => {
                let stmt = &f.stmts[*id];
                let reads = stmt.reads.iter().filter(|&&read| read == var).count();
                let element = match &stmt.op {
                    Op::Index {
                        base, index: at_, ..
                    } => is(base) && at(at_),
                    Op::SetIndex {
                        base,
                        index: at_,
                        value,
                        ..
                    } => *base == var && at(at_) && !is(value),
                    _ => false,
                };
                usize::from(element && reads <= 1) * reads
            }
            Node::If(branch) => {
                element_uses(f, &branch.then, var, below) + element_uses(f, &branch.els, var, below)
            }
            Node::Loop(lp) => element_uses(f, &lp.body, var, below),
        })
        .sum()
}

/// Whether a statement in `block_`, at any depth, writes an element of `var`
/// at an index `below` does not accept (`var[j] += ..` in an inner loop):
/// writes are not reads, so [`mentions`] does not see them.
fn writes_elsewhere(
    f: &Function,
    block_: &Block,
    var: VarId,
    below: &dyn Fn(&Operand) -> bool,
) -> bool {
    contains(
        block_,
        &|id| matches!(&f.stmts[*id].op, Op::SetIndex { base, index, .. } if *base == var && !below(index)),
    )
}

/// How many times `var` is read in `block_`, at any depth: by statements,
/// conditions, loop bounds and initial values, and the blocks' ends.
fn mentions(f: &Function, block_: &Block, var: VarId) -> usize {
    let is =
        |operand: &Operand| usize::from(matches!(operand.kind, OperandKind::Var(v) if v == var));
    let end = match &block_.end {
        End::Values(values) | End::Continue(values) | End::Break(values) => {
            values.iter().map(is).sum()
        }
        End::Merge | End::Diverge => 0,
    };
    end + block_
        .nodes
        .iter()
        .map(|node| match node {
            Node::Stmt(id) => f.stmts[*id]
                .reads
                .iter()
                .filter(|&&read| read == var)
                .count(),
            Node::If(branch) => {
                is(&branch.cond) + mentions(f, &branch.then, var) + mentions(f, &branch.els, var)
            }
            Node::Loop(lp) => {
                let bounds = match &lp.kind {
                    LoopKind::Range { lo, hi, .. } => is(lo) + is(hi),
                    LoopKind::Counted { len, .. } => is(len),
                    LoopKind::Plain => 0,
                };
                let inits: usize = lp.carried.iter().map(|carried| is(&carried.init)).sum();
                bounds + inits + mentions(f, &lp.body, var)
            }
        })
        .sum::<usize>()
}

/// Whether `block_` writes an array element, or changes a value in place
/// by an opaque call (`w.push(…)`), at any depth.
fn writes(f: &Function, block_: &Block) -> bool {
    block_.nodes.iter().any(|node| match node {
        Node::Stmt(id) => {
            matches!(f.stmts[*id].op, Op::SetIndex { .. })
                || f.stmts[*id].reads.iter().any(|&var| f.vars[var].touched)
        }
        Node::If(branch) => writes(f, &branch.then) || writes(f, &branch.els),
        Node::Loop(lp) => writes(f, &lp.body),
    })
}

/// Every loop in `block_`, at any depth.
fn loops(block_: &Block) -> Vec<&Loop> {
    let mut out = Vec::new();
    for node in &block_.nodes {
        match node {
            Node::Stmt(_) => {}
            Node::If(branch) => {
                out.extend(loops(&branch.then));
                out.extend(loops(&branch.els));
            }
            Node::Loop(lp) => {
                out.push(&**lp);
                out.extend(loops(&lp.body));
            }
        }
    }
    out
}

/// The keys of `block_` and of every block nested in it.
fn blocks(block_: &Block, out: &mut HashSet<BlockKey>) {
    out.insert(key(block_));
    for node in &block_.nodes {
        match node {
            Node::Stmt(_) => {}
            Node::If(branch) => {
                blocks(&branch.then, out);
                blocks(&branch.els, out);
            }
            Node::Loop(lp) => blocks(&lp.body, out),
        }
    }
}

/// Fills [`Plan::reserve`] for the recorded values of `block_`, inside the
/// loops `around` (outermost first).
fn reserve<'a>(f: &'a Function, block_: &'a Block, around: &mut Vec<&'a Loop>, plan: &mut Plan) {
    let register = |var: VarId, around: &[&Loop], plan: &mut Plan| {
        let Some(outer) = around.first() else { return };
        if !plan.recorded.contains(&var) {
            return;
        }
        // Bounds read on entry of the outermost loop: constants, and values
        // of the top block or of the outermost loop's own block.
        let entry = [
            key(&f.body),
            plan.home.get(&outer.trip).copied().unwrap_or(0),
        ];
        // Also a pure expression of such values computed inside an outer
        // loop's body (`c.len()`): evaluated again on entry, in `prelude`.
        let mut prelude: Vec<StmtId> = Vec::new();
        let mut known = |operand: &Operand| match operand.kind {
            OperandKind::Const(_) => true,
            // (Parameters have no home: they are in scope everywhere.)
            OperandKind::Var(var) => {
                let in_entry =
                    |var: &VarId| plan.home.get(var).is_none_or(|home| entry.contains(home));
                if in_entry(&var) {
                    return true;
                }
                let Some(&id) = plan.defining.get(&var) else {
                    return false;
                };
                let hoistable = matches!(&f.stmts[id].op, Op::Opaque(_))
                    && f.stmts[id].pure
                    && f.stmts[id].reads.iter().all(in_entry);
                if hoistable && !prelude.contains(&id) {
                    prelude.push(id);
                }
                hoistable
            }
        };
        let mut counts = Vec::new();
        for lp in around {
            let count = match &lp.kind {
                LoopKind::Range {
                    lo, hi, inclusive, ..
                } if known(lo) && known(hi) => Count::Range {
                    lo: lo.clone(),
                    hi: hi.clone(),
                    inclusive: *inclusive,
                },
                LoopKind::Counted { len, .. } if known(len) => Count::Len(len.clone()),
                _ => break,
            };
            if breaks(&lp.body) {
                break;
            }
            counts.push(count);
        }
        if !counts.is_empty() {
            plan.reserve
                .entry(key(&outer.body))
                .or_default()
                .push(Reserve {
                    tape: var,
                    counts,
                    prelude,
                });
        }
    };
    for node in &block_.nodes {
        match node {
            Node::Stmt(id) => register(f.stmts[*id].def, around, plan),
            Node::If(branch) => {
                for &phi in &branch.phis {
                    register(phi, around, plan);
                }
                reserve(f, &branch.then, around, plan);
                reserve(f, &branch.els, around, plan);
            }
            // A checkpointed loop records one segment at a time, in its
            // reverse: the loops inside reserve for one segment.
            // So does a fused loop, whose reverse runs in each iteration:
            // the loops inside reserve for one iteration.
            Node::Loop(lp)
                if lp.checkpoint.is_some() || plan.fused.contains_key(&key(&lp.body)) =>
            {
                register(lp.trip, around, plan);
                for carried in &lp.carried {
                    register(carried.exit, around, plan);
                }
                reserve(f, &lp.body, &mut Vec::new(), plan);
            }
            Node::Loop(lp) => {
                register(lp.trip, around, plan);
                for carried in &lp.carried {
                    register(carried.exit, around, plan);
                }
                around.push(lp);
                for carried in &lp.carried {
                    register(carried.header, around, plan);
                }
                reserve(f, &lp.body, around, plan);
                around.pop();
            }
        }
    }
}

/// Whether `var` can be had in the reverse sweep without recording
/// anything: in scope, or cheaply computed again from such values.
fn cheap_to_have(
    f: &Function,
    plan: &Plan,
    available: &dyn Fn(&Plan, VarId) -> bool,
    var: VarId,
    memo: &mut HashMap<VarId, bool>,
) -> bool {
    if available(plan, var) {
        return true;
    }
    if let Some(&known) = memo.get(&var) {
        return known;
    }
    // A variable is defined once, before it is read: no cycle, but stay safe.
    memo.insert(var, false);
    let cheap = plan.defining.get(&var).is_some_and(|&id| {
        cheap_stmt(f, plan, id)
            && f.stmts[id]
                .reads
                .iter()
                .copied()
                .all(|read| cheap_to_have(f, plan, available, read, memo))
    });
    memo.insert(var, cheap);
    cheap
}

/// Whether computing statement `id` again is cheaper than a tape load:
/// recomputable, and not a transcendental function or a call.
fn cheap_stmt(f: &Function, plan: &Plan, id: StmtId) -> bool {
    recomputable(f, plan, id)
        && match &f.stmts[id].op {
            Op::Method { rule, .. } => matches!(
                rule.name,
                "abs"
                    | "min"
                    | "max"
                    | "mul_add"
                    | "powi"
                    | "signum"
                    | "clamp"
                    | "copysign"
                    | "floor"
                    | "ceil"
                    | "round"
                    | "trunc"
                    | "fract"
                    | "to_radians"
                    | "to_degrees"
            ),
            Op::Primitive { rule, .. } => rule.name == "relu",
            _ => true,
        }
}

/// Whether the values the reverse of `body` reads from the body itself can
/// all be computed again there (so, in a fused loop, are all in scope).
fn self_contained(f: &Function, plan: &Plan, lp: &Loop) -> bool {
    let here = key(&lp.body);
    let index = iteration_vars(lp);
    let exits: HashSet<VarId> = lp
        .body
        .nodes
        .iter()
        .filter_map(|node| match node {
            Node::Loop(inner) => Some(inner.carried.iter().map(|carried| carried.exit)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut seen: HashSet<VarId> = HashSet::new();
    let mut order: Vec<VarId> = plan
        .needed
        .iter()
        .copied()
        .filter(|var| plan.home.get(var) == Some(&here))
        .collect();
    while let Some(var) = order.pop() {
        if !seen.insert(var) || index.contains(&var) {
            continue;
        }
        let Some(&id) = plan.defining.get(&var) else {
            // The value after a nested loop, bound in the forward of this
            // same iteration.
            if exits.contains(&var) {
                continue;
            }
            return false;
        };
        if !recomputable(f, plan, id) {
            return false;
        }
        order.extend(
            f.stmts[id]
                .reads
                .iter()
                .copied()
                .filter(|read| plan.home.get(read) == Some(&here)),
        );
    }
    true
}

/// The carried variable of a loop that only sums into one float
/// accumulator (`s += f(x[i])`), if it is such a loop: at the top level,
/// straight-line body, the accumulator read nowhere else. Its reverse sweep
/// is the same in every iteration up to the factor `d_s`, so it runs inside
/// the forward loop, for `d_s = 1`, and its contributions are scaled by the
/// real `d_s` after.
///
/// Its body may write the local arrays in `private` (see
/// [`private_arrays`]), and no other: their elements written in one
/// iteration are read in no other, so the reverse of each iteration reads
/// only what that iteration wrote.
fn fusable(
    f: &Function,
    adjoint: &Adjoint,
    active: &[bool],
    lp: &Loop,
    private: &HashSet<VarId>,
) -> Option<usize> {
    if lp.checkpoint.is_some() {
        return None;
    }
    let is_var =
        |operand: &Operand, var: VarId| matches!(operand.kind, OperandKind::Var(v) if v == var);
    let active_carried: Vec<usize> = (0..lp.carried.len())
        .filter(|&k| active[lp.carried[k].header])
        .collect();
    let [k] = active_carried[..] else {
        return None;
    };
    let header = lp.carried[k].header;
    let End::Continue(values) = &lp.body.end else {
        return None;
    };
    let OperandKind::Var(next) = values[k].kind else {
        return None;
    };
    let mut update = None;
    let mut nested = false;
    for node in &lp.body.nodes {
        if let Node::Loop(inner) = node {
            if !inner_fusable(f, inner, &[header, next], private) {
                return None;
            }
            nested = true;
            continue;
        }
        let Node::Stmt(id) = node else { return None };
        let stmt = &f.stmts[*id];
        // An element write's reverse depends on the order of iterations,
        // unless no other iteration reads what it writes.
        if let Op::SetIndex { base, .. } = stmt.op
            && !private.contains(&base)
        {
            return None;
        }
        let reads = |var: VarId| {
            operands(&stmt.op)
                .iter()
                .any(|operand| is_var(operand, var))
        };
        if stmt.def == next {
            let passes = !adjoint.stmts[*id].is_empty()
                && adjoint.stmts[*id]
                    .iter()
                    .all(|adj| matches!(adj, AdjStmt::Pass { negate: false, .. }));
            let adds_header = matches!(&stmt.op, Op::Binary(crate::ir::BinOp::Add, a, b)
                if is_var(a, header) != is_var(b, header));
            if !passes || !adds_header {
                return None;
            }
            update = Some(*id);
        } else if reads(header) || reads(next) {
            return None;
        }
    }
    // A loop nested in the body is reversed in each iteration, between the
    // forward of one and the next: that pays where the reverse reads a
    // chain the nested loop carries (one iteration's worth on a tape, not
    // all of them, and no replay). Else the loops run as written, the
    // nested ones recording at most their trips.
    // So does an array written in place: one iteration's worth of what
    // its reverse reads of it is kept, not all of them.
    if nested
        && private.is_empty()
        && !loops(&lp.body)
            .into_iter()
            .any(|inner| reads_chain(f, active, inner))
    {
        return None;
    }
    update.map(|_| k)
}

/// Whether the reverse of `lp` reads the values a variable it carries takes:
/// an active statement other than the variable's own update reads it, or
/// the update is one whose pullback reads its operand (`p *= t`, `s =
/// s.sin()`; not `s += x`, nor `m = m.min(x)`, whose pullback reads the
/// side taken).
fn reads_chain(f: &Function, active: &[bool], lp: &Loop) -> bool {
    let End::Continue(values) = &lp.body.end else {
        return false;
    };
    lp.carried.iter().zip(values).any(|(carried, value)| {
        let update = match value.kind {
            OperandKind::Var(var) => Some(var),
            OperandKind::Const(_) => None,
        };
        contains(&lp.body, &|&id| {
            let stmt = &f.stmts[id];
            if !stmt.reads.contains(&carried.header) || !active[stmt.def] {
                return false;
            }
            if Some(stmt.def) != update {
                return true;
            }
            match &stmt.op {
                Op::Binary(op, ..) => matches!(op, crate::ir::BinOp::Mul | crate::ir::BinOp::Div),
                Op::Method { side, .. } => side.is_none(),
                Op::Copy(_) | Op::Clone(_) | Op::Neg(_) => false,
                _ => true,
            }
        })
    })
}

// Input:  let mut xc = vec![0.0; d];
//         for p in 0..n {                 // lp
//             for e in 0..d {             // writes xc[e] first, every e
//                 xc[e] = x[p * d + e] - mu[e];
//             }
//             for j in 1..d {             // a later write within 0..d
//                 xc[j] += xc[j - 1];
//             }
//             s += xc[d - 1] * xc[d - 1]; // reads anything
//         }                               // xc not read after the loop
// Output: {xc}
/// The local arrays `lp`'s body writes in place, if each of them is private
/// to an iteration: what one iteration reads of it was written earlier in
/// the same iteration, or by no iteration at all (it holds its value from
/// before the loop). Empty when the body writes none, or when one is not
/// private. The code `after` the loop (the rest of the function) must not
/// use them.
///
/// An array is private to the iterations of a loop body when the first node
/// of the body that uses it is a range loop `for v in lo..hi` (bounds set
/// before `lp`) whose body writes `a[v]` unconditionally before any other
/// use of `a`, reads back only `a[v]` and writes no other element; and every
/// later write in the body is at the index `w` of a range `lo'..hi` with the
/// same end, starting at `lo` or with `lo = 0`, so that it stays among the
/// elements that first loop wrote. Or, when one loop of the body holds every
/// use, when it is private to that loop's iterations. An array the body
/// itself makes (`let mut y = vec![0.0; n];` inside it) is private.
fn private_arrays(f: &Function, plan: &Plan, lp: &Loop, after: &[Node]) -> HashSet<VarId> {
    let mut written = HashSet::new();
    collect_writes(f, &lp.body, &mut written);
    let mut inside = HashSet::new();
    blocks(&lp.body, &mut inside);
    let invariant = |operand: &Operand| match operand.kind {
        OperandKind::Const(_) => true,
        OperandKind::Var(var) => {
            f.vars[var].is_param
                || plan
                    .home
                    .get(&var)
                    .is_some_and(|home| !inside.contains(home))
        }
    };
    let used_after = |var: VarId| {
        after.iter().any(|node| uses(f, node, var))
            || matches!(f.ret.kind, OperandKind::Var(ret) if ret == var)
    };
    let all = written.iter().all(|&var| match plan.home.get(&var) {
        _ if f.vars[var].touched => false,
        // Made afresh in each iteration: nothing carries over.
        Some(home) if inside.contains(home) => true,
        // Made before the loop (a parameter has no home, and is never written).
        Some(_) => !used_after(var) && private_in(f, &lp.body, var, &invariant),
        None => false,
    });
    if all { written } else { HashSet::new() }
}

fn collect_writes(f: &Function, block_: &Block, out: &mut HashSet<VarId>) {
    for node in &block_.nodes {
        match node {
            Node::Stmt(id) => {
                if let Op::SetIndex { base, .. } = f.stmts[*id].op {
                    out.insert(base);
                }
            }
            Node::If(branch) => {
                collect_writes(f, &branch.then, out);
                collect_writes(f, &branch.els, out);
            }
            Node::Loop(inner) => collect_writes(f, &inner.body, out),
        }
    }
}

/// Whether `node` reads or writes `var` (or its elements), at any depth
/// (see [`used_by`]).
fn uses(f: &Function, node: &Node, var: VarId) -> bool {
    let mut names = HashSet::new();
    used_by(f, node, &mut names);
    names.contains(&var)
}

/// See [`private_arrays`]: whether `var` is private to each run of `body`.
fn private_in(
    f: &Function,
    body: &Block,
    var: VarId,
    invariant: &dyn Fn(&Operand) -> bool,
) -> bool {
    let users: Vec<usize> = (0..body.nodes.len())
        .filter(|&at| uses(f, &body.nodes[at], var))
        .collect();
    let Some(&first) = users.first() else {
        return true;
    };
    if let Node::Loop(inner) = &body.nodes[first]
        && users.len() == 1
        && recountable(inner)
        && private_in(f, &inner.body, var, invariant)
    {
        return true;
    }
    let Node::Loop(def) = &body.nodes[first] else {
        return false;
    };
    let LoopKind::Range {
        index,
        lo,
        hi,
        inclusive: false,
    } = &def.kind
    else {
        return false;
    };
    if !recountable(def) || !invariant(lo) || !invariant(hi) {
        return false;
    }
    let is_index = |operand: &Operand| matches!(operand.kind, OperandKind::Var(v) if v == *index);
    // In the defining loop: nothing but the statements, first the write of
    // `var[index]`, then reads of it back.
    let mut wrote = false;
    for node in &def.body.nodes {
        if !uses(f, node, var) {
            // (A branch that leaves the iteration early could skip the write.)
            if !wrote
                && let Node::If(branch) = node
                && (continues(&branch.then) || continues(&branch.els))
            {
                return false;
            }
            continue;
        }
        let Node::Stmt(id) = node else { return false };
        let stmt = &f.stmts[*id];
        match &stmt.op {
            Op::SetIndex {
                base,
                index: at,
                value,
                add: false,
            } if *base == var
                && !wrote
                && is_index(at)
                && !matches!(value.kind, OperandKind::Var(v) if v == var) =>
            {
                wrote = true;
            }
            Op::Index {
                base, index: at, ..
            } if wrote
                && matches!(base.kind, OperandKind::Var(v) if v == var)
                && is_index(at)
                && stmt.reads.iter().all(|&read| read == var || read == *index) => {}
            _ => return false,
        }
    }
    if !wrote || !matches!(def.body.end, End::Continue(_)) {
        return false;
    }
    let zero = matches!(&lo.kind, OperandKind::Const(tokens)
        if matches!(tokens.to_string().as_str(), "0" | "0usize" | "0_usize"));
    // Later writes stay within `lo..hi`.
    let mut ranges = Vec::new();
    users[1..].iter().all(|&at| {
        writes_within(
            f,
            &body.nodes[at],
            var,
            &mut ranges,
            &|w_lo: &Operand, w_hi: &Operand| {
                same_value(w_hi, hi) && (zero || same_value(w_lo, lo))
            },
        )
    })
}

/// Whether a block (through its branches, not its loops) can end the
/// iteration of the loop around it early.
fn continues(block_: &Block) -> bool {
    matches!(block_.end, End::Continue(_) | End::Break(_))
        || block_.nodes.iter().any(|node| match node {
            Node::If(branch) => continues(&branch.then) || continues(&branch.els),
            Node::Stmt(_) | Node::Loop(_) => false,
        })
}

/// Whether every write to `var` in `node` is at the index of an enclosing
/// exclusive range (within `node`, or in `ranges` around it) whose bounds
/// `fits` accepts.
fn writes_within<'a>(
    f: &Function,
    node: &'a Node,
    var: VarId,
    ranges: &mut Vec<(VarId, &'a Operand, &'a Operand)>,
    fits: &dyn Fn(&Operand, &Operand) -> bool,
) -> bool {
    match node {
        Node::Stmt(id) => match &f.stmts[*id].op {
            Op::SetIndex { base, index, .. } if *base == var => match index.kind {
                OperandKind::Var(at) => ranges
                    .iter()
                    .any(|&(index, lo, hi)| index == at && fits(lo, hi)),
                OperandKind::Const(_) => false,
            },
            _ => true,
        },
        Node::If(branch) => [&branch.then, &branch.els].into_iter().all(|block_| {
            block_
                .nodes
                .iter()
                .all(|node| writes_within(f, node, var, ranges, fits))
        }),
        Node::Loop(inner) => {
            let pushed = match &inner.kind {
                LoopKind::Range {
                    index,
                    lo,
                    hi,
                    inclusive: false,
                } => {
                    ranges.push((*index, lo, hi));
                    true
                }
                _ => false,
            };
            let ok = inner
                .body
                .nodes
                .iter()
                .all(|node| writes_within(f, node, var, ranges, fits));
            if pushed {
                ranges.pop();
            }
            ok
        }
    }
}

/// Whether a loop nested in the body of a fused loop can be forwarded and
/// reversed inside each of its iterations: no checkpoint, no branch, no
/// element write at any depth but to the `private` arrays, and nothing in
/// it reads `outer` (the fused loop's accumulator).
fn inner_fusable(f: &Function, lp: &Loop, outer: &[VarId], private: &HashSet<VarId>) -> bool {
    let names =
        |operand: &Operand| matches!(operand.kind, OperandKind::Var(v) if outer.contains(&v));
    let bounds = match &lp.kind {
        LoopKind::Range { lo, hi, .. } => vec![lo, hi],
        LoopKind::Counted { len, .. } => vec![len],
        LoopKind::Plain => return false,
    };
    if lp.checkpoint.is_some()
        || bounds.into_iter().any(names)
        || lp.carried.iter().any(|carried| names(&carried.init))
    {
        return false;
    }
    if let End::Continue(values) = &lp.body.end {
        if values.iter().any(names) {
            return false;
        }
    } else {
        return false;
    }
    lp.body.nodes.iter().all(|node| match node {
        Node::Stmt(id) => {
            let stmt = &f.stmts[*id];
            !matches!(stmt.op, Op::SetIndex { base, .. } if !private.contains(&base))
                && !stmt.reads.iter().any(|read| outer.contains(read))
        }
        Node::If(_) => false,
        Node::Loop(inner) => inner_fusable(f, inner, outer, private),
    })
}

/// Whether computing `stmt` again gives the same value, cheaply.
fn recomputable(f: &Function, plan: &Plan, id: StmtId) -> bool {
    let stmt = &f.stmts[id];
    let def = &f.vars[stmt.def];
    let small = def.scalar || def.by_ref;
    let var_ok = |operand: &Operand| match operand.kind {
        OperandKind::Var(var) => f.vars[var].scalar || f.vars[var].by_ref,
        OperandKind::Const(_) => true,
    };
    match &stmt.op {
        Op::Copy(x) => var_ok(x),
        Op::Clone(_) => def.scalar,
        Op::Neg(_) | Op::Binary(..) | Op::Method { .. } | Op::Primitive { .. } => def.scalar,
        Op::Index { base, .. } => {
            small
                && match base.kind {
                    OperandKind::Var(var) => !f.vars[var].mutated || plan.settled.contains(&id),
                    OperandKind::Const(_) => true,
                }
        }
        Op::Opaque(_) => stmt.pure,
        Op::Field { base, .. } => match base.kind {
            OperandKind::Var(var) => !f.vars[var].mutated,
            OperandKind::Const(_) => true,
        },
        Op::Call(_) | Op::SetIndex { .. } => false,
    }
}

fn homes(f: &Function, block_: &Block, in_loop: bool, plan: &mut Plan) {
    let here = key(block_);
    if in_loop {
        plan.in_loop.insert(here);
    }
    for node in &block_.nodes {
        match node {
            Node::Stmt(id) => {
                let def = f.stmts[*id].def;
                if f.vars[def].name != "_" {
                    plan.home.insert(def, here);
                }
            }
            Node::If(branch) => {
                for &phi in &branch.phis {
                    plan.home.insert(phi, here);
                }
                homes(f, &branch.then, in_loop, plan);
                homes(f, &branch.els, in_loop, plan);
            }
            Node::Loop(lp) => {
                plan.home.insert(lp.trip, here);
                let body = key(&lp.body);
                for carried in &lp.carried {
                    plan.home.insert(carried.exit, here);
                    plan.home.insert(carried.header, body);
                }
                for var in iteration_vars(lp) {
                    plan.home.insert(var, body);
                }
                homes(f, &lp.body, true, plan);
            }
        }
    }
}

/// Whether the reverse sweep has anything to do for `node`.
pub fn has_work(f: &Function, adjoint: &Adjoint, active: &[bool], node: &Node) -> bool {
    match node {
        Node::Stmt(id) => !adjoint.stmts[*id].is_empty(),
        Node::If(branch) => {
            branch.phis.iter().any(|&phi| active[phi])
                || block_has_work(f, adjoint, active, &branch.then)
                || block_has_work(f, adjoint, active, &branch.els)
        }
        Node::Loop(lp) => {
            lp.carried.iter().any(|carried| active[carried.header])
                || block_has_work(f, adjoint, active, &lp.body)
        }
    }
}

pub fn block_has_work(f: &Function, adjoint: &Adjoint, active: &[bool], block_: &Block) -> bool {
    let end_active = match &block_.end {
        End::Values(values) | End::Continue(values) | End::Break(values) => values
            .iter()
            .any(|value| matches!(value.kind, OperandKind::Var(var) if active[var])),
        End::Merge | End::Diverge => false,
    };
    end_active
        || block_
            .nodes
            .iter()
            .any(|node| has_work(f, adjoint, active, node))
}

/// The variables whose adjoints receive contributions inside `block_`.
pub fn targets(adjoint: &Adjoint, active: &[bool], block_: &Block, out: &mut Vec<VarId>) {
    let add = |var: VarId, out: &mut Vec<VarId>| {
        if active[var] && !out.contains(&var) {
            out.push(var);
        }
    };
    if let End::Values(values) | End::Continue(values) | End::Break(values) = &block_.end {
        for value in values {
            if let OperandKind::Var(var) = value.kind {
                add(var, out);
            }
        }
    }
    for node in &block_.nodes {
        match node {
            Node::Stmt(id) => {
                for stmt in &adjoint.stmts[*id] {
                    match stmt {
                        AdjStmt::Rule { target, .. }
                        | AdjStmt::Pass { target, .. }
                        | AdjStmt::IndexTake { target, .. } => add(*target, out),
                        AdjStmt::IndexAdd { base, .. } | AdjStmt::FieldAdd { base, .. } => {
                            add(*base, out);
                        }
                        AdjStmt::IndexClear { .. } => {}
                        AdjStmt::CallPullback { targets, .. } => {
                            for target in targets.iter().flatten() {
                                add(*target, out);
                            }
                        }
                    }
                }
            }
            Node::If(branch) => {
                targets(adjoint, active, &branch.then, out);
                targets(adjoint, active, &branch.els, out);
            }
            Node::Loop(lp) => {
                targets(adjoint, active, &lp.body, out);
                for carried in &lp.carried {
                    if let OperandKind::Var(var) = carried.init.kind {
                        add(var, out);
                    }
                }
            }
        }
    }
}

/// The variables defined outside `blocks` (and not in `bound`) whose
/// adjoints receive contributions inside them: what the reverse of those
/// blocks adds into, so it must be bound before them.
pub fn outer_targets(
    f: &Function,
    adjoint: &Adjoint,
    active: &[bool],
    blocks: &[&Block],
    bound: &[VarId],
) -> Vec<VarId> {
    let mut inner = Vec::new();
    let mut inside: HashSet<VarId> = bound.iter().copied().collect();
    for block_ in blocks {
        targets(adjoint, active, block_, &mut inner);
        defs(f, block_, &mut inside);
    }
    inner.retain(|var| !inside.contains(var));
    inner
}

/// The variables defined inside `block_` (at any depth).
pub fn defs(f: &Function, block_: &Block, out: &mut HashSet<VarId>) {
    for node in &block_.nodes {
        match node {
            Node::Stmt(id) => {
                out.insert(f.stmts[*id].def);
            }
            Node::If(branch) => {
                out.extend(&branch.phis);
                defs(f, &branch.then, out);
                defs(f, &branch.els, out);
            }
            Node::Loop(lp) => {
                out.insert(lp.trip);
                for carried in &lp.carried {
                    out.insert(carried.exit);
                    out.insert(carried.header);
                }
                out.extend(iteration_vars(lp));
                defs(f, &lp.body, out);
            }
        }
    }
}

/// The forward values the reverse sweep reads directly, wherever they are.
struct Seeds<'a, 'p> {
    f: &'a Function,
    adjoint: &'a Adjoint,
    active: &'a [bool],
    /// Values read.
    needed: &'p mut HashSet<VarId>,
    /// Values whose adjoint starts at a zero of their type or shape.
    zeros: &'p mut HashSet<VarId>,
    /// Loop indices, bound again by the reverse loop itself.
    free: &'p mut HashSet<VarId>,
    recounted: &'p mut HashSet<BlockKey>,
    inductions: &'p mut HashMap<VarId, Induction>,
}

impl Seeds<'_, '_> {
    fn need(&mut self, operand: &Operand) {
        if let OperandKind::Var(var) = operand.kind {
            self.needed.insert(var);
        }
    }

    fn block(&mut self, block_: &Block) {
        let (f, adjoint, active) = (self.f, self.adjoint, self.active);
        for node in &block_.nodes {
            if !has_work(f, adjoint, active, node) {
                continue;
            }
            match node {
                Node::Stmt(id) => self.stmt(*id),
                Node::If(branch) => {
                    self.need(&branch.cond);
                    let blocks = [&branch.then, &branch.els];
                    self.zeros
                        .extend(outer_targets(f, adjoint, active, &blocks, &[]));
                    self.block(&branch.then);
                    self.block(&branch.els);
                }
                Node::Loop(lp) => {
                    if recountable(lp) {
                        self.recounted.insert(key(&lp.body));
                        match &lp.kind {
                            LoopKind::Range { lo, hi, .. } => {
                                self.need(lo);
                                self.need(hi);
                            }
                            LoopKind::Counted { len, .. } => self.need(len),
                            LoopKind::Plain => {}
                        }
                    } else {
                        self.needed.insert(lp.trip);
                        if let LoopKind::Range { lo, .. } = &lp.kind {
                            self.need(lo);
                        }
                    }
                    self.free.extend(iteration_vars(lp));
                    // The reverse binds a counter's header, or for one a
                    // nested loop steps, that loop's exit.
                    let counters = inductions(f, active, lp)
                        .into_iter()
                        .chain(nested_inductions(f, adjoint, active, lp));
                    for (header, induction) in counters {
                        self.free
                            .insert(induction.through.as_ref().map_or(header, |t| t.exit));
                        self.needed.insert(induction.exit);
                        self.inductions.insert(header, induction);
                    }
                    for carried in &lp.carried {
                        if active[carried.header] {
                            self.zeros.insert(carried.exit);
                        }
                    }
                    // The loop binds the adjoints of its carried variables.
                    let headers: Vec<VarId> = lp.carried.iter().map(|c| c.header).collect();
                    self.zeros
                        .extend(outer_targets(f, adjoint, active, &[&lp.body], &headers));
                    self.block(&lp.body);
                }
            }
        }
    }

    fn stmt(&mut self, id: StmtId) {
        for stmt in &self.adjoint.stmts[id] {
            match stmt {
                AdjStmt::Rule { args, .. } => {
                    for arg in args {
                        match arg {
                            RuleArg::Primal(operand) | RuleArg::Int(operand) => {
                                self.need(operand);
                            }
                            RuleArg::Output(var) => {
                                self.needed.insert(*var);
                            }
                            RuleArg::Adjoint(_) => {}
                        }
                    }
                }
                AdjStmt::CallPullback { stmt, .. } => {
                    if let Op::Call(call) = &self.f.stmts[*stmt].op {
                        for arg in &call.args {
                            self.need(arg);
                        }
                    }
                }
                AdjStmt::IndexAdd { base, index, .. }
                | AdjStmt::IndexTake { base, index, .. }
                | AdjStmt::IndexClear { base, index } => {
                    self.need(index);
                    self.needed.insert(*base);
                }
                AdjStmt::FieldAdd { base, .. } => {
                    self.needed.insert(*base);
                }
                AdjStmt::Pass { .. } => {}
            }
        }
    }
}
