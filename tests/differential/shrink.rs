//! Shrinking a failing generated function, and the regression test it
//! becomes.
//!
//! The shrinker parses the generated source (a small subset of Rust: `let`,
//! `let mut`, `= += -= *= /=`, `return`, block expressions, `+ - * /`,
//! unary `-`, `as`, method and function calls, paths and literals) and
//! proposes smaller candidates, largest reduction first:
//!
//! 1. removing every statement whose value the result does not read;
//! 2. replacing a subexpression (largest first) by a differentiated
//!    parameter, or by the literal `0.5`;
//! 3. deleting one statement;
//! 4. regenerating the function (same seed and index) within smaller
//!    [`Limits`].
//!
//! The driver (`tests/differential.rs`) tests each candidate in a crate of
//! its own and keeps it if it still fails in the same way; sizes are counted
//! in tokens, callees included.

use super::generate::{self, GenFn, Kind, Limits};
use std::collections::BTreeSet;
use std::fmt::Write as _;

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    Num(String),
    Punct(&'static str),
}

const PUNCTS: &[&str] = &[
    "::", "->", "+=", "-=", "*=", "/=", "(", ")", "{", "}", "[", "]", "#", ",", ";", ":", ".", "+",
    "-", "*", "/", "=",
];

fn lex(s: &str) -> Option<Vec<Tok>> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphabetic() || c == '_' {
            let j = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Tok::Ident(s[j..i].to_owned()));
        } else if c.is_ascii_digit() {
            let j = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            if i < b.len() && b[i] == b'e' {
                i += 1;
                if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
                    i += 1;
                }
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            out.push(Tok::Num(s[j..i].to_owned()));
        } else {
            let p = PUNCTS.iter().find(|p| s[i..].starts_with(**p))?;
            out.push(Tok::Punct(p));
            i += p.len();
        }
    }
    Some(out)
}

/// The number of tokens of `s`: the size the shrinker minimises.
pub fn size(s: &str) -> usize {
    lex(s).map_or(usize::MAX, |t| t.len())
}

#[derive(Clone, Debug, PartialEq)]
enum Ex {
    Lit(String),
    Path(String),
    Neg(Box<Ex>),
    Bin(Box<Ex>, &'static str, Box<Ex>),
    Cast(Box<Ex>, String),
    Method(Box<Ex>, String, Vec<Ex>),
    Call(String, Vec<Ex>),
    Paren(Box<Ex>),
    Block(Body),
}

#[derive(Clone, Debug, PartialEq)]
enum St {
    Let {
        mutable: bool,
        name: String,
        ty: Option<String>,
        init: Ex,
    },
    Assign {
        name: String,
        op: &'static str,
        rhs: Ex,
    },
}

#[derive(Clone, Debug, PartialEq)]
struct Body {
    stmts: Vec<St>,
    tail: Box<Ex>,
    ret: bool,
}

struct Parser {
    t: Vec<Tok>,
    i: usize,
}

impl Parser {
    fn peek(&self, k: usize) -> Option<&Tok> {
        self.t.get(self.i + k)
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(0), Some(Tok::Punct(q)) if *q == p)
    }
    fn eat(&mut self, p: &str) -> Option<()> {
        if self.is(p) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }
    fn kw(&self, k: &str) -> bool {
        matches!(self.peek(0), Some(Tok::Ident(q)) if q == k)
    }
    fn ident(&mut self) -> Option<String> {
        match self.peek(0)? {
            Tok::Ident(s) => {
                let s = s.clone();
                self.i += 1;
                Some(s)
            }
            _ => None,
        }
    }

