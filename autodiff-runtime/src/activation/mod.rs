//! The elementwise activations `sigmoid`, `relu`, `softplus` and `silu`, each
//! defined once: its value and derivative as functions generic over
//! [`num_traits::Float`], one `activation!` invocation that makes of them the
//! forward trait, the rule trait, the pullbacks generated code calls, and the
//! impls for `f32`, `f64` (by value and by reference), [`Dual`] and ndarray
//! arrays, and the free function (`sigmoid(x)`).
//!
//! Adding an activation is a section of this file and its tests (`tests.rs`):
//! the two formulas, one `activation!` invocation, the free function, and its
//! names in [`exports`], [`rule_traits`], [`pullbacks`], [`Activations`] and
//! [`__with_activations!`](crate::__with_activations), the list `#[grad]`
//! learns them from (the macro crate names none of them;
//! `tests/rule_table.rs` fails if an `activation!` is missing from that list,
//! or the list names a rule this file lacks). A user's own function by an
//! activation's name is a compile error, not differentiated by its rule:
//! `rules::runtime_fn`.
//!
//! This module sits below the array types: it names no module of the crate
//! but [`crate::tangent`] and [`crate::dual`]'s type.

use crate::dual::Dual;
use crate::tangent::Differentiable;

/// What the crate root exports: the forward traits and functions.
pub mod exports {
    pub use super::{Relu, Sigmoid, Silu, Softplus, relu, sigmoid, silu, softplus};
}

/// The rule traits, exported in `rules_traits`.
pub mod rule_traits {
    pub use super::{ReluRule, SigmoidRule, SiluRule, SoftplusRule};
}

/// The pullbacks generated code calls, exported in `rules`.
pub mod pullbacks {
    pub use super::{
        relu_pullback, relu_pullback_into, sigmoid_pullback, sigmoid_pullback_into, silu_pullback,
        silu_pullback_into, softplus_pullback, softplus_pullback_into,
    };
}

/// Not public API: hands the names of this file's activations to a macro
/// of the macro crate, which knows no activation by itself.
///
/// `#[grad] fn f …` expands to
/// `__with_activations! { (::autodiff::__private::__grad) (args) fn f … }`,
/// which calls `::autodiff::__private::__grad! { [sigmoid relu softplus] (args) fn f … }`:
/// `sigmoid(x)` in `f` is then differentiated by `sigmoid`'s rules. The
/// callback is a path in parentheses, passed on as plain tokens (not a
/// `$callback:path` fragment), so that the call takes its hygiene from the
/// caller's tokens: the names the callback makes resolve at the user's
/// `#[grad]`, not in this crate.
#[doc(hidden)]
#[macro_export]
macro_rules! __with_activations {
    (($($callback:tt)*) $($input:tt)*) => {
        $($callback)*! { [sigmoid relu softplus silu] $($input)* }
    };
}

/// Every activation with its rule, on a type that is its own tangent: the
/// bound the element types of arrays and [`crate::Scalar`] carry.
pub trait Activations:
    Sigmoid<Output = Self>
    + SigmoidRule
    + Relu<Output = Self>
    + ReluRule
    + Softplus<Output = Self>
    + SoftplusRule
    + Silu<Output = Self>
    + SiluRule
{
}

impl<T> Activations for T where
    T: Sigmoid<Output = T>
        + SigmoidRule
        + Relu<Output = T>
        + ReluRule
        + Softplus<Output = T>
        + SoftplusRule
        + Silu<Output = T>
        + SiluRule
{
}

