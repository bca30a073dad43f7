//! The functions generated code calls: one pullback per operand of every
//! primitive, dispatched by trait so the macro never needs to know a type.
//!
//! Naming: `<primitive>_pullback` for one operand, `<primitive>_pullback_lhs`
//! and `_rhs` for two (the receiver of a method is `lhs`),
//! `mul_add_pullback_{x,a,b}` for `x.mul_add(a, b)`. Each takes exactly what
//! its derivative reads — the operands, the primitive's output `y`, and the
//! output's adjoint `d` — all by reference, and returns the operand's
//! gradient contribution.
//!
//! Not public API: reached from generated code through
//! `::autodiff::__private::rules`.

pub use crate::activation::pullbacks::*;
use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
pub use crate::axis::{
    column_pullback, concatenate2, concatenate2_pullback_0, concatenate2_pullback_1, concatenate3,
    concatenate3_pullback_0, concatenate3_pullback_1, concatenate3_pullback_2, index_axis_pullback,
    insert_axis_pullback, into_shape_with_order_pullback, log_softmax_pullback,
    logsumexp_axis_pullback, logsumexp_pullback, max_element_pullback, mean_axis_pullback,
    min_element_pullback, row_pullback, slice_pullback, softmax_pullback, stack2,
    stack2_pullback_0, stack2_pullback_1, stack3, stack3_pullback_0, stack3_pullback_1,
    stack3_pullback_2, sum_axis_pullback, to_shape_pullback, view_pullback,
};
use crate::float::{FloatRules, PowfRule};
use crate::linalg::{DotRule, MatmulRule, TransposeRule};
use crate::reduce::ReduceRule;
pub use crate::seq::SliceRange;
use crate::tangent::{Accumulate, Basis, Differentiable, ScalarOutput, Scale};
pub use crate::tuple::{
    Component, tuple_pullback_0, tuple_pullback_1, tuple_pullback_2, tuple_pullback_3,
    tuple_pullback_4, tuple_pullback_5, tuple_pullback_6, tuple_pullback_7,
};

/// The zero gradient of `x`, for a parameter nothing flows into.
///
/// ```
/// assert_eq!(autodiff_runtime::rules::zero(&2.5_f64), 0.0);
/// ```
#[inline]
pub fn zero<T: Differentiable + ?Sized>(x: &T) -> T::Tangent {
    x.zero_tangent()
}

/// `acc += g`.
///
/// ```
/// let mut acc = 1.0_f64;
/// autodiff_runtime::rules::accumulate(&mut acc, 0.5);
/// autodiff_runtime::rules::accumulate(&mut acc, &0.25);
/// assert_eq!(acc, 1.75);
/// ```
#[inline]
pub fn accumulate<T: Accumulate<G> + ?Sized, G>(acc: &mut T, g: G) {
    acc.accumulate(g);
}

/// The range of `&x[a..b]` (any range of `usize`), as a `Copy` value that
/// indexes the slice and, in the reverse sweep, its gradient.
///
/// ```
/// let x = [1.0_f64, 2.0, 3.0];
/// assert_eq!(&x[autodiff_runtime::rules::slice_range(1..)], &[2.0, 3.0]);
/// ```
#[inline]
pub fn slice_range<R: Into<SliceRange>>(range: R) -> SliceRange {
    range.into()
}

/// The seed `1` of `f_grad`.
///
/// ```
/// assert_eq!(autodiff_runtime::rules::one::<f32>(), 1.0);
/// ```
#[inline]
#[must_use]
pub fn one<R: ScalarOutput>() -> R {
    R::seed_one()
}

/// `1`, typed like `like`: the adjoint a summing loop accumulates its
/// contributions for.
///
/// ```
/// assert_eq!(autodiff_runtime::rules::one_like(&2.5_f32), 1.0_f32);
/// ```
#[inline]
#[must_use]
pub fn one_like<R: ScalarOutput>(_like: &R) -> R {
    R::seed_one()
}

/// `g · by`, skipping the multiplication when `by` is `1` (the common seed),
/// where it would change nothing.
///
/// ```
/// let g = autodiff_runtime::rules::scaled(vec![1.0_f64, 2.0], &3.0);
/// assert_eq!(g, [3.0, 6.0]);
/// ```
#[inline]
#[must_use]
pub fn scaled<G: Scale<S>, S: ScalarOutput + PartialEq>(mut g: G, by: &S) -> G {
    if *by != S::seed_one() {
        g.scale(by);
    }
    g
}

/// A zero of the element type of a gradient held in a `Vec` or array: the
/// running sum a loop keeps in a register for an element it writes next.
///
/// ```
/// let zero = autodiff_runtime::rules::elem_zero(&vec![1.5_f64; 3]);
/// assert_eq!(zero, 0.0);
/// ```
#[inline]
#[must_use]
pub fn elem_zero<T: Default>(_of: &[T]) -> T {
    T::default()
}

