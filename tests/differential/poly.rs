//! Polynomial functions, checked exactly.
//!
//! A share of the generated functions (see [`is_poly`]) have polynomial
//! bodies: `+ - *`, unary `-`, `powi(k)` with `0 ≤ k ≤ 4`, dyadic literals
//! (`0.25 0.5 0.75 1.0 1.25 1.5 2.0 3.0` and negatives), `let`, shadowing,
//! `let mut` with `= += -= *=`, `mut` parameters, and calls of earlier
//! polynomial functions. The generator keeps the expression tree, and at
//! dyadic points `k/8` (`|k| ≤ 16`) evaluates the function and its gradient
//! with exact dyadic arithmetic (`i128` numerator over a power of two,
//! reverse mode on a tape that inlines the callees). The expected value and
//! gradient are written into the checker as `f64` literals and compared with
//! `==`.
//!
//! That comparison is fair only if `f64` evaluation is exact. Every value
//! the function or its gradient can compute, in any order of its products
//! and sums, is `N / 2^D` with `|N| ≤ W = M · 2^D`, where `M` bounds the
//! magnitude and `D` the denominator exponent (interval arithmetic on the
//! tape, forward for values and backward for adjoints, over all inputs in
//! `[-2, 2]` with denominator 8; every factor has `W ≥ 1`, so a partial
//! product or sum never exceeds the bound of the whole). A function is kept
//! only if every bound satisfies `W ≤ 2^52`: then every intermediate is
//! representable and every operation exact. Otherwise it is regenerated.

use super::generate::{GenFn, Kind, Limits, Param, lit};
use super::rng::Rng;
use std::collections::HashMap;
use std::fmt::Write as _;

/// One function in this many (per index, from a separate stream) is
/// polynomial.
pub const SHARE: usize = 5;

/// Exact points per polynomial function.
pub const EXACT_POINTS: usize = 3;

/// The bound on `M · 2^D` that keeps every intermediate exact in `f64`.
const MAX_W: f64 = (1u64 << 52) as f64;

const SALT_KIND: u64 = 0x5041_4C59_0000_0001;
const SALT_GEN: u64 = 0x5041_4C59_0000_0002;
const SALT_POINTS: u64 = 0x5041_4C59_0000_0003;

/// Whether function `index` of stream `seed` is polynomial.
pub fn is_poly(seed: u64, index: usize) -> bool {
    Rng::for_item(seed ^ SALT_KIND, index as u64).below(SHARE) == 0
}

/// A dyadic rational `n / 2^e`, normalised (`n` odd or `e = 0`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dy {
    n: i128,
    e: u32,
}

impl Dy {
    const ZERO: Dy = Dy { n: 0, e: 0 };
    const ONE: Dy = Dy { n: 1, e: 0 };

    fn new(mut n: i128, mut e: u32) -> Dy {
        if n == 0 {
            return Dy::ZERO;
        }
        while e > 0 && n % 2 == 0 {
            n /= 2;
            e -= 1;
        }
        Dy { n, e }
    }

    fn int(n: i128) -> Dy {
        Dy::new(n, 0)
    }

    fn add(self, o: Dy) -> Option<Dy> {
        let e = self.e.max(o.e);
        let a = self.n.checked_mul(1i128.checked_shl(e - self.e)?)?;
        let b = o.n.checked_mul(1i128.checked_shl(e - o.e)?)?;
        Some(Dy::new(a.checked_add(b)?, e))
    }

    fn neg(self) -> Dy {
        Dy::new(-self.n, self.e)
    }

    fn mul(self, o: Dy) -> Option<Dy> {
        Some(Dy::new(self.n.checked_mul(o.n)?, self.e.checked_add(o.e)?))
    }

    fn powi(self, k: u32) -> Option<Dy> {
        (0..k).try_fold(Dy::ONE, |acc, _| acc.mul(self))
    }

    /// The `f64` of exactly this value, if there is one.
    pub fn to_f64(self) -> Option<f64> {
        if self.n.unsigned_abs() > 1u128 << 53 || self.e > 1000 {
            return None;
        }
        Some(self.n as f64 / 2f64.powi(self.e as i32))
    }
}

/// Dyadic literals: (numerator, exponent of the denominator).
const LITS: &[(i128, u32)] = &[
    (1, 1),
    (5, 2),
    (-3, 0),
    (3, 2),
    (2, 0),
    (-1, 1),
    (3, 1),
    (-5, 2),
    (1, 2),
    (3, 0),
    (-2, 0),
    (1, 0),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
}