/// One activation from its two formulas (`$formulas::value(x)` and
/// `$formulas::pullback(x, y, d)` = `d · f′(x)`, generic over
/// `num_traits::Float`):
///
/// - the forward trait, with its attributes and its method's doc;
/// - the rule trait (`Differentiable` supertrait; `_into` defaults to the
///   by-reference pullback);
/// - the free pullbacks (`rules::…`; the free function is written out
///   beside the invocation, so that rustc's notes on a wrong argument show
///   it, not this macro);
/// - impls for `f32`, `f64`, `&f32`, `&f64` and `Dual<F>`, all through the
///   formulas;
/// - array impls, elementwise by the element's rule: a reference or a view
///   gives a new array, an owned array is overwritten in place, and the
///   `_into` pullback works in place on the dead adjoint.
macro_rules! activation {
    (
        $(#[$trait_attr:meta])*
        trait $Trait:ident {
            $(#[$method_doc:meta])*
            fn $method:ident;
        }
        $(#[$rule_attr:meta])*
        trait $Rule:ident {
            fn $pullback:ident, $pullback_into:ident;
        }
        $(#[$pullback_doc:meta])*
        fn $free_pullback:ident;
        $(#[$array_doc:meta])*
        arrays;
        formulas $formulas:ident;
    ) => {
        $(#[$trait_attr])*
        pub trait $Trait {
            #[doc = concat!("The type of `", stringify!($method), "(x)`.")]
            type Output;
            $(#[$method_doc])*
            fn $method(self) -> Self::Output;
        }

        $(#[$rule_attr])*
        pub trait $Rule: Differentiable {
            #[doc = concat!(
                "Gradient contribution to `x`, given `y = ",
                stringify!($method),
                "(x)` and its adjoint `d`."
            )]
            fn $pullback(&self, y: &Self::Tangent, d: &Self::Tangent) -> Self::Tangent;
            #[doc = concat!(
                "As [`Self::",
                stringify!($pullback),
                "`], given the adjoint by value: it is dead afterwards, so an \
                 implementation may overwrite it with the result."
            )]
            #[inline]
            fn $pullback_into(&self, y: &Self::Tangent, d: Self::Tangent) -> Self::Tangent {
                self.$pullback(y, &d)
            }
        }

        $(#[$pullback_doc])*
        #[inline]
        pub fn $free_pullback<X: $Rule + ?Sized>(
            x: &X,
            y: &X::Tangent,
            d: &X::Tangent,
        ) -> X::Tangent {
            x.$pullback(y, d)
        }

        /// The same pullback, given the adjoint by value because nothing
        /// reads it afterwards: arrays reuse its buffer instead of
        /// allocating.
        #[inline]
        pub fn $pullback_into<X: $Rule + ?Sized>(
            x: &X,
            y: &X::Tangent,
            d: X::Tangent,
        ) -> X::Tangent {
            x.$pullback_into(y, d)
        }

        activation!(@float $Trait::$method, $Rule::$pullback, $formulas, f32);
        activation!(@float $Trait::$method, $Rule::$pullback, $formulas, f64);

        impl<F: num_traits::Float> $Trait for Dual<F> {
            type Output = Dual<F>;
            /// The ε part by the same derivative formula as floats.
            #[inline]
            fn $method(self) -> Dual<F> {
                self.unary($formulas::value, $formulas::pullback)
            }
        }

        impl<F: num_traits::Float> $Rule for Dual<F> {
            #[inline]
            fn $pullback(&self, y: &Self, d: &Self) -> Self {
                $formulas::pullback(*self, *y, *d)
            }
        }

        $(#[$array_doc])*
        impl<A, S, D> $Trait for &ndarray::ArrayBase<S, D>
        where
            A: $Trait<Output = A> + Copy,
            S: ndarray::Data<Elem = A>,
            D: ndarray::Dimension,
        {
            type Output = ndarray::Array<A, D>;
            #[inline]
            fn $method(self) -> ndarray::Array<A, D> {
                self.mapv(A::$method)
            }
        }

        /// Elementwise, into a new array.
        impl<A, D> $Trait for ndarray::ArrayView<'_, A, D>
        where
            A: $Trait<Output = A> + Copy,
            D: ndarray::Dimension,
        {
            type Output = ndarray::Array<A, D>;
            #[inline]
            fn $method(self) -> ndarray::Array<A, D> {
                self.mapv(A::$method)
            }
        }

        /// Elementwise, in place: the buffer is reused.
        impl<A, D> $Trait for ndarray::Array<A, D>
        where
            A: $Trait<Output = A> + Copy,
            D: ndarray::Dimension,
        {
            type Output = ndarray::Array<A, D>;
            #[inline]
            fn $method(mut self) -> ndarray::Array<A, D> {
                self.mapv_inplace(A::$method);
                self
            }
        }

        /// Elementwise, by the element type's rule.
        impl<A, S, D> $Rule for ndarray::ArrayBase<S, D>
        where
            A: $Rule + Differentiable<Tangent = A> + Copy,
            S: ndarray::Data<Elem = A>,
            D: ndarray::Dimension,
            ndarray::ArrayBase<S, D>: Differentiable<Tangent = ndarray::Array<A, D>>,
        {
            #[inline]
            fn $pullback(
                &self,
                y: &ndarray::Array<A, D>,
                d: &ndarray::Array<A, D>,
            ) -> ndarray::Array<A, D> {
                ndarray::Zip::from(self)
                    .and(y)
                    .and(d)
                    .map_collect(|x, y, d| x.$pullback(y, d))
            }
            /// In place: the result overwrites the adjoint's buffer.
            #[inline]
            fn $pullback_into(
                &self,
                y: &ndarray::Array<A, D>,
                mut d: ndarray::Array<A, D>,
            ) -> ndarray::Array<A, D> {
                ndarray::Zip::from(&mut d)
                    .and(self)
                    .and(y)
                    .for_each(|d, x, y| *d = x.$pullback(y, d));
                d
            }
        }
    };
    (@float $Trait:ident::$method:ident, $Rule:ident::$pullback:ident, $formulas:ident, $t:ty) => {
        /// By reference too, as for arrays: generated code borrows values
        /// it still needs.
        impl $Trait for &$t {
            type Output = $t;
            #[inline]
            fn $method(self) -> $t {
                $formulas::value(*self)
            }
        }

        impl $Trait for $t {
            type Output = $t;
            #[inline]
            fn $method(self) -> $t {
                $formulas::value(self)
            }
        }

        impl $Rule for $t {
            #[inline]
            fn $pullback(&self, y: &$t, d: &$t) -> $t {
                $formulas::pullback(*self, *y, *d)
            }
        }
    };
}

// ---------------------------------------------------------------------------
// sigmoid

/// σ and its derivative.
pub(crate) mod sigmoid_formulas {
    use num_traits::Float;

    /// σ(x): with e = e^(−|x|) ∈ [0, 1], which never overflows, 1/(1 + e)
    /// for x ≥ 0 and e/(1 + e) below. The pullback computes the same `e`
    /// from the same `x`, so once both are inlined the compiler keeps one
    /// `exp` for the value and the derivative.
    #[inline]
    pub fn value<T: Float>(x: T) -> T {
        let e = (-x.abs()).exp();
        let numerator = if x >= T::zero() { T::one() } else { e };
        numerator / (T::one() + e)
    }

    /// `d · σ′(x)`, σ′(x) = σ(x)·σ(−x). For x ≤ 1, y = σ(x) ≤ 0.74, so
    /// 1 − y ≥ 0.26 is exact (Sterbenz) up to y's own rounding: y·(1 − y) is
    /// within a few ulp, and costs no `exp`. Above 1, 1 − y cancels (≈ 300
    /// ulp lost at x = 7), so σ(−x) comes from e = e^(−x) instead:
    /// σ′(x) = e/(1 + e)² (the forward's `exp`, shared once inlined).
    #[inline]
    pub fn pullback<T: Float>(x: T, y: T, d: T) -> T {
        if x <= T::one() {
            d * (y * (T::one() - y))
        } else {
            let e = (-x.abs()).exp();
            let one_e = T::one() + e;
            d * (e / (one_e * one_e))
        }
    }
}

activation! {
    /// Types [`sigmoid`] applies to (elementwise for arrays). Implemented for
    /// `f32` and `f64`.
    ///
    /// ```
    /// use autodiff_runtime::Sigmoid;
    /// assert_eq!(0.0_f32.sigmoid(), 0.5);
    /// assert_eq!((-800.0_f64).sigmoid(), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "`sigmoid` is not defined for `{Self}`",
        label = "`sigmoid` of this value",
        note = "`sigmoid` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
    )]
    trait Sigmoid {
        /// σ(x) = 1 / (1 + e^(−x)), within a few ulp for every `x`, never NaN
        /// for a non-NaN `x`: `σ(−∞) = 0`, `σ(+∞) = 1`.
        fn sigmoid;
    }
    /// Rule of [`sigmoid`]: `d · σ(x) · σ(−x)`, within 4 ulp everywhere.
    ///
    /// For `x ≤ 1` it is `d · y · (1 − y)` from the forward value `y = σ(x)`:
    /// there `1 − y ≥ 0.26` is exact, and no `exp` is needed. Above, `1 − y`
    /// would cancel (≈ 300 ulp lost at `x = 7`), so it is `d · e / (1 + e)²`
    /// with `e = e^(−x)`: no cancellation, and `0` rather than NaN as `x → ∞`.
    ///
    /// ```
    /// use autodiff_runtime::rules_traits::SigmoidRule;
    /// let x = 0.0_f64;
    /// assert_eq!(x.sigmoid_pullback(&0.5, &1.0), 0.25);
    /// assert_eq!(800.0_f64.sigmoid_pullback(&1.0, &1.0), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "no derivative rule for `sigmoid` on `{Self}`",
        note = "`sigmoid` is differentiated on `f32` and `f64`"
    )]
    trait SigmoidRule {
        fn sigmoid_pullback, sigmoid_pullback_into;
    }
    /// Pullback of [`sigmoid`](crate::sigmoid): `d · σ(x) · σ(−x)`, computed from `x`.
    ///
    /// ```
    /// let x = 0.0_f64;
    /// assert_eq!(autodiff_runtime::rules::sigmoid_pullback(&x, &0.5, &2.0), 0.5);
    /// ```
    fn sigmoid_pullback;
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::sigmoid;
    /// let x = ndarray::array![0.0_f64, 800.0, -800.0];
    /// assert_eq!(sigmoid(&x), ndarray::array![0.5, 1.0, 0.0]);
    /// assert_eq!(sigmoid(x.view()), sigmoid(x), "by view and in place");
    /// ```
    arrays;
    formulas sigmoid_formulas;
}

/// The logistic function σ(x) = 1 / (1 + e^(−x)).
///
/// ```
/// let y = autodiff_runtime::sigmoid(7.0_f64);
/// assert!((y - 0.999_088_948_805_599_4).abs() < 1e-15);
/// ```
#[inline]
pub fn sigmoid<T: Sigmoid>(x: T) -> T::Output {
    x.sigmoid()
}

// ---------------------------------------------------------------------------
// relu

/// relu and its derivative.
pub(crate) mod relu_formulas {
    use num_traits::Float;

    /// max(x, 0), but a NaN `x` stays NaN (`x.max(0)` would give 0).
    #[inline]
    pub fn value<T: Float>(x: T) -> T {
        if x > T::zero() || x.is_nan() {
            x
        } else {
            T::zero()
        }
    }

    /// `d` where `x > 0`, `0` elsewhere (the kink `x = 0` included), NaN at
    /// a NaN `x`.
    #[inline]
    pub fn pullback<T: Float>(x: T, _y: T, d: T) -> T {
        if x > T::zero() {
            d
        } else if x.is_nan() {
            x
        } else {
            T::zero()
        }
    }
}

activation! {
    /// Types [`relu`] applies to (elementwise for arrays). Implemented for `f32`
    /// and `f64`.
    ///
    /// ```
    /// use autodiff_runtime::Relu;
    /// assert_eq!(1.5_f32.relu(), 1.5);
    /// assert_eq!((-1.5_f64).relu(), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "`relu` is not defined for `{Self}`",
        label = "`relu` of this value",
        note = "`relu` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
    )]
    trait Relu {
        /// relu(x) = max(x, 0); a NaN `x` gives NaN.
        fn relu;
    }
    /// Rule of [`relu`]: `d` where `x > 0`, `0` elsewhere (the derivative at the
    /// kink `x = 0` is taken as `0`; a NaN `x` gives NaN).
    ///
    /// ```
    /// use autodiff_runtime::rules_traits::ReluRule;
    /// assert_eq!(2.0_f64.relu_pullback(&2.0, &0.5), 0.5);
    /// assert_eq!(0.0_f64.relu_pullback(&0.0, &0.5), 0.0); // the kink
    /// assert_eq!((-2.0_f32).relu_pullback(&0.0, &0.5), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "no derivative rule for `relu` on `{Self}`",
        note = "`relu` is differentiated on `f32` and `f64`"
    )]
    trait ReluRule {
        fn relu_pullback, relu_pullback_into;
    }
    /// Pullback of [`relu`](crate::relu): `d` where `x > 0`, else `0` (`0` at the
    /// kink `x = 0`).
    ///
    /// ```
    /// use autodiff_runtime::rules::relu_pullback;
    /// assert_eq!(relu_pullback(&1.5_f64, &1.5, &2.0), 2.0);
    /// assert_eq!(relu_pullback(&0.0_f64, &0.0, &2.0), 0.0);
    /// ```
    fn relu_pullback;
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::relu;
    /// let x = ndarray::array![-1.0_f32, 0.0, 2.0];
    /// assert_eq!(relu(&x), ndarray::array![0.0, 0.0, 2.0]);
    /// assert_eq!(relu(x.view()), relu(x), "by view and in place");
    /// ```
    arrays;
    formulas relu_formulas;
}