/// The start of a desugared `.sum()`: a zero of the type the caller's use
/// infers (`f32`, `f64`, a generic `T: Scalar`, an integer), so a chain
/// without a turbofish needs no type written.
///
/// ```
/// // x.iter().sum() where an `f32` is expected:
/// let x = [1.5_f32, 2.0];
/// let total: f32 = {
///     let mut acc = autodiff_runtime::rules::sum_start();
///     for v in x.iter() {
///         acc += v;
///     }
///     acc
/// };
/// assert_eq!(total, 3.5);
/// ```
#[inline]
#[must_use]
pub fn sum_start<T: Default>() -> T {
    T::default()
}

/// The start of a desugared `.product()`: a one of the type the caller's use
/// infers.
///
/// ```
/// let x = [1.5_f64, 2.0];
/// let total: f64 = {
///     let mut acc = autodiff_runtime::rules::product_start();
///     for v in x.iter() {
///         acc *= v;
///     }
///     acc
/// };
/// assert_eq!(total, 3.0);
/// ```
#[inline]
#[must_use]
pub fn product_start<T: num_traits::One>() -> T {
    T::one()
}

/// Adds `g` into `slice[index]` when that element exists: the flush of a
/// running sum after the loop (one past the end, nothing was added).
///
/// ```
/// let mut g = vec![0.0_f64; 2];
/// autodiff_runtime::rules::accumulate_at(&mut g, 1, 0.5);
/// autodiff_runtime::rules::accumulate_at(&mut g, 2, 0.0);
/// assert_eq!(g, [0.0, 0.5]);
/// ```
#[inline]
pub fn accumulate_at<T: Accumulate<G>, G>(slice: &mut [T], index: usize, g: G) {
    if let Some(slot) = slice.get_mut(index) {
        slot.accumulate(g);
    }
}

/// The seeds of a Jacobian of an output like `value`: its unit vectors.
///
/// ```
/// let seeds = autodiff_runtime::rules::basis(&[2.0_f64, 3.0]);
/// assert_eq!(seeds, [[1.0, 0.0], [0.0, 1.0]]);
/// ```
#[must_use]
pub fn basis<R: Basis>(value: &R) -> Vec<R> {
    value.basis()
}

/// `x + v·ε`: an argument of `f_hvp`'s gradient, with its direction.
#[inline]
#[must_use]
pub fn dual_of<F: num_traits::Float>(x: &F, v: &F) -> crate::Dual<F> {
    crate::Dual::new(*x, *v)
}

/// `x + 0·ε`: a constant argument of `f_hvp`'s gradient.
#[inline]
#[must_use]
pub fn constant_dual<F: num_traits::Float>(x: &F) -> crate::Dual<F> {
    crate::Dual::constant(*x)
}

/// Element by element, [`dual_of`]: a slice argument and its direction.
///
/// ```
/// let d = autodiff_runtime::rules::duals_of(&[1.0_f64, 2.0], &[0.5, 0.0]);
/// assert_eq!((d[0].re, d[0].eps, d[1].eps), (1.0, 0.5, 0.0));
/// ```
#[must_use]
pub fn duals_of<F: num_traits::Float>(x: &[F], v: &[F]) -> Vec<crate::Dual<F>> {
    assert_eq!(
        x.len(),
        v.len(),
        "a direction of a different length than its argument"
    );
    x.iter()
        .zip(v)
        .map(|(x, v)| crate::Dual::new(*x, *v))
        .collect()
}

/// Element by element, [`constant_dual`].
#[must_use]
pub fn constant_duals<F: num_traits::Float>(x: &[F]) -> Vec<crate::Dual<F>> {
    x.iter().map(|x| crate::Dual::constant(*x)).collect()
}

/// The ε parts of a gradient computed at dual numbers: `H·v`.
#[inline]
#[must_use]
pub fn epsilon_part<G: EpsilonPart>(g: G) -> G::Part {
    g.epsilon_part()
}

/// A gradient at dual numbers, whose ε parts `f_hvp` returns.
pub trait EpsilonPart {
    /// The same shape, of plain floats.
    type Part;
    /// The ε parts.
    fn epsilon_part(self) -> Self::Part;
}

impl<F: num_traits::Float> EpsilonPart for crate::Dual<F> {
    type Part = F;
    fn epsilon_part(self) -> F {
        self.eps
    }
}

impl<F: num_traits::Float> EpsilonPart for Vec<crate::Dual<F>> {
    type Part = Vec<F>;
    fn epsilon_part(self) -> Vec<F> {
        self.into_iter().map(|d| d.eps).collect()
    }
}

impl<F: num_traits::Float, const N: usize> EpsilonPart for [crate::Dual<F>; N] {
    type Part = [F; N];
    fn epsilon_part(self) -> [F; N] {
        self.map(|d| d.eps)
    }
}

