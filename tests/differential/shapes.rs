//! Loop nests and local arrays: the shapes of generated code that
//! `AUTODIFF_DIFF_SHAPES` switches on and off, one by one.
//!
//! | shape | what it generates |
//! | --- | --- |
//! | `nested` | loops 2–3 deep, a float accumulator carried at each level: `let mut s = 0.0; for i in .. { let mut t = 0.0; for j in .. { t += …; } s += f(t); }`; inner loops may read the outer one's accumulator (`f64::tanh(s)`) |
//! | `minmax` | `let mut best = f64::INFINITY; for j in .. { best = best.min(e); }` (and `max`, and a finite start), and an `if` inside the inner loop choosing what to add |
//! | `product` | a product carried through an inner loop, `let mut p = 1.0; for k in .. { acc += c[k] * p; p *= t; }`, and a value overwritten in a loop nest, `y = (y * a).sin()` |
//! | `vec` | local `Vec`s: `let mut y = vec![0.0; n]; y[0] = …; for i in 1..n { y[i] = x[i] * y[i - 1] + …; }`, `y[i] += …`, `y[i - 1] -= …`, `for j in 0..i { y[i] += … y[j] …; }`, several `Vec`s written in one loop (RK4-like stages), sometimes inside a time-step loop; elements written earlier in the same iteration or an earlier one are read back; the result is an element (`y[n - 1]`) or a sum over the `Vec` |
//! | `scratch` | scratch `Vec`s a summing loop rewrites in every iteration (GMM's centred point): made before the loop, written first by a loop over all their elements (`a[e] = …`), then updated within them (`a[i] += … a[i - 1] …`, or a triangle `for j in i + 1..n { a[j] += … a[i] …; }`), read back by an inner sum or an element; one time in five a near miss, where a value crosses into the next iteration (`a[e] = 0.5 * a[e] + …`) or the `Vec` is read after the loop |
//! | `slice` | a `&[f64]` parameter `xs` (length 1 to 5, sampled like the other floats), read as `xs[i]` in the loops of the shapes above and as their bound (`0..xs.len()`) |
//! | `idioms` | Rust as people write it (`idioms.rs`): iterator chains over `xs` or a local array literal (`map sum fold enumerate zip rev skip windows chunks chunks_exact filter copied`, sub-slices `&xs[1..]`, `collect` into a `Vec`, `fold(f64::NEG_INFINITY, f64::max)`), local closures called twice, destructuring `let`s of tuples and arrays, and an `if` value with an early `return` inside |
//!
//! A loop of the top level over a range is checkpointed (`#[checkpoint]`,
//! `#[checkpoint(snapshots = 1..=3)]`) three times in ten: the gradients
//! must not change.
//!
//! Loop bounds are literals, the integer parameter, `xs.len()`, or depend on
//! an outer index (`0..i`, `i..hi`, `0..=i`, `i + 1..hi`).
//!
//! `AUTODIFF_DIFF_SHAPES` is a comma-separated list of shape names, `all` or
//! `none`, and `-name` removes one: `all,-vec`, `nested,minmax`, `none`
//! (default `all`).
//! `AUTODIFF_DIFF_SHAPE_RATE` is the share of the non-polynomial functions
//! that get one or two shapes (default 0.25). The shapes draw from a random
//! stream of their own, so with `none` every function is the one the seed
//! gave before they existed.
//!
//! **Staying in the domains.** The accumulators are not in scope inside the
//! loop that adds into them, so no expression reads a value whose bound the
//! loop is still growing; the bound after the loop is trips × the bound of the
//! increment, and [`Gen::settle`] squashes it past [`LIMIT`]. A carried
//! product's factor is squashed to 1.25. A local `Vec` has a bound for all its
//! elements, planned before each loop from the writes in it (`=` writes
//! squash their value to it, `+=` and `-=` writes add a planned bound each; a
//! recurrence `y[i] = a · y[i − 1] + e` is left unsquashed when iterating its
//! bound over the longest length stays below [`VEC_LIMIT`]); inside a
//! time-step loop every write is an `=` squashed to the `Vec`'s fixed bound.
//! Every element read is a leaf with that bound, so the generator's interval
//! arithmetic covers the rest. `min`/`max` start from `±∞` only over a range
//! that runs at least once.

use super::generate::{E, Gen, LIMIT, Limits, PARAM_BOUND, SMALL_LITERALS, Var, first, lit};
use super::rng::Rng;
use std::sync::OnceLock;

pub const NESTED: u32 = 1;
pub const MINMAX: u32 = 1 << 1;
pub const PRODUCT: u32 = 1 << 2;
pub const VEC: u32 = 1 << 3;
pub const SLICE: u32 = 1 << 4;
pub const IDIOMS: u32 = 1 << 5;
pub const SCRATCH: u32 = 1 << 6;

/// The shapes by name, in the order the statistics are printed.
pub const NAMES: &[(&str, u32)] = &[
    ("nested", NESTED),
    ("minmax", MINMAX),
    ("product", PRODUCT),
    ("vec", VEC),
    ("slice", SLICE),
    ("idioms", IDIOMS),
    ("scratch", SCRATCH),
];

/// The shapes that are statements (`slice` is a parameter they read).
const STATEMENTS: &[u32] = &[NESTED, MINMAX, PRODUCT, VEC, IDIOMS, SCRATCH];

/// `all`: every shape, `idioms` included.
const ALL: u32 = NESTED | MINMAX | PRODUCT | VEC | SLICE | IDIOMS | SCRATCH;

/// The salt of the shapes' own random stream.
pub const SALT: u64 = 0x5348_4150_4553_0001;

