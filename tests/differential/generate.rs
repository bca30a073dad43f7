//! The generator of random `#[grad]` functions.
//!
//! Every function is straight-line scalar code over the constructs that the
//! README's "What a `#[grad]` body may contain" lists: `+ - * /`, unary `-`,
//! every float method with a rule (`exp exp2 ln log2 log10 sqrt cbrt sin cos
//! tan asin acos atan sinh cosh tanh abs recip powi powf max min atan2 hypot
//! mul_add`, as methods and as `f64::name(..)`), `sigmoid relu softplus`,
//! float literals, `let` (annotated or not, shadowing locals and
//! parameters), `let mut` with re-assignment and `+= -= *= /=`, `mut`
//! parameters, block expressions, a final `return`, integer constant
//! parameters used through `as f64`, `#[grad(wrt(..))]` subsets, and calls of
//! functions generated earlier in the same batch.
//!
//! Points are sampled with every float parameter uniform in `[-2, 2]` and
//! every integer parameter in `1..=4`. The generator keeps each operation in
//! its domain for every real input, not only at those points:
//!
//! - the argument of `ln log2 log10 sqrt recip`, the base of `powf`, a
//!   divisor, and negative `powi` exponents take a *positive form* with a
//!   known lower bound: `e.powi(2) + c`, `softplus(e) + c`, `sigmoid(e) + c`,
//!   `e.hypot(c)`, `e.abs() + c`, `e.exp()` (for bounded `e`), with
//!   `c ∈ {0.1, 0.25, 0.5, 1}`;
//! - `asin`/`acos` take `e.tanh() * 0.9`, `tan` takes `e.tanh() * 1.3`,
//!   `exp exp2 sinh cosh` take `e.tanh() * c` with `c ≤ 3`;
//! - every expression carries an upper bound of its magnitude (interval
//!   arithmetic on `|·|`, assuming the sampled ranges); one that exceeds
//!   [`LIMIT`] is squashed (`tanh`, `atan`, `sigmoid` or a scale), and call
//!   arguments are squashed to `[-2, 2]`, the range the callee's own bound
//!   assumed. Values therefore stay moderate and finite differences accurate.
//!
//! `cbrt` takes `±` a positive form, and `hypot` and `atan2` one positive
//! argument: their derivatives are infinite or 0/0 at 0 (or the origin), and
//! an exact 0 is easy to make (`relu` of a negative, `x - x`); `atan2(pos, e)`
//! also never meets its branch cut.
//!
//! The kinks that remain (`abs relu max min`) are hit by a finite-difference stencil only rarely; the
//! harness detects it (two step sizes disagree) and counts the component as
//! skipped instead of failed.

use super::rng::Rng;
use std::fmt::Write as _;

/// Magnitude above which an expression is squashed.
const LIMIT: f64 = 30.0;

/// Bound assumed for a float parameter: points are sampled in `[-2, 2]`.
const PARAM_BOUND: f64 = 2.0;

/// Bound assumed for an integer parameter: sampled in `1..=4`.
const INT_BOUND: f64 = 4.0;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Float,
    /// An integer constant parameter of this type.
    Int(&'static str),
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub kind: Kind,
}

/// One generated function.
#[derive(Clone, Debug)]
pub struct GenFn {
    /// Its global index (the `N` of its name `fN`).
    pub index: usize,
    pub name: String,
    pub params: Vec<Param>,
    /// Indices, among the float parameters, of the differentiated ones, in
    /// parameter order (the order of the gradient `#[grad]` returns).
    pub wrt: Vec<usize>,
    /// Upper bound of `|f|` for arguments in the sampled ranges.
    pub mag: f64,
    /// The source, `#[grad]` attribute included.
    pub source: String,
    /// Positions (in the batch) of the functions it calls.
    pub callees: Vec<usize>,
}

impl GenFn {
    pub fn num_floats(&self) -> usize {
        self.params.iter().filter(|p| p.kind == Kind::Float).count()
    }
}

/// An expression, as source, with what the generator knows about it.
#[derive(Clone, Debug)]
struct E {
    s: String,
    /// Upper bound of its absolute value.
    mag: f64,
    /// Whether rustc knows it is `f64` (it reads a typed variable, a call or
    /// a cast); a `{float}` literal expression is not, and `(0.5).exp()`
    /// does not compile, so methods on it are written `f64::exp(..)`.
    typed: bool,
    /// A path or call: needs no parentheses as a receiver.
    atomic: bool,
}

impl E {
    fn new(s: String, mag: f64, typed: bool) -> E {
        E {
            s,
            mag,
            typed,
            atomic: false,
        }
    }