/// `value`, typed like `previous`: re-assigning `x = 0.5` defines a new
/// variable in the generated code, and this keeps it the type `x` had (a
/// bare literal would otherwise be an ambiguous `{float}`).
///
/// ```
/// let x = 2.0_f32;
/// let y = autodiff_runtime::rules::same_type(&x, 0.5);
/// assert_eq!(y.sin(), 0.5_f32.sin());
/// ```
#[inline]
pub fn same_type<T>(_previous: &T, value: T) -> T {
    value
}

/// Whether an adjoint is zero: a loop whose carried floats all have a zero
/// adjoint at its exit, and whose reverse is linear in them, is not reversed
/// at all (the `min` of an inner loop's results reverses only the winner).
///
/// ```
/// assert!(autodiff_runtime::rules::is_zero(&0.0_f64));
/// assert!(autodiff_runtime::rules::is_zero(&-0.0_f32));
/// assert!(!autodiff_runtime::rules::is_zero(&1e-300_f64));
/// ```
#[inline]
pub fn is_zero<T: Default + PartialEq>(d: &T) -> bool {
    *d == T::default()
}

/// Which side `x.min(p)` takes, as its pullbacks decide it
/// ([`min_pullback_lhs`]): `true` for the receiver `x` (also on a tie, and
/// when `p` is NaN). The forward sweep records this `bool` instead of the two
/// floats, and [`select_pullback_lhs`] / [`select_pullback_rhs`] route the
/// adjoint by it.
///
/// ```
/// use autodiff_runtime::rules::{min_pullback_lhs, min_side, select_pullback_lhs};
/// for (x, p) in [(1.0_f64, 2.0), (2.0, 1.0), (1.0, 1.0), (1.0, f64::NAN), (f64::NAN, 1.0)] {
///     let side = min_side(&x, &p);
///     assert_eq!(
///         select_pullback_lhs(&side, &3.0_f64).to_bits(),
///         min_pullback_lhs(&x, &p, &x.min(p), &3.0).to_bits(),
///     );
/// }
/// ```
#[inline]
pub fn min_side<T: num_traits::Float>(x: &T, p: &T) -> bool {
    *x <= *p || p.is_nan()
}

/// Which side `x.max(p)` takes, as its pullbacks decide it
/// ([`max_pullback_lhs`]): `true` for the receiver `x` (also on a tie, and
/// when `p` is NaN). See [`min_side`].
///
/// ```
/// use autodiff_runtime::rules::{max_pullback_rhs, max_side, select_pullback_rhs};
/// for (x, p) in [(1.0_f64, 2.0), (2.0, 1.0), (1.0, 1.0), (1.0, f64::NAN), (f64::NAN, 1.0)] {
///     let side = max_side(&x, &p);
///     assert_eq!(
///         select_pullback_rhs(&side, &3.0_f64).to_bits(),
///         max_pullback_rhs(&x, &p, &x.max(p), &3.0).to_bits(),
///     );
/// }
/// ```
#[inline]
pub fn max_side<T: num_traits::Float>(x: &T, p: &T) -> bool {
    *x >= *p || p.is_nan()
}

/// Whether a running minimum `carried` that is never NaN takes `other`:
/// `other < carried`. Then `carried.min(other)` is `other`; else it is
/// `carried` (also when `other` is NaN, and on a tie). The forward sweep of a
/// running `min` whose carried value starts at a constant that is not NaN
/// (`f64::INFINITY`) tests this instead of [`min_side`], with no NaN test on
/// `carried`.
///
/// ```
/// use autodiff_runtime::rules::takes_min;
/// for (c, o) in [(1.0_f64, 2.0), (2.0, 1.0), (1.0, 1.0), (1.0, f64::NAN), (f64::INFINITY, 3.0)] {
///     let taken = if takes_min(&c, &o) { o } else { c };
///     assert_eq!(taken, c.min(o));
/// }
/// ```
#[inline]
pub fn takes_min<T: PartialOrd>(carried: &T, other: &T) -> bool {
    other < carried
}

/// Whether a running maximum `carried` that is never NaN takes `other`:
/// `other > carried`. See [`takes_min`].
///
/// ```
/// use autodiff_runtime::rules::takes_max;
/// for (c, o) in [(1.0_f64, 2.0), (2.0, 1.0), (1.0, 1.0), (1.0, f64::NAN), (f64::NEG_INFINITY, -3.0)] {
///     let taken = if takes_max(&c, &o) { o } else { c };
///     assert_eq!(taken, c.max(o));
/// }
/// ```
#[inline]
pub fn takes_max<T: PartialOrd>(carried: &T, other: &T) -> bool {
    other > carried
}

/// The adjoint `d` to the receiver of a `min`/`max` if `side` says it was
/// taken, else zero.
#[inline]
pub fn select_pullback_lhs<T: Clone + Default>(side: &bool, d: &T) -> T {
    if *side { d.clone() } else { T::default() }
}

/// The adjoint `d` to the argument of a `min`/`max` if `side` says it was
/// taken, else zero.
#[inline]
pub fn select_pullback_rhs<T: Clone + Default>(side: &bool, d: &T) -> T {
    if *side { T::default() } else { d.clone() }
}

