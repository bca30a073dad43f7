//! The `idioms` shape (issue 11): statements written as people write Rust,
//! which `desugar.rs` rewrites before differentiation.
//!
//! - an iterator chain over `xs` or over a local array literal
//!   (`let arr = [e1, e2, e3];`): `map … sum::<f64>()`, `enumerate`, `zip`
//!   of the source with itself (`rev`, `skip`, `step_by` on either side),
//!   `rev` and `skip` (over the source or a sub-slice `&xs[1..]`),
//!   `windows(2)`, `chunks(2)` and `chunks_exact(2)` read by element and
//!   whole (`w.iter().sum()`, `w.len()`), `filter` on a differentiated condition,
//!   `fold` with a closure, `copied().fold(±∞, f64::max/min)`, and
//!   `collect` into a `Vec<f64>` read back by index and by another chain;
//! - a local closure `let f = |v: f64| …;` called twice;
//! - a destructuring `let` of a tuple, a nested tuple or an array;
//! - `let t = if c { if c2 { return r; } e } else { e2 };`.
//!
//! Every value is bounded as the other shapes bound theirs: a closure's
//! parameter has the bound of the source's elements (or of the squashed
//! argument), and a chain's result is squashed past [`LIMIT`] by
//! [`Gen::finish`].

use super::generate::{E, Gen, LIMIT, PARAM_BOUND, first, lit};
use super::shapes::{pseudo, typed};

