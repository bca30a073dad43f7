//! The intermediate representation: plain data, no logic.
//!
//! `lower::function` turns the user's `fn` into a [`Function`] in A-normal
//! form: every intermediate value is a named [`Var`], defined once by one
//! [`Stmt`] (re-assignment and shadowing create new variables). Every node
//! keeps the span of the source it came from, so later phases can still point
//! at user code. `reverse::adjoint` turns a `Function` into an [`Adjoint`].

use proc_macro2::{Span, TokenStream};
use syn::{Ident, Type};

/// Index of a [`Var`] in [`Function::vars`].
pub type VarId = usize;

/// Index of a [`Stmt`] in [`Function::stmts`].
pub type StmtId = usize;

pub struct Function {
    pub vars: Vec<Var>,
    pub params: Vec<Param>,
    /// Items declared in the body (`const`, `fn`, `use`), emitted verbatim.
    pub items: Vec<syn::Item>,
    /// Every statement, wherever it sits in [`Function::body`].
    pub stmts: Vec<Stmt>,
    /// The body as written: statements, branches and loops.
    pub body: Block,
    /// What the function returns.
    pub ret: Operand,
}

/// Index of a [`Block`] in the function body, in pre-order (the body is 0).
pub type BlockId = usize;

/// A straight run of nodes and how control leaves it.
#[derive(Default)]
pub struct Block {
    /// Unique in the function: the key of the analyses' facts about it.
    pub id: BlockId,
    pub nodes: Vec<Node>,
    pub end: End,
}

pub enum Node {
    Stmt(StmtId),
    If(Box<If>),
    Loop(Box<Loop>),
}

/// How control leaves a [`Block`].
#[derive(Default)]
pub enum End {
    /// The end of the function body (its value is [`Function::ret`]).
    #[default]
    Merge,
    /// Values for the `phis` of the enclosing `if`.
    Values(Vec<Operand>),
    /// The next iteration of the innermost loop, with its carried values.
    Continue(Vec<Operand>),
    /// Leaves the innermost loop with these values of its carried variables.
    Break(Vec<Operand>),
    /// The block's last node is an `if` whose every path ends by itself.
    Diverge,
}

/// `if cond { then } else { els }`.
pub struct If {
    /// A `bool` variable (or constant).
    pub cond: Operand,
    pub then: Block,
    pub els: Block,
    /// Variables defined where the branches merge, each from the matching
    /// value of the branch's [`End::Values`]. Empty when every path ends by
    /// itself ([`End::Continue`], [`End::Break`]).
    pub phis: Vec<VarId>,
    pub span: Span,
}

pub struct Loop {
    pub kind: LoopKind,
    /// Variables the body re-assigns, which live from one iteration into the
    /// next and after the loop.
    pub carried: Vec<Carried>,
    pub body: Block,
    /// The number of iterations started (for a range, the last index).
    pub trip: VarId,
    pub span: Span,
    /// The loop over the segments of a `#[checkpoint]` loop (see
    /// `checkpoint.rs`), with the snapshot count asked for (a `usize`, `0`
    /// for one per segment): its iterations are run again in the reverse
    /// sweep from a snapshot of the state it carries.
    pub checkpoint: Option<Operand>,
}

pub struct Carried {
    /// Its value before the loop.
    pub init: Operand,
    /// Its value at the start of an iteration (bound by the loop).
    pub header: VarId,
    /// Its value after the loop.
    pub exit: VarId,
}

pub enum LoopKind {
    /// `for index in lo..hi` (or `..=`): `trip` holds the last index taken.
    Range {
        index: VarId,
        lo: Operand,
        hi: Operand,
        inclusive: bool,
    },
    /// `for x in xs.iter()` and friends: `counter` runs over `0..len`; the
    /// body starts by binding the elements.
    Counted { counter: VarId, len: Operand },
    /// `while` and `loop`: the body decides when to leave.
    Plain,
}