/// Implemented by a function item for itself only: that `F` and `R` are the
/// same function. See [`runtime_fn`].
#[diagnostic::on_unimplemented(
    message = "this `{Self}` is not autodiff's function of the same name",
    label = "`#[grad]` differentiates a call by this name with the runtime's rule",
    note = "`#[grad]` takes a call by one word of a runtime primitive's name (`sigmoid`, `sum`, `dot`, …) for the runtime's function",
    note = "to differentiate your own function of that name, call it by a path (`self::name(…)`, `crate::module::name(…)`), or rename it"
)]
pub trait RuntimeFn<R> {}

impl<F> RuntimeFn<F> for F {}

/// A second impl for every `F`, which no function `R` meets: with one
/// candidate only, rustc would equate `F` and `R` before it sees `R`, and
/// report a bare type mismatch instead of [`RuntimeFn`]'s message.
impl<F> RuntimeFn<(NotAFunction, F)> for F {}

/// See the second impl of [`RuntimeFn`].
#[doc(hidden)]
pub enum NotAFunction {}

/// `written`, which must be the runtime function `runtime`: the forward
/// sweep calls a primitive named by one word (`sigmoid(x)`) through it, so
/// that a function of the user's own by that name, which the macro cannot
/// tell apart, is a compile error and not a gradient by the wrong rule.
///
/// ```
/// use autodiff_runtime::{rules::runtime_fn, sigmoid};
/// assert_eq!(runtime_fn(sigmoid, autodiff_runtime::sigmoid)(0.0_f64), 0.5);
/// ```
///
/// ```compile_fail
/// fn sigmoid(x: f64) -> f64 { x }
/// autodiff_runtime::rules::runtime_fn(sigmoid, autodiff_runtime::sigmoid)(0.0_f64);
/// ```
#[inline(always)]
pub fn runtime_fn<F: RuntimeFn<R>, R>(written: F, _runtime: R) -> F {
    written
}

/// An index type of a `lo..hi` loop, whose largest value stands for "no
/// iteration": an index is below `hi`, so it is never that value. The
/// forward sweep keeps the index of a loop's last iteration (or of a running
/// `min`/`max`'s winner) as a bare index rather than an `Option`: one
/// register and one conditional move instead of two, and half the bytes on a
/// tape.
pub trait LastIndex: Copy + PartialEq + Default {
    /// The value no iteration of a `lo..hi` loop has: `Self::MAX`.
    const NONE: Self;
}

macro_rules! last_index {
    ($($t:ty),*) => {$(
        impl LastIndex for $t {
            const NONE: Self = <$t>::MAX;
        }
    )*};
}
last_index!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

impl LastIndex for char {
    const NONE: Self = char::MAX;
}

/// "No iteration yet": the start of a [`LastIndex`] of the type of
/// `_like` (the loop's first index, so that the type is inferred).
///
/// ```
/// use autodiff_runtime::rules::{last, no_last};
/// let mut at = no_last(&3_usize);
/// assert_eq!(last(at), None);
/// for i in 3..5_usize {
///     at = i;
/// }
/// assert_eq!(last(at), Some(4));
/// ```
#[inline]
#[must_use]
pub fn no_last<T: LastIndex>(_like: &T) -> T {
    T::NONE
}

/// The index a [`LastIndex`] holds, `None` if no iteration set it.
#[inline]
#[must_use]
pub fn last<T: LastIndex>(at: T) -> Option<T> {
    if at == T::NONE { None } else { Some(at) }
}

/// The next `count` entries of `tape`, as a slice to write one loop
/// instance's values into (`segment[k] = v` for its k-th iteration): a loop
/// whose trip count is known on entry fills them in place of a `push` per
/// iteration, which checks the capacity each time and keeps the loop from
/// being optimised as a whole. The entries start at `T::default()`; the
/// reverse sweep takes them back as one drained segment.
///
/// ```
/// let mut tape = vec![1.0_f64];
/// let segment = autodiff_runtime::rules::segment(&mut tape, 3);
/// for (k, slot) in segment.iter_mut().enumerate() {
///     *slot = k as f64 * 0.5;
/// }
/// assert_eq!(tape, [1.0, 0.0, 0.5, 1.0]);
/// ```
#[inline]
pub fn segment<T: Copy + Default>(tape: &mut Vec<T>, count: usize) -> &mut [T] {
    let start = tape.len();
    tape.resize(start.saturating_add(count), T::default());
    &mut tape[start..]
}

/// The type of `value`, as a zero-sized witness: the forward sweep sets it
/// where a float is defined inside a loop or branch, and the reverse sweep
/// makes the float's zero adjoint from it ([`zero_of_type`]) without keeping
/// the value.
///
/// ```
/// let witness = autodiff_runtime::rules::type_of(&2.5_f32);
/// assert_eq!(autodiff_runtime::rules::zero_of_type(witness), 0.0_f32);
/// ```
#[inline]
pub fn type_of<T>(_value: &T) -> core::marker::PhantomData<T> {
    core::marker::PhantomData
}