    /// Statements and a tail, up to `}` or the end.
    fn body(&mut self) -> Option<Body> {
        let mut stmts = Vec::new();
        loop {
            if self.kw("let") {
                self.i += 1;
                let mutable = self.kw("mut");
                if mutable {
                    self.i += 1;
                }
                let name = self.ident()?;
                let ty = if self.eat(":").is_some() {
                    Some(self.ident()?)
                } else {
                    None
                };
                self.eat("=")?;
                let init = self.expr(0)?;
                self.eat(";")?;
                stmts.push(St::Let {
                    mutable,
                    name,
                    ty,
                    init,
                });
            } else if self.kw("return") {
                self.i += 1;
                let tail = self.expr(0)?;
                self.eat(";")?;
                return Some(Body {
                    stmts,
                    tail: Box::new(tail),
                    ret: true,
                });
            } else if let (Some(Tok::Ident(name)), Some(Tok::Punct(op))) =
                (self.peek(0), self.peek(1))
                && ["=", "+=", "-=", "*=", "/="].contains(op)
            {
                let (name, op) = (name.clone(), *op);
                self.i += 2;
                let rhs = self.expr(0)?;
                self.eat(";")?;
                stmts.push(St::Assign { name, op, rhs });
            } else {
                let tail = self.expr(0)?;
                return Some(Body {
                    stmts,
                    tail: Box::new(tail),
                    ret: false,
                });
            }
        }
    }

    fn expr(&mut self, min: u8) -> Option<Ex> {
        let mut lhs = self.unary()?;
        loop {
            if self.kw("as") {
                self.i += 1;
                lhs = Ex::Cast(Box::new(lhs), self.ident()?);
                continue;
            }
            let (op, prec) = match self.peek(0) {
                Some(Tok::Punct(p @ ("*" | "/"))) => (*p, 2),
                Some(Tok::Punct(p @ ("+" | "-"))) => (*p, 1),
                _ => return Some(lhs),
            };
            if prec <= min {
                return Some(lhs);
            }
            self.i += 1;
            let rhs = self.expr(prec)?;
            lhs = Ex::Bin(Box::new(lhs), op, Box::new(rhs));
        }
    }

    fn unary(&mut self) -> Option<Ex> {
        if self.eat("-").is_some() {
            return Some(Ex::Neg(Box::new(self.unary()?)));
        }
        let mut e = self.primary()?;
        while self.eat(".").is_some() {
            let m = self.ident()?;
            self.eat("(")?;
            let args = self.args()?;
            e = Ex::Method(Box::new(e), m, args);
        }
        Some(e)
    }

    fn args(&mut self) -> Option<Vec<Ex>> {
        let mut args = Vec::new();
        while self.eat(")").is_none() {
            args.push(self.expr(0)?);
            if self.eat(",").is_none() {
                self.eat(")")?;
                break;
            }
        }
        Some(args)
    }

    fn primary(&mut self) -> Option<Ex> {
        match self.peek(0)?.clone() {
            Tok::Num(n) => {
                self.i += 1;
                Some(Ex::Lit(n))
            }
            Tok::Ident(mut path) => {
                self.i += 1;
                while self.eat("::").is_some() {
                    path = format!("{path}::{}", self.ident()?);
                }
                if self.eat("(").is_some() {
                    Some(Ex::Call(path, self.args()?))
                } else {
                    Some(Ex::Path(path))
                }
            }
            Tok::Punct("(") => {
                self.i += 1;
                let e = self.expr(0)?;
                self.eat(")")?;
                Some(Ex::Paren(Box::new(e)))
            }
            Tok::Punct("{") => {
                self.i += 1;
                let b = self.body()?;
                self.eat("}")?;
                Some(Ex::Block(b))
            }
            Tok::Punct(_) => None,
        }
    }
}

fn pe(e: &Ex) -> String {
    match e {
        Ex::Lit(s) | Ex::Path(s) => s.clone(),
        Ex::Neg(a) => format!("-{}", pe(a)),
        Ex::Bin(a, op, b) => format!("{} {op} {}", pe(a), pe(b)),
        Ex::Cast(a, ty) => format!("{} as {ty}", pe(a)),
        Ex::Method(r, m, args) => format!("{}.{m}({})", pe(r), list(args)),
        Ex::Call(p, args) => format!("{p}({})", list(args)),
        Ex::Paren(a) => format!("({})", pe(a)),
        Ex::Block(b) => {
            let mut s = String::from("{ ");
            for st in &b.stmts {
                s.push_str(&ps(st));
                s.push(' ');
            }
            s.push_str(&tail(b));
            s.push_str(" }");
            s
        }
    }
}

fn list(args: &[Ex]) -> String {
    args.iter().map(pe).collect::<Vec<_>>().join(", ")
}