impl Op {
    fn sym(self) -> &'static str {
        match self {
            Op::Add => "+",
            Op::Sub => "-",
            Op::Mul => "*",
        }
    }
}

/// A polynomial expression.
#[derive(Clone, Debug)]
pub enum PE {
    Var(String),
    Lit(Dy),
    Neg(Box<PE>),
    Bin(Op, Box<PE>, Box<PE>),
    Powi(Box<PE>, u32),
    /// A call of the function at this position of the batch.
    Call(usize, Vec<PE>),
}

#[derive(Clone, Debug)]
pub enum PS {
    Let {
        name: String,
        mutable: bool,
        e: PE,
    },
    /// `name = e` (`op` `None`) or `name op= e`.
    Assign {
        name: String,
        op: Option<Op>,
        e: PE,
    },
}

/// A polynomial function of `floats` parameters `x0 ..`, all differentiated.
#[derive(Clone, Debug)]
pub struct PolyFn {
    pub floats: usize,
    pub stmts: Vec<PS>,
    pub tail: PE,
}

/// An exact expectation: at `x`, the value and the gradient.
#[derive(Clone, Debug)]
pub struct Exact {
    pub x: Vec<f64>,
    pub value: f64,
    pub grad: Vec<f64>,
}

// ---------------------------------------------------------------- tape

#[derive(Clone, Copy, Debug)]
enum Node {
    Leaf,
    Neg(usize),
    Bin(Op, usize, usize),
    Powi(usize, u32),
}

/// `M` (magnitude) and `D` (denominator exponent) bounds.
#[derive(Clone, Copy, Debug)]
struct Bound {
    m: f64,
    d: u32,
}

impl Bound {
    const ZERO: Bound = Bound { m: 0.0, d: 0 };

    fn w(self) -> f64 {
        self.m * 2f64.powi(self.d as i32)
    }
    fn add(self, o: Bound) -> Bound {
        Bound {
            m: self.m + o.m,
            d: self.d.max(o.d),
        }
    }
    fn mul(self, o: Bound) -> Bound {
        Bound {
            m: self.m * o.m,
            d: self.d + o.d,
        }
    }
    fn of(v: Dy) -> Bound {
        Bound {
            m: v.to_f64().unwrap_or(f64::INFINITY).abs(),
            d: v.e,
        }
    }
}

#[derive(Default)]
struct Tape {
    nodes: Vec<Node>,
    vals: Vec<Dy>,
    bounds: Vec<Bound>,
}

impl Tape {
    fn push(&mut self, n: Node, v: Dy, b: Bound) -> usize {
        self.nodes.push(n);
        self.vals.push(v);
        self.bounds.push(b);
        self.nodes.len() - 1
    }

    fn expr(&mut self, e: &PE, env: &HashMap<String, usize>, fns: &[GenFn]) -> Option<usize> {
        Some(match e {
            PE::Var(name) => *env.get(name)?,
            PE::Lit(v) => self.push(Node::Leaf, *v, Bound::of(*v)),
            PE::Neg(a) => {
                let a = self.expr(a, env, fns)?;
                let (v, b) = (self.vals[a].neg(), self.bounds[a]);
                self.push(Node::Neg(a), v, b)
            }
            PE::Bin(op, a, b) => {
                let (a, b) = (self.expr(a, env, fns)?, self.expr(b, env, fns)?);
                self.bin(*op, a, b)?
            }
            PE::Powi(a, k) => {
                let a = self.expr(a, env, fns)?;
                let v = self.vals[a].powi(*k)?;
                let ba = self.bounds[a];
                let b = (0..*k).fold(Bound { m: 1.0, d: 0 }, |acc, _| acc.mul(ba));
                self.push(Node::Powi(a, *k), v, b)
            }
            PE::Call(pos, args) => {
                let args = args
                    .iter()
                    .map(|a| self.expr(a, env, fns))
                    .collect::<Option<Vec<usize>>>()?;
                let callee = fns.get(*pos)?.poly.as_ref()?;
                self.body(callee, &args, fns)?
            }
        })
    }

    fn bin(&mut self, op: Op, a: usize, b: usize) -> Option<usize> {
        let (va, vb) = (self.vals[a], self.vals[b]);
        let (ba, bb) = (self.bounds[a], self.bounds[b]);
        let (v, bd) = match op {
            Op::Add => (va.add(vb)?, ba.add(bb)),
            Op::Sub => (va.add(vb.neg())?, ba.add(bb)),
            Op::Mul => (va.mul(vb)?, ba.mul(bb)),
        };
        Some(self.push(Node::Bin(op, a, b), v, bd))
    }