    /// As an operand of an operator or a receiver.
    fn paren(&self) -> String {
        if self.atomic {
            self.s.clone()
        } else {
            format!("({})", self.s)
        }
    }
}

#[derive(Clone, Debug)]
struct Var {
    name: String,
    mag: f64,
    typed: bool,
    mutable: bool,
}

struct Gen<'a> {
    rng: &'a mut Rng,
    earlier: &'a [GenFn],
    scope: Vec<Var>,
    int: Option<(String, &'static str)>,
    callees: Vec<usize>,
    /// Locals not read yet: leaves prefer them, so that values flow from
    /// statement to statement instead of being dead code.
    pending: Vec<String>,
    fresh: usize,
    body: String,
    indent: usize,
}

const LITERALS: &[f64] = &[
    0.5, 1.5, 2.0, 0.25, -1.25, 3.0, 0.1, 0.7, -0.5, 1.0, -2.0, 0.875,
];
const SMALL_LITERALS: &[f64] = &[0.5, 1.5, -1.25, 0.25, -0.75, 1.0, 2.0, -2.0];
const POS_CONSTANTS: &[f64] = &[0.1, 0.25, 0.5, 1.0];

/// `name(e)` for a primitive: the argument cast `as f64` when it is a
/// `{float}` constant, whose type the generic primitive cannot infer.
fn prim(name: &str, e: &E) -> String {
    if e.typed {
        format!("{name}({})", e.s)
    } else {
        format!("{name}({} as f64)", e.paren())
    }
}

/// The left operand of `+`/`-`: as is, unless it is a block.
fn first(a: &E) -> String {
    if a.s.starts_with('{') {
        a.paren()
    } else {
        a.s.clone()
    }
}

fn lit(v: f64) -> String {
    let s = format!("{v:?}");
    if v < 0.0 { format!("({s})") } else { s }
}