fn ps(st: &St) -> String {
    match st {
        St::Let {
            mutable,
            name,
            ty,
            init,
        } => {
            let m = if *mutable { "mut " } else { "" };
            let ty = ty.as_ref().map_or(String::new(), |t| format!(": {t}"));
            format!("let {m}{name}{ty} = {};", pe(init))
        }
        St::Assign { name, op, rhs } => format!("{name} {op} {};", pe(rhs)),
    }
}

fn tail(b: &Body) -> String {
    let t = pe(&b.tail);
    if b.ret {
        format!("return {t};")
    } else if t.starts_with('{') {
        format!("({t})")
    } else {
        t
    }
}

/// A generated function: its attribute and signature as written, its body
/// parsed.
#[derive(Clone, Debug, PartialEq)]
struct Func {
    header: String,
    body: Body,
}

fn parse(src: &str) -> Option<Func> {
    let open = src.find("pub fn ")?;
    let brace = open + src[open..].find("{\n")?;
    let header = src[..=brace].to_owned();
    let inner = src[brace + 1..].trim_end().strip_suffix('}')?;
    let mut p = Parser {
        t: lex(inner)?,
        i: 0,
    };
    let body = p.body()?;
    (p.i == p.t.len()).then_some(Func { header, body })
}

fn print(f: &Func) -> String {
    let mut s = f.header.clone();
    s.push('\n');
    for st in &f.body.stmts {
        let _ = writeln!(s, "    {}", ps(st));
    }
    let _ = writeln!(s, "    {}", tail(&f.body));
    s.push_str("}\n");
    s
}

// ---------------------------------------------------------------- reductions

/// Where a subexpression stands: a method receiver or a cast operand cannot
/// be a `{float}` literal (`0.5.exp()` does not compile, and `x0 as f64`
/// casts a differentiated value).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    Any,
    Receiver,
    Cast,
}

fn is_leaf(e: &Ex) -> bool {
    matches!(e, Ex::Lit(_) | Ex::Path(_))
}

fn count(e: &Ex) -> usize {
    1 + children(e).iter().map(|c| count(c)).sum::<usize>()
}

fn children(e: &Ex) -> Vec<&Ex> {
    match e {
        Ex::Lit(_) | Ex::Path(_) => vec![],
        Ex::Neg(a) | Ex::Cast(a, _) | Ex::Paren(a) => vec![a],
        Ex::Bin(a, _, b) => vec![a, b],
        Ex::Method(r, _, args) => std::iter::once(&**r).chain(args).collect(),
        Ex::Call(_, args) => args.iter().collect(),
        Ex::Block(b) => {
            let mut v: Vec<&Ex> = b.stmts.iter().map(st_expr).collect();
            v.push(&b.tail);
            v
        }
    }
}

fn st_expr(st: &St) -> &Ex {
    match st {
        St::Let { init, .. } => init,
        St::Assign { rhs, .. } => rhs,
    }
}

fn st_expr_mut(st: &mut St) -> &mut Ex {
    match st {
        St::Let { init, .. } => init,
        St::Assign { rhs, .. } => rhs,
    }
}

/// Visits every subexpression in preorder (statements, then the tail),
/// numbering them; `f` may replace one.
fn walk(b: &mut Body, next: &mut usize, f: &mut dyn FnMut(usize, Pos, &mut Ex)) {
    for st in &mut b.stmts {
        walk_ex(st_expr_mut(st), Pos::Any, next, f);
    }
    walk_ex(&mut b.tail, Pos::Any, next, f);
}

fn walk_ex(e: &mut Ex, pos: Pos, next: &mut usize, f: &mut dyn FnMut(usize, Pos, &mut Ex)) {
    let id = *next;
    *next += 1;
    f(id, pos, e);
    match e {
        Ex::Lit(_) | Ex::Path(_) => {}
        Ex::Neg(a) | Ex::Paren(a) => walk_ex(a, Pos::Any, next, f),
        Ex::Cast(a, _) => walk_ex(a, Pos::Cast, next, f),
        Ex::Bin(a, _, b) => {
            walk_ex(a, Pos::Any, next, f);
            walk_ex(b, Pos::Any, next, f);
        }
        Ex::Method(r, _, args) => {
            walk_ex(r, Pos::Receiver, next, f);
            for a in args {
                walk_ex(a, Pos::Any, next, f);
            }
        }
        Ex::Call(_, args) => {
            for a in args {
                walk_ex(a, Pos::Any, next, f);
            }
        }
        Ex::Block(b) => walk(b, next, f),
    }
}