pub struct Var {
    /// The name the generated code gives it, unique in the function.
    pub name: String,
    pub span: Span,
    /// Depends on a differentiated parameter (filled in by `lower`).
    pub varied: bool,
    /// Holds a reference (a `&T` parameter): pass it on as is, not `&v`.
    pub by_ref: bool,
    /// Known to be a float (so `Copy`): the forward sweep may pass it by value
    /// however often it is used. Anything else that the reverse sweep still
    /// needs is borrowed, not moved.
    pub scalar: bool,
    /// Parameters are bound by the signature, not by a `let`.
    pub is_param: bool,
    /// An array, slice or `Vec` whose elements are known floats.
    pub elem_scalar: bool,
    /// A slice, `Vec` or array (a sequence parameter, or a local made by
    /// `vec![…]`, `[v; n]`, `[a, b, …]` or a copy of one), never an ndarray:
    /// `&v[..n]` slices it.
    pub sequence: bool,
    /// Written element by element (`v[i] = …`): the generated code binds it
    /// `mut`, and what is read from it is recorded, never recomputed.
    pub mutated: bool,
    /// Named by an effectful statement the macro keeps as written
    /// (`w.push(x)`, `f(&mut w)`): it may change there too, so it is bound
    /// `mut` (see `mutated`) and nothing read from it is computed again.
    pub touched: bool,
    /// The range of a sub-slice `&x[a..b]`: a `rules::SliceRange`.
    pub slice_range: bool,
}

pub struct Param {
    pub var: VarId,
    pub ident: Ident,
    pub ty: Type,
    pub class: TypeClass,
    /// Differentiated: named in `wrt(...)`, or a float parameter by default.
    pub wrt: bool,
}

/// What the macro can tell of a type from its syntax alone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TypeClass {
    /// `f32` or `f64`, perhaps behind `&`.
    Float,
    /// An ndarray array or view, perhaps behind `&`.
    Array,
    /// Integers, `bool`, `char`, `str`: never differentiable.
    Discrete,
    /// `&mut T`: differentiating through a write is not supported.
    MutRef,
    /// `[f64]`, `[f32; N]`, `Vec<f64>`, perhaps behind `&`: indexed element
    /// by element, with a `Vec` or array of the same length as gradient.
    Sequence,
    /// Anything else: differentiable when its type implements the rules.
    Other,
}

pub struct Stmt {
    pub def: VarId,
    pub op: Op,
    /// `let x: T = …` keeps its annotation.
    pub ty: Option<Type>,
    pub span: Span,
    /// The variables it reads: its operands, or for an opaque expression the
    /// local names in it (filled in by `lower::facts`).
    pub reads: Vec<VarId>,
    /// An opaque expression that computing again gives the same value:
    /// arithmetic, comparisons, casts, counts, reads of variables nothing
    /// writes in place; no call with effects.
    pub pure: bool,
    /// An opaque `v + k` or `v - k` of an integer literal `k`: a loop counter
    /// step, or an index at a constant offset from a loop's index.
    pub offset: Option<Offset>,
}

/// `base + step` (`add`) or `base - step`.
pub struct Offset {
    pub base: VarId,
    pub step: syn::LitInt,
    pub add: bool,
}

#[derive(Clone)]
pub struct Operand {
    pub kind: OperandKind,
    pub mode: Mode,
    pub span: Span,
}

#[derive(Clone)]
pub enum OperandKind {
    Var(VarId),
    /// A literal or a constant path, emitted as written.
    Const(TokenStream),
}

/// How the source used the operand.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// `x`
    Value,
    /// `&x`
    Borrow,
    /// `*x`
    Deref,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
}