impl Gen<'_> {
    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn line(&mut self, s: &str) {
        for _ in 0..self.indent {
            self.body.push_str("    ");
        }
        self.body.push_str(s);
        self.body.push('\n');
    }

    /// The visible variables (latest binding of each name).
    fn visible(&self) -> Vec<Var> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for v in self.scope.iter().rev() {
            if seen.insert(v.name.clone()) {
                out.push(v.clone());
            }
        }
        out
    }

    /// `recv.name(args)`, or `f64::name(recv, args)` when the receiver's type
    /// is not known to rustc (and sometimes anyway, to cover that form).
    fn method(&mut self, recv: &E, name: &str, args: &[String]) -> String {
        if !recv.typed || self.rng.chance(0.1) {
            let mut all = vec![recv.s.clone()];
            all.extend(args.iter().cloned());
            format!("f64::{name}({})", all.join(", "))
        } else {
            format!("{}.{name}({})", recv.paren(), args.join(", "))
        }
    }

    fn leaf(&mut self) -> E {
        let vars = self.visible();
        self.pending.retain(|p| vars.iter().any(|v| &v.name == p));
        if !self.pending.is_empty() && self.rng.chance(0.6) {
            let i = self.rng.below(self.pending.len());
            let name = self.pending.swap_remove(i);
            let v = vars.iter().find(|v| v.name == name).unwrap().clone();
            let mut e = E::new(v.name, v.mag, v.typed);
            e.atomic = true;
            return e;
        }
        let r = self.rng.unit();
        if r < 0.12 || vars.is_empty() {
            let v = *self.rng.pick(LITERALS);
            let mut e = E::new(lit(v), v.abs(), false);
            e.atomic = v >= 0.0;
            return e;
        }
        if r < 0.2
            && let Some((n, _)) = &self.int
        {
            return E::new(format!("{n} as f64"), INT_BOUND, true);
        }
        let v = self.rng.pick(&vars).clone();
        let mut e = E::new(v.name, v.mag, v.typed);
        e.atomic = true;
        e
    }

    /// `e` itself if `|e| ≤ limit`, else a squashed form of it.
    fn bound(&mut self, e: E, limit: f64) -> E {
        if e.mag <= limit {
            return e;
        }
        match self.rng.below(4) {
            0 => {
                let s = self.method(&e, "tanh", &[]);
                E::new(
                    format!("{s} * {}", lit(limit.min(2.0))),
                    limit.min(2.0),
                    true,
                )
            }
            1 if limit >= 1.6 => E::new(self.method(&e, "atan", &[]), 1.58, true),
            2 => E::new(prim("sigmoid", &e), 1.0, true),
            _ => {
                // A power-of-ten scale that brings the bound under the limit.
                let mut k = 0;
                while e.mag * 10f64.powi(-k) > limit {
                    k += 1;
                }
                let s = format!("{} * 1e-{k}", e.paren());
                E::new(s, e.mag * 10f64.powi(-k), e.typed)
            }
        }
    }

    /// An expression that is positive for every input, and its lower bound.
    fn positive(&mut self, depth: usize) -> (E, f64) {
        let c = *self.rng.pick(POS_CONSTANTS);
        let e = self.expr(depth);
        match self.rng.below(6) {
            0 => {
                let e = self.bound(e, 4.0);
                let s = self.method(&e, "powi", &["2".into()]);
                (E::new(format!("{s} + {c:?}"), e.mag * e.mag + c, true), c)
            }
            1 => (
                E::new(
                    format!("{} + {c:?}", prim("softplus", &e)),
                    e.mag + 0.7 + c,
                    true,
                ),
                c,
            ),
            2 => (
                E::new(format!("{} + {c:?}", prim("sigmoid", &e)), 1.0 + c, true),
                c,
            ),
            3 => {
                let s = self.method(&e, "hypot", &[format!("{c:?}")]);
                (E::new(s, e.mag + c, true), c)
            }
            4 => {
                let s = self.method(&e, "abs", &[]);
                (E::new(format!("{s} + {c:?}"), e.mag + c, true), c)
            }
            _ => {
                let e = self.bound(e, 3.0);
                let s = self.method(&e, "exp", &[]);
                (E::new(s, e.mag.exp(), true), (-e.mag).exp())
            }
        }
    }

    /// `e.tanh() * c`: bounded by `c`.
    fn squashed(&mut self, depth: usize, c: f64) -> E {
        let e = self.expr(depth);
        let s = self.method(&e, "tanh", &[]);
        E::new(format!("{s} * {c:?}"), c, true)
    }

    fn expr(&mut self, depth: usize) -> E {
        if depth == 0 || self.rng.chance(0.2) {
            return self.leaf();
        }
        let d = depth - 1;
        let e = match self.rng.below(26) {
            0 => {
                let a = self.expr(d);
                E::new(format!("-{}", a.paren()), a.mag, a.typed)
            }
            1 | 2 => {
                let (a, b) = (self.expr(d), self.expr(d));
                E::new(
                    format!("{} + {}", first(&a), b.paren()),
                    a.mag + b.mag,
                    a.typed || b.typed,
                )
            }
            3 => {
                let (a, b) = (self.expr(d), self.expr(d));
                E::new(
                    format!("{} - {}", first(&a), b.paren()),
                    a.mag + b.mag,
                    a.typed || b.typed,
                )
            }
            4 | 5 => {
                let (a, b) = (self.expr(d), self.expr(d));
                let (a, b) = (self.bound(a, 6.0), self.bound(b, 6.0));
                E::new(
                    format!("{} * {}", a.paren(), b.paren()),
                    a.mag * b.mag,
                    a.typed || b.typed,
                )
            }
            6 => {
                let a = self.expr(d);
                let (b, lo) = self.positive(d);
                E::new(
                    format!("{} / ({})", a.paren(), b.s),
                    a.mag / lo,
                    a.typed || b.typed,
                )
            }
            7 => {
                // exp, exp2, sinh, cosh of a bounded argument
                let name = *self.rng.pick(&["exp", "exp2", "sinh", "cosh"]);
                let c = *self.rng.pick(&[1.0, 2.0, 3.0]);
                let a = self.squashed(d, c);
                let mag = if name == "exp2" {
                    2f64.powf(c)
                } else {
                    c.exp()
                };
                E::new(self.method(&a, name, &[]), mag, true)
            }
            8 | 9 => {
                // ln, log2, log10, sqrt, cbrt, recip of a positive form
                let name = *self
                    .rng
                    .pick(&["ln", "log2", "log10", "sqrt", "cbrt", "recip"]);
                let (a, lo) = self.positive(d);
                let hi = a.mag.max(1.0);
                let mag = match name {
                    "sqrt" => hi.sqrt(),
                    "cbrt" => hi.cbrt(),
                    "recip" => 1.0 / lo,
                    _ => lo.ln().abs().max(hi.ln()) / if name == "ln" { 1.0 } else { 0.69 },
                };
                E::new(self.method(&a, name, &[]), mag, true)
            }
            10 => {
                // cbrt of a negative form (cbrt′ is infinite at 0, and an
                // exact 0 is easy to make: `relu` of a negative, `x - x`)
                let (a, _) = self.positive(d);
                let neg = E::new(format!("-{}", a.paren()), a.mag, a.typed);
                E::new(self.method(&neg, "cbrt", &[]), a.mag.cbrt().max(1.0), true)
            }
            11 | 12 => {
                let name = *self.rng.pick(&["sin", "cos", "atan", "tanh"]);
                let a = self.expr(d);
                let mag = if name == "atan" { 1.58 } else { 1.0 };
                E::new(self.method(&a, name, &[]), mag, true)
            }
            13 => {
                let a = self.squashed(d, 1.3);
                E::new(self.method(&a, "tan", &[]), 3.61, true)
            }
            14 => {
                let name = *self.rng.pick(&["asin", "acos"]);
                let a = self.squashed(d, 0.9);
                E::new(self.method(&a, name, &[]), 3.15, true)
            }
            15 => {
                let name = *self.rng.pick(&["sigmoid", "relu", "softplus"]);
                let a = self.expr(d);
                let mag = match name {
                    "sigmoid" => 1.0,
                    "relu" => a.mag,
                    _ => a.mag + 0.7,
                };
                let path = if self.rng.chance(0.1) {
                    "autodiff::"
                } else {
                    ""
                };
                E::new(format!("{path}{}", prim(name, &a)), mag, true)
            }
            16 => {
                let a = self.expr(d);
                E::new(self.method(&a, "abs", &[]), a.mag, true)
            }
            17 => {
                // powi: small exponents of anything, negative ones of a positive form
                let k: i32 = *self.rng.pick(&[-2, -1, 1, 2, 3]);
                if k < 0 {
                    let (a, lo) = self.positive(d);
                    E::new(self.method(&a, "powi", &[k.to_string()]), lo.powi(k), true)
                } else {
                    let a = self.expr(d);
                    let a = self.bound(a, 3.0);
                    E::new(
                        self.method(&a, "powi", &[k.to_string()]),
                        a.mag.powi(k),
                        true,
                    )
                }
            }
            18 => {
                // powf: positive base, bounded exponent
                let (a, lo) = self.positive(d);
                let b = if self.rng.chance(0.3) {
                    let v = *self.rng.pick(&[0.5, 1.5, 2.5, -0.5, 3.0]);
                    E::new(lit(v), v.abs(), false)
                } else {
                    self.squashed(d, 2.0)
                };
                let hi = a.mag.max(1.0 / lo).max(1.0);
                E::new(
                    self.method(&a, "powf", std::slice::from_ref(&b.s)),
                    hi.powf(b.mag),
                    true,
                )
            }
            19 => {
                let name = *self.rng.pick(&["max", "min"]);
                let (a, b) = (self.expr(d), self.expr(d));
                E::new(
                    self.method(&a, name, std::slice::from_ref(&b.s)),
                    a.mag.max(b.mag),
                    true,
                )
            }
            20 => {
                let a = self.expr(d);
                // Away from the origin (where the derivative is 0/0) and
                // from the branch cut (y = 0, x < 0): one side positive.
                if self.rng.chance(0.7) {
                    let (b, _) = self.positive(d);
                    E::new(self.method(&a, "atan2", &[b.s]), 1.58, true)
                } else {
                    let (p, _) = self.positive(d);
                    E::new(self.method(&p, "atan2", &[a.s]), 3.15, true)
                }
            }
            21 => {
                // hypot′ is 0/0 at the origin: one side positive
                let a = self.expr(d);
                let (b, _) = self.positive(d);
                let (a, b) = if self.rng.chance(0.5) { (a, b) } else { (b, a) };
                E::new(
                    self.method(&a, "hypot", std::slice::from_ref(&b.s)),
                    a.mag + b.mag,
                    true,
                )
            }
            22 => {
                let (a, b, c) = (self.expr(d), self.expr(d), self.expr(d));
                let (a, b) = (self.bound(a, 6.0), self.bound(b, 6.0));
                E::new(
                    self.method(&a, "mul_add", &[b.s.clone(), c.s.clone()]),
                    a.mag * b.mag + c.mag,
                    true,
                )
            }
            23 | 24 if !self.earlier.is_empty() => self.call(d),
            25 => self.block(d),
            _ => self.leaf(),
        };
        self.bound(e, LIMIT)
    }

    /// A call of an earlier generated function.
    fn call(&mut self, d: usize) -> E {
        let pos = self.rng.below(self.earlier.len());
        let callee = self.earlier[pos].clone();
        let mut args = Vec::new();
        let mut float_index = 0;
        for p in &callee.params {
            match p.kind {
                Kind::Float => {
                    let differentiated = callee.wrt.contains(&float_index);
                    float_index += 1;
                    if differentiated {
                        let a = self.expr(d);
                        args.push(self.bound(a, PARAM_BOUND).s);
                    } else {
                        // A parameter outside the callee's `wrt`: a constant,
                        // as the README says it is.
                        args.push(match &self.int {
                            Some((n, _)) if self.rng.chance(0.3) => format!("{n} as f64 * 0.5"),
                            _ => lit(*self.rng.pick(SMALL_LITERALS)),
                        });
                    }
                }
                Kind::Int(ty) => args.push(match &self.int {
                    Some((n, t)) if *t == ty => n.clone(),
                    Some((n, _)) => format!("{n} as {ty}"),
                    None => self.rng.range(1, 4).to_string(),
                }),
            }
        }
        if !self.callees.contains(&pos) {
            self.callees.push(pos);
        }
        let mut e = E::new(
            format!("{}({})", callee.name, args.join(", ")),
            callee.mag,
            true,
        );
        e.atomic = true;
        e
    }

    /// `{ let t = ..; .. t .. }`
    fn block(&mut self, d: usize) -> E {
        let inner = self.expr(d);
        let t = self.name("b");
        self.scope.push(Var {
            name: t.clone(),
            mag: inner.mag,
            typed: inner.typed,
            mutable: false,
        });
        let mut tail = self.expr(d);
        if !tail.typed {
            // A block that reads a differentiated value cannot be cast as a
            // whole (`as` casts only constants): type its constant tail.
            tail = E::new(format!("{} as f64", tail.paren()), tail.mag, true);
        }
        self.scope.pop();
        // not atomic: `{ .. } + x` at the start of a statement is a block
        // statement followed by `+ x`
        E::new(
            format!("{{ let {t} = {}; {} }}", inner.s, tail.s),
            tail.mag,
            tail.typed,
        )
    }

    fn statement(&mut self, depth: usize) {
        let vars = self.visible();
        let mutables: Vec<Var> = vars.iter().filter(|v| v.mutable).cloned().collect();
        let r = self.rng.below(10);
        if r < 3 || (r < 6 && mutables.is_empty()) {
            // let, sometimes annotated
            let e = self.expr(depth);
            let name = self.name("v");
            let annotate = self.rng.chance(0.3) || !e.typed && self.rng.chance(0.5);
            let ty = if annotate { ": f64" } else { "" };
            self.line(&format!("let {name}{ty} = {};", e.s));
            self.pending.push(name.clone());
            self.scope.push(Var {
                name,
                mag: e.mag,
                typed: e.typed || annotate,
                mutable: false,
            });
        } else if r < 4 {
            // shadowing a parameter or a local
            let floats: Vec<Var> = vars.clone();
            let e = self.expr(depth);
            if floats.is_empty() {
                return;
            }
            let old = self.rng.pick(&floats).clone();
            let annotate = !e.typed;
            let ty = if annotate { ": f64" } else { "" };
            self.line(&format!("let {}{ty} = {};", old.name, e.s));
            self.pending.push(old.name.clone());
            self.scope.push(Var {
                name: old.name,
                mag: e.mag,
                typed: true,
                mutable: false,
            });
        } else if r < 6 {
            // update a mutable variable
            let m = self.rng.pick(&mutables).clone();
            let (op, rhs, mag) = match self.rng.below(5) {
                0 => {
                    let e = self.expr(depth);
                    // A bare `{float}` constant here once lost the
                    // variable's type in the generated code (fixed; kept
                    // in the mix as its regression test).
                    let rhs = e.s;
                    ("=", rhs, e.mag)
                }
                1 => {
                    let e = self.expr(depth);
                    ("+=", e.s, m.mag + e.mag)
                }
                2 => {
                    let e = self.expr(depth);
                    ("-=", e.s, m.mag + e.mag)
                }
                3 => {
                    let e = self.expr(depth);
                    let e = self.bound(e, 2.0);
                    ("*=", e.s, m.mag * e.mag)
                }
                _ => {
                    let (e, lo) = self.positive(depth);
                    ("/=", e.s, m.mag / lo)
                }
            };
            self.line(&format!("{} {op} {rhs};", m.name));
            let mut mag = mag;
            if mag > LIMIT {
                // Re-assignment that reads the variable: squash it.
                let cur = E {
                    s: m.name.clone(),
                    mag,
                    typed: true,
                    atomic: true,
                };
                let e = self.bound(cur, LIMIT);
                self.line(&format!("{} = {};", m.name, e.s));
                mag = e.mag;
            }
            self.set_mag(&m.name, mag);
            if !self.pending.contains(&m.name) {
                self.pending.push(m.name.clone());
            }
        } else if r < 8 {
            // let mut
            let e = self.expr(depth);
            let name = self.name("m");
            let ty = if e.typed { "" } else { ": f64" };
            self.line(&format!("let mut {name}{ty} = {};", e.s));
            self.pending.push(name.clone());
            self.scope.push(Var {
                name,
                mag: e.mag,
                typed: true,
                mutable: true,
            });
        } else if r < 9 {
            // a block statement whose value is bound
            let name = self.name("k");
            self.line(&format!("let {name} = {{"));
            self.indent += 1;
            let mark = self.scope.len();
            let inner = self.rng.range(1, 2);
            for _ in 0..inner {
                // only plain lets inside, so that no mutable outlives the block
                let e = self.expr(depth);
                let t = self.name("t");
                self.line(&format!("let {t} = {};", e.s));
                self.pending.push(t.clone());
                self.scope.push(Var {
                    name: t,
                    mag: e.mag,
                    typed: e.typed,
                    mutable: false,
                });
            }
            let tail = self.expr(depth);
            self.line(&tail.s);
            self.scope.truncate(mark);
            self.indent -= 1;
            self.line("};");
            self.pending.push(name.clone());
            self.scope.push(Var {
                name,
                mag: tail.mag,
                typed: tail.typed,
                mutable: false,
            });
        } else {
            // code on constants only
            let name = self.name("c");
            match &self.int {
                Some((n, _)) if self.rng.chance(0.6) => {
                    self.line(&format!("let {name} = ({n} * 2 + 1) as f64 * 0.25;"));
                    self.scope.push(Var {
                        name,
                        mag: 2.25,
                        typed: true,
                        mutable: false,
                    });
                }
                _ => {
                    let (a, b) = (
                        *self.rng.pick(SMALL_LITERALS),
                        *self.rng.pick(SMALL_LITERALS),
                    );
                    self.line(&format!("let {name}: f64 = {} * {};", lit(a), lit(b)));
                    self.scope.push(Var {
                        name,
                        mag: (a * b).abs(),
                        typed: true,
                        mutable: false,
                    });
                }
            }
        }
    }

    fn set_mag(&mut self, name: &str, mag: f64) {
        if let Some(v) = self.scope.iter_mut().rev().find(|v| v.name == name) {
            v.mag = mag;
        }
    }
}