fn mentions(e: &Ex, name: &str) -> bool {
    match e {
        Ex::Path(p) => p == name,
        Ex::Block(b) => {
            b.stmts.iter().any(|st| {
                mentions(st_expr(st), name) || matches!(st, St::Assign { name: n, .. } if n == name)
            }) || mentions(&b.tail, name)
        }
        _ => children(e).iter().any(|c| mentions(c, name)),
    }
}

fn paths(e: &Ex, out: &mut BTreeSet<String>) {
    match e {
        Ex::Path(p) => {
            out.insert(p.clone());
        }
        Ex::Block(b) => {
            for st in &b.stmts {
                paths(st_expr(st), out);
                if let St::Assign { name, .. } = st {
                    out.insert(name.clone());
                }
            }
            paths(&b.tail, out);
        }
        _ => {
            for c in children(e) {
                paths(c, out);
            }
        }
    }
}

/// Removes the statements whose result nothing reads (a backward liveness
/// pass).
fn dead_code(b: &Body) -> Body {
    let mut live = BTreeSet::new();
    paths(&b.tail, &mut live);
    let mut kept = Vec::new();
    for st in b.stmts.iter().rev() {
        match st {
            St::Let { name, init, .. } => {
                if live.remove(name) {
                    paths(init, &mut live);
                    kept.push(st.clone());
                }
            }
            St::Assign { name, op, rhs } => {
                if live.contains(name) {
                    if *op == "=" {
                        live.remove(name);
                    }
                    paths(rhs, &mut live);
                    kept.push(st.clone());
                }
            }
        }
    }
    kept.reverse();
    Body {
        stmts: kept,
        tail: b.tail.clone(),
        ret: b.ret,
    }
}

/// Statement `i` can go without breaking name resolution.
fn deletable(f: &Func, params: &[String], i: usize) -> bool {
    let b = &f.body;
    let St::Let { name, mutable, .. } = &b.stmts[i] else {
        return true;
    };
    let after = b.stmts[i + 1..].iter().any(|st| {
        mentions(st_expr(st), name) || matches!(st, St::Assign { name: n, .. } if n == name)
    }) || mentions(&b.tail, name);
    let before = params.contains(name)
        || b.stmts[..i]
            .iter()
            .any(|st| matches!(st, St::Let { name: n, .. } if n == name));
    !after || (before && !mutable)
}

/// The syntactic candidates for `src` (the function `f`), most reducing
/// first.
pub fn candidates(f: &GenFn) -> Vec<String> {
    let Some(func) = parse(&f.source) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let dce = Func {
        header: func.header.clone(),
        body: dead_code(&func.body),
    };
    if dce != func {
        out.push(print(&dce));
    }
    // Subexpressions, largest first.
    let mut nodes: Vec<(usize, usize, Pos)> = Vec::new();
    let mut probe = func.body.clone();
    walk(&mut probe, &mut 0, &mut |id, pos, e| {
        if !is_leaf(e) {
            nodes.push((count(e), id, pos));
        }
    });
    nodes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut float = 0;
    let mut param = None;
    for p in &f.params {
        if p.kind == Kind::Float {
            if f.wrt.first() == Some(&float) {
                param = Some(p.name.clone());
            }
            float += 1;
        }
    }
    for &(_, target, pos) in &nodes {
        let mut with: Vec<String> = Vec::new();
        if pos != Pos::Cast
            && let Some(p) = &param
        {
            with.push(p.clone());
        }
        if pos != Pos::Receiver {
            with.push("0.5".into());
        }
        for w in with {
            let mut body = func.body.clone();
            walk(&mut body, &mut 0, &mut |id, _, e| {
                if id == target {
                    *e = Ex::Path(w.clone());
                }
            });
            out.push(print(&Func {
                header: func.header.clone(),
                body,
            }));
        }
    }
    let params: Vec<String> = f.params.iter().map(|p| p.name.clone()).collect();
    for i in (0..func.body.stmts.len()).rev() {
        if deletable(&func, &params, i) {
            let mut body = func.body.clone();
            body.stmts.remove(i);
            out.push(print(&Func {
                header: func.header.clone(),
                body,
            }));
        }
    }
    out
}