/// The zero adjoint of a float of the type `witness` stands for (see
/// [`type_of`]).
#[inline]
pub fn zero_of_type<T: Default>(_witness: core::marker::PhantomData<T>) -> T {
    T::default()
}

/// A gradient returned by a called `#[grad]` function, checked to be one (and
/// not [`NotDifferentiated`](crate::NotDifferentiated)).
///
/// ```
/// assert_eq!(autodiff_runtime::rules::callee_gradient(0.5_f64), 0.5);
/// ```
#[inline]
pub fn callee_gradient<G: IsGradient>(g: G) -> G {
    g
}

pub use crate::tangent::IsGradient;

macro_rules! binary_op_rules {
    ($($rule:ident: $lhs:ident, $rhs:ident, $op:tt;)*) => {$(
        #[doc = concat!("Gradient contribution to the left operand of `a ", stringify!($op), " b`.")]
        ///
        /// ```
        #[doc = concat!("use autodiff_runtime::rules::{", stringify!($lhs), ", ", stringify!($rhs), "};")]
        /// let (a, b, d) = (2.0_f64, 3.0, 1.0);
        #[doc = concat!("let g = (", stringify!($lhs), "(&a, &b, &d), ", stringify!($rhs), "(&a, &b, &d));")]
        #[doc = concat!("autodiff_runtime::check(|&(a, b): &(f64, f64)| a ", stringify!($op), " b, (a, b), g).assert_close(1e-8);")]
        /// ```
        #[inline]
        pub fn $lhs<A, B>(a: &A, b: &B, d: &<A as $rule<B>>::DOut) -> A::Tangent
        where
            A: $rule<B> + ?Sized,
            B: Differentiable + ?Sized,
        {
            a.$lhs(b, d)
        }

        #[doc = concat!("Gradient contribution to the right operand of `a ", stringify!($op), " b`; see [`", stringify!($lhs), "`].")]
        #[inline]
        pub fn $rhs<A, B>(a: &A, b: &B, d: &<A as $rule<B>>::DOut) -> B::Tangent
        where
            A: $rule<B> + ?Sized,
            B: Differentiable + ?Sized,
        {
            a.$rhs(b, d)
        }
    )*};
}

binary_op_rules! {
    AddRule: add_pullback_lhs, add_pullback_rhs, +;
    SubRule: sub_pullback_lhs, sub_pullback_rhs, -;
    MulRule: mul_pullback_lhs, mul_pullback_rhs, *;
}

/// `d(a / b)/da · d = d / b`.
///
/// ```
/// use autodiff_runtime::rules::{div_pullback_lhs, div_pullback_rhs};
/// let (a, b, d) = (3.0_f64, 2.0, 1.0);
/// let y = a / b;
/// let g = (div_pullback_lhs(&a, &b, &d), div_pullback_rhs(&a, &b, &y, &d));
/// assert_eq!(g, (0.5, -0.75));
/// autodiff_runtime::check(|&(a, b): &(f64, f64)| a / b, (a, b), g).assert_close(1e-8);
/// ```
#[inline]
pub fn div_pullback_lhs<A, B>(a: &A, b: &B, d: &<A as DivRule<B>>::DOut) -> A::Tangent
where
    A: DivRule<B> + ?Sized,
    B: Differentiable + ?Sized,
{
    a.div_pullback_lhs(b, d)
}

/// `d(a / b)/db · d = −d · y / b`, where `y = a / b`; see [`div_pullback_lhs`].
#[inline]
pub fn div_pullback_rhs<A, B>(
    a: &A,
    b: &B,
    y: &<A as DivRule<B>>::DOut,
    d: &<A as DivRule<B>>::DOut,
) -> B::Tangent
where
    A: DivRule<B> + ?Sized,
    B: Differentiable + ?Sized,
{
    a.div_pullback_rhs(b, y, d)
}

/// `d(−x)/dx · d = −d`.
///
/// ```
/// assert_eq!(autodiff_runtime::rules::neg_pullback(&2.0_f64, &0.5), -0.5);
/// ```
#[inline]
pub fn neg_pullback<X: NegRule + ?Sized>(x: &X, d: &X::DOut) -> X::Tangent {
    x.neg_pullback(d)
}

macro_rules! unary_float_rules {
    ($($name:ident: $method:ident $(at $x:literal)?),*) => {$(
        #[doc = concat!("Pullback of `y = x.", stringify!($method), "()`: `d · f'(x)`, given `x`, `y` and the")]
        /// adjoint `d` of `y`. See [`FloatRules`] for the formula and its
        /// value at kinks.
        ///
        /// ```
        #[doc = concat!("let x = ", unary_float_rules!(@at $($x)?), "_f64;")]
        #[doc = concat!("let g = autodiff_runtime::rules::", stringify!($name), "(&x, &x.", stringify!($method), "(), &1.0);")]
        #[doc = concat!("autodiff_runtime::check(|x: &f64| x.", stringify!($method), "(), x, g).assert_close(1e-8);")]
        /// ```
        #[inline]
        pub fn $name<X: FloatRules + ?Sized>(x: &X, y: &X::Tangent, d: &X::Tangent) -> X::Tangent {
            x.$name(y, d)
        }
    )*};
    // The point of the doc example: 0.5 unless the rule names one.
    (@at) => { "0.5" };
    (@at $x:literal) => { stringify!($x) };
}