/// Generates function number `index` (named `f{index}`); it may call any of
/// `earlier` (the functions generated before it in the same batch).
pub fn function(seed: u64, index: usize, earlier: &[GenFn]) -> GenFn {
    let mut rng = Rng::for_item(seed, index as u64);
    let name = format!("f{index}");
    let nfloat = rng.range(1, 4);
    let mut params: Vec<Param> = (0..nfloat)
        .map(|i| Param {
            name: format!("x{i}"),
            kind: Kind::Float,
        })
        .collect();
    let mut int = None;
    if rng.chance(0.25) {
        let ty = *rng.pick(&["i32", "usize"]);
        let at = rng.range(0, nfloat);
        params.insert(
            at,
            Param {
                name: "n".into(),
                kind: Kind::Int(ty),
            },
        );
        int = Some(("n".to_string(), ty));
    }
    // wrt: all float parameters (no attribute), or a non-empty subset
    let mut wrt: Vec<usize> = (0..nfloat).collect();
    let mut attr = "#[grad]".to_string();
    if nfloat >= 2 && rng.chance(0.3) {
        let subset: Vec<usize> = (0..nfloat).filter(|_| rng.chance(0.5)).collect();
        wrt = if subset.is_empty() {
            vec![rng.below(nfloat)]
        } else {
            subset
        };
        let mut names: Vec<String> = wrt.iter().map(|i| format!("x{i}")).collect();
        if rng.chance(0.5) {
            names.reverse(); // the order in wrt(..) must not matter
        }
        attr = format!("#[grad(wrt({}))]", names.join(", "));
    }
    let mut_param = if rng.chance(0.15) {
        Some(rng.below(nfloat))
    } else {
        None
    };

    let depth = rng.range(2, 4);
    let statements = rng.range(0, 5);
    let callees;
    let mut body;
    let mag;
    {
        let mut g = Gen {
            rng: &mut rng,
            earlier,
            scope: (0..nfloat)
                .map(|i| Var {
                    name: format!("x{i}"),
                    mag: PARAM_BOUND,
                    typed: true,
                    mutable: mut_param == Some(i),
                })
                .collect(),
            int: int.clone(),
            callees: Vec::new(),
            pending: Vec::new(),
            fresh: 0,
            body: String::new(),
            indent: 1,
        };
        for _ in 0..statements {
            g.statement(depth);
        }
        let tail = g.expr(depth);
        if g.rng.chance(0.15) {
            g.line(&format!("return {};", tail.s));
        } else {
            g.line(&tail.s);
        }
        callees = g.callees;
        body = g.body;
        mag = tail.mag;
    }
    let sig: Vec<String> = params
        .iter()
        .map(|p| match p.kind {
            Kind::Float => {
                let i: usize = p.name[1..].parse().unwrap();
                let m = if mut_param == Some(i) { "mut " } else { "" };
                format!("{m}{}: f64", p.name)
            }
            Kind::Int(ty) => format!("{}: {ty}", p.name),
        })
        .collect();
    let mut source = String::new();
    let _ = writeln!(source, "{attr}");
    let _ = writeln!(source, "pub fn {name}({}) -> f64 {{", sig.join(", "));
    body.push_str("}\n");
    source.push_str(&body);
    GenFn {
        index,
        name,
        params,
        wrt,
        mag,
        source,
        callees,
    }
}