    /// Inlines `f` with its parameters bound to the nodes `args`.
    fn body(&mut self, f: &PolyFn, args: &[usize], fns: &[GenFn]) -> Option<usize> {
        let mut env: HashMap<String, usize> = args
            .iter()
            .enumerate()
            .map(|(i, &a)| (format!("x{i}"), a))
            .collect();
        for s in &f.stmts {
            match s {
                PS::Let { name, e, .. } => {
                    let v = self.expr(e, &env, fns)?;
                    env.insert(name.clone(), v);
                }
                PS::Assign { name, op, e } => {
                    let v = self.expr(e, &env, fns)?;
                    let v = match op {
                        None => v,
                        Some(op) => self.bin(*op, *env.get(name)?, v)?,
                    };
                    env.insert(name.clone(), v);
                }
            }
        }
        self.expr(&f.tail, &env, fns)
    }

    /// Exact adjoints of every node (seed 1 at `root`), and whether every
    /// value and adjoint bound keeps `f64` arithmetic exact.
    fn reverse(&self, root: usize) -> Option<(Vec<Dy>, bool)> {
        let n = self.nodes.len();
        let mut adj = vec![Dy::ZERO; n];
        let mut badj = vec![Bound::ZERO; n];
        adj[root] = Dy::ONE;
        badj[root] = Bound { m: 1.0, d: 0 };
        for i in (0..n).rev() {
            let (g, bg) = (adj[i], badj[i]);
            match self.nodes[i] {
                Node::Leaf => {}
                Node::Neg(a) => {
                    adj[a] = adj[a].add(g.neg())?;
                    badj[a] = badj[a].add(bg);
                }
                Node::Bin(op, a, b) => match op {
                    Op::Add | Op::Sub => {
                        adj[a] = adj[a].add(g)?;
                        let gb = if op == Op::Add { g } else { g.neg() };
                        adj[b] = adj[b].add(gb)?;
                        badj[a] = badj[a].add(bg);
                        badj[b] = badj[b].add(bg);
                    }
                    Op::Mul => {
                        adj[a] = adj[a].add(g.mul(self.vals[b])?)?;
                        adj[b] = adj[b].add(g.mul(self.vals[a])?)?;
                        badj[a] = badj[a].add(bg.mul(self.bounds[b]));
                        badj[b] = badj[b].add(bg.mul(self.bounds[a]));
                    }
                },
                Node::Powi(a, k) => {
                    if k > 0 {
                        let d = Dy::int(k as i128).mul(self.vals[a].powi(k - 1)?)?;
                        adj[a] = adj[a].add(g.mul(d)?)?;
                        let ba = self.bounds[a];
                        let bd = (0..k - 1).fold(Bound { m: k as f64, d: 0 }, |acc, _| acc.mul(ba));
                        badj[a] = badj[a].add(bg.mul(bd));
                    }
                }
            }
        }
        let exact = self
            .bounds
            .iter()
            .chain(badj.iter())
            .all(|b| b.w() <= MAX_W);
        Some((adj, exact))
    }
}

/// The function at `x` (exactly): its value and gradient, or `None` if the
/// arithmetic overflows or is not exact in `f64` for every input.
fn evaluate(f: &PolyFn, x: &[Dy], fns: &[GenFn]) -> Option<(Dy, Vec<Dy>, Bound)> {
    let mut tape = Tape::default();
    let inputs: Vec<usize> = x
        .iter()
        .map(|&v| tape.push(Node::Leaf, v, Bound { m: 2.0, d: 3 }))
        .collect();
    let root = tape.body(f, &inputs, fns)?;
    let (adj, exact) = tape.reverse(root)?;
    exact.then(|| {
        (
            tape.vals[root],
            inputs.iter().map(|&i| adj[i]).collect(),
            tape.bounds[root],
        )
    })
}

// ---------------------------------------------------------------- generation

struct PGen<'a> {
    rng: &'a mut Rng,
    /// Positions of the polynomial functions that may be called.
    callable: &'a [usize],
    fns: &'a [GenFn],
    /// Bindings in order: (name, mutable).
    scope: Vec<(String, bool)>,
    pending: Vec<String>,
    fresh: usize,
}