/// Largest bound of a local `Vec` recurrence left unsquashed.
const VEC_LIMIT: f64 = 64.0;

/// Which shapes are on, and how often.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub on: u32,
    /// The share of non-polynomial functions with shapes.
    pub rate: f64,
}

/// The configuration from `AUTODIFF_DIFF_SHAPES` and
/// `AUTODIFF_DIFF_SHAPE_RATE` (read once).
pub fn config() -> Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    *CONFIG.get_or_init(|| {
        let on = std::env::var("AUTODIFF_DIFF_SHAPES").map_or(Ok(ALL), |v| parse(&v));
        let on = on.unwrap_or_else(|e| panic!("AUTODIFF_DIFF_SHAPES: {e}"));
        let rate = std::env::var("AUTODIFF_DIFF_SHAPE_RATE").map_or(0.25, |v| {
            v.trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .unwrap_or_else(|| panic!("AUTODIFF_DIFF_SHAPE_RATE={v:?} is not in [0, 1]"))
        });
        Config { on, rate }
    })
}

/// `all`, `none`, shape names and `-name`, separated by commas.
pub fn parse(spec: &str) -> Result<u32, String> {
    let mut on = 0;
    for word in spec.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let (remove, name) = match word.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, word),
        };
        let bits = match name {
            "all" => ALL,
            "none" => 0,
            _ => NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, b)| b)
                .ok_or_else(|| {
                    let names: Vec<&str> = NAMES.iter().map(|(n, _)| *n).collect();
                    format!(
                        "unknown shape {name:?}: the shapes are {}, all, none (and -name)",
                        names.join(", ")
                    )
                })?,
        };
        if remove {
            on &= !bits;
        } else {
            on |= bits;
        }
    }
    Ok(on)
}

/// The names of the shapes in `mask`, comma-separated.
pub fn names(mask: u32) -> String {
    let v: Vec<&str> = NAMES
        .iter()
        .filter(|(_, b)| mask & b != 0)
        .map(|(n, _)| *n)
        .collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(",")
    }
}

/// The shape statements of one function (none without control flow).
pub fn plan(rng: &mut Rng, cfg: Config, lim: Limits) -> Vec<u32> {
    let enabled: Vec<u32> = STATEMENTS
        .iter()
        .copied()
        .filter(|b| cfg.on & b != 0)
        .collect();
    if enabled.is_empty() {
        return Vec::new();
    }
    let some = rng.chance(cfg.rate);
    let count = if rng.chance(0.2) { 2 } else { 1 };
    let plan: Vec<u32> = (0..count).map(|_| *rng.pick(&enabled)).collect();
    if some && lim.control {
        plan
    } else {
        Vec::new()
    }
}

/// The integer type of a loop variable: a literal range's is inferred (and
/// becomes `usize` where it indexes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ity {
    Lit,
    I32,
    Usize,
}

/// A loop variable.
#[derive(Clone, Debug)]
pub(super) struct Idx {
    name: String,
    ty: Ity,
    /// The exclusive upper bound of its range as written (for `i..hi`).
    hi: String,
    /// It is below this for every sampled input.
    max: usize,
    /// It is a valid index of `xs` (and of local `Vec`s of its length).
    safe: bool,
}