/// The functions `first..first + count`, each able to call those before it.
pub fn batch(seed: u64, first: usize, count: usize) -> Vec<GenFn> {
    let mut out: Vec<GenFn> = Vec::with_capacity(count);
    for i in first..first + count {
        let f = function(seed, i, &out);
        out.push(f);
    }
    out
}

/// `f`'s source preceded by those of the functions it calls, transitively:
/// a self-contained file for a regression test.
pub fn with_callees(batch: &[GenFn], pos: usize) -> String {
    let mut need = vec![false; batch.len()];
    let mut stack = vec![pos];
    while let Some(p) = stack.pop() {
        if !need[p] {
            need[p] = true;
            stack.extend(batch[p].callees.iter().copied());
        }
    }
    let mut s = String::from("use autodiff::{grad, relu, sigmoid, softplus};\n\n");
    for (p, f) in batch.iter().enumerate() {
        if need[p] {
            s.push_str(&f.source);
            s.push('\n');
        }
    }
    s
}

/// The generated crate's `main.rs`: the functions, and a harness that checks
/// each at `points` random points against central finite differences.
pub fn main_rs(seed: u64, points: usize, batch: &[GenFn]) -> String {
    let mut s = String::new();
    s.push_str("//! Generated by tests/differential.rs; do not edit.\n");
    s.push_str("#![allow(warnings, clippy::all)]\n");
    s.push_str("use autodiff::{grad, relu, sigmoid, softplus};\n");
    s.push_str(super::rng::SOURCE);
    s.push_str(HARNESS);
    for f in batch {
        s.push('\n');
        s.push_str(&f.source);
    }
    let _ = writeln!(
        s,
        "\nconst SEED: u64 = {seed};\nconst POINTS: usize = {points};\n"
    );
    s.push_str("fn main() {\n    let cases: Vec<Case> = vec![\n");
    for f in batch {
        let mut float = 0;
        let args: Vec<String> = f
            .params
            .iter()
            .map(|p| match p.kind {
                Kind::Float => {
                    float += 1;
                    format!("x[{}]", float - 1)
                }
                Kind::Int(ty) => format!("n as {ty}"),
            })
            .collect();
        let args = args.join(", ");
        let gs: Vec<String> = (0..f.wrt.len()).map(|j| format!("g{j}")).collect();
        let pat = if gs.len() == 1 {
            gs[0].clone()
        } else {
            format!("({})", gs.join(", "))
        };
        let vec = gs.join(", ");
        let wrt: Vec<String> = f.wrt.iter().map(usize::to_string).collect();
        let _ = writeln!(
            s,
            "        Case {{ name: \"{name}\", index: {index}, floats: {nf}, wrt: &[{wrt}],\n            \
             f: |x, n| {name}({args}),\n            \
             g: |x, n| {{ let (v, {pat}) = {name}_grad({args}); (v, vec![{vec}]) }},\n            \
             vjp: |x, n, s| {{ let (v, {pat}) = {name}_vjp({args}, s); (v, vec![{vec}]) }} }},",
            name = f.name,
            index = f.index,
            nf = f.num_floats(),
            wrt = wrt.join(", "),
        );
    }
    s.push_str("    ];\n    run(SEED, POINTS, &cases);\n}\n");
    s
}