impl Gen<'_> {
    /// One statement of the `idioms` shape.
    pub(super) fn idioms(&mut self, d: usize) {
        match self.rng.range(0, 6) {
            0..=2 => self.chain(d),
            3 => self.local_closure(d),
            4 => self.destructure(d),
            _ => self.early_return(d),
        }
    }

    /// A typed expression bounded by `limit`.
    fn operand(&mut self, d: usize, limit: f64) -> E {
        let e = self.expr(d);
        typed(self.bound(e, limit))
    }

    /// A closure body reading the parameter `v` (bound `mag`).
    fn closure_body(&mut self, d: usize, v: &str, mag: f64) -> E {
        self.body_e(d, &[], &[], Some(&pseudo(v.to_owned(), mag)))
    }

    fn chain(&mut self, d: usize) {
        // The source: the slice parameter, or a local array literal.
        let (src, len, elem) = match self.slice.clone() {
            Some((xs, len)) if self.rng.chance(0.6) => (xs, len, PARAM_BOUND),
            _ => {
                let n = self.rng.range(2, 5);
                let items: Vec<E> = (0..n).map(|_| self.operand(d, PARAM_BOUND)).collect();
                let mag = items.iter().map(|e| e.mag).fold(0.0, f64::max);
                let list: Vec<&str> = items.iter().map(|e| e.s.as_str()).collect();
                let name = self.name("arr");
                self.line(&format!("let {name} = [{}];", list.join(", ")));
                (name, n, mag)
            }
        };
        let n = len as f64;
        let s = self.name("it");
        let v = self.name("v");
        let (code, mag) = match self.rng.range(0, 10) {
            0 | 1 => {
                let b = self.closure_body(d, &v, elem);
                (
                    format!("{src}.iter().map(|&{v}| {}).sum::<f64>()", b.s),
                    n * b.mag,
                )
            }
            2 => {
                let k = self.name("k");
                let b = self.closure_body(d, &v, elem);
                (
                    format!(
                        "{src}.iter().enumerate().map(|({k}, &{v})| {} * ({k} as f64 * 0.5)).sum::<f64>()",
                        b.paren()
                    ),
                    n * b.mag * 0.5 * n,
                )
            }
            3 => {
                let w = self.name("w");
                let a = pseudo(w.clone(), elem);
                let b = self.body_e(d, &[], &[a], Some(&pseudo(v.clone(), elem)));
                // Moves on either side: each side keeps its own positions.
                let left = *self.rng.pick(&[
                    "",
                    "",
                    ".rev()",
                    ".step_by(2)",
                    ".skip(1)",
                    ".rev().skip(1)",
                ]);
                let right = *self.rng.pick(&[
                    ".rev()",
                    ".rev()",
                    "",
                    ".skip(1)",
                    ".step_by(2)",
                    ".rev().step_by(2)",
                ]);
                (
                    format!(
                        "{src}.iter(){left}.zip({src}.iter(){right}).map(|(&{v}, &{w})| {}).sum::<f64>()",
                        b.s
                    ),
                    n * b.mag,
                )
            }
            4 => {
                let b = self.closure_body(d, &v, elem);
                let skip = self.rng.range(0, 2);
                // Half the time over a sub-slice `&src[lo..]`, `&src[..hi]`.
                let from = if len >= 2 && self.rng.chance(0.5) {
                    let t = self.name("sub");
                    let range = *self.rng.pick(&["1..", "..1", "1..=1", ".."]);
                    self.line(&format!("let {t} = &{src}[{range}];"));
                    t
                } else {
                    src.clone()
                };
                (
                    format!(
                        "{from}.iter().rev().skip({skip}).map(|&{v}| {}).sum::<f64>()",
                        b.s
                    ),
                    n * b.mag,
                )
            }
            5 if len >= 2 => {
                // Windows and chunks, read by element and whole (the last
                // chunk of `chunks(2)` may hold one element).
                let w = self.name("w");
                let (source, read, mag) = match self.rng.range(0, 3) {
                    0 => ("windows(2)", format!("({w}[1] - {w}[0])"), 2.0 * elem),
                    1 => (
                        "windows(2)",
                        format!("({w}[0] * 0.5 - {w}.iter().sum::<f64>())"),
                        2.5 * elem,
                    ),
                    2 => (
                        "chunks(2)",
                        format!("({w}[0] * 0.5 + {w}.iter().sum::<f64>())"),
                        2.5 * elem,
                    ),
                    _ => (
                        "chunks_exact(2)",
                        format!("({w}[1] * {w}.len() as f64 - {w}[0])"),
                        3.0 * elem,
                    ),
                };
                let b = self.closure_body(d, &read, mag);
                (
                    format!("{src}.{source}.map(|{w}| {}).sum::<f64>()", b.s),
                    n * b.mag,
                )
            }
            6 => {
                let b = self.closure_body(d, &v, elem);
                let c = lit(*self.rng.pick(&[0.0, 0.5, -0.5]));
                (
                    format!(
                        "{src}.iter().filter(|&&{v}| {v} > {c}).map(|&{v}| {}).sum::<f64>()",
                        b.s
                    ),
                    n * b.mag,
                )
            }
            7 => {
                let init = self.operand(d, PARAM_BOUND);
                let acc = self.name("acc");
                let b = self.closure_body(d, &v, elem);
                (
                    format!(
                        "{src}.iter().fold({}, |{acc}, &{v}| {acc} * 0.5 + {})",
                        init.s,
                        b.paren()
                    ),
                    init.mag + 2.0 * b.mag,
                )
            }
            8 => {
                let (start, f) = if self.rng.chance(0.5) {
                    ("f64::NEG_INFINITY", "f64::max")
                } else {
                    ("f64::INFINITY", "f64::min")
                };
                (format!("{src}.iter().copied().fold({start}, {f})"), elem)
            }
            _ => {
                let b = self.closure_body(d, &v, elem);
                let h = self.name("h");
                self.line(&format!(
                    "let {h}: Vec<f64> = {src}.iter().map(|&{v}| {}).collect();",
                    b.s
                ));
                (
                    format!("{h}[{}] * 0.5 + {h}.iter().sum::<f64>()", len - 1),
                    (0.5 + n) * b.mag,
                )
            }
        };
        self.line(&format!("let mut {s} = {code};"));
        self.finish(s, mag);
    }

    /// `let f = |v: f64| …; let c = f(a) + f(b);`
    fn local_closure(&mut self, d: usize) {
        let f = self.name("cl");
        let v = self.name("v");
        let b = self.closure_body(d, &v, PARAM_BOUND);
        self.line(&format!("let {f} = |{v}: f64| {};", b.s));
        let a1 = self.operand(d, PARAM_BOUND);
        let a2 = self.operand(d, PARAM_BOUND);
        let c = self.name("c");
        self.line(&format!("let mut {c} = {f}({}) + {f}({});", a1.s, a2.s));
        self.finish(c, 2.0 * b.mag);
    }

    /// `let (a, b) = (e1, e2);`, `let [a, b] = [e1, e2];`,
    /// `let (a, (b, c)) = (e1, (e2, e3));`
    fn destructure(&mut self, d: usize) {
        let form = self.rng.range(0, 2); // inclusive: three forms
        let count = if form == 2 { 3 } else { 2 };
        let e: Vec<E> = (0..count).map(|_| self.operand(d, LIMIT)).collect();
        let n: Vec<String> = (0..count).map(|_| self.name("p")).collect();
        let line = match form {
            0 => format!(
                "let (mut {}, mut {}) = ({}, {});",
                n[0], n[1], e[0].s, e[1].s
            ),
            1 => format!(
                "let [mut {}, mut {}] = [{}, {}];",
                n[0], n[1], e[0].s, e[1].s
            ),
            _ => format!(
                "let (mut {}, (mut {}, mut {})) = ({}, ({}, {}));",
                n[0], n[1], n[2], e[0].s, e[1].s, e[2].s
            ),
        };
        self.line(&line);
        for (name, e) in n.into_iter().zip(&e) {
            self.finish(name, e.mag);
        }
    }

    /// `let t = if c { if c2 { return r; } e } else { e2 };`
    fn early_return(&mut self, d: usize) {
        let c1 = self.operand(d, LIMIT);
        let c2 = self.operand(d, LIMIT);
        let r = self.operand(d, LIMIT);
        let e1 = self.operand(d, LIMIT);
        let e2 = self.operand(d, LIMIT);
        let t = self.name("t");
        let (k1, k2) = (
            lit(*self.rng.pick(&[0.0, 0.5])),
            lit(*self.rng.pick(&[0.0, -0.5])),
        );
        self.line(&format!(
            "let mut {t} = if {} > {k1} {{ if {} < {k2} {{ return {}; }} {} }} else {{ {} }};",
            first(&c1),
            // `x as f64 < k` would read `f64<` as generic arguments.
            c2.paren(),
            r.s,
            e1.s,
            e2.s
        ));
        self.finish(t, e1.mag.max(e2.mag));
    }
}