unary_float_rules!(
    exp_pullback: exp,
    exp2_pullback: exp2,
    ln_pullback: ln,
    log2_pullback: log2,
    log10_pullback: log10,
    sqrt_pullback: sqrt,
    cbrt_pullback: cbrt,
    sin_pullback: sin,
    cos_pullback: cos,
    tan_pullback: tan,
    asin_pullback: asin,
    acos_pullback: acos,
    atan_pullback: atan,
    sinh_pullback: sinh,
    cosh_pullback: cosh,
    tanh_pullback: tanh,
    abs_pullback: abs,
    recip_pullback: recip,
    ln_1p_pullback: ln_1p,
    exp_m1_pullback: exp_m1,
    asinh_pullback: asinh,
    acosh_pullback: acosh at 1.5,
    atanh_pullback: atanh,
    to_radians_pullback: to_radians,
    to_degrees_pullback: to_degrees,
    floor_pullback: floor,
    ceil_pullback: ceil,
    round_pullback: round at 0.3,
    trunc_pullback: trunc,
    signum_pullback: signum,
    fract_pullback: fract
);

macro_rules! binary_float_rules {
    ($($lhs:ident, $rhs:ident, $method:ident;)*) => {$(
        #[doc = concat!("Pullback to the receiver `x` of `y = x.", stringify!($method), "(p)`. See [`FloatRules`] for")]
        /// the formula and its value at kinks and ties.
        ///
        /// ```
        #[doc = concat!("use autodiff_runtime::rules::{", stringify!($lhs), ", ", stringify!($rhs), "};")]
        /// let (x, p) = (0.5_f64, 1.5);
        #[doc = concat!("let y = x.", stringify!($method), "(p);")]
        #[doc = concat!("let g = (", stringify!($lhs), "(&x, &p, &y, &1.0), ", stringify!($rhs), "(&x, &p, &y, &1.0));")]
        #[doc = concat!("autodiff_runtime::check(|&(x, p): &(f64, f64)| x.", stringify!($method), "(p), (x, p), g).assert_close(1e-8);")]
        /// ```
        #[inline]
        pub fn $lhs<X: FloatRules + ?Sized>(x: &X, p: &X, y: &X::Tangent, d: &X::Tangent) -> X::Tangent {
            x.$lhs(p, y, d)
        }

        #[doc = concat!("Pullback to the argument `p` of `y = x.", stringify!($method), "(p)`; see [`", stringify!($lhs), "`].")]
        #[inline]
        pub fn $rhs<X: FloatRules + ?Sized>(x: &X, p: &X, y: &X::Tangent, d: &X::Tangent) -> X::Tangent {
            x.$rhs(p, y, d)
        }
    )*};
}

/// Pullback to the receiver `x` of `y = x.powf(p)`: `d · p · xᵖ⁻¹` (see
/// [`FloatRules::powf_pullback_lhs`]); for an array, elementwise with one
/// exponent `p` for every element.
///
/// ```
/// use autodiff_runtime::rules::{powf_pullback_lhs, powf_pullback_rhs};
/// let (x, p) = (0.5_f64, 1.5);
/// let y = x.powf(p);
/// let g = (powf_pullback_lhs(&x, &p, &y, &1.0), powf_pullback_rhs(&x, &p, &y, &1.0));
/// autodiff_runtime::check(|&(x, p): &(f64, f64)| x.powf(p), (x, p), g).assert_close(1e-8);
/// ```
#[inline]
pub fn powf_pullback_lhs<X: PowfRule<P> + ?Sized, P>(
    x: &X,
    p: &P,
    y: &X::Tangent,
    d: &X::Tangent,
) -> X::Tangent {
    x.powf_lhs(p, y, d)
}

/// Pullback to the exponent `p` of `y = x.powf(p)`: `d · y · ln x` (see
/// [`FloatRules::powf_pullback_rhs`]); for an array, summed over its
/// elements.
#[inline]
pub fn powf_pullback_rhs<X: PowfRule<P> + ?Sized, P>(
    x: &X,
    p: &P,
    y: &X::Tangent,
    d: &X::Tangent,
) -> X::PTangent {
    x.powf_rhs(p, y, d)
}

binary_float_rules! {
    max_pullback_lhs, max_pullback_rhs, max;
    min_pullback_lhs, min_pullback_rhs, min;
    atan2_pullback_lhs, atan2_pullback_rhs, atan2;
    hypot_pullback_lhs, hypot_pullback_rhs, hypot;
    log_pullback_lhs, log_pullback_rhs, log;
    copysign_pullback_lhs, copysign_pullback_rhs, copysign;
    rem_euclid_pullback_lhs, rem_euclid_pullback_rhs, rem_euclid;
}

