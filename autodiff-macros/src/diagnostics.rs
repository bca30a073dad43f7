//! Every message `#[grad]` can emit, in one place (after cxx/syntax/error.rs).
//!
//! Each entry is a function that formats the message, and a row of
//! [`CATALOGUE`] naming the trybuild case under `tests/ui/` that shows it; a
//! unit test checks that every case exists and shows its message, and that the
//! README lists it. Messages are lowercase, name the construct in backticks,
//! and say what to do instead.

use std::fmt::Display;

/// One diagnostic: its name, its message template, its trybuild case.
#[cfg_attr(not(test), allow(dead_code))] // read by the catalogue's tests
pub struct Entry {
    pub name: &'static str,
    pub template: &'static str,
    pub ui: &'static str,
}

macro_rules! diagnostics {
    ($($name:ident($($arg:ident),*) => $template:literal, ui: $ui:literal;)*) => {
        $(
            pub fn $name($($arg: impl Display),*) -> String {
                format!($template)
            }
        )*

        /// Every diagnostic, in the order of the pipeline.
        #[cfg_attr(not(test), allow(dead_code))]
        pub static CATALOGUE: &[Entry] = &[$(Entry {
            name: stringify!($name),
            template: $template,
            ui: $ui,
        }),*];
    };
}

diagnostics! {
    // args::parse
    unknown_argument(key) => "unknown `#[grad]` argument {key}: the accepted arguments are `wrt(param, ...)`, `split` and `hvp`",
        ui: "args/unknown-key.rs";
    duplicate_wrt() => "duplicate `wrt` argument: list every parameter in one `wrt(...)`",
        ui: "args/duplicate-wrt.rs";
    wrt_not_a_list() => "`wrt` takes a list of parameter names, like `wrt(x, w)`",
        ui: "args/wrt-not-a-list.rs";
    empty_wrt() => "`wrt()` names no parameter: list the parameters to differentiate, like `wrt(x, w)`, or drop `wrt` to differentiate every float parameter",
        ui: "args/empty-wrt.rs";
    wrt_not_a_name() => "`wrt(...)` takes parameter names, like `wrt(x, w)`",
        ui: "args/wrt-path.rs";
    wrt_listed_twice(name) => "`{name}` is listed twice in `wrt(...)`",
        ui: "args/wrt-listed-twice.rs";

    // expand::grad
    not_a_function() => "`#[grad]` applies to functions, like `#[grad] fn f(x: f64) -> f64`",
        ui: "input/not-a-function.rs";

    // checkpoint::rewrite
    checkpoint_arguments() => "`#[checkpoint]` takes no argument or a snapshot count: `#[checkpoint]` (about √n snapshots for n iterations) or `#[checkpoint(snapshots = 10)]` (at most 10 kept at once)",
        ui: "checkpoint/arguments.rs";
    checkpoint_not_a_range() => "`#[checkpoint]` applies to a `for` loop over a range `lo..hi`, whose trip count is known on entry: write this loop as `for i in lo..hi`",
        ui: "checkpoint/while-loop.rs";
    checkpoint_nested() => "`#[checkpoint]` on a loop inside another loop (or closure): put it on the outermost loop, whose iterations it then runs again from snapshots",
        ui: "checkpoint/nested.rs";
    checkpoint_exit() => "a checkpointed loop cannot be left early: the reverse sweep runs its segments again from snapshots, so its trip count must be known on entry; remove this `break`/`return`/`?` or the `#[checkpoint]`",
        ui: "checkpoint/break.rs";
    checkpoint_split() => "`#[checkpoint]` is not supported with `#[grad(split)]`: the pullback may run many times, and a checkpointed loop's reverse uses up its snapshots; drop `split`, or the `#[checkpoint]`",
        ui: "checkpoint/split.rs";
    // expand, after the middle phase
    checkpoint_idle() => "this checkpointed loop carries nothing from one iteration to the next (it assigns no variable declared before it and changes no array in place): a snapshot would keep nothing; remove `#[checkpoint]`",
        ui: "checkpoint/carries-nothing.rs";

    // lower: the signature
    async_fn() => "`async fn` cannot be differentiated: differentiate the synchronous computation in its own `#[grad]` function",
        ui: "input/async-fn.rs";
    unsafe_fn() => "`unsafe fn` cannot be differentiated: keep the unsafe code in a separate function",
        ui: "input/unsafe-fn.rs";
    extern_fn() => "`extern fn` cannot be differentiated: differentiate a plain Rust function and call it from the `extern` one",
        ui: "input/extern-fn.rs";
    returns_nothing(function) => "`{function}` returns nothing: a `#[grad]` function must return the value to differentiate",
        ui: "output/returns-nothing.rs";
    parameter_pattern() => "parameters of a `#[grad]` function must be plain names: bind the whole value to a name and destructure it in the body",
        ui: "input/pattern-param.rs";
    wrt_not_a_parameter(name, function) => "`wrt` names `{name}`, which is not a parameter of `{function}`",
        ui: "args/wrt-missing-param.rs";
    wrt_discrete(name, ty) => "`{name}` has type `{ty}`, which cannot be differentiated: remove it from `wrt(...)`",
        ui: "args/wrt-integer-param.rs";
    wrt_mut_ref(name) => "`{name}` is a `&mut` parameter, which cannot be differentiated: take it by value or by `&` and return the new value",
        ui: "args/wrt-mut-ref.rs";
    nothing_to_differentiate(function) => "`{function}` has no `f32` or `f64` parameter to differentiate: name the parameters to differentiate with `#[grad(wrt(...))]`",
        ui: "args/no-float-param.rs";

    custom_vjp_arguments() => "`#[custom_vjp]` takes the path of the hand-written function, like `#[custom_vjp(f_vjp)]`, and optionally `wrt(param, ...)`",
        ui: "custom/missing-path.rs";
    custom_vjp_method() => "`#[custom_vjp]` on methods is not supported yet: write the rule for a free function and call it from the method",
        ui: "custom/method.rs";

    params_not_a_struct() => "`#[derive(Params)]` applies to structs of differentiable fields",
        ui: "params/enum.rs";
    params_attribute() => "the accepted `#[params(...)]` argument is `skip`, for a field that is not differentiated",
        ui: "params/unknown-attribute.rs";
    params_no_field() => "`#[derive(Params)]` needs at least one field that is not `#[params(skip)]`",
        ui: "params/all-skipped.rs";

    hvp_not_generic() => "`#[grad(hvp)]` needs a generic function whose differentiated parameters are one type parameter `T: autodiff::Scalar` (or slices, `Vec`s or arrays of it), and no `self`: the Hessian-vector product evaluates its gradient at dual numbers",
        ui: "args/hvp-not-generic.rs";

    // lower: statements
    unsafe_block() => "`unsafe` blocks are not supported in `#[grad]` functions: move the unsafe code into a separate function",
        ui: "unsupported/unsafe-block.rs";
    missing_tail() => "a `#[grad]` function must end with the value it returns, as a tail expression or a final `return`",
        ui: "output/no-tail-expression.rs";
    early_return() => "this `return` is not supported in `#[grad]` functions: return from a statement (`if c {{ return x; }}`) or from the `if` a `let` is given (`let y = if c {{ return x; }} else {{ … }};`), and from inside a loop only with an `f32` or `f64` result",
        ui: "unsupported/early-return.rs";
    return_without_value() => "`return` must give the value to differentiate",
        ui: "output/return-without-value.rs";
    let_without_value() => "declare the variable with its value: `let x = …;`",
        ui: "unsupported/let-without-value.rs";
    let_else() => "`let … else` is not supported in `#[grad]` functions",
        ui: "unsupported/let-else.rs";
    destructuring_let() => "this `let` pattern is not supported in `#[grad]` functions: destructure tuples and arrays (`let (a, b) = …`, `let [x, v] = …`) with names, `_` and `..`, or bind the value to a name and read its fields",
        ui: "unsupported/destructuring-let.rs";
    assign_to_non_local(name) => "`{name}` is not a local variable of this function: a `#[grad]` function can only assign to its own variables",
        ui: "unsupported/assign-to-non-local.rs";
    assign_to_element() => "writing to an element of an element is not supported in `#[grad]` functions yet: write to a local array with one index (`v[i] = …`)",
        ui: "unsupported/assign-to-element.rs";
    assign_to_field() => "writing to a field is not supported in `#[grad]` functions yet: build the value in a new variable",
        ui: "unsupported/assign-to-field.rs";
    assign_through_reference() => "writing through a reference is not supported in `#[grad]` functions: return the new value instead",
        ui: "unsupported/assign-through-reference.rs";
    assign_to_other() => "a `#[grad]` function can only assign to its own local variables",
        ui: "unsupported/assign-to-expression.rs";
    unsupported_compound(op) => "`{op}` is not supported in `#[grad]` functions yet",
        ui: "unsupported/remainder-assign.rs";
    dropped_value() => "this statement computes a differentiated value and drops it: bind it with `let` or remove it",
        ui: "unsupported/dropped-value.rs";
    control_flow(what) => "a {what} has no value in `#[grad]` functions: assign to a variable declared before it, and read that variable after",
        ui: "unsupported/while-loop.rs";

    labelled_exit() => "labelled loops and `break` with a value are not supported in `#[grad]` functions: use a plain `break` and a variable",
        ui: "control/labelled-break.rs";
    exit_outside_loop() => "`break` and `continue` must be inside a loop",
        ui: "control/break-outside-loop.rs";
    if_let() => "`if let` and `while let` are not supported in `#[grad]` functions yet: test with `matches!` and read the value separately",
        ui: "control/if-let.rs";
    if_without_value() => "this `if` is used as a value, so it needs an `else` and both branches must end with a value",
        ui: "control/if-without-else.rs";
    match_on_differentiated() => "`match` on a differentiated value is not supported: compare it with `if` (`if x < 0.0 {{ … }}`)",
        ui: "control/match-on-float.rs";
    match_binding() => "`match` arms that bind variables are not supported in `#[grad]` functions yet: match constants (`0`, `1 | 2`, `_`) and read values separately",
        ui: "control/match-binding.rs";
    unbounded_range() => "a differentiated loop runs over a range with constant bounds (`lo..hi` or `lo..=hi`, integers)",
        ui: "control/unbounded-range.rs";
    loop_iterator() => "`#[grad]` loops run over ranges (`0..n`) or over local slices, `Vec`s and arrays: `xs.iter()`, `xs.iter().enumerate()`, `xs.iter().zip(ys)`, `&xs`, `xs.windows(k)`, `xs.chunks(k)`, through `rev skip take step_by map filter copied cloned`; index for anything else",
        ui: "control/loop-iterator.rs";
    loop_pattern() => "bind loop elements to names (`x`, `&x`, `(i, x)`, `(x, y)`)",
        ui: "control/loop-pattern.rs";
    assign_to_parameter_element() => "a `#[grad]` function cannot write into its parameters: copy it into a local (`let mut v = x.to_vec();`) or build a new one",
        ui: "control/write-parameter.rs";
    index_differentiated() => "an index must be an integer, not a differentiated value",
        ui: "control/float-index.rs";
    element_compound() => "only `=`, `+=` and `-=` can write an element: write `v[i] = v[i] * e;`",
        ui: "control/element-mul-assign.rs";

    // lower: expressions
    no_operator_rule(op) => "no derivative rule for `{op}`",
        ui: "unsupported/remainder.rs";
    compound_in_expression(op) => "`{op}` must be a statement of its own",
        ui: "unsupported/compound-in-expression.rs";
    cast() => "`as` casts of differentiated values are not supported: keep the value in its float type, or cast a constant",
        ui: "unsupported/cast.rs";
    closure() => "a closure that uses differentiated values can only be called (`f(x)`) or passed to an iterator chain (`xs.iter().map(f)`) in `#[grad]` functions: call it there, or write it as a `#[grad]` function and call that",
        ui: "unsupported/closure.rs";
    macro_call(name) => "macro calls cannot be differentiated: `{name}!` hides its code from `#[grad]`; write the computation as plain Rust",
        ui: "unsupported/macro-call.rs";
    aggregate() => "building a struct, a tuple of more than 6 or an array of more than 8 elements, or `[x; n]`, from differentiated values is not supported: keep the floats in their own variables, or in tuples and array literals",
        ui: "unsupported/struct-literal.rs";
    try_operator() => "the `?` operator is not supported on differentiated values",
        ui: "unsupported/try-operator.rs";
    other_expression(activations) => "this expression cannot be differentiated: `#[grad]` supports `let`, arithmetic, float methods, {activations} and calls of `#[grad]` functions",
        ui: "unsupported/range.rs";
    block_without_value() => "this block has no value: end it with an expression",
        ui: "unsupported/block-without-value.rs";
    no_method_rule(name, methods) => "no derivative rule for the method `{name}`: the methods with rules are {methods}; for other code, write a `#[grad]` function and call it",
        ui: "unsupported/unknown-method.rs";
    iterator_chain(name) => "`.{name}(..)` has no rewrite in an iterator chain under `#[grad]`: a chain is differentiated when it starts at `xs.iter()`, `xs.into_iter()`, `xs.windows(k)`, `xs.chunks(k)` or `lo..hi`, goes through `zip enumerate map filter copied cloned skip take step_by rev`, and ends in `sum product fold count` or a `collect` into a `Vec` (over a range, `.sum::<f64>()`); write this one as a `for` loop",
        ui: "unsupported/iterator-chain.rs";
    method_arity(name, arity, plural) => "`{name}` takes {arity} argument{plural}",
        ui: "unsupported/method-arity.rs";
    powi_exponent() => "the exponent of `powi` is an integer and cannot be differentiated: use `powf` for a differentiated exponent",
        ui: "unsupported/powi-exponent.rs";
    call_not_a_path() => "only calls of named functions can be differentiated: call the function by its path",
        ui: "unsupported/call-not-a-path.rs";
    qualified_self_call() => "calls through `<T as Trait>::f` cannot be differentiated yet: call the `#[grad]` function by its path",
        ui: "unsupported/trait-qualified-call.rs";
    qualified_no_rule(ty, name, methods) => "no derivative rule for `{ty}::{name}`: the methods with rules are {methods}",
        ui: "unsupported/qualified-unknown.rs";
    primitive_arity(name, arity, plural) => "`{name}` takes {arity} argument{plural}",
        ui: "unsupported/primitive-arity.rs";
    constant_argument(name) => "the arguments of `{name}` after the array are constants (an axis, an index, a slice) and cannot be differentiated: compute them from values that are not differentiated",
        ui: "ndarray/constant-argument.rs";
    unwrap_needed(name) => "ndarray's `{name}` returns an `Option`: write `.{name}(…).unwrap()` or `.expect(…)` to differentiate it",
        ui: "ndarray/mean-without-unwrap.rs";
    map_closure(name, activations) => "`{name}` is differentiated by applying its closure to the whole array, and this closure is not built from arithmetic, `powi`, float methods ndarray arrays have, and {activations}: write it with those, or loop over the elements",
        ui: "ndarray/mapv-closure.rs";
    array_fold() => "ndarray's `fold` is differentiated for the largest or smallest element, `a.fold(f64::NEG_INFINITY, |m, &v| m.max(v))` (or `min`): write other folds with `mapv` and `sum`, or as a `#[grad]` function with a loop",
        ui: "ndarray/fold-not-extremum.rs";
    array_join(name) => "`{name}` is differentiated for two or three arrays, as `{name}(axis, &[a.view(), b.view()]).unwrap()` (or `.expect(…)`) or `{name}![axis, a, b]`: join more in steps",
        ui: "ndarray/join-of-four.rs";
}