/// The checking code of the generated crate.
const HARNESS: &str = r#"
struct Case {
    name: &'static str,
    index: u64,
    floats: usize,
    wrt: &'static [usize],
    f: fn(&[f64], i64) -> f64,
    g: fn(&[f64], i64) -> (f64, Vec<f64>),
    vjp: fn(&[f64], i64, f64) -> (f64, Vec<f64>),
}

/// Relative tolerance of a gradient against the Richardson-extrapolated
/// central difference.
const TOL: f64 = 1e-6;
/// Two central differences (steps h and 2h) that disagree by more than this,
/// relatively, mean the stencil straddles a kink or the function is too
/// curved there for finite differences: the component is skipped.
const AGREE: f64 = 1e-3;
/// The seed of vjp: a power of two, so that vjp = seed · grad exactly
/// (compared with `==`: a zero gradient may come out as -0 or 0).
const VJP_SEED: f64 = -2.0;

/// Central difference along parameter `k` with step `h`, divided by the
/// distance actually evaluated.
fn central(f: fn(&[f64], i64) -> f64, x: &[f64], n: i64, k: usize, h: f64) -> Option<f64> {
    let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
    xp[k] = x[k] + h;
    xm[k] = x[k] - h;
    let (fp, fm) = (f(&xp, n), f(&xm, n));
    (fp.is_finite() && fm.is_finite()).then(|| (fp - fm) / (xp[k] - xm[k]))
}