/// The limits of the regenerated candidates, smallest first.
pub const REGENERATE: &[Limits] = &[
    Limits {
        statements: 0,
        depth: 1,
        floats: 1,
        calls: false,
        control: false,
    },
    Limits {
        statements: 1,
        depth: 2,
        floats: 2,
        calls: false,
        control: false,
    },
    Limits {
        statements: 2,
        depth: 3,
        floats: 4,
        calls: true,
        control: true,
    },
];

/// The functions of `pool` that `src` calls, transitively, in pool order.
pub fn callees<'a>(src: &str, own: &str, pool: &'a [GenFn]) -> Vec<&'a GenFn> {
    let mut need = vec![false; pool.len()];
    let mut stack = vec![src.to_owned()];
    while let Some(s) = stack.pop() {
        for t in lex(&s).unwrap_or_default() {
            if let Tok::Ident(name) = t
                && name != own
                && let Some(p) = pool.iter().position(|f| f.name == name)
                && !need[p]
            {
                need[p] = true;
                stack.push(pool[p].source.clone());
            }
        }
    }
    pool.iter()
        .zip(need)
        .filter_map(|(f, n)| n.then_some(f))
        .collect()
}

/// A point `x = [..], n = N` from a failure message.
pub fn point(msg: &str) -> Option<(Vec<f64>, i64)> {
    let rest = &msg[msg.find("x = [")? + 5..];
    let end = rest.find(']')?;
    let x = rest[..end]
        .split(',')
        .map(|v| v.trim().parse().ok())
        .collect::<Option<Vec<f64>>>()?;
    let rest = &rest[end..];
    let n = rest[rest.find("n = ")? + 4..]
        .split(|c: char| !c.is_ascii_digit() && c != '-')
        .next()?
        .parse()
        .ok()?;
    Some((x, n))
}

/// What the regression test is about.
pub struct Regression<'a> {
    pub seed: u64,
    /// The original function (its index names the test).
    pub index: usize,
    pub target: &'a GenFn,
    pub callees: &'a [&'a GenFn],
    /// The failure, as the checker reported it.
    pub failure: &'a str,
    pub point: Option<(Vec<f64>, i64)>,
    pub planted: bool,
    pub summary: &'a str,
}

