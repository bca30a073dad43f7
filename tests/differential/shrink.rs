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
//! A body with branches, loops or local arrays, which that parser does not
//! read, is reduced line by line instead (`structural`): dead `let`s
//! removed, lines and blocks deleted, loops replaced by their body and
//! `if`s by a branch, subexpressions of right-hand sides replaced by a
//! parameter, `0.5` or one of their operands.
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

/// Longest first, so that `..=` is one token and `..` another.
const PUNCTS: &[&str] = &[
    "..=", "::", "->", "+=", "-=", "*=", "/=", "..", "=>", "==", "!=", "<=", ">=", "&&", "||", "(",
    ")", "{", "}", "[", "]", "#", ",", ";", ":", ".", "+", "-", "*", "/", "=", "<", ">", "|", "&",
    "!", "%",
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
    /// `a[i]`: an element, replaced whole; its (integer) index is kept.
    Index(Box<Ex>, Box<Ex>),
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
        loop {
            if self.eat(".").is_some() {
                let m = self.ident()?;
                self.eat("(")?;
                let args = self.args()?;
                e = Ex::Method(Box::new(e), m, args);
            } else if self.eat("[").is_some() {
                let i = self.expr(0)?;
                self.eat("]")?;
                e = Ex::Index(Box::new(e), Box::new(i));
            } else {
                return Some(e);
            }
        }
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
        Ex::Index(a, i) => format!("{}[{}]", pe(a), pe(i)),
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
        Ex::Lit(_) | Ex::Path(_) | Ex::Index(..) => vec![],
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
        Ex::Lit(_) | Ex::Path(_) | Ex::Index(..) => {}
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

/// The first differentiated `f64` parameter of `f`, if any: what a
/// subexpression may be replaced by.
fn first_param(f: &GenFn) -> Option<String> {
    f.offsets()
        .into_iter()
        .find(|(at, p)| p.kind == Kind::Float && f.wrt.contains(at))
        .map(|(_, p)| p.name.clone())
}

/// The syntactic candidates for `src` (the function `f`), most reducing
/// first.
pub fn candidates(f: &GenFn) -> Vec<String> {
    let Some(func) = parse(&f.source) else {
        return structural::candidates(f, first_param(f));
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
    let param = first_param(f);
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

/// Candidates for bodies with branches and loops, which the parser above
/// does not read. The generator writes one statement per line, a block's
/// head ending in `{` and its end starting with `}` (`}`, `};`, `} else {`),
/// so the body is read as lines nested by their braces, and reduced by:
/// removing every `let` whose variable only its own assignments mention (and
/// then empty loops and `if`s); deleting a line or a whole block;
/// replacing a loop by its body (the variable bound to the range's start)
/// or an `if` by one of its branches; dropping an `else`; and replacing a
/// subexpression of a statement's right-hand side by a parameter or `0.5`.
/// Candidates are ordered by size, smallest first, after the dead-code one.
mod structural {
    use super::{Ex, GenFn, Parser, Pos, Tok, count, is_leaf, lex, pe, walk_ex};

    use std::fmt::Write as _;

    #[derive(Clone, Debug, PartialEq)]
    enum Item {
        Line(String),
        /// A head ending in `{`, and its parts: items and the line closing
        /// them.
        Block(String, Vec<(Vec<Item>, String)>),
    }

    #[derive(Clone, Debug, PartialEq)]
    struct Func {
        header: String,
        body: Vec<Item>,
    }

    fn parse(src: &str) -> Option<Func> {
        let lines: Vec<&str> = src.lines().collect();
        let open = lines.iter().position(|l| l.starts_with("pub fn "))?;
        if !lines[open].ends_with('{') {
            return None;
        }
        let last = lines.iter().rposition(|l| l.trim() == "}")?;
        let body: Vec<String> = lines[open + 1..last]
            .iter()
            .map(|l| l.trim().to_owned())
            .collect();
        let mut i = 0;
        let items = items(&body, &mut i)?;
        (i == body.len()).then(|| Func {
            header: lines[..=open].join("\n"),
            body: items,
        })
    }

    fn items(lines: &[String], i: &mut usize) -> Option<Vec<Item>> {
        let mut out = Vec::new();
        while *i < lines.len() && !lines[*i].starts_with('}') {
            let l = lines[*i].clone();
            *i += 1;
            if l.ends_with('{') {
                let mut parts = Vec::new();
                loop {
                    let kids = items(lines, i)?;
                    let close = lines.get(*i)?.clone();
                    *i += 1;
                    let more = close.ends_with('{');
                    parts.push((kids, close));
                    if !more {
                        break;
                    }
                }
                out.push(Item::Block(l, parts));
            } else {
                out.push(Item::Line(l));
            }
        }
        Some(out)
    }

    fn print(f: &Func) -> String {
        let mut s = f.header.clone();
        s.push('\n');
        print_items(&f.body, 1, &mut s);
        s.push_str("}\n");
        s
    }

    fn print_items(items: &[Item], depth: usize, s: &mut String) {
        let pad = "    ".repeat(depth);
        for it in items {
            match it {
                Item::Line(l) => {
                    let _ = writeln!(s, "{pad}{l}");
                }
                Item::Block(head, parts) => {
                    let _ = writeln!(s, "{pad}{head}");
                    for (kids, close) in parts {
                        print_items(kids, depth + 1, s);
                        let _ = writeln!(s, "{pad}{close}");
                    }
                }
            }
        }
    }

    /// A loop or an `if` statement (not a block or `if` with a value).
    fn is_statement(head: &str) -> bool {
        ["for ", "while ", "if ", "match "]
            .iter()
            .any(|k| head.starts_with(k))
    }

    fn tokens(s: &str) -> Vec<Tok> {
        lex(s).unwrap_or_default()
    }

    fn mentions(s: &str, name: &str) -> bool {
        tokens(s)
            .iter()
            .any(|t| matches!(t, Tok::Ident(n) if n == name))
    }

    /// The variable a line assigns or declares (`let [mut] v`, `v op= ..`,
    /// `v[..] op= ..`).
    fn target(line: &str) -> Option<String> {
        let t = tokens(line);
        let ident = |k: usize| match t.get(k) {
            Some(Tok::Ident(s)) => Some(s.clone()),
            _ => None,
        };
        let assign = |k: usize| matches!(t.get(k), Some(Tok::Punct(p)) if ["=", "+=", "-=", "*=", "/="].contains(p));
        match ident(0)?.as_str() {
            "let" => match ident(1)?.as_str() {
                "mut" => ident(2),
                n => Some(n.to_owned()),
            },
            n if assign(1) => Some(n.to_owned()),
            n if matches!(t.get(1), Some(Tok::Punct("["))) => {
                let close = t.iter().position(|x| *x == Tok::Punct("]"))?;
                assign(close + 1).then(|| n.to_owned())
            }
            _ => None,
        }
    }

    /// Every line of `items` (heads and closing lines too).
    fn all_lines(items: &[Item], out: &mut Vec<(String, bool)>) {
        for it in items {
            match it {
                Item::Line(l) => out.push((l.clone(), true)),
                Item::Block(h, parts) => {
                    out.push((h.clone(), false));
                    for (kids, close) in parts {
                        all_lines(kids, out);
                        out.push((close.clone(), false));
                    }
                }
            }
        }
    }

    /// Removes the lines (not the last top-level item) that assign `name`.
    fn remove_assigns(items: &mut Vec<Item>, name: &str, top: bool) {
        let keep_last = top && !items.is_empty();
        let n = items.len();
        let mut k = 0;
        items.retain(|it| {
            k += 1;
            !(matches!(it, Item::Line(l) if target(l).as_deref() == Some(name))
                && !(keep_last && k == n))
        });
        for it in items.iter_mut() {
            if let Item::Block(_, parts) = it {
                for (kids, _) in parts {
                    remove_assigns(kids, name, false);
                }
            }
        }
    }

    /// Removes loops and `if`s with nothing left in them.
    fn remove_empty(items: &mut Vec<Item>) {
        for it in items.iter_mut() {
            if let Item::Block(_, parts) = it {
                for (kids, _) in parts {
                    remove_empty(kids);
                }
            }
        }
        items.retain(|it| {
            !matches!(it, Item::Block(h, parts)
                if is_statement(h) && !h.starts_with("while ") && parts.iter().all(|(k, _)| k.is_empty()))
        });
    }

    /// Removes every `let` variable that only its own assignments mention.
    fn dead_code(body: &[Item]) -> Vec<Item> {
        let mut body = body.to_vec();
        loop {
            let mut lines = Vec::new();
            all_lines(&body, &mut lines);
            let last = body.last().cloned();
            let dead = lines.iter().find_map(|(l, _)| {
                let name = target(l).filter(|_| l.starts_with("let "))?;
                let only_own = lines.iter().all(|(m, is_line)| {
                    !mentions(m, &name) || *is_line && target(m).as_deref() == Some(name.as_str())
                });
                let in_tail = matches!(&last, Some(Item::Line(t)) if mentions(t, &name));
                (only_own && !in_tail).then_some(name)
            });
            let Some(name) = dead else {
                break;
            };
            remove_assigns(&mut body, &name, true);
            remove_empty(&mut body);
        }
        body
    }

    /// Applies `f` to the list holding the `target`-th item (pre-order) and
    /// its index there.
    fn edit(
        items: &mut Vec<Item>,
        target: usize,
        next: &mut usize,
        f: &mut dyn FnMut(&mut Vec<Item>, usize),
    ) -> bool {
        for k in 0..items.len() {
            if *next == target {
                f(items, k);
                return true;
            }
            *next += 1;
            if let Item::Block(_, parts) = &mut items[k] {
                for (kids, _) in parts {
                    if edit(kids, target, next, f) {
                        return true;
                    }
                }
            }
        }
        false
    }

    fn apply(func: &Func, target: usize, f: &mut dyn FnMut(&mut Vec<Item>, usize)) -> Func {
        let mut out = func.clone();
        edit(&mut out.body, target, &mut 0, f);
        out
    }

    fn has_jump(items: &[Item]) -> bool {
        items.iter().any(|it| match it {
            Item::Line(l) => l.starts_with("break") || l.starts_with("continue"),
            Item::Block(_, parts) => parts.iter().any(|(k, _)| has_jump(k)),
        })
    }

    /// The statement a loop head binds its variable with, when the loop is
    /// replaced by its body.
    fn binding(head: &str) -> Option<Option<String>> {
        let rest = head.strip_prefix("for ")?.strip_suffix('{')?.trim();
        let (pat, range) = rest.split_once(" in ")?;
        if pat == "_" {
            return Some(None);
        }
        if let Some(v) = pat.strip_prefix('&') {
            let vec = range.strip_suffix(".iter()")?;
            return Some(Some(format!("let {v} = {vec}[0];")));
        }
        let lo = range.split("..").next()?.trim();
        Some(Some(format!("let {pat} = {lo};")))
    }

    /// The right-hand side of a line: (text before it, it, text after it).
    fn rhs(line: &str, tail: bool) -> Option<(String, String, String)> {
        if let Some(e) = line
            .strip_prefix("return ")
            .and_then(|e| e.strip_suffix(';'))
        {
            return Some(("return ".into(), e.into(), ";".into()));
        }
        if tail {
            return Some((String::new(), line.to_owned(), String::new()));
        }
        let body = line.strip_suffix(';')?;
        for op in [" = ", " += ", " -= ", " *= ", " /= "] {
            if let Some((lhs, e)) = body.split_once(op) {
                if lhs.contains(['(', '{']) {
                    return None;
                }
                return Some((format!("{lhs}{op}"), e.into(), ";".into()));
            }
        }
        None
    }

    pub fn candidates(f: &GenFn, param: Option<String>) -> Vec<String> {
        let Some(func) = parse(&f.source) else {
            return Vec::new();
        };
        let mut out: Vec<String> = Vec::new();
        let dce = Func {
            header: func.header.clone(),
            body: dead_code(&func.body),
        };
        if dce != func {
            out.push(print(&dce));
        }
        let mut more: Vec<Func> = Vec::new();
        // Every item, in pre-order: (its list is the top level, it is the
        // last item of its list, it is in a value block's part).
        let mut info: Vec<(Item, bool, bool)> = Vec::new();
        fn collect(items: &[Item], top: bool, value: bool, info: &mut Vec<(Item, bool, bool)>) {
            for (k, it) in items.iter().enumerate() {
                let last = k + 1 == items.len();
                info.push((it.clone(), top && last, value && last));
                if let Item::Block(h, parts) = it {
                    for (kids, _) in parts {
                        collect(kids, false, !is_statement(h), info);
                    }
                }
            }
        }
        collect(&func.body, true, false, &mut info);
        for (t, (item, tail, value_tail)) in info.iter().enumerate() {
            if !tail && !value_tail {
                more.push(apply(&func, t, &mut |l, k| {
                    l.remove(k);
                }));
            }
            if let Item::Block(head, parts) = item
                && is_statement(head)
            {
                if let Some(bind) = binding(head)
                    && !has_jump(&parts[0].0)
                {
                    let mut kids: Vec<Item> = bind.into_iter().map(Item::Line).collect();
                    kids.extend(parts[0].0.iter().cloned());
                    more.push(apply(&func, t, &mut |l, k| {
                        l.splice(k..=k, kids.clone());
                    }));
                }
                if head.starts_with("if ") {
                    for (kids, _) in parts {
                        more.push(apply(&func, t, &mut |l, k| {
                            l.splice(k..=k, kids.clone());
                        }));
                    }
                    if parts.len() > 1 {
                        let mut first = parts[0].clone();
                        first.1 = parts.last().unwrap().1.clone();
                        more.push(apply(&func, t, &mut |l, k| {
                            l[k] = Item::Block(head.clone(), vec![first.clone()]);
                        }));
                    }
                }
            }
            // Subexpressions of a right-hand side, largest first.
            let Item::Line(line) = item else {
                continue;
            };
            let Some((pre, e, post)) = rhs(line, *tail || *value_tail) else {
                continue;
            };
            let Some(t_ex) = lex(&e) else {
                continue;
            };
            let mut p = Parser { t: t_ex, i: 0 };
            let Some(ex) = p.expr(0).filter(|_| p.i == p.t.len()) else {
                continue;
            };
            let mut nodes: Vec<(usize, usize, Pos)> = Vec::new();
            let mut probe = ex.clone();
            walk_ex(&mut probe, Pos::Any, &mut 0, &mut |id, pos, e| {
                if !is_leaf(e) {
                    nodes.push((count(e), id, pos));
                }
            });
            for &(_, node, pos) in &nodes {
                let mut with: Vec<Ex> = Vec::new();
                if pos != Pos::Cast
                    && let Some(p) = &param
                {
                    with.push(Ex::Path(p.clone()));
                }
                if pos != Pos::Receiver {
                    with.push(Ex::Path("0.5".into()));
                }
                // Or one of its operands in its place (`a.ln()` → `a`).
                walk_ex(&mut ex.clone(), Pos::Any, &mut 0, &mut |id, _, e| {
                    if id == node && !matches!(e, Ex::Cast(..) | Ex::Block(_)) {
                        for c in super::children(e) {
                            let c = match c {
                                Ex::Paren(inner) => &**inner,
                                c => c,
                            };
                            let atomic = matches!(
                                c,
                                Ex::Path(_) | Ex::Index(..) | Ex::Call(..) | Ex::Method(..)
                            );
                            match c {
                                // An integer (`powi`'s exponent) is no float.
                                Ex::Lit(l) if !l.contains('.') => {}
                                Ex::Lit(_) if pos == Pos::Receiver => {}
                                Ex::Lit(_) => with.push(c.clone()),
                                _ if atomic => with.push(c.clone()),
                                _ => with.push(Ex::Paren(Box::new(c.clone()))),
                            }
                        }
                    }
                });
                for w in with {
                    let mut ex2 = ex.clone();
                    walk_ex(&mut ex2, Pos::Any, &mut 0, &mut |id, _, e| {
                        if id == node {
                            *e = w.clone();
                        }
                    });
                    let new = format!("{pre}{}{post}", pe(&ex2));
                    more.push(apply(&func, t, &mut |l, k| {
                        l[k] = Item::Line(new.clone());
                    }));
                }
            }
        }
        let mut more: Vec<String> = more.iter().map(print).collect();
        more.sort_by_key(|s| super::size(s));
        more.dedup();
        out.extend(more);
        out
    }
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
        let t = lex(&s).unwrap_or_default();
        // Called: followed by `(` (`f64::tanh(..)` names the type `f64`,
        // not the function `f64`).
        for (t, next) in t.iter().zip(t.iter().skip(1)) {
            if let Tok::Ident(name) = t
                && *next == Tok::Punct("(")
                && name != own
                && let Some(p) = pool.iter().position(|f| f.name == *name)
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
    let gs: Vec<String> = (0..f.differentiated().len())
        .map(|j| format!("g{j}"))
        .collect();
    let (pat, flat) = generate::grad_pattern(f);
    // An array (compared with the exact gradient of a polynomial), or with a
    // slice parameter a `Vec` of all the components.
    let grads = if !f.params.iter().any(|p| matches!(p.kind, Kind::Slice(_))) {
        format!("[{}]", gs.join(", "))
    } else {
        flat
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
        "    let (v, {pat}) = {}_grad({args});\n    let mut g = {grads};",
        f.name,
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