/// Pullback of `y = x.powi(n)`: `d · n · x^(n−1)` (`0` for `n = 0`).
///
/// ```
/// let x = 1.5_f64;
/// let g = autodiff_runtime::rules::powi_pullback(&x, 3, &x.powi(3), &1.0);
/// assert_eq!(g, 3.0 * 1.5 * 1.5);
/// ```
#[inline]
pub fn powi_pullback<X: FloatRules + ?Sized>(
    x: &X,
    n: i32,
    y: &X::Tangent,
    d: &X::Tangent,
) -> X::Tangent {
    x.powi_pullback(n, y, d)
}

/// Pullback of `x.mul_add(a, b)` to `x`: `d · a`.
///
/// ```
/// use autodiff_runtime::rules::{mul_add_pullback_a, mul_add_pullback_b, mul_add_pullback_x};
/// let (x, a, b, d) = (2.0_f64, 3.0, 4.0, 0.5);
/// let g = (
///     mul_add_pullback_x(&x, &a, &b, &d),
///     mul_add_pullback_a(&x, &a, &b, &d),
///     mul_add_pullback_b(&x, &a, &b, &d),
/// );
/// assert_eq!(g, (1.5, 1.0, 0.5));
/// ```
#[inline]
pub fn mul_add_pullback_x<X: FloatRules + ?Sized>(
    x: &X,
    a: &X,
    b: &X,
    d: &X::Tangent,
) -> X::Tangent {
    x.mul_add_pullback_x(a, b, d)
}

/// Pullback of `x.mul_add(a, b)` to `a`: `d · x`; see [`mul_add_pullback_x`].
#[inline]
pub fn mul_add_pullback_a<X: FloatRules + ?Sized>(
    x: &X,
    a: &X,
    b: &X,
    d: &X::Tangent,
) -> X::Tangent {
    x.mul_add_pullback_a(a, b, d)
}

/// Pullback of `x.mul_add(a, b)` to `b`: `d`; see [`mul_add_pullback_x`].
#[inline]
pub fn mul_add_pullback_b<X: FloatRules + ?Sized>(
    x: &X,
    a: &X,
    b: &X,
    d: &X::Tangent,
) -> X::Tangent {
    x.mul_add_pullback_b(a, b, d)
}

/// Pullback of `x.clamp(lo, hi)` to `x`: `d` where `lo ≤ x ≤ hi` (the value
/// is `x`; ties with a bound go to `x`, as `max`/`min` ties go to the
/// receiver), else `0`. See [`FloatRules::clamp_pullback_x`].
///
/// ```
/// use autodiff_runtime::rules::{clamp_pullback_hi, clamp_pullback_lo, clamp_pullback_x};
/// let (lo, hi, d) = (-1.0_f64, 1.0, 0.5);
/// let g = |x: f64| {
///     (
///         clamp_pullback_x(&x, &lo, &hi, &d),
///         clamp_pullback_lo(&x, &lo, &hi, &d),
///         clamp_pullback_hi(&x, &lo, &hi, &d),
///     )
/// };
/// assert_eq!(g(0.3), (0.5, 0.0, 0.0));
/// assert_eq!(g(-2.0), (0.0, 0.5, 0.0));
/// assert_eq!(g(2.0), (0.0, 0.0, 0.5));
/// assert_eq!(g(1.0), (0.5, 0.0, 0.0)); // a tie: the receiver
/// let f = |&(x, lo, hi): &(f64, f64, f64)| d * x.clamp(lo, hi);
/// autodiff_runtime::check(f, (0.3, lo, hi), g(0.3)).assert_close(1e-8);
/// ```
#[inline]
pub fn clamp_pullback_x<X: FloatRules + ?Sized>(
    x: &X,
    lo: &X,
    hi: &X,
    d: &X::Tangent,
) -> X::Tangent {
    x.clamp_pullback_x(lo, hi, d)
}

/// Pullback of `x.clamp(lo, hi)` to `lo`: `d` where `x < lo`, else `0`; see
/// [`clamp_pullback_x`].
#[inline]
pub fn clamp_pullback_lo<X: FloatRules + ?Sized>(
    x: &X,
    lo: &X,
    hi: &X,
    d: &X::Tangent,
) -> X::Tangent {
    x.clamp_pullback_lo(lo, hi, d)
}

/// Pullback of `x.clamp(lo, hi)` to `hi`: `d` where `x > hi`, else `0`; see
/// [`clamp_pullback_x`].
#[inline]
pub fn clamp_pullback_hi<X: FloatRules + ?Sized>(
    x: &X,
    lo: &X,
    hi: &X,
    d: &X::Tangent,
) -> X::Tangent {
    x.clamp_pullback_hi(lo, hi, d)
}