/// The rectifier relu(x) = max(x, 0).
///
/// ```
/// assert_eq!(autodiff_runtime::relu(-2.0_f64), 0.0);
/// assert_eq!(autodiff_runtime::relu(3.0_f32), 3.0);
/// ```
#[inline]
pub fn relu<T: Relu>(x: T) -> T::Output {
    x.relu()
}

// ---------------------------------------------------------------------------
// softplus

/// softplus and its derivative.
pub(crate) mod softplus_formulas {
    use num_traits::Float;

    /// ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)): the exponential is in
    /// [0, 1], so nothing overflows, and `ln_1p` keeps the small tail.
    #[inline]
    pub fn value<T: Float>(x: T) -> T {
        x.max(T::zero()) + (-x.abs()).exp().ln_1p()
    }

    /// `d · σ(x)`.
    #[inline]
    pub fn pullback<T: Float>(x: T, _y: T, d: T) -> T {
        d * super::sigmoid_formulas::value(x)
    }
}

activation! {
    /// Types [`softplus`] applies to (elementwise for arrays). Implemented for
    /// `f32` and `f64`.
    ///
    /// ```
    /// use autodiff_runtime::Softplus;
    /// assert_eq!(800.0_f32.softplus(), 800.0); // e^800 would overflow: not computed
    /// assert_eq!((-800.0_f64).softplus(), 0.0);
    /// assert_eq!(80.0_f32.softplus(), 80.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "`softplus` is not defined for `{Self}`",
        label = "`softplus` of this value",
        note = "`softplus` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
    )]
    trait Softplus {
        /// softplus(x) = ln(1 + eˣ), finite for every finite `x`, computed as
        /// `max(x, 0) + ln_1p(e^(−|x|))`; `softplus(−∞) = 0`, `softplus(+∞) = +∞`.
        fn softplus;
    }
    /// Rule of [`softplus`]: `d · σ(x)`, with σ computed as by
    /// [`sigmoid`](crate::sigmoid) (finite for every `x`).
    ///
    /// ```
    /// use autodiff_runtime::rules_traits::SoftplusRule;
    /// let x = 0.0_f64;
    /// assert_eq!(x.softplus_pullback(&std::f64::consts::LN_2, &2.0), 1.0);
    /// assert_eq!((-800.0_f64).softplus_pullback(&0.0, &1.0), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "no derivative rule for `softplus` on `{Self}`",
        note = "`softplus` is differentiated on `f32` and `f64`"
    )]
    trait SoftplusRule {
        fn softplus_pullback, softplus_pullback_into;
    }
    /// Pullback of [`softplus`](crate::softplus): `d · σ(x)`.
    ///
    /// ```
    /// let x = 0.0_f64;
    /// assert_eq!(autodiff_runtime::rules::softplus_pullback(&x, &std::f64::consts::LN_2, &2.0), 1.0);
    /// ```
    fn softplus_pullback;
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::softplus;
    /// let x = ndarray::array![800.0_f64, -800.0];
    /// assert_eq!(softplus(&x), ndarray::array![800.0, 0.0]);
    /// assert_eq!(softplus(x.view()), softplus(x), "by view and in place");
    /// ```
    arrays;
    formulas softplus_formulas;
}