impl PGen<'_> {
    fn visible(&self) -> Vec<(String, bool)> {
        let mut out: Vec<(String, bool)> = Vec::new();
        for (n, m) in self.scope.iter().rev() {
            if !out.iter().any(|(o, _)| o == n) {
                out.push((n.clone(), *m));
            }
        }
        out
    }

    fn leaf(&mut self) -> PE {
        if !self.pending.is_empty() && self.rng.chance(0.6) {
            let i = self.rng.below(self.pending.len());
            return PE::Var(self.pending.swap_remove(i));
        }
        if self.rng.chance(0.25) {
            let (n, e) = *self.rng.pick(LITS);
            return PE::Lit(Dy::new(n, e));
        }
        let vars = self.visible();
        PE::Var(self.rng.pick(&vars).0.clone())
    }

    fn expr(&mut self, depth: usize) -> PE {
        if depth == 0 || self.rng.chance(0.2) {
            return self.leaf();
        }
        let d = depth - 1;
        match self.rng.below(12) {
            0 => PE::Neg(Box::new(self.expr(d))),
            1..=3 => {
                let op = if self.rng.chance(0.6) {
                    Op::Add
                } else {
                    Op::Sub
                };
                PE::Bin(op, Box::new(self.expr(d)), Box::new(self.expr(d)))
            }
            4..=6 => PE::Bin(Op::Mul, Box::new(self.expr(d)), Box::new(self.expr(d))),
            7 | 8 => {
                let k = self.rng.range(0, 4) as u32;
                PE::Powi(Box::new(self.expr(d)), k)
            }
            9 if !self.callable.is_empty() => {
                let pos = *self.rng.pick(self.callable);
                let n = self.fns[pos].num_floats();
                let args = (0..n).map(|_| self.expr(d)).collect();
                PE::Call(pos, args)
            }
            10 => {
                let (n, e) = *self.rng.pick(LITS);
                PE::Bin(
                    Op::Mul,
                    Box::new(PE::Lit(Dy::new(n, e))),
                    Box::new(self.expr(d)),
                )
            }
            _ => self.leaf(),
        }
    }

    fn statement(&mut self, depth: usize, out: &mut Vec<PS>) {
        let vars = self.visible();
        let mutables: Vec<String> = vars.iter().filter(|v| v.1).map(|v| v.0.clone()).collect();
        let r = self.rng.below(10);
        let e = self.expr(depth);
        if r < 3 {
            self.fresh += 1;
            let name = format!("v{}", self.fresh);
            self.bind(name, false, e, out);
        } else if r < 4 {
            let name = self.rng.pick(&vars).0.clone();
            self.bind(name, false, e, out);
        } else if r < 7 && !mutables.is_empty() {
            let name = self.rng.pick(&mutables).clone();
            let op = *self
                .rng
                .pick(&[None, Some(Op::Add), Some(Op::Sub), Some(Op::Mul)]);
            out.push(PS::Assign {
                name: name.clone(),
                op,
                e,
            });
            if !self.pending.contains(&name) {
                self.pending.push(name);
            }
        } else {
            self.fresh += 1;
            let name = format!("m{}", self.fresh);
            self.bind(name, true, e, out);
        }
    }

    fn bind(&mut self, name: String, mutable: bool, e: PE, out: &mut Vec<PS>) {
        out.push(PS::Let {
            name: name.clone(),
            mutable,
            e,
        });
        self.pending.retain(|p| p != &name);
        self.pending.push(name.clone());
        self.scope.push((name, mutable));
    }
}

fn typed(e: &PE) -> bool {
    match e {
        PE::Var(_) | PE::Call(..) => true,
        PE::Lit(_) => false,
        PE::Neg(a) | PE::Powi(a, _) => typed(a),
        PE::Bin(_, a, b) => typed(a) || typed(b),
    }
}

fn atomic(e: &PE) -> bool {
    match e {
        PE::Var(_) | PE::Call(..) => true,
        PE::Lit(v) => v.n >= 0,
        PE::Powi(a, _) => typed(a),
        _ => false,
    }
}

fn paren(e: &PE, fns: &[GenFn]) -> String {
    let s = print(e, fns);
    if atomic(e) { s } else { format!("({s})") }
}

fn print(e: &PE, fns: &[GenFn]) -> String {
    match e {
        PE::Var(n) => n.clone(),
        PE::Lit(v) => lit(v.to_f64().unwrap()),
        PE::Neg(a) => format!("-{}", paren(a, fns)),
        PE::Bin(op, a, b) => format!("{} {} {}", paren(a, fns), op.sym(), paren(b, fns)),
        PE::Powi(a, k) if typed(a) => format!("{}.powi({k})", paren(a, fns)),
        PE::Powi(a, k) => format!("f64::powi({}, {k})", print(a, fns)),
        PE::Call(pos, args) => {
            let args: Vec<String> = args.iter().map(|a| print(a, fns)).collect();
            format!("{}({})", fns[*pos].name, args.join(", "))
        }
    }
}