/// Pullback of the matrix product `a · b` to `a`: `d · bᵀ`.
#[inline]
pub fn matmul_pullback_lhs<A, B>(a: &A, b: &B, d: &<A as MatmulRule<B>>::DOut) -> A::Tangent
where
    A: MatmulRule<B> + ?Sized,
    B: Differentiable + ?Sized,
{
    a.matmul_pullback_lhs(b, d)
}

/// Pullback of the matrix product `a · b` to `b`: `aᵀ · d`.
#[inline]
pub fn matmul_pullback_rhs<A, B>(a: &A, b: &B, d: &<A as MatmulRule<B>>::DOut) -> B::Tangent
where
    A: MatmulRule<B> + ?Sized,
    B: Differentiable + ?Sized,
{
    a.matmul_pullback_rhs(b, d)
}

/// Pullback of the inner product `Σ aᵢbᵢ` to `a`: `d · b`.
#[inline]
pub fn dot_pullback_lhs<A, B>(a: &A, b: &B, d: &<A as DotRule<B>>::DOut) -> A::Tangent
where
    A: DotRule<B> + ?Sized,
    B: Differentiable + ?Sized,
{
    a.dot_pullback_lhs(b, d)
}

/// Pullback of the inner product `Σ aᵢbᵢ` to `b`: `d · a`.
#[inline]
pub fn dot_pullback_rhs<A, B>(a: &A, b: &B, d: &<A as DotRule<B>>::DOut) -> B::Tangent
where
    A: DotRule<B> + ?Sized,
    B: Differentiable + ?Sized,
{
    a.dot_pullback_rhs(b, d)
}

/// Pullback of the transpose: `dᵀ`.
#[inline]
pub fn transpose_pullback<X: TransposeRule + ?Sized>(x: &X, d: &X::DOut) -> X::Tangent {
    x.transpose_pullback(d)
}

/// Pullback of `Σ xᵢ`: `d` everywhere.
#[inline]
pub fn sum_pullback<X: ReduceRule + ?Sized>(x: &X, d: &X::Elem) -> X::Tangent {
    x.sum_pullback(d)
}

/// Pullback of the mean: `d / n` everywhere.
#[inline]
pub fn mean_pullback<X: ReduceRule + ?Sized>(x: &X, d: &X::Elem) -> X::Tangent {
    x.mean_pullback(d)
}

/// Pullback of `‖x‖₂`: `d · x / y`, `0` at `x = 0`.
#[inline]
pub fn norm_pullback<X: ReduceRule + ?Sized>(x: &X, y: &X::Elem, d: &X::Elem) -> X::Tangent {
    x.norm_pullback(y, d)
}

/// Pullback of `‖x‖₂²`: `2 · d · x`.
#[inline]
pub fn norm_sq_pullback<X: ReduceRule + ?Sized>(x: &X, d: &X::Elem) -> X::Tangent {
    x.norm_sq_pullback(d)
}

macro_rules! into_rules {
    ($($rule:ident: $method:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        /// The same pullback, given the adjoint by value because nothing reads
        /// it afterwards: arrays reuse its buffer instead of allocating.
        #[inline]
        pub fn $method<X: ?Sized + $rule>(x: &X, $($arg: $ty),*) -> $ret {
            x.$method($($arg),*)
        }
    )*};
}

into_rules! {
    NegRule: neg_pullback_into(d: X::DOut) -> X::Tangent;
    TransposeRule: transpose_pullback_into(d: X::DOut) -> X::Tangent;
}

macro_rules! binary_into_rules {
    ($($rule:ident: $lhs:ident, $rhs:ident;)*) => {$(
        /// The left pullback, given the adjoint by value because nothing reads
        /// it afterwards: without broadcasting, arrays reuse its buffer.
        #[inline]
        pub fn $lhs<A, B>(a: &A, b: &B, d: <A as $rule<B>>::DOut) -> A::Tangent
        where
            A: $rule<B> + ?Sized,
            B: Differentiable + ?Sized,
        {
            a.$lhs(b, d)
        }

        /// The right pullback, given the adjoint by value because nothing
        /// reads it afterwards: without broadcasting, arrays reuse its buffer.
        #[inline]
        pub fn $rhs<A, B>(a: &A, b: &B, d: <A as $rule<B>>::DOut) -> B::Tangent
        where
            A: $rule<B> + ?Sized,
            B: Differentiable + ?Sized,
        {
            a.$rhs(b, d)
        }
    )*};
}

binary_into_rules! {
    AddRule: add_pullback_lhs_into, add_pullback_rhs_into;
    SubRule: sub_pullback_lhs_into, sub_pullback_rhs_into;
}

/// Pullback of `‖x‖₂²`, given `x` by value because nothing reads it
/// afterwards: an owned array is scaled in place into its gradient.
#[inline]
pub fn norm_sq_pullback_into<X: ReduceRule>(x: X, d: &X::Elem) -> X::Tangent {
    x.norm_sq_pullback_into(d)
}