/// softplus(x) = ln(1 + eˣ), computed without overflow.
///
/// ```
/// assert!((autodiff_runtime::softplus(0.0_f64) - std::f64::consts::LN_2).abs() < 1e-15);
/// assert_eq!(autodiff_runtime::softplus(800.0_f64), 800.0);
/// ```
#[inline]
pub fn softplus<T: Softplus>(x: T) -> T::Output {
    x.softplus()
}

// ---------------------------------------------------------------------------
// silu

/// silu and its derivative.
pub(crate) mod silu_formulas {
    use num_traits::Float;

    /// x·σ(x), σ as [`sigmoid`](crate::sigmoid) computes it; `−0` at `−∞`
    /// (`−∞ · 0` would be NaN).
    #[inline]
    pub fn value<T: Float>(x: T) -> T {
        if x == T::neg_infinity() {
            -T::zero()
        } else {
            x * super::sigmoid_formulas::value(x)
        }
    }

    /// `d · (σ(x) + x·σ(x)·σ(−x))`, from one `exp`: with e = e^(−|x|),
    /// σ(x) = 1/(1 + e) or e/(1 + e) and σ(x)·σ(−x) = e/(1 + e)², neither
    /// cancelling. The sum cancels only near the minimum of silu (x ≈ −1.28),
    /// where the derivative itself goes through 0. At ±∞ it is the limit, 1
    /// or 0 (`∞ · 0` would be NaN).
    #[inline]
    pub fn pullback<T: Float>(x: T, _y: T, d: T) -> T {
        if x.is_infinite() {
            return if x > T::zero() { d } else { d * T::zero() };
        }
        let e = (-x.abs()).exp();
        let one_e = T::one() + e;
        let s = if x >= T::zero() { T::one() } else { e } / one_e;
        d * (s + x * (e / (one_e * one_e)))
    }
}