/// How a loop writes an element of a local `Vec`.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Write {
    /// `y[i] = a * y[i - 1] + e`, squashed or not.
    Rec { squash: bool },
    /// `y[i] = e`, squashed to the `Vec`'s bound.
    Set,
    /// `y[i] += e` or `-=`, `e` squashed to the planned bound.
    Add(&'static str, f64),
    /// `y[i - 1] -= e` (or `+=`, or at `[i + 1]`), `e` squashed to the
    /// planned bound.
    Back(&'static str, i32, f64),
    /// `for j in 0..i { y[i] += e; }`, reading elements at `[j]` (written in
    /// earlier iterations), each term squashed so that all add up to the
    /// planned bound.
    Tri(&'static str, f64),
}

/// A local `Vec`: its name, the bound its `=` writes squash to, and the
/// bound of its elements now.
#[derive(Clone, Debug)]
struct LocalVec {
    name: String,
    fixed: f64,
    now: f64,
    /// Something was written into it.
    written: bool,
}

/// Whether the source `s` reads `name` (as a whole identifier).
fn reads(s: &str, name: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    s.match_indices(name).any(|(i, _)| {
        !ident(s[..i].chars().next_back()) && !ident(s[i + name.len()..].chars().next())
    })
}

/// `e`, cast `as f64` if rustc would not know its type (a literal
/// expression), so that an accumulator it is added into is an `f64`.
pub(super) fn typed(e: E) -> E {
    if e.typed {
        e
    } else {
        E::new(format!("{} as f64", e.paren()), e.mag, true)
    }
}

pub(super) fn pseudo(name: String, mag: f64) -> Var {
    Var {
        name,
        mag,
        typed: true,
        mutable: false,
    }
}

impl Gen<'_> {
    /// Swaps the main random stream with the shapes' own.
    pub(super) fn swap_streams(&mut self) {
        std::mem::swap(&mut *self.rng, &mut self.alt);
    }

    /// Generates one shape statement (at the top level of the body).
    pub(super) fn shape(&mut self, which: u32, depth: usize) {
        self.used |= which;
        let d = depth.saturating_sub(1).max(1);
        match which {
            NESTED => self.nested(d),
            MINMAX => self.minmax(d),
            PRODUCT => self.product(d),
            IDIOMS => self.idioms(d),
            SCRATCH => self.scratch(d),
            _ => self.vecs(d),
        }
    }

    /// The tail, made to read the shapes' results that nothing read: `+`
    /// them, or sometimes (one element of a local `Vec`) return it alone.
    pub(super) fn read_outputs(&mut self, tail: E) -> E {
        let vars = self.visible();
        let unread: Vec<Var> = self
            .outputs
            .iter()
            .filter(|o| self.pending.contains(o))
            .filter_map(|o| vars.iter().find(|v| &v.name == o).cloned())
            .collect();
        if unread.len() == 1 && unread[0].name.contains('[') && self.rng.chance(0.4) {
            let v = &unread[0];
            let mut e = E::new(v.name.clone(), v.mag, true);
            e.atomic = true;
            return e;
        }
        let mut e = tail;
        for v in unread {
            e = E::new(format!("{} + {}", first(&e), v.name), e.mag + v.mag, true);
        }
        e
    }

    fn open(&mut self, head: &str) {
        // A loop of the top level over a range is sometimes checkpointed
        // (issue 13): its gradient must not change.
        if self.indent == 1
            && head.starts_with("for ")
            && head.contains("..")
            && self.rng.chance(0.3)
        {
            let attr = match self.rng.range(0, 4) {
                0 => "#[checkpoint]".to_owned(),
                k => format!("#[checkpoint(snapshots = {k})]"),
            };
            self.line(&format!("{attr} {head} {{"));
            self.indent += 1;
            return;
        }
        self.line(&format!("{head} {{"));
        self.indent += 1;
    }

    fn close(&mut self) {
        self.indent -= 1;
        self.line("}");
    }

    /// `let mut {s} = 0.0;`, sometimes annotated. It enters the scope only
    /// after its loop ([`Gen::finish`]).
    fn accumulator(&mut self, prefix: &str) -> String {
        let name = self.name(prefix);
        let ty = if self.rng.chance(0.3) { ": f64" } else { "" };
        self.line(&format!("let mut {name}{ty} = 0.0;"));
        name
    }

    /// The accumulator `name`, bounded by `mag`, enters the scope (squashed
    /// if need be) as a result of the shape.
    pub(super) fn finish(&mut self, name: String, mag: f64) {
        let v = Var {
            name: name.clone(),
            mag,
            typed: true,
            mutable: true,
        };
        self.scope.push(v.clone());
        self.settle(&v, mag);
        self.outputs.push(name);
    }

    /// A range for a new loop variable; `outer` are the enclosing ones.
    /// With `need_trip`, it runs at least once. Returns the range as
    /// written, the variable, and a bound of its trip count.
    fn range(&mut self, outer: &[Idx], need_trip: bool) -> (String, Idx, usize) {
        let prefix = *self.rng.pick(&["i", "j", "k"]);
        let name = self.name(prefix);
        let len = self.slice.as_ref().map(|s| s.1);
        let mut fixed: Vec<(String, Idx, usize)> = Vec::new();
        let k = self.rng.range(usize::from(need_trip), 3);
        let mk = |ty, hi: String, max, safe| Idx {
            name: name.clone(),
            ty,
            hi,
            max,
            safe,
        };
        fixed.push((
            format!("0..{k}"),
            mk(Ity::Lit, k.to_string(), k, len.is_some_and(|l| k <= l)),
            k,
        ));
        if let Some((n, ty)) = self.int.clone() {
            let ty = if ty == "usize" { Ity::Usize } else { Ity::I32 };
            let safe = ty == Ity::Usize && len.is_some_and(|l| l >= 4);
            fixed.push((format!("0..{n}"), mk(ty, n.clone(), 4, safe), 4));
        }
        if let Some((xs, l)) = self.slice.clone() {
            let hi = format!("{xs}.len()");
            fixed.push((format!("0..{hi}"), mk(Ity::Usize, hi.clone(), l, true), l));
            if !need_trip {
                fixed.push((format!("1..{hi}"), mk(Ity::Usize, hi, l, true), l - 1));
            }
        }
        if !outer.is_empty() && self.rng.chance(0.6) {
            let o = self.rng.pick(outer).clone();
            let dep = |hi: String, max: usize| mk(o.ty, hi, max, o.safe);
            let on = &o.name;
            let mut opts = vec![
                (format!("{on}..{}", o.hi), dep(o.hi.clone(), o.max), o.max),
                (format!("0..={on}"), dep(format!("{on} + 1"), o.max), o.max),
            ];
            if !need_trip {
                let less = o.max.saturating_sub(1);
                opts.push((format!("0..{on}"), dep(on.clone(), less), less));
                opts.push((
                    format!("{on} + 1..{}", o.hi),
                    dep(o.hi.clone(), o.max),
                    less,
                ));
            }
            return self.rng.pick(&opts).clone();
        }
        self.rng.pick(&fixed).clone()
    }

    /// An expression in a loop body: it may read the loop variables (as
    /// floats), the elements of `xs` they index, and `extra`; it reads
    /// `must` (added to it if it would not).
    pub(super) fn body_e(
        &mut self,
        depth: usize,
        idx: &[Idx],
        extra: &[Var],
        must: Option<&Var>,
    ) -> E {
        let mark = self.scope.len();
        let mut added: Vec<Var> = Vec::new();
        for v in idx {
            added.push(pseudo(
                format!("({} as f64 * 0.5)", v.name),
                0.5 * v.max as f64,
            ));
            if v.safe
                && let Some((xs, _)) = &self.slice
            {
                added.push(pseudo(format!("{xs}[{}]", v.name), PARAM_BOUND));
                for (a, m) in &self.arrays {
                    added.push(pseudo(format!("{a}[{}]", v.name), *m));
                }
            }
        }
        added.extend(extra.iter().cloned());
        added.extend(must.cloned());
        for v in &added {
            self.scope.push(v.clone());
            if !v.name.starts_with('(') {
                self.pending.push(v.name.clone());
            }
        }
        let mut e = self.expr(depth);
        if let Some(m) = must
            && !reads(&e.s, &m.name)
        {
            e = E::new(format!("{} + {}", first(&e), m.name), e.mag + m.mag, true);
        }
        self.scope.truncate(mark);
        self.pending.retain(|p| !added.iter().any(|v| &v.name == p));
        let e = self.bound(e, LIMIT);
        typed(e)
    }

    /// An integer condition on loop variables (constant for the gradient).
    fn int_cond(&mut self, idx: &[Idx]) -> String {
        let v = self.rng.pick(idx).clone();
        let pairs: Vec<&Idx> = idx
            .iter()
            .filter(|o| {
                o.name != v.name
                    && (o.ty == v.ty || o.ty == Ity::Lit && v.ty == Ity::Usize)
                    && (v.ty != Ity::Lit || o.ty == Ity::Lit)
            })
            .collect();
        match pairs.first() {
            Some(o) if self.rng.chance(0.5) => format!("{} < {}", v.name, o.name),
            _ => format!("{} % 2 == 0", v.name),
        }
    }

    /// Loops 2–3 deep with an accumulator carried at each level.
    fn nested(&mut self, d: usize) {
        let s = self.accumulator("s");
        let carried = pseudo(format!("f64::tanh({s})"), 1.0);
        let (r1, i1, n1) = self.range(&[], false);
        self.open(&format!("for {} in {r1}", i1.name));
        let t = self.name("t");
        let (t0, t0mag) = if self.rng.chance(0.3) {
            let e = self.body_e(
                d,
                std::slice::from_ref(&i1),
                std::slice::from_ref(&carried),
                None,
            );
            (e.s, e.mag)
        } else {
            ("0.0".to_string(), 0.0)
        };
        self.line(&format!("let mut {t} = {t0};"));
        let (r2, i2, n2) = self.range(std::slice::from_ref(&i1), false);
        self.open(&format!("for {} in {r2}", i2.name));
        let both = [i1.clone(), i2.clone()];
        let inc = if self.rng.chance(0.35) {
            let u = self.name("u");
            self.line(&format!("let mut {u} = 0.0;"));
            let (r3, i3, n3) = self.range(&both, false);
            self.open(&format!("for {} in {r3}", i3.name));
            let all = [i1.clone(), i2.clone(), i3];
            let e3 = self.body_e(d, &all, std::slice::from_ref(&carried), None);
            let op = *self.rng.pick(&["+=", "+=", "-="]);
            self.line(&format!("{u} {op} {};", e3.s));
            self.close();
            let uv = pseudo(u, n3 as f64 * e3.mag);
            self.body_e(d, &both, &[], Some(&uv))
        } else {
            self.body_e(d, &both, std::slice::from_ref(&carried), None)
        };
        let op = *self.rng.pick(&["+=", "+=", "-="]);
        self.line(&format!("{t} {op} {};", inc.s));
        self.close();
        let tv = pseudo(t, t0mag + n2 as f64 * inc.mag);
        let f = self.body_e(d, std::slice::from_ref(&i1), &[], Some(&tv));
        self.line(&format!("{s} += {};", f.s));
        self.close();
        self.finish(s, n1 as f64 * f.mag);
    }

    /// `min`/`max` over an inner loop, and an `if` in the inner loop that
    /// chooses what to add.
    fn minmax(&mut self, d: usize) {
        let s = self.accumulator("s");
        let mut idx: Vec<Idx> = Vec::new();
        let mut extra: Vec<Var> = Vec::new();
        let mut n1 = 1;
        let outer = self.rng.chance(0.75);
        if outer {
            let (r1, i1, t1) = self.range(&[], false);
            self.open(&format!("for {} in {r1}", i1.name));
            idx.push(i1);
            extra.push(pseudo(format!("f64::tanh({s})"), 1.0));
            n1 = t1;
        }
        let which = self.rng.below(3);
        let mut adds: Vec<E> = Vec::new();
        if which != 1 {
            let best = self.name("best");
            let m = *self.rng.pick(&["min", "max"]);
            let infinite = self.rng.chance(0.6);
            let mut mag = 0.0;
            if infinite {
                let inf = if m == "min" {
                    "INFINITY"
                } else {
                    "NEG_INFINITY"
                };
                self.line(&format!("let mut {best} = f64::{inf};"));
            } else {
                let e0 = self.body_e(d, &idx, &extra, None);
                self.line(&format!("let mut {best} = {};", e0.s));
                mag = e0.mag;
            }
            let (r2, i2, _) = self.range(&idx, infinite);
            self.open(&format!("for {} in {r2}", i2.name));
            let mut inner = idx.clone();
            inner.push(i2);
            let e = self.body_e(d, &inner, &extra, None);
            let rhs = match self.rng.below(3) {
                0 => format!("{best}.{m}({})", e.s),
                1 => format!("f64::{m}({best}, {})", e.s),
                _ => format!("{}.{m}({best})", e.paren()),
            };
            self.line(&format!("{best} = {rhs};"));
            self.close();
            let bv = pseudo(best, f64::max(mag, e.mag));
            adds.push(self.body_e(d, &idx, &[], Some(&bv)));
        }
        if which != 0 {
            let t = self.name("t");
            self.line(&format!("let mut {t} = 0.0;"));
            let (r2, i2, n2) = self.range(&idx, false);
            self.open(&format!("for {} in {r2}", i2.name));
            let mut inner = idx.clone();
            inner.push(i2);
            let cond = if self.rng.chance(0.6) {
                let a = self.body_e(d, &inner, &extra, None);
                let c = *self.rng.pick(SMALL_LITERALS);
                format!("{} > {}", a.paren(), lit(c))
            } else {
                self.int_cond(&inner)
            };
            self.open(&format!("if {cond}"));
            let e1 = self.body_e(d, &inner, &extra, None);
            self.line(&format!("{t} += {};", e1.s));
            let mut mag = e1.mag;
            if self.rng.chance(0.7) {
                let e2 = self.body_e(d, &inner, &extra, None);
                let op = *self.rng.pick(&["-=", "+="]);
                self.indent -= 1;
                self.line("} else {");
                self.indent += 1;
                self.line(&format!("{t} {op} {};", e2.s));
                mag = mag.max(e2.mag);
            }
            self.close();
            self.close();
            let tv = pseudo(t, n2 as f64 * mag);
            adds.push(self.body_e(d, &idx, &[], Some(&tv)));
        }
        let mut sum = adds[0].clone();
        for a in &adds[1..] {
            sum = E::new(
                format!("{} + {}", first(&sum), a.paren()),
                sum.mag + a.mag,
                true,
            );
        }
        self.line(&format!("{s} += {};", sum.s));
        if outer {
            self.close();
        }
        self.finish(s, n1 as f64 * sum.mag);
    }

    /// A product carried through an inner loop, or a value overwritten in
    /// a loop nest.
    fn product(&mut self, d: usize) {
        let s = self.accumulator("s");
        let overwrite = self.rng.chance(0.4);
        let y = self.name("y");
        let mut ymag = 0.0;
        if overwrite {
            let y0 = self.body_e(d, &[], &[], None);
            self.line(&format!("let mut {y} = {};", y0.s));
            ymag = y0.mag.max(1.0);
        }
        let mut idx: Vec<Idx> = Vec::new();
        let mut extra: Vec<Var> = Vec::new();
        let mut n1 = 1;
        let outer = self.rng.chance(0.6);
        if outer {
            let (r1, i1, t1) = self.range(&[], false);
            self.open(&format!("for {} in {r1}", i1.name));
            idx.push(i1);
            extra.push(pseudo(format!("f64::tanh({s})"), 1.0));
            n1 = t1;
        }
        let mag = if overwrite {
            let (r2, i2, _) = self.range(&idx, false);
            self.open(&format!("for {} in {r2}", i2.name));
            let mut inner = idx.clone();
            inner.push(i2);
            let a = self.body_e(d, &inner, &extra, None);
            let a = self.bound(a, 2.0);
            let rhs = match self.rng.below(4) {
                0 => format!("({y} * {}).sin()", a.paren()),
                1 => format!("f64::cos({y} * {})", a.paren()),
                2 => {
                    let b = self.body_e(d, &inner, &extra, None);
                    let b = self.bound(b, 2.0);
                    format!("({y} * {} + {}).tanh()", a.paren(), b.paren())
                }
                _ => format!("({} * {y}).sin()", a.paren()),
            };
            self.line(&format!("{y} = {rhs};"));
            self.close();
            let yv = pseudo(y, ymag);
            let f = self.body_e(d, &idx, &[], Some(&yv));
            self.line(&format!("{s} += {};", f.s));
            f.mag
        } else {
            let t = self.name("t");
            let te = self.body_e(d, &idx, &extra, None);
            let te = self.bound(te, 1.25);
            self.line(&format!("let {t} = {};", te.s));
            let p = self.name("p");
            self.line(&format!("let mut {p} = 1.0;"));
            let (r2, i2, n2) = self.range(&idx, false);
            self.open(&format!("for {} in {r2}", i2.name));
            let c = match &self.slice {
                Some((xs, _)) if i2.safe && self.rng.chance(0.7) => {
                    pseudo(format!("{xs}[{}]", i2.name), PARAM_BOUND)
                }
                _ => {
                    let mut inner = idx.clone();
                    inner.push(i2.clone());
                    let c = self.body_e(d, &inner, &extra, None);
                    let c = self.bound(c, 4.0);
                    pseudo(c.paren(), c.mag)
                }
            };
            let op = *self.rng.pick(&["+=", "+=", "-="]);
            let add = format!("{s} {op} {} * {p};", c.name);
            let mul = format!("{p} *= {t};");
            if self.rng.chance(0.7) {
                self.line(&add);
                self.line(&mul);
            } else {
                self.line(&mul);
                self.line(&add);
            }
            self.close();
            n2 as f64 * c.mag * te.mag.max(1.0).powi(n2 as i32)
        };
        if outer {
            self.close();
        }
        self.finish(s, n1 as f64 * mag);
    }

    /// Local `Vec`s written element by element, and read back; sometimes
    /// declared inside a loop whose accumulator adds up their result.
    fn vecs(&mut self, d: usize) {
        let mut outer: Option<(String, Idx, usize)> = None;
        if self.rng.chance(0.2) {
            let s = self.accumulator("s");
            let (r, o, trips) = self.range(&[], false);
            self.open(&format!("for {} in {r}", o.name));
            outer = Some((s, o, trips));
        }
        let (len, max_len, from_xs) = self.vec_len(0.7);
        let steps = self.rng.chance(0.25);
        let init = self.rng.chance(0.6);
        let mut vecs: Vec<LocalVec> = Vec::new();
        for k in 0..self.rng.range(1, 3) {
            let name = self.name(if k == 0 { "y" } else { "z" });
            // `vec![0.0; n]` is a `Vec<{float}>` until a typed value is
            // written, and a method call on an element before that does
            // not compile: without `y[0] = …` first, the type is spelled.
            let decl = if k == 0 && init {
                format!("vec![0.0; {len}]")
            } else {
                match self.rng.below(3) {
                    0 => format!("vec![0.0f64; {len}]"),
                    1 => format!("vec![0.0_f64; {len}]"),
                    _ => {
                        self.line(&format!("let mut {name}: Vec<f64> = vec![0.0; {len}];"));
                        String::new()
                    }
                }
            };
            if !decl.is_empty() {
                self.line(&format!("let mut {name} = {decl};"));
            }
            let fixed = *self.rng.pick(&[2.0, 4.0]);
            vecs.push(LocalVec {
                name,
                // Inside a time-step loop every read assumes the fixed bound.
                now: if steps { fixed } else { 0.0 },
                fixed,
                written: false,
            });
        }
        let outer_idx: Vec<Idx> = outer.iter().map(|o| o.1.clone()).collect();
        if init {
            let y = vecs[0].name.clone();
            let e0 = match &self.slice {
                Some((xs, _)) if from_xs && self.rng.chance(0.5) => {
                    E::new(format!("{xs}[0]"), PARAM_BOUND, true)
                }
                _ => {
                    let e = self.body_e(d, &outer_idx, &[], None);
                    self.bound(e, vecs[0].fixed)
                }
            };
            self.line(&format!("{y}[0] = {};", e0.s));
            vecs[0].now = vecs[0].now.max(e0.mag);
            vecs[0].written = true;
        }
        if steps {
            let (n, _) = self.trips();
            let n = if n == "0" { "1".to_string() } else { n };
            self.open(&format!("for _ in 0..{n}"));
        }
        let i = Idx {
            name: String::new(),
            ty: Ity::Usize,
            hi: len.clone(),
            max: max_len,
            safe: from_xs,
        };
        for k in 0..self.rng.range(1, 3) {
            let i = Idx {
                name: self.name("i"),
                ..i.clone()
            };
            self.vec_loop(d, &i, &outer_idx, &mut vecs, steps, k == 0);
        }
        if steps {
            self.close();
        }
        // The result: an element, or a sum over one of the Vecs written.
        let written: Vec<LocalVec> = vecs.iter().filter(|v| v.written).cloned().collect();
        let v = match written.first() {
            Some(w) if self.rng.chance(0.7) => w.clone(),
            Some(_) => self.rng.pick(&written).clone(),
            None => vecs[0].clone(),
        };
        let el = pseudo(format!("{}[{len} - 1]", v.name), v.now);
        let form = self.rng.below(3);
        if form == 0 && outer.is_none() {
            self.scope.push(el.clone());
            self.pending.push(el.name.clone());
            self.outputs.push(el.name);
        } else if form == 0 {
            let (s, ..) = outer.as_ref().unwrap();
            let f = self.body_e(d, &outer_idx, &[], Some(&el));
            self.line(&format!("{s} += {};", f.s));
        } else {
            let s = match &outer {
                Some((s, ..)) => s.clone(),
                None => self.accumulator("s"),
            };
            let ev = if form == 1 {
                let k = Idx {
                    name: self.name("i"),
                    ..i.clone()
                };
                self.open(&format!("for {} in 0..{len}", k.name));
                pseudo(format!("{}[{}]", v.name, k.name), v.now)
            } else {
                let e = self.name("e");
                self.open(&format!("for &{e} in {}.iter()", v.name));
                pseudo(e, v.now)
            };
            let f = self.body_e(d, &outer_idx, &[], Some(&ev));
            self.line(&format!("{s} += {};", f.s));
            self.close();
            if outer.is_none() {
                self.finish(s, max_len as f64 * f.mag);
            }
        }
        if let Some((s, _, trips)) = outer {
            self.close();
            // Bounded per iteration by the largest of the forms above.
            let per = LIMIT * max_len as f64;
            self.finish(s, trips as f64 * per);
        } else if from_xs {
            // Later loops over the indices of `xs` may read them.
            for v in &vecs {
                self.arrays.push((v.name.clone(), v.now));
            }
        }
    }

    /// `let n = …;`, the length of local `Vec`s: `xs.len()` (with
    /// probability `of_xs`, when there is an `xs`), the integer parameter,
    /// or a literal 1 to 4. Returns the name, the largest length, and
    /// whether it is `xs`'s.
    fn vec_len(&mut self, of_xs: f64) -> (String, usize, bool) {
        let len = self.name("n");
        let int = self.int.clone();
        let (def, max_len, from_xs) = match (&self.slice, &int) {
            (Some((xs, l)), _) if self.rng.chance(of_xs) => (format!("{xs}.len()"), *l, true),
            (_, Some((n, ty))) if self.rng.chance(0.5) => {
                let def = if *ty == "usize" {
                    n.clone()
                } else {
                    format!("{n} as usize")
                };
                (def, 4, false)
            }
            _ => {
                let k = self.rng.range(1, 4);
                (format!("{k}"), k, false)
            }
        };
        let ty = if def.starts_with(|c: char| c.is_ascii_digit()) {
            ": usize"
        } else {
            ""
        };
        self.line(&format!("let {len}{ty} = {def};"));
        (len, max_len, from_xs)
    }

    /// Scratch `Vec`s made before a summing loop and rewritten in each of
    /// its iterations (see the table above).
    fn scratch(&mut self, d: usize) {
        let (len, max_len, from_xs) = self.vec_len(0.6);
        let fixed = 2.0;
        let mut vecs: Vec<String> = Vec::new();
        for k in 0..self.rng.range(1, 2) {
            let name = self.name(if k == 0 { "a" } else { "b" });
            self.line(&format!("let mut {name} = vec![0.0f64; {len}];"));
            vecs.push(name);
        }
        // 0: read before written; 1: read after the loop; else private.
        let near = if self.rng.chance(0.2) {
            self.rng.below(2)
        } else {
            2
        };
        let s = self.accumulator("s");
        let (r, o, trips) = self.range(&[], false);
        self.open(&format!("for {} in {r}", o.name));
        let elem = |name: &str| Idx {
            name: name.to_owned(),
            ty: Ity::Usize,
            hi: len.clone(),
            max: max_len,
            safe: from_xs,
        };
        // The first loop writes every element of each Vec.
        let e = self.name("e");
        self.open(&format!("for {e} in 0..{len}"));
        let here = [o.clone(), elem(&e)];
        let mut els: Vec<Var> = Vec::new();
        for (k, v) in vecs.clone().iter().enumerate() {
            let value = self.body_e(d, &here, &els, None);
            if k == 0 && near == 0 {
                let value = self.bound(value, fixed / 2.0);
                self.line(&format!("{v}[{e}] = 0.5 * {v}[{e}] + {};", value.paren()));
            } else {
                let value = self.bound(value, fixed);
                self.line(&format!("{v}[{e}] = {};", value.s));
            }
            els.push(pseudo(format!("{v}[{e}]"), fixed));
        }
        self.close();
        // Then an update within the elements written.
        let mut now = fixed;
        let a = vecs[0].clone();
        match self.rng.below(3) {
            0 => {
                let i = self.name("i");
                self.open(&format!("for {i} in 1..{len}"));
                let prev = pseudo(format!("{a}[{i} - 1]"), now);
                let here = [o.clone(), elem(&i)];
                let value = self.body_e(d, &here, &[], Some(&prev));
                let value = self.bound(value, 1.0);
                self.line(&format!("{a}[{i}] += {};", value.s));
                self.close();
                now += 1.0;
            }
            1 => {
                let i = self.name("i");
                let j = self.name("j");
                self.open(&format!("for {i} in 0..{len}"));
                self.open(&format!("for {j} in {i} + 1..{len}"));
                let read = pseudo(format!("{a}[{i}]"), now);
                let here = [o.clone(), elem(&i), elem(&j)];
                let value = self.body_e(d, &here, &[], Some(&read));
                let value = self.bound(value, 1.0 / max_len as f64);
                self.line(&format!("{a}[{j}] += {};", value.s));
                self.close();
                self.close();
                now += 1.0;
            }
            _ => {}
        }
        // Read back: a sum over the elements, or the last one.
        let add = if self.rng.chance(0.6) {
            let t = self.name("t");
            self.line(&format!("let mut {t} = 0.0;"));
            let k = self.name("k");
            self.open(&format!("for {k} in 0..{len}"));
            let v = self.rng.pick(&vecs).clone();
            let read = pseudo(format!("{v}[{k}]"), now);
            let here = [o.clone(), elem(&k)];
            let value = self.body_e(d, &here, &[], Some(&read));
            self.line(&format!("{t} += {};", value.s));
            self.close();
            let sum = pseudo(t, max_len as f64 * value.mag);
            self.body_e(d, std::slice::from_ref(&o), &[], Some(&sum))
        } else {
            let last = pseudo(format!("{a}[{len} - 1]"), now);
            self.body_e(d, std::slice::from_ref(&o), &[], Some(&last))
        };
        self.line(&format!("{s} += {};", add.s));
        self.close();
        self.finish(s, trips as f64 * add.mag);
        if near == 1 {
            let last = pseudo(format!("{a}[{len} - 1]"), now);
            self.scope.push(last.clone());
            self.pending.push(last.name.clone());
            self.outputs.push(last.name);
        }
    }

    /// One loop over the elements of the local `Vecs`, writing some of them.
    fn vec_loop(
        &mut self,
        d: usize,
        i: &Idx,
        outer: &[Idx],
        vecs: &mut [LocalVec],
        steps: bool,
        first_loop: bool,
    ) {
        let lo = usize::from(self.rng.chance(0.55));
        let short = !first_loop && self.rng.chance(0.3) || lo == 0 && self.rng.chance(0.3);
        let iv = i.name.clone();
        // The element offsets that stay in bounds.
        let mut offs: Vec<i32> = vec![0];
        if lo == 1 {
            offs.push(-1);
        }
        if short {
            offs.push(1);
        }
        let at = |off: i32| match off {
            0 => iv.clone(),
            -1 => format!("{iv} - 1"),
            _ => format!("{iv} + 1"),
        };
        // A recurrence writes at [i] from [i - 1], or at [i + 1] from [i].
        let rec = if lo == 1 {
            Some((0, -1))
        } else if short {
            Some((1, 0))
        } else {
            None
        };
        let mut plan: Vec<(usize, Write)> = Vec::new();
        for k in 0..self.rng.range(1, 3) {
            let v = if k == 0 && first_loop {
                0
            } else {
                self.rng.below(vecs.len())
            };
            if plan
                .iter()
                .any(|&(w, k)| w == v && matches!(k, Write::Rec { .. }))
            {
                continue;
            }
            let c = *self.rng.pick(&[0.5, 1.0, 2.0]);
            let first_write = !plan.iter().any(|&(w, _)| w == v);
            let headline = k == 0 && first_loop && self.rng.chance(0.6);
            let op = *self.rng.pick(&["+=", "-="]);
            let k = if rec.is_some() && first_write && (headline || self.rng.chance(0.25)) {
                Write::Rec { squash: steps }
            } else if !steps && self.rng.chance(0.15) {
                Write::Tri(op, c)
            } else if !steps && self.rng.chance(0.3) {
                Write::Add(op, c)
            } else if !steps && offs.len() > 1 && self.rng.chance(0.3) {
                let off = *self.rng.pick(&offs[1..]);
                Write::Back(op, off, c)
            } else {
                Write::Set
            };
            plan.push((v, k));
        }
        // A recurrence's factor and addend bounds, and whether its bound,
        // iterated over the longest length, lets it stay unsquashed.
        let a_bound = if i.safe && self.slice.is_some() {
            PARAM_BOUND
        } else {
            1.5
        };
        let add_bound = *self.rng.pick(&[0.0, 0.5, 1.0]);
        let peak = |start: f64| {
            let (mut m, mut peak) = (start, start);
            for _ in 1..i.max {
                m = a_bound * m + add_bound;
                peak = peak.max(m);
            }
            peak
        };
        for (v, k) in &mut plan {
            if let Write::Rec { squash: false } = k
                && peak(vecs[*v].now) > VEC_LIMIT
            {
                *k = Write::Rec { squash: true };
            }
        }
        // The bound of every element read in (and after) the loop.
        let mut read: Vec<f64> = vecs.iter().map(|v| v.now).collect();
        for (v, vec) in vecs.iter().enumerate() {
            let mine: Vec<Write> = plan
                .iter()
                .filter(|(w, _)| *w == v)
                .map(|&(_, k)| k)
                .collect();
            if let Some(Write::Rec { squash: false }) = mine.first() {
                read[v] = peak(vec.now);
                continue;
            }
            let mut r = vec.now;
            if mine
                .iter()
                .any(|k| matches!(k, Write::Set | Write::Rec { squash: true }))
            {
                r = r.max(vec.fixed);
            }
            for k in &mine {
                if let Write::Add(_, c) | Write::Back(_, _, c) | Write::Tri(_, c) = k {
                    r += c;
                }
            }
            read[v] = r;
        }
        let hi = if short {
            format!("{} - 1", i.hi)
        } else {
            i.hi.clone()
        };
        self.open(&format!("for {iv} in {lo}..{hi}"));
        let mut here = outer.to_vec();
        here.push(i.clone());
        for &(v, k) in &plan {
            let name = vecs[v].name.clone();
            // The elements this write may read: every Vec at each offset,
            // except its own Vec for a recurrence's parts.
            let mut els: Vec<Var> = Vec::new();
            for (u, vec) in vecs.iter().enumerate() {
                if u == v && matches!(k, Write::Rec { .. }) {
                    continue;
                }
                for &off in &offs {
                    els.push(pseudo(format!("{}[{}]", vec.name, at(off)), read[u]));
                }
            }
            if i.safe
                && let Some((xs, _)) = &self.slice
            {
                for &off in &offs[1..] {
                    els.push(pseudo(format!("{xs}[{}]", at(off)), PARAM_BOUND));
                }
            }
            match k {
                Write::Rec { squash } => {
                    let (w, r) = rec.unwrap();
                    let a = match &self.slice {
                        Some((xs, _)) if i.safe && self.rng.chance(0.7) => {
                            E::new(format!("{xs}[{}]", at(w)), PARAM_BOUND, true)
                        }
                        _ => {
                            let a = self.body_e(d, &here, &els, None);
                            self.bound(a, 1.5)
                        }
                    };
                    let prev = format!("{name}[{}]", at(r));
                    let mut rhs = E::new(format!("{} * {prev}", a.paren()), a.mag * read[v], true);
                    if add_bound > 0.0 {
                        let e = self.body_e(d, &here, &els, None);
                        let e = self.bound(e, add_bound);
                        rhs = E::new(format!("{} + {}", rhs.s, e.paren()), rhs.mag + e.mag, true);
                    }
                    if squash {
                        rhs = self.bound(rhs, vecs[v].fixed);
                    }
                    self.line(&format!("{name}[{}] = {};", at(w), rhs.s));
                }
                Write::Set => {
                    let e = self.body_e(d, &here, &els, None);
                    let e = self.bound(e, vecs[v].fixed);
                    self.line(&format!("{name}[{iv}] = {};", e.s));
                }
                Write::Add(op, c) => {
                    let e = self.body_e(d, &here, &els, None);
                    let e = self.bound(e, c);
                    self.line(&format!("{name}[{iv}] {op} {};", e.s));
                }
                Write::Back(op, off, c) => {
                    let e = self.body_e(d, &here, &els, None);
                    let e = self.bound(e, c);
                    self.line(&format!("{name}[{}] {op} {};", at(off), e.s));
                }
                Write::Tri(op, c) => {
                    let j = Idx {
                        name: self.name("j"),
                        hi: iv.clone(),
                        ..i.clone()
                    };
                    self.open(&format!("for {} in 0..{iv}", j.name));
                    let mut jels = els.clone();
                    for (u, vec) in vecs.iter().enumerate() {
                        jels.push(pseudo(format!("{}[{}]", vec.name, j.name), read[u]));
                    }
                    let mut inner = here.clone();
                    inner.push(j);
                    let e = self.body_e(d, &inner, &jels, None);
                    let e = self.bound(e, c / i.max.max(1) as f64);
                    self.line(&format!("{name}[{iv}] {op} {};", e.s));
                    self.close();
                }
            }
        }
        self.close();
        for (v, vec) in vecs.iter_mut().enumerate() {
            vec.now = read[v];
            vec.written |= plan.iter().any(|&(w, _)| w == v);
        }
    }
}
