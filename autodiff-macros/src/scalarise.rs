//! Tuples and small arrays as values, syn → syn: the last rewrite of
//! `desugar`. A local that holds a tuple or array literal becomes one local
//! per component, and destructuring `let`s become one `let` per name, so
//! `lower` sees floats only.
//!
//! ```text
//! destructuring   let (a, b) = (x * 2.0, y.sin());    ->  let a = x * 2.0; let b = y.sin();
//! a swap          let (a, b) = (b, a);                ->  let __ad_v1 = b; let __ad_v2 = a; let a = __ad_v1; let b = __ad_v2;
//! a tuple local   let mut s = (x, 0.0); s.1 += s.0;   ->  let mut s_0 = x; let mut s_1 = 0.0; s_1 += s_0;
//! an array local  let mut q = [x, v]; q = [q[1], q[0]]; ->  … q_0 = …; q_1 = …;
//! sin_cos         let (s, c) = t.sin_cos();           ->  let s = t.sin(); let c = t.cos();
//! a projection    let (r, t) = f(x);                  ->  let __ad_t1 = f(x); let r = __ad_t1.0; let t = __ad_t1.1;
//! ```
//!
//! A scalarised local read whole (`s`, as a function's result or an
//! argument) is built again there, `(s_0, s_1)`, which `lower` differentiates
//! as a tuple or array of its components. The pass does not know types:
//! what it cannot split (a call, a `match`) is bound once and read by field
//! or index. Where a pattern or a value has a shape it cannot follow, the
//! `let` is left as written and `lower` reports it.

use proc_macro2::Span;
use std::collections::HashMap;
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Expr, Ident, Pat, Stmt, Type, parse_quote};

/// The most elements an array literal may have to be split into locals.
const ARRAY_MAX: usize = 16;

/// Rewrites `block` in place; `taken` holds every name the body mentions and
/// every name given out so far, `next` the counter of fresh names.
pub fn block(block: &mut syn::Block, taken: &mut Vec<String>, next: &mut usize) {
    let mut pass = Scalarise {
        taken,
        next,
        scopes: vec![HashMap::new()],
    };
    pass.visit_block_mut(block);
}

/// The locals that hold a scalarised local's components.
#[derive(Clone)]
enum Shape {
    Leaf(Ident),
    Group { array: bool, parts: Vec<Shape> },
}

/// What an assignment writes.
enum Target {
    Place(Expr),
    Wild,
    Group { array: bool, parts: Vec<Target> },
}

/// A value split into its components, as far as its syntax shows them.
enum Value {
    Leaf(Expr),
    Group { array: bool, parts: Vec<Value> },
}

/// One `let` of the rewrite: `let pat: ty = value;`. `internal` for the
/// pass's own temporaries, which no user name can clash with.
struct Binding {
    pat: Pat,
    ty: Option<Type>,
    value: Expr,
    internal: bool,
}

struct Scalarise<'a> {
    taken: &'a mut Vec<String>,
    next: &'a mut usize,
    /// User name → its components, innermost scope last; `None` where a
    /// plain binding shadows a scalarised one.
    scopes: Vec<HashMap<String, Option<Shape>>>,
}