fn run(seed: u64, points: usize, cases: &[Case]) {
    let (mut passed, mut failed, mut compared, mut skipped) = (0usize, 0usize, 0usize, 0usize);
    for case in cases {
        let mut rng = Rng::for_item(seed ^ 0x9017_75ED_0000_0000, case.index);
        let mut failure: Option<String> = None;
        for _ in 0..points {
            let x: Vec<f64> = (0..case.floats).map(|_| rng.unit() * 4.0 - 2.0).collect();
            let n = 1 + (rng.next_u64() % 4) as i64;
            let at = format!("x = {x:?}, n = {n}");
            let fx = (case.f)(&x, n);
            let (v, g) = (case.g)(&x, n);
            let (vv, gv) = (case.vjp)(&x, n, VJP_SEED);
            if !fx.is_finite() {
                skipped += case.wrt.len();
                continue;
            }
            let mut fail = |msg: String| {
                if failure.is_none() {
                    failure = Some(format!("at {at}: {msg}"));
                }
            };
            if v.to_bits() != fx.to_bits() || vv.to_bits() != fx.to_bits() {
                fail(format!("value {v} (grad), {vv} (vjp), function {fx}"));
            }
            for (j, &k) in case.wrt.iter().enumerate() {
                if !(gv[j] == VJP_SEED * g[j] || gv[j].is_nan() && g[j].is_nan()) { // == : the sign of a zero may differ
                    fail(format!("x{k}: vjp(seed {VJP_SEED}) {} is not seed times grad {}", gv[j], g[j]));
                }
                let h = 1e-4 * x[k].abs().max(1.0);
                let (Some(d0), Some(d1), Some(d2)) = (
                    central(case.f, &x, n, k, 0.5 * h),
                    central(case.f, &x, n, k, h),
                    central(case.f, &x, n, k, 2.0 * h),
                ) else {
                    skipped += 1;
                    continue;
                };
                let floor = 1e-3 * (1.0 + fx.abs());
                if (d1 - d2).abs() > AGREE * d1.abs().max(d2.abs()).max(floor) {
                    skipped += 1;
                    continue;
                }
                // Richardson (error O(h⁴)) from the fine steps, checked against
                // the same from the coarse ones: where they disagree beyond the
                // tolerance, a kink lies inside the wider stencil (found: `abs`
                // at x = −1.5e-4 with 2h = 2e-4) and the component is skipped.
                let fd = (4.0 * d0 - d1) / 3.0;
                let coarse = (4.0 * d1 - d2) / 3.0;
                let scale = fd.abs().max(coarse.abs()).max(floor);
                if (fd - coarse).abs() > TOL * scale {
                    skipped += 1;
                    continue;
                }
                let err = (g[j] - fd).abs() / g[j].abs().max(fd.abs()).max(floor);
                compared += 1;
                if !(err <= TOL) {
                    fail(format!("d/dx{k}: gradient {}, finite difference {fd} (relative error {err:.1e} > {TOL:.0e})", g[j]));
                }
            }
        }
        match failure {
            None => passed += 1,
            Some(msg) => {
                failed += 1;
                println!("FAIL {} {msg}", case.name);
            }
        }
    }
    println!("checks: {compared} compared, {skipped} skipped");
    println!("{passed} passed, {failed} failed");
}
"#;