fn source(name: &str, f: &PolyFn, mut_param: Option<usize>, ret: bool, fns: &[GenFn]) -> String {
    let sig: Vec<String> = (0..f.floats)
        .map(|i| {
            let m = if mut_param == Some(i) { "mut " } else { "" };
            format!("{m}x{i}: f64")
        })
        .collect();
    let mut s = format!("#[grad]\npub fn {name}({}) -> f64 {{\n", sig.join(", "));
    for st in &f.stmts {
        let _ = match st {
            PS::Let { name, mutable, e } => {
                let m = if *mutable { "mut " } else { "" };
                let ty = if typed(e) { "" } else { ": f64" };
                writeln!(s, "    let {m}{name}{ty} = {};", print(e, fns))
            }
            PS::Assign { name, op, e } => {
                let op = op.map_or("", Op::sym);
                writeln!(s, "    {name} {op}= {};", print(e, fns))
            }
        };
    }
    let tail = print(&f.tail, fns);
    if ret {
        let _ = writeln!(s, "    return {tail};");
    } else {
        let _ = writeln!(s, "    {tail}");
    }
    s.push_str("}\n");
    s
}

/// Generates polynomial function number `index`; it may call the polynomial
/// functions among `earlier`.
pub fn function(seed: u64, index: usize, earlier: &[GenFn], lim: Limits) -> GenFn {
    let mut rng = Rng::for_item(seed ^ SALT_GEN, index as u64);
    let name = format!("f{index}");
    let floats = rng.range(1, 3).min(lim.floats).max(1);
    let mut_param = rng.chance(0.2).then(|| rng.below(floats));
    let ret = rng.chance(0.15);
    let callable: Vec<usize> = if lim.calls {
        (0..earlier.len())
            .filter(|&p| earlier[p].poly.is_some())
            .collect()
    } else {
        Vec::new()
    };
    let inputs = vec![Dy::ONE; floats];
    let mut chosen = None;
    for attempt in 0..30 {
        let depth = rng
            .range(1, 3)
            .min(lim.depth)
            .min(if attempt < 15 { 3 } else { 1 });
        let statements = rng.range(0, 4).min(lim.statements);
        let mut g = PGen {
            rng: &mut rng,
            callable: &callable,
            fns: earlier,
            scope: (0..floats)
                .map(|i| (format!("x{i}"), mut_param == Some(i)))
                .collect(),
            pending: Vec::new(),
            fresh: 0,
        };
        let mut stmts = Vec::new();
        for _ in 0..statements {
            g.statement(depth, &mut stmts);
        }
        let tail = g.expr(depth);
        let f = PolyFn {
            floats,
            stmts,
            tail,
        };
        if let Some((_, _, bound)) = evaluate(&f, &inputs, earlier) {
            chosen = Some((f, bound));
            break;
        }
    }
    let (poly, bound) = chosen.unwrap_or_else(|| {
        let f = PolyFn {
            floats,
            stmts: Vec::new(),
            tail: PE::Var("x0".into()),
        };
        (f, Bound { m: 2.0, d: 3 })
    });
    let mut prng = Rng::for_item(seed ^ SALT_POINTS, index as u64);
    let exact = (0..EXACT_POINTS)
        .map(|_| {
            let x: Vec<Dy> = (0..floats)
                .map(|_| Dy::new(prng.below(33) as i128 - 16, 3))
                .collect();
            let (v, g, _) = evaluate(&poly, &x, earlier).expect("checked exact above");
            Exact {
                x: x.iter().map(|v| v.to_f64().unwrap()).collect(),
                value: v.to_f64().unwrap(),
                grad: g.iter().map(|v| v.to_f64().unwrap()).collect(),
            }
        })
        .collect();
    GenFn {
        index,
        params: (0..floats)
            .map(|i| Param {
                name: format!("x{i}"),
                kind: Kind::Float,
            })
            .collect(),
        wrt: (0..floats).collect(),
        mag: bound.m,
        source: source(&name, &poly, mut_param, ret, earlier),
        name,
        poly: Some(poly),
        exact,
        shapes: 0,
    }
}