pub enum Op {
    /// `let y = x;`
    Copy(Operand),
    /// `x.clone()`: an owned copy, also of a value behind a reference.
    Clone(Operand),
    /// `a + b`, `a - b`, `a * b`, `a / b`
    Binary(BinOp, Operand, Operand),
    /// `-x`
    Neg(Operand),
    /// A float method `x.exp()`, `x.powf(p)`, … (also written `f64::exp(x)`).
    Method {
        method: Ident,
        rule: &'static MethodRule,
        recv: Operand,
        args: Vec<Operand>,
        /// Written as `f64::exp(x)`: the path before the method.
        qualified: Option<TokenStream>,
        /// For `min`/`max` of floats: the `bool` variable (defined just
        /// before) that says whether the receiver was taken. The pullbacks
        /// read it alone, so it is what the tape keeps.
        side: Option<VarId>,
    },
    /// A runtime primitive called as a function: `sigmoid(x)`.
    Primitive {
        rule: &'static MethodRule,
        /// The callee as the user wrote it.
        callee: TokenStream,
        args: Vec<Operand>,
    },
    /// A call of another `#[grad]` function, differentiated through its
    /// pullback.
    Call(Call),
    /// A value that depends on nothing differentiated, emitted as written
    /// (its local names already renamed).
    Opaque(TokenStream),
    /// `&base.member`: a field of a parameter struct.
    Field { base: Operand, member: syn::Member },
    /// `base[index]`, or `&base[index]` when `borrow`.
    Index {
        base: Operand,
        index: Operand,
        borrow: bool,
    },
    /// `base[index] = value` (or `+=` when `add`): defines nothing (its
    /// `def` is `_`), changes `base` in place.
    SetIndex {
        base: VarId,
        index: Operand,
        value: Operand,
        add: bool,
    },
}

impl Op {
    /// For a sub-slice `&x[a..b]` (an index by a `rules::slice_range`), the
    /// variable sliced.
    pub fn sub_slice_of(&self, vars: &[Var]) -> Option<VarId> {
        match self {
            Op::Index {
                base:
                    Operand {
                        kind: OperandKind::Var(base),
                        ..
                    },
                index:
                    Operand {
                        kind: OperandKind::Var(range),
                        ..
                    },
                ..
            } if vars[*range].slice_range => Some(*base),
            _ => None,
        }
    }
}

pub struct Call {
    /// The callee as written: `foo`, `m::foo`, `Self::foo`, `self.foo`.
    pub callee: Callee,
    pub args: Vec<Operand>,
}

pub enum Callee {
    /// `path(args)`: the path's last segment is the function.
    Path(syn::Path),
    /// `self.method(args)`.
    SelfMethod {
        receiver: TokenStream,
        method: Ident,
    },
}