/// A standalone integration test: the functions, and a test that checks the
/// gradient at the failing point against the same Richardson-extrapolated
/// central difference and tolerance as the differential test (and, for a
/// polynomial function, against its exact gradient).
pub fn regression_test(r: &Regression) -> String {
    let f = r.target;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "//! Regression test found by tests/differential.rs (seed {}, function f{}).\n//!\n//! {}\n//!\n//! The failure:\n//! {}\n",
        r.seed,
        r.index,
        r.summary,
        r.failure.replace('\n', "\n//! ")
    );
    s.push_str("#![allow(unused, unused_qualifications, clippy::all)]\n\n");
    s.push_str("use autodiff::{grad, relu, sigmoid, softplus};\n\n");
    for c in r.callees {
        s.push_str(&c.source);
        s.push('\n');
    }
    s.push_str(&f.source);
    s.push_str(FD_CHECK);
    let floats = f.num_floats();
    let (x, n) = r
        .point
        .clone()
        .filter(|(x, _)| x.len() == floats)
        .unwrap_or_else(|| ((0..floats).map(|i| 0.75 - 0.5 * i as f64).collect(), 2));
    let xs: Vec<String> = x.iter().map(|v| format!("{v:?}")).collect();
    let gs: Vec<String> = (0..f.wrt.len()).map(|j| format!("g{j}")).collect();
    let pat = if gs.len() == 1 {
        gs[0].clone()
    } else {
        format!("({})", gs.join(", "))
    };
    let wrt: Vec<String> = f.wrt.iter().map(usize::to_string).collect();
    let args = generate::call_args(f);
    let _ = writeln!(
        s,
        "\n#[test]\nfn regression_seed{}_f{}() {{",
        r.seed, r.index
    );
    let _ = writeln!(
        s,
        "    let x: &[f64] = &[{}];\n    let n: i64 = {n};",
        xs.join(", ")
    );
    let _ = writeln!(s, "    let f = |x: &[f64], n: i64| {}({args});", f.name);
    let _ = writeln!(
        s,
        "    let (v, {pat}) = {}_grad({args});\n    let mut g = [{}];",
        f.name,
        gs.join(", ")
    );
    if r.planted {
        s.push_str(
            "    // Planted failure (AUTODIFF_DIFF_PLANT): the gradient as the checker saw it.\n    \
             if std::env::var_os(\"AUTODIFF_DIFF_PLANT\").is_some() {\n        \
             g.iter_mut().for_each(|g| *g *= 1.0 + 1e-3);\n    }\n",
        );
    }
    let _ = writeln!(
        s,
        "    assert_eq!(v.to_bits(), f(x, n).to_bits(), \"value of {}_grad\");",
        f.name
    );
    // Exact expectations at their own points, if the target is polynomial.
    for e in &f.exact {
        let ex: Vec<String> = e.x.iter().map(|v| format!("{v:?}")).collect();
        let eg: Vec<String> = e.grad.iter().map(|v| format!("{v:?}")).collect();
        let _ = writeln!(
            s,
            "    {{\n        let x: &[f64] = &[{}];\n        let (v, {pat}) = {}_grad({args});\n        \
             let mut g = [{}];",
            ex.join(", "),
            f.name,
            gs.join(", ")
        );
        if r.planted {
            s.push_str(
                "        if std::env::var_os(\"AUTODIFF_DIFF_PLANT\").is_some() {\n            \
                 g.iter_mut().for_each(|g| *g *= 1.0 + 1e-3);\n        }\n",
            );
        }
        let _ = writeln!(
            s,
            "        assert_eq!((v, g), ({:?}, [{}]), \"exact value and gradient at {{x:?}}\");\n    }}",
            e.value,
            eg.join(", ")
        );
    }
    let _ = writeln!(
        s,
        "    for (j, &k) in [{}].iter().enumerate() {{\n        check_component(f, x, n, k, g[j]);\n    }}\n}}",
        wrt.join(", ")
    );
    s
}

/// The finite-difference check of the differential test, for one component.
const FD_CHECK: &str = r#"
/// Central difference along `k` with step `h`.
fn central(f: impl Fn(&[f64], i64) -> f64, x: &[f64], n: i64, k: usize, h: f64) -> f64 {
    let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
    xp[k] = x[k] + h;
    xm[k] = x[k] - h;
    (f(&xp, n) - f(&xm, n)) / (xp[k] - xm[k])
}

/// `g` against the Richardson-extrapolated central difference (steps h/2,
/// h; checked against h, 2h), relative error at most 1e-6.
fn check_component(f: impl Fn(&[f64], i64) -> f64 + Copy, x: &[f64], n: i64, k: usize, g: f64) {
    let fx = f(x, n);
    let h = 1e-4 * x[k].abs().max(1.0);
    let (d0, d1, d2) = (central(f, x, n, k, 0.5 * h), central(f, x, n, k, h), central(f, x, n, k, 2.0 * h));
    let floor = 1e-3 * (1.0 + fx.abs());
    let fd = (4.0 * d0 - d1) / 3.0;
    let coarse = (4.0 * d1 - d2) / 3.0;
    assert!(
        (fd - coarse).abs() <= 1e-6 * fd.abs().max(coarse.abs()).max(floor),
        "d/dx{k}: finite differences disagree ({fd} vs {coarse}): not comparable here"
    );
    let err = (g - fd).abs() / g.abs().max(fd.abs()).max(floor);
    assert!(err <= 1e-6, "d/dx{k} at {x:?}, n = {n}: gradient {g}, finite difference {fd} (relative error {err:.1e})");
}
"#;

/// A candidate with `src` as the source of a copy of `f`.
pub fn with_source(f: &GenFn, src: String) -> GenFn {
    let mut g = f.clone();
    g.source = src;
    // The exact expectations belong to the original expression tree.
    g.poly = None;
    g.exact.clear();
    g
}