impl Scalarise<'_> {
    fn fresh(&mut self, base: &str, span: Span) -> Ident {
        if !self.taken.iter().any(|name| name == base) {
            self.taken.push(base.to_owned());
            return Ident::new(base, span);
        }
        *self.next += 1;
        let name = format!("__ad_{}{}", base, self.next);
        self.taken.push(name.clone());
        Ident::new(&name, span)
    }

    fn lookup(&self, name: &str) -> Option<&Shape> {
        self.scopes
            .iter()
            .rev()
            .find_map(|scope| scope.get(name))
            .and_then(Option::as_ref)
    }

    fn shadow(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        super::desugar::pattern_names(pat, &mut names);
        let scope = self.scopes.last_mut().expect("there is always a scope");
        for name in names {
            scope.insert(name.to_string(), None);
        }
    }

    /// The components a place names: `s`, `s.0`, `q[1]`, `p.0.1`.
    fn resolve(&self, expr: &Expr) -> Option<(Shape, Span)> {
        match expr {
            Expr::Paren(inner) => self.resolve(&inner.expr),
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                let ident = path.path.get_ident()?;
                Some((self.lookup(&ident.to_string())?.clone(), ident.span()))
            }
            Expr::Field(field) => {
                let syn::Member::Unnamed(index) = &field.member else {
                    return None;
                };
                match self.resolve(&field.base)? {
                    (
                        Shape::Group {
                            array: false,
                            parts,
                        },
                        _,
                    ) => Some((parts.get(index.index as usize)?.clone(), index.span)),
                    _ => None,
                }
            }
            Expr::Index(index) => {
                let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(k),
                    ..
                }) = &*index.index
                else {
                    return None;
                };
                let k: usize = k.base10_parse().ok()?;
                match self.resolve(&index.expr)? {
                    (Shape::Group { array: true, parts }, span) => {
                        Some((parts.get(k)?.clone(), span))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The value `split` takes for a scalarised local read whole.
    fn shape_value(shape: &Shape, span: Span) -> Value {
        match shape {
            Shape::Leaf(ident) => {
                let ident = Ident::new(&ident.to_string(), span);
                Value::Leaf(parse_quote!(#ident))
            }
            Shape::Group { array, parts } => Value::Group {
                array: *array,
                parts: parts
                    .iter()
                    .map(|part| Self::shape_value(part, span))
                    .collect(),
            },
        }
    }

    // Input:  (a, (b, c))    [x, v]    [0.0; 2]    t.sin_cos()    s (scalarised)
    // Output: the components, each rewritten; a leaf where nothing splits
    fn split(&mut self, expr: &Expr, internals: &mut Vec<Binding>) -> Value {
        if let Some((shape, span)) = self.resolve(expr) {
            return Self::shape_value(&shape, span);
        }
        match expr {
            Expr::Paren(inner) if inner.attrs.is_empty() => self.split(&inner.expr, internals),
            Expr::Tuple(tuple) if tuple.elems.len() >= 2 && tuple.attrs.is_empty() => {
                Value::Group {
                    array: false,
                    parts: tuple
                        .elems
                        .iter()
                        .map(|elem| self.split(elem, internals))
                        .collect(),
                }
            }
            Expr::Array(array)
                if (1..=ARRAY_MAX).contains(&array.elems.len()) && array.attrs.is_empty() =>
            {
                Value::Group {
                    array: true,
                    parts: array
                        .elems
                        .iter()
                        .map(|elem| self.split(elem, internals))
                        .collect(),
                }
            }
            // [0.0; 2]
            Expr::Repeat(repeat)
                if matches!(&*repeat.expr, Expr::Lit(_))
                    && matches!(&*repeat.len, Expr::Lit(syn::ExprLit { lit: syn::Lit::Int(n), .. })
                        if n.base10_parse::<usize>().is_ok_and(|n| (1..=ARRAY_MAX).contains(&n))) =>
            {
                let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) = &*repeat.len
                else {
                    unreachable!("checked by the guard")
                };
                let n: usize = n.base10_parse().expect("checked by the guard");
                Value::Group {
                    array: true,
                    parts: (0..n)
                        .map(|_| Value::Leaf((*repeat.expr).clone()))
                        .collect(),
                }
            }
            // t.sin_cos(): std's is `(self.sin(), self.cos())`.
            Expr::MethodCall(call)
                if call.method == "sin_cos" && call.args.is_empty() && call.turbofish.is_none() =>
            {
                let mut recv = (*call.receiver).clone();
                self.visit_expr_mut(&mut recv);
                let recv: Expr = match &recv {
                    Expr::Path(_) | Expr::Lit(_) => recv,
                    _ => {
                        let temp = self.fresh("t", call.method.span());
                        internals.push(Binding {
                            pat: parse_quote!(#temp),
                            ty: None,
                            value: recv,
                            internal: true,
                        });
                        parse_quote!(#temp)
                    }
                };
                let sin = Ident::new("sin", call.method.span());
                let cos = Ident::new("cos", call.method.span());
                Value::Group {
                    array: false,
                    parts: vec![
                        Value::Leaf(parse_quote!(#recv.#sin())),
                        Value::Leaf(parse_quote!(#recv.#cos())),
                    ],
                }
            }
            _ => {
                let mut expr = expr.clone();
                self.visit_expr_mut(&mut expr);
                Value::Leaf(expr)
            }
        }
    }

    /// A value as one expression again: `(a, b)`, `[x, v]`.
    fn value_expr(value: Value) -> Expr {
        match value {
            Value::Leaf(expr) => expr,
            Value::Group { array, parts } => {
                let parts: Vec<Expr> = parts.into_iter().map(Self::value_expr).collect();
                if array {
                    parse_quote!([#(#parts),*])
                } else {
                    parse_quote!((#(#parts),*))
                }
            }
        }
    }

    /// `expr` as something to read several times: itself if a name, else a
    /// temporary bound first.
    fn reusable(&mut self, expr: Expr, bindings: &mut Vec<Binding>) -> Expr {
        if matches!(expr, Expr::Path(_)) {
            return expr;
        }
        let temp = self.fresh("t", expr.span());
        bindings.push(Binding {
            pat: parse_quote!(#temp),
            ty: None,
            value: expr,
            internal: true,
        });
        parse_quote!(#temp)
    }

    /// Component `k` of `base`: `base.k` or `base[k]`.
    fn project(base: &Expr, array: bool, k: usize, span: Span) -> Expr {
        if array {
            let k = syn::LitInt::new(&k.to_string(), span);
            parse_quote!(#base[#k])
        } else {
            let member = syn::Member::Unnamed(syn::Index {
                index: u32::try_from(k).expect("a tuple has few fields"),
                span,
            });
            parse_quote!(#base.#member)
        }
    }

    /// `value` as `n` components: its parts, or projections of it.
    fn parts(
        &mut self,
        value: Value,
        array: bool,
        n: Option<usize>,
        span: Span,
        bindings: &mut Vec<Binding>,
    ) -> Option<Vec<Value>> {
        match value {
            Value::Group { array: a, parts } if a == array => Some(parts),
            Value::Group { .. } => None,
            Value::Leaf(expr) => {
                let n = n?;
                let base = self.reusable(expr, bindings);
                Some(
                    (0..n)
                        .map(|k| Value::Leaf(Self::project(&base, array, k, span)))
                        .collect(),
                )
            }
        }
    }

    // Input:  a pattern, its type, the value split
    // Output: the `let`s binding its names (`None`: a shape not followed)
    //         and, for a name that holds a group, its components
    fn bind(
        &mut self,
        pat: &Pat,
        ty: Option<&Type>,
        value: Value,
        bindings: &mut Vec<Binding>,
        shapes: &mut Vec<(Ident, Option<Shape>)>,
    ) -> Option<()> {
        match pat {
            Pat::Type(typed) => self.bind(&typed.pat, Some(&typed.ty), value, bindings, shapes),
            Pat::Paren(inner) => self.bind(&inner.pat, ty, value, bindings, shapes),
            Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none() => {
                let shape = self.bind_name(ident, ty, value, bindings, false)?;
                shapes.push((
                    ident.ident.clone(),
                    match shape {
                        Shape::Leaf(_) => None,
                        group => Some(group),
                    },
                ));
                Some(())
            }
            Pat::Wild(_) => {
                match value {
                    // Nothing to compute.
                    Value::Leaf(Expr::Path(_) | Expr::Lit(_)) => {}
                    Value::Leaf(expr) => bindings.push(Binding {
                        pat: pat.clone(),
                        ty: ty.cloned(),
                        value: expr,
                        internal: false,
                    }),
                    Value::Group { parts, .. } => {
                        for part in parts {
                            self.bind(pat, None, part, bindings, shapes)?;
                        }
                    }
                }
                Some(())
            }
            Pat::Tuple(tuple) => {
                let elems: Vec<&Pat> = tuple.elems.iter().collect();
                self.bind_elems(&elems, false, ty, value, pat.span(), bindings, shapes)
            }
            Pat::Slice(slice) => {
                let elems: Vec<&Pat> = slice.elems.iter().collect();
                self.bind_elems(&elems, true, ty, value, pat.span(), bindings, shapes)
            }
            _ => None,
        }
    }

    // Input:  (a, .., z) against (e0, e1, e2)
    // Output: a ← e0, z ← e2, e1 computed and dropped
    #[allow(clippy::too_many_arguments)]
    fn bind_elems(
        &mut self,
        elems: &[&Pat],
        array: bool,
        ty: Option<&Type>,
        value: Value,
        span: Span,
        bindings: &mut Vec<Binding>,
        shapes: &mut Vec<(Ident, Option<Shape>)>,
    ) -> Option<()> {
        let rest = elems.iter().position(|pat| matches!(pat, Pat::Rest(_)));
        let n = if rest.is_some() {
            None
        } else {
            Some(elems.len())
        };
        let parts = self.parts(value, array, n, span, bindings)?;
        let types = component_types(ty, parts.len());
        let wild: Pat = parse_quote!(_);
        let mut pats: Vec<&Pat> = Vec::with_capacity(parts.len());
        match rest {
            None if elems.len() == parts.len() => pats.extend(elems.iter().copied()),
            Some(r) if elems.len() - 1 <= parts.len() => {
                pats.extend(elems[..r].iter().copied());
                pats.extend(std::iter::repeat_n(&wild, parts.len() + 1 - elems.len()));
                pats.extend(elems[r + 1..].iter().copied());
            }
            _ => return None,
        }
        for ((pat, part), ty) in pats.into_iter().zip(parts).zip(types) {
            self.bind(pat, ty.as_ref(), part, bindings, shapes)?;
        }
        Some(())
    }

    /// Binds one name: a leaf to the name itself, a group to fresh names
    /// `s_0`, `s_1`, … (`internal` names the pass's own).
    fn bind_name(
        &mut self,
        ident: &syn::PatIdent,
        ty: Option<&Type>,
        value: Value,
        bindings: &mut Vec<Binding>,
        internal: bool,
    ) -> Option<Shape> {
        match value {
            Value::Leaf(expr) => {
                bindings.push(Binding {
                    pat: Pat::Ident(ident.clone()),
                    ty: ty.cloned(),
                    value: expr,
                    internal,
                });
                Some(Shape::Leaf(ident.ident.clone()))
            }
            Value::Group { array, parts } => {
                let types = component_types(ty, parts.len());
                let mut shapes = Vec::new();
                for (k, (part, ty)) in parts.into_iter().zip(types).enumerate() {
                    // `r#match` → `match_0`: a component's name is never raw.
                    let base = ident.ident.to_string();
                    let base = base.trim_start_matches("r#");
                    let name = self.fresh(&format!("{base}_{k}"), ident.ident.span());
                    let component = syn::PatIdent {
                        ident: name,
                        ..ident.clone()
                    };
                    shapes.push(self.bind_name(&component, ty.as_ref(), part, bindings, true)?);
                }
                Some(Shape::Group {
                    array,
                    parts: shapes,
                })
            }
        }
    }

    /// The `let`s of `bindings`, in order; through temporaries when one
    /// value reads a name an earlier `let` of the same pattern binds
    /// (`let (a, b) = (b, a)`).
    fn lets(&mut self, bindings: Vec<Binding>) -> Vec<Stmt> {
        let mut bound: Vec<Ident> = Vec::new();
        let mut clash = false;
        for binding in &bindings {
            clash |= bound
                .iter()
                .any(|name| super::desugar::occurrences(&binding.value, name) > 0);
            if !binding.internal {
                super::desugar::pattern_names(&binding.pat, &mut bound);
            }
        }
        let mut first = Vec::new();
        let mut then = Vec::new();
        for Binding {
            pat,
            ty,
            value,
            internal,
        } in bindings
        {
            let typed = |pat: &Pat| -> Pat {
                match &ty {
                    Some(ty) => Pat::Type(syn::PatType {
                        attrs: Vec::new(),
                        pat: Box::new(pat.clone()),
                        colon_token: syn::Token![:](ty.span()),
                        ty: Box::new(ty.clone()),
                    }),
                    None => pat.clone(),
                }
            };
            if clash && !internal && !matches!(pat, Pat::Wild(_)) {
                let temp = self.fresh("v", value.span());
                let temp_pat = typed(&parse_quote!(#temp));
                first.push(parse_quote!(let #temp_pat = #value;));
                let pat = typed(&pat);
                then.push(parse_quote!(let #pat = #temp;));
            } else {
                let pat = typed(&pat);
                first.push(parse_quote!(let #pat = #value;));
            }
        }
        first.extend(then);
        first
    }

    // Input:  let (a, b) = (b, a);     let s = (x, y);     let [x, v] = state;
    // Output: the `let`s of each name, or `None` (left as written)
    fn local(&mut self, local: &syn::Local, rest: &[Stmt]) -> Option<Vec<Stmt>> {
        let init = local.init.as_ref()?;
        if init.diverge.is_some() || !local.attrs.is_empty() {
            return None;
        }
        let bare = match &local.pat {
            Pat::Type(typed) => &*typed.pat,
            pat => pat,
        };
        let destructures = matches!(bare, Pat::Tuple(_) | Pat::Slice(_) | Pat::Paren(_));
        let simple =
            matches!(bare, Pat::Ident(ident) if ident.by_ref.is_none() && ident.subpat.is_none());
        if !destructures && !simple {
            return None;
        }
        let (taken, next) = (self.taken.len(), *self.next);
        let mut bindings = Vec::new();
        let value = self.split(&init.expr, &mut bindings);
        // An array or tuple the code after indexes by a variable, hands to a
        // method or a loop, borrows, or calls an element of, stays whole
        // (`lower` knows local arrays; `[square][0](x)` is no call of a
        // function named `functions_0`).
        let indexed = |name: &Ident| rest.iter().any(|stmt| !elements_constant(stmt, name));
        if simple
            && (matches!(value, Value::Leaf(_)) || pattern_ident(&local.pat).is_some_and(indexed))
        {
            self.taken.truncate(taken);
            *self.next = next;
            return None;
        }
        let mut shapes = Vec::new();
        if self
            .bind(&local.pat, None, value, &mut bindings, &mut shapes)
            .is_none()
        {
            self.taken.truncate(taken);
            *self.next = next;
            return None;
        }
        let stmts = self.lets(bindings);
        let scope = self.scopes.last_mut().expect("there is always a scope");
        for (name, shape) in shapes {
            scope.insert(name.to_string(), shape);
        }
        Some(stmts)
    }

    // Input:  s = (s.1, s.0);   (a, b) = (b, a);   state = [x + dt * v, v - dt * k * x];
    // Output: s_0 = s_1 …, through temporaries where a value reads a
    //         place written before it
    fn assign(&mut self, target: Target, right: &Expr, span: Span) -> Vec<Stmt> {
        let mut internals = Vec::new();
        let value = self.split(right, &mut internals);
        let mut pairs = Vec::new();
        self.pair(target, value, span, &mut internals, &mut pairs);
        let mut stmts = self.lets(internals);
        let mut written: Vec<Ident> = Vec::new();
        let mut clash = false;
        for (place, value) in &pairs {
            clash |= written
                .iter()
                .any(|name| super::desugar::occurrences(value, name) > 0);
            if let Some(root) = root_ident(place) {
                written.push(root);
            }
        }
        let mut then = Vec::new();
        for (place, value) in &pairs {
            if clash {
                let temp = self.fresh("v", value.span());
                stmts.push(parse_quote!(let #temp = #value;));
                then.push(parse_quote!(#place = #temp;));
            } else {
                stmts.push(parse_quote!(#place = #value;));
            }
        }
        stmts.extend(then);
        stmts
    }

    /// What the left side of `=` writes: a scalarised local's components,
    /// or the places of a destructuring assignment `(a, b) = …`.
    fn target(&mut self, left: &Expr) -> Option<Target> {
        if let Some((shape, span)) = self.resolve(left) {
            return Some(Self::shape_target(&shape, span));
        }
        match left {
            Expr::Paren(inner) => self.target(&inner.expr),
            Expr::Infer(_) => Some(Target::Wild),
            Expr::Tuple(tuple) if tuple.elems.len() >= 2 => Some(Target::Group {
                array: false,
                parts: tuple
                    .elems
                    .iter()
                    .map(|elem| self.target(elem))
                    .collect::<Option<_>>()?,
            }),
            Expr::Array(array) if !array.elems.is_empty() => Some(Target::Group {
                array: true,
                parts: array
                    .elems
                    .iter()
                    .map(|elem| self.target(elem))
                    .collect::<Option<_>>()?,
            }),
            Expr::Path(_) | Expr::Index(_) | Expr::Field(_) => {
                let mut place = left.clone();
                self.visit_expr_mut(&mut place);
                Some(Target::Place(place))
            }
            _ => None,
        }
    }

    fn shape_target(shape: &Shape, span: Span) -> Target {
        match shape {
            Shape::Leaf(ident) => {
                let ident = Ident::new(&ident.to_string(), span);
                Target::Place(parse_quote!(#ident))
            }
            Shape::Group { array, parts } => Target::Group {
                array: *array,
                parts: parts
                    .iter()
                    .map(|part| Self::shape_target(part, span))
                    .collect(),
            },
        }
    }

    /// Each place of `target` with the value it gets.
    fn pair(
        &mut self,
        target: Target,
        value: Value,
        span: Span,
        internals: &mut Vec<Binding>,
        pairs: &mut Vec<(Expr, Expr)>,
    ) {
        match target {
            Target::Place(place) => pairs.push((place, Self::value_expr(value))),
            Target::Wild => {
                if let Value::Leaf(expr) = value
                    && !matches!(expr, Expr::Path(_) | Expr::Lit(_))
                {
                    internals.push(Binding {
                        pat: parse_quote!(_),
                        ty: None,
                        value: expr,
                        internal: true,
                    });
                }
            }
            Target::Group { array, parts } => {
                let n = parts.len();
                let values = match value {
                    Value::Group { parts: values, .. } if values.len() == n => values,
                    other => {
                        let expr = Self::value_expr(other);
                        let base = self.reusable(expr, internals);
                        (0..n)
                            .map(|k| Value::Leaf(Self::project(&base, array, k, span)))
                            .collect()
                    }
                };
                for (part, value) in parts.into_iter().zip(values) {
                    self.pair(part, value, span, internals, pairs);
                }
            }
        }
    }

    /// Before a macro that names scalarised locals: `let s = (s_0, s_1);`,
    /// the value the macro reads.
    fn rebuild_for_macro(&self, tokens: &proc_macro2::TokenStream) -> Vec<Stmt> {
        let mut names = Vec::new();
        for scope in &self.scopes {
            for name in scope.keys() {
                if !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        let mut stmts = Vec::new();
        for name in names {
            if let Some(shape) = self.lookup(&name)
                && let Some(ident) = find_ident(tokens.clone(), &name)
            {
                let value = Self::value_expr(Self::shape_value(shape, ident.span()));
                stmts.push(parse_quote!(let #ident = #value;));
            }
        }
        stmts
    }
}

/// The name a plain `let` binds.
fn pattern_ident(pat: &Pat) -> Option<&Ident> {
    match pat {
        Pat::Type(typed) => pattern_ident(&typed.pat),
        Pat::Ident(ident) => Some(&ident.ident),
        _ => None,
    }
}

/// Whether `stmt` reads array or tuple `name` only whole or at constant
/// indices (`q`, `q[1]`, `q[1] = …`, `s.0`), never `q[i]`, `q.len()`, `&q`,
/// `for v in q` or `q[0](x)`.
fn elements_constant(stmt: &Stmt, name: &Ident) -> bool {
    struct Uses<'a> {
        name: &'a Ident,
        fine: bool,
    }
    impl Uses<'_> {
        fn is_name(&self, expr: &Expr) -> bool {
            matches!(expr, Expr::Path(path) if path.path.is_ident(self.name))
        }
    }
    impl<'ast> syn::visit::Visit<'ast> for Uses<'_> {
        fn visit_expr(&mut self, expr: &'ast Expr) {
            match expr {
                Expr::Index(index) if self.is_name(&index.expr) => {
                    self.fine &= matches!(&*index.index, Expr::Lit(_));
                    self.visit_expr(&index.index);
                }
                Expr::MethodCall(call) if self.is_name(&call.receiver) => self.fine = false,
                Expr::Reference(reference) if self.is_name(&reference.expr) => self.fine = false,
                Expr::ForLoop(for_loop) if self.is_name(&for_loop.expr) => self.fine = false,
                Expr::Call(call) if super::desugar::occurrences(&call.func, self.name) > 0 => {
                    self.fine = false;
                }
                _ => syn::visit::visit_expr(self, expr),
            }
        }
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut uses = Uses { name, fine: true };
    syn::visit::Visit::visit_stmt(&mut uses, stmt);
    uses.fine
}

/// The local a place writes: `a` of `a`, `v[i]`, `p.0`.
fn root_ident(place: &Expr) -> Option<Ident> {
    match place {
        Expr::Path(path) => path.path.get_ident().cloned(),
        Expr::Index(index) => root_ident(&index.expr),
        Expr::Field(field) => root_ident(&field.base),
        Expr::Paren(inner) => root_ident(&inner.expr),
        _ => None,
    }
}

/// The first `name` in `tokens`, with its span.
fn find_ident(tokens: proc_macro2::TokenStream, name: &str) -> Option<Ident> {
    tokens.into_iter().find_map(|tree| match tree {
        proc_macro2::TokenTree::Ident(ident) if ident == name => Some(ident),
        proc_macro2::TokenTree::Group(group) => find_ident(group.stream(), name),
        _ => None,
    })
}

/// The types of a tuple's or array's components, when `ty` spells them.
fn component_types(ty: Option<&Type>, n: usize) -> Vec<Option<Type>> {
    match ty {
        Some(Type::Tuple(tuple)) if tuple.elems.len() == n => {
            tuple.elems.iter().cloned().map(Some).collect()
        }
        Some(Type::Array(array)) => vec![Some((*array.elem).clone()); n],
        Some(Type::Paren(inner)) => component_types(Some(&inner.elem), n),
        _ => vec![None; n],
    }
}

impl VisitMut for Scalarise<'_> {
    fn visit_block_mut(&mut self, block: &mut syn::Block) {
        self.scopes.push(HashMap::new());
        let mut stmts = Vec::with_capacity(block.stmts.len());
        let old = std::mem::take(&mut block.stmts);
        for (index, mut stmt) in old.iter().cloned().enumerate() {
            match &mut stmt {
                Stmt::Local(local) => {
                    if let Some(lets) = self.local(local, &old[index + 1..]) {
                        stmts.extend(lets);
                        continue;
                    }
                    if let Some(init) = &mut local.init {
                        self.visit_expr_mut(&mut init.expr);
                        if let Some((_, diverge)) = &mut init.diverge {
                            self.visit_expr_mut(diverge);
                        }
                    }
                    self.shadow(&local.pat);
                }
                // s = (s.1, s.0);   (a, b) = (b, a);
                Stmt::Expr(Expr::Assign(assign), Some(_))
                    if matches!(self.resolve(&assign.left), Some((Shape::Group { .. }, _)))
                        || matches!(&*assign.left, Expr::Tuple(_) | Expr::Array(_)) =>
                {
                    let (taken, next) = (self.taken.len(), *self.next);
                    if let Some(target) = self.target(&assign.left) {
                        let span = assign.left.span();
                        stmts.extend(self.assign(target, &assign.right, span));
                        continue;
                    }
                    self.taken.truncate(taken);
                    *self.next = next;
                    self.visit_stmt_mut(&mut stmt);
                }
                Stmt::Macro(mac) => {
                    stmts.extend(self.rebuild_for_macro(&mac.mac.tokens));
                }
                Stmt::Expr(Expr::Macro(mac), _) => {
                    stmts.extend(self.rebuild_for_macro(&mac.mac.tokens));
                }
                _ => self.visit_stmt_mut(&mut stmt),
            }
            stmts.push(stmt);
        }
        block.stmts = stmts;
        self.scopes.pop();
    }

    fn visit_expr_mut(&mut self, expr: &mut Expr) {
        if let Some((shape, span)) = self.resolve(expr) {
            *expr = Self::value_expr(Self::shape_value(&shape, span));
            return;
        }
        // t.sin_cos().0 -> t.sin()
        if let Expr::Field(field) = expr
            && let syn::Member::Unnamed(index) = &field.member
            && index.index < 2
            && let Expr::MethodCall(call) = &*field.base
            && call.method == "sin_cos"
            && call.args.is_empty()
        {
            let method = Ident::new(
                if index.index == 0 { "sin" } else { "cos" },
                call.method.span(),
            );
            let mut recv = (*call.receiver).clone();
            self.visit_expr_mut(&mut recv);
            *expr = parse_quote!(#recv.#method());
            return;
        }
        // t.sin_cos() read whole: `(t.sin(), t.cos())`, of a name or of a
        // temporary (`{ let t = …; (t.sin(), t.cos()) }`).
        if let Expr::MethodCall(call) = expr
            && call.method == "sin_cos"
            && call.args.is_empty()
            && call.turbofish.is_none()
        {
            let mut internals = Vec::new();
            let value = Self::value_expr(self.split(expr, &mut internals));
            *expr = if internals.is_empty() {
                value
            } else {
                let lets = self.lets(internals);
                parse_quote!({ #(#lets)* #value })
            };
            return;
        }
        visit_mut::visit_expr_mut(self, expr);
    }

    fn visit_expr_closure_mut(&mut self, closure: &mut syn::ExprClosure) {
        self.scopes.push(HashMap::new());
        for pat in &closure.inputs {
            self.shadow(pat);
        }
        self.visit_expr_mut(&mut closure.body);
        self.scopes.pop();
    }

    fn visit_expr_for_loop_mut(&mut self, for_loop: &mut syn::ExprForLoop) {
        self.visit_expr_mut(&mut for_loop.expr);
        self.scopes.push(HashMap::new());
        self.shadow(&for_loop.pat);
        self.visit_block_mut(&mut for_loop.body);
        self.scopes.pop();
    }

    fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
        self.scopes.push(HashMap::new());
        self.shadow(&arm.pat);
        visit_mut::visit_arm_mut(self, arm);
        self.scopes.pop();
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

#[cfg(test)]
mod tests {
    use quote::ToTokens;

    /// `body` after `desugar` (which ends with this pass), as text.
    #[track_caller]
    fn assert_desugars(body: syn::Block, want: syn::Block) {
        let sig: syn::Signature = syn::parse_quote!(fn f(x: f64, y: f64));
        let got =
            crate::desugar::block(&sig, &body, &crate::tests::activations()).into_token_stream();
        assert_eq!(got.to_string(), want.into_token_stream().to_string());
    }

    #[test]
    fn a_destructuring_let_is_one_let_per_name() {
        assert_desugars(
            syn::parse_quote!({
                let (a, (b, _)) = (x * 2.0, (y.sin(), 1.0));
                a * b
            }),
            syn::parse_quote!({
                let a = x * 2.0;
                let b = y.sin();
                a * b
            }),
        );
    }

    #[test]
    fn a_swap_goes_through_temporaries() {
        assert_desugars(
            syn::parse_quote!({
                let (a, b) = (x, y);
                let (a, b) = (b, a);
                a - b
            }),
            syn::parse_quote!({
                let a = x;
                let b = y;
                let v = b;
                let __ad_v1 = a;
                let a = v;
                let b = __ad_v1;
                a - b
            }),
        );
    }

    #[test]
    fn an_array_local_carried_through_a_loop_is_one_local_per_element() {
        assert_desugars(
            syn::parse_quote!({
                let mut state = [x, y];
                for _ in 0..3 {
                    let [p, v] = state;
                    state = [p + v, v - p];
                }
                state[0] * state[1]
            }),
            syn::parse_quote!({
                let mut state_0 = x;
                let mut state_1 = y;
                for _ in 0..3 {
                    let p = state_0;
                    let v = state_1;
                    state_0 = p + v;
                    state_1 = v - p;
                }
                state_0 * state_1
            }),
        );
    }

    #[test]
    fn sin_cos_and_a_call_are_split() {
        assert_desugars(
            syn::parse_quote!({
                let (s, c) = x.sin_cos();
                let (r, t) = polar(x, y);
                s * c + r * t + y.sin_cos().1
            }),
            syn::parse_quote!({
                let s = x.sin();
                let c = x.cos();
                let __ad_t1 = polar(x, y);
                let r = __ad_t1.0;
                let t = __ad_t1.1;
                s * c + r * t + y.cos()
            }),
        );
    }

    #[test]
    fn an_array_indexed_by_a_variable_stays_whole() {
        let body: syn::Block = syn::parse_quote!({
            let q = [x, y];
            let mut s = 0.0;
            for i in 0..2 {
                s += q[i];
            }
            s
        });
        assert_desugars(body.clone(), body);
    }
}