/// A method or runtime function the macro differentiates, and how.
#[derive(Clone, Copy)]
pub struct MethodRule {
    /// The name the user writes: `exp`, `t`, `sigmoid`, `matmul`.
    pub name: &'static str,
    /// The runtime rule's prefix: `exp` → `exp_pullback`, `t` → `transpose_pullback`.
    pub rule: &'static str,
    pub shape: MethodShape,
    /// ndarray's `mean()` and `mean_axis(a)` return an `Option`: the method
    /// is differentiated only as `x.mean().unwrap()` (or `.expect(…)`), and
    /// its forward code keeps the `.unwrap()`.
    pub unwrap: bool,
    /// Whether the pullback has an `_into` variant that takes the adjoint
    /// by value and may reuse its buffer (`sigmoid_pullback_into`): the
    /// activations'.
    pub into: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum MethodShape {
    /// `x.exp()`, `sigmoid(x)`, `norm(x)`: `exp_pullback(&x, &y, &d)`.
    Unary,
    /// `x.sum()`, `x.t()`, `mean(x)`: `sum_pullback(&x, &d)`.
    Reduce,
    /// `matmul(a, b)`, `a.dot(b)`: `matmul_pullback_lhs(&a, &b, &d)` and `_rhs`.
    Bilinear,
    /// `x.powf(p)`: `powf_pullback_lhs(&x, &p, &y, &d)` and `_rhs`.
    Binary,
    /// `x.powi(n)`: `n` is an integer constant.
    Powi,
    /// `x.mul_add(a, b)`.
    MulAdd,
    /// `x.clamp(lo, hi)`: `clamp_pullback_x(&x, &lo, &hi, &d)`, `_lo` and `_hi`.
    Clamp,
    /// `x.sum_axis(a)`, `x.row(i)`, `x.slice(s![…])`, `x.index_axis(a, i)`:
    /// the `n` arguments are constants (an `Axis`, an index, a slice),
    /// handed on as written: `sum_axis_pullback(&x, a, &d)`.
    Select(u8),
    /// `softmax(x, axis)`, `logsumexp_axis(x, axis)`: the axis is a
    /// constant, and the pullback reads the output:
    /// `softmax_pullback(&x, axis, &y, &d)`.
    AxisWise,
    /// `concatenate2(axis, a, b)`, `stack3(axis, a, b, c)`: the `n` arrays
    /// after the axis (a constant, first) are joined; the pullback to array
    /// `k` is `concatenate2_pullback_k(axis, &a, &b, &d)`.
    Join(u8),
    /// `(a, b)` built from differentiated values: `tuple_pullback_0(&d)`,
    /// `tuple_pullback_1(&d)`, … (component `k` of the adjoint).
    Tuple,
}

/// The reverse sweep: for each statement of [`Function::stmts`], its
/// pullbacks in the order they run.
pub struct Adjoint {
    pub stmts: Vec<Vec<AdjStmt>>,
    /// One entry per parameter, in order.
    pub grads: Vec<Grad>,
}

pub enum Grad {
    /// The accumulated adjoint of the parameter's variable.
    Adjoint(VarId),
    /// Differentiated, but nothing flows into it: a zero of its shape.
    Zero(VarId),
    /// Not differentiated.
    Constant,
}

pub enum AdjStmt {
    /// `d_target (+)= rule(args…)`.
    Rule {
        target: VarId,
        rule: String,
        /// Whether the rule has an `_into` variant that takes the adjoint by
        /// value (`sigmoid_pullback_into`).
        into: bool,
        args: Vec<RuleArg>,
        span: Span,
    },
    /// `d_target (+)= d_source` for `let target' = source` (`-d_source`
    /// when `negate`, for `a - b` of floats).
    Pass {
        target: VarId,
        source: VarId,
        negate: bool,
    },
    /// `d_base.member += d_source` for `source = &base.member`.
    FieldAdd {
        base: VarId,
        member: syn::Member,
        source: VarId,
    },
    /// `d_base[index] += d_source` for `source = base[index]`.
    IndexAdd {
        base: VarId,
        index: Operand,
        source: VarId,
    },
    /// `d_value (+)= d_base[index]` for `base[index] = value` (taken, so
    /// the element's adjoint is zero after, when `take`) or `+=`.
    IndexTake {
        target: VarId,
        base: VarId,
        index: Operand,
        take: bool,
    },
    /// `take(&mut d_base[index])`, dropped, for `base[index] = value` with
    /// a value that carries no derivative: the element's earlier value no
    /// longer reaches the result.
    IndexClear { base: VarId, index: Operand },
    /// `let (_, (g0, g1, …)) = callee_pullback(args…, d_def);` then each
    /// differentiated argument's adjoint `(+)= gk`.
    CallPullback {
        stmt: StmtId,
        /// For each argument: the variable whose adjoint receives it.
        targets: Vec<Option<VarId>>,
    },
}

pub enum RuleArg {
    /// A forward value, passed by reference.
    Primal(Operand),
    /// An integer constant, passed by value (`powi`'s exponent).
    Int(Operand),
    /// The forward value a statement defined, by reference.
    Output(VarId),
    /// An adjoint, by reference.
    Adjoint(VarId),
}