activation! {
    /// Types [`silu`] applies to (elementwise for arrays). Implemented for
    /// `f32` and `f64`.
    ///
    /// ```
    /// use autodiff_runtime::Silu;
    /// assert_eq!(0.0_f32.silu(), 0.0);
    /// assert_eq!(800.0_f64.silu(), 800.0);
    /// assert_eq!((-800.0_f64).silu(), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "`silu` is not defined for `{Self}`",
        label = "`silu` of this value",
        note = "`silu` applies to `f32`, `f64` (by value or reference) and ndarray arrays (`&Array`, views, or an owned `Array`, updated in place)"
    )]
    trait Silu {
        /// silu(x) = x·σ(x) (also called swish), within a few ulp for every
        /// `x`; `silu(−∞) = −0`, `silu(+∞) = +∞`.
        fn silu;
    }
    /// Rule of [`silu`]: `d · (σ(x) + x·σ(x)·σ(−x))`, from one `exp` and
    /// without cancellation but near silu's minimum (x ≈ −1.28, where the
    /// derivative is 0); the limits `d` and `0` at `±∞`.
    ///
    /// ```
    /// use autodiff_runtime::rules_traits::SiluRule;
    /// assert_eq!(0.0_f64.silu_pullback(&0.0, &2.0), 1.0);
    /// assert_eq!(800.0_f64.silu_pullback(&800.0, &1.0), 1.0);
    /// assert_eq!(f64::NEG_INFINITY.silu_pullback(&0.0, &1.0), 0.0);
    /// ```
    #[diagnostic::on_unimplemented(
        message = "no derivative rule for `silu` on `{Self}`",
        note = "`silu` is differentiated on `f32` and `f64`"
    )]
    trait SiluRule {
        fn silu_pullback, silu_pullback_into;
    }
    /// Pullback of [`silu`](crate::silu): `d · (σ(x) + x·σ(x)·σ(−x))`.
    ///
    /// ```
    /// let x = 0.0_f64;
    /// assert_eq!(autodiff_runtime::rules::silu_pullback(&x, &0.0, &2.0), 1.0);
    /// ```
    fn silu_pullback;
    /// Elementwise, into a new array.
    ///
    /// ```
    /// use autodiff_runtime::silu;
    /// let x = ndarray::array![0.0_f64, 800.0, -800.0];
    /// assert_eq!(silu(&x), ndarray::array![0.0, 800.0, 0.0]);
    /// assert_eq!(silu(x.view()), silu(x), "by view and in place");
    /// ```
    arrays;
    formulas silu_formulas;
}

/// The sigmoid-weighted linear unit silu(x) = x·σ(x), also called swish.
///
/// ```
/// let y = autodiff_runtime::silu(1.0_f64);
/// assert!((y - 0.731_058_578_630_004_9).abs() < 1e-15);
/// ```
#[inline]
pub fn silu<T: Silu>(x: T) -> T::Output {
    x.silu()
}

#[cfg(test)]
mod tests;
