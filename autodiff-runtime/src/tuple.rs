//! Tuples of differentiable values: the output `(f64, f64)` of a `#[grad]`
//! function, and a tuple its body builds and reads by field.
//!
//! The gradient of a tuple is the tuple of its components' gradients; a
//! tuple's gradient is accumulated, scaled and split into unit seeds
//! component by component. `#[grad]` builds a tuple from differentiated
//! values as `(a, b)`, and its pullback to component `k` is
//! [`tuple_pullback_0`], [`tuple_pullback_1`], …: the `k`-th component of
//! the tuple's adjoint.

use crate::tangent::{Accumulate, Basis, Differentiable, Scale};

/// Component `K` of a tuple's adjoint, owned: what flows back into the
/// value the tuple was built from.
pub trait Component<const K: usize> {
    /// The component's type.
    type Out;
    /// A copy of component `K`.
    fn component(&self) -> Self::Out;
}

macro_rules! tuple_impls {
    ($( ($($T:ident $i:tt),+) )*) => {$(
        impl<$($T: Differentiable),+> Differentiable for ($($T,)+) {
            type Tangent = ($($T::Tangent,)+);
            #[inline]
            fn zero_tangent(&self) -> Self::Tangent {
                ($(self.$i.zero_tangent(),)+)
            }
        }

        impl<$($T: Accumulate),+> Accumulate for ($($T,)+) {
            #[inline]
            fn accumulate(&mut self, rhs: Self) {
                $(self.$i.accumulate(rhs.$i);)+
            }
        }

        impl<'r, $($T: Accumulate<&'r $T> + 'r),+> Accumulate<&'r ($($T,)+)> for ($($T,)+) {
            #[inline]
            fn accumulate(&mut self, rhs: &'r ($($T,)+)) {
                $(self.$i.accumulate(&rhs.$i);)+
            }
        }

        impl<S, $($T: Scale<S>),+> Scale<S> for ($($T,)+) {
            #[inline]
            fn scale(&mut self, by: &S) {
                $(self.$i.scale(by);)+
            }
        }

        // One unit seed per element of each component, the others zero.
        impl<$($T: Basis + Differentiable<Tangent = $T> + Clone),+> Basis for ($($T,)+) {
            fn basis(&self) -> Vec<Self> {
                let zero = ($(self.$i.zero_tangent(),)+);
                let mut seeds = Vec::new();
                $(
                    for unit in self.$i.basis() {
                        let mut seed = zero.clone();
                        seed.$i = unit;
                        seeds.push(seed);
                    }
                )+
                seeds
            }
        }
    )*};
}

tuple_impls! {
    (A 0, B 1)
    (A 0, B 1, C 2)
    (A 0, B 1, C 2, D 3)
    (A 0, B 1, C 2, D 3, E 4)
    (A 0, B 1, C 2, D 3, E 4, F 5)
}

macro_rules! component_impls {
    ($( $k:tt => $( ($($T:ident),+) )* ;)*) => {$($(
        impl<$($T: Clone),+> Component<$k> for ($($T,)+) {
            type Out = component_type!($k; $($T),+);
            #[inline]
            fn component(&self) -> Self::Out {
                self.$k.clone()
            }
        }
    )*)*};
}

macro_rules! component_type {
    (0; $A:ident $(, $rest:ident)*) => {
        $A
    };
    (1; $A:ident, $B:ident $(, $rest:ident)*) => {
        $B
    };
    (2; $A:ident, $B:ident, $C:ident $(, $rest:ident)*) => {
        $C
    };
    (3; $A:ident, $B:ident, $C:ident, $D:ident $(, $rest:ident)*) => {
        $D
    };
    (4; $A:ident, $B:ident, $C:ident, $D:ident, $E:ident $(, $rest:ident)*) => {
        $E
    };
    (5; $A:ident, $B:ident, $C:ident, $D:ident, $E:ident, $F:ident) => {
        $F
    };
}

component_impls! {
    0 => (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F);
    1 => (A, B) (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F);
    2 => (A, B, C) (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F);
    3 => (A, B, C, D) (A, B, C, D, E) (A, B, C, D, E, F);
    4 => (A, B, C, D, E) (A, B, C, D, E, F);
    5 => (A, B, C, D, E, F);
}

// An array's element `K`, for `[a, b]` built from differentiated values
// (`#[grad]` only asks for `K < N`).
impl<T: Clone, const N: usize, const K: usize> Component<K> for [T; N] {
    type Out = T;
    #[inline]
    fn component(&self) -> T {
        self[K].clone()
    }
}

macro_rules! pullbacks {
    ($($name:ident $k:tt),*) => {$(
        #[doc = concat!("The pullback of `(.., x_", stringify!($k), ", ..)` or `[.., x_", stringify!($k), ", ..]` to `x_", stringify!($k), "`: component ", stringify!($k), " of the adjoint `d`.")]
        ///
        /// ```
        /// let d = [0.5_f64, -2.0, 3.0, 1.5, 4.0, -5.0, 6.0, 7.5];
        #[doc = concat!("let g = autodiff_runtime::rules::", stringify!($name), "(&d);")]
        #[doc = concat!("assert_eq!(g, d[", stringify!($k), "]);")]
        /// ```
        #[inline]
        #[must_use]
        pub fn $name<T: Component<$k>>(d: &T) -> T::Out {
            d.component()
        }
    )*};
}

pullbacks!(
    tuple_pullback_0 0,
    tuple_pullback_1 1,
    tuple_pullback_2 2,
    tuple_pullback_3 3,
    tuple_pullback_4 4,
    tuple_pullback_5 5,
    tuple_pullback_6 6,
    tuple_pullback_7 7
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_tuple_tangent() {
        let x = (1.5_f64, vec![2.0_f64, 3.0]);
        assert_eq!(x.zero_tangent(), (0.0, vec![0.0, 0.0]));
        let mut g = (1.0_f64, 2.0_f32);
        g.accumulate((0.5, 0.25));
        assert_eq!(g, (1.5, 2.25));
        g.accumulate(&(1.0, 1.0));
        assert_eq!(g, (2.5, 3.25));
        let mut h = (1.0_f64, vec![2.0_f64, -1.0]);
        h.scale(&2.0);
        assert_eq!(h, (2.0, vec![4.0, -2.0]));
    }

    #[test]
    fn test_tuple_basis() {
        let seeds = (1.0_f64, [2.0_f64, 3.0]).basis();
        assert_eq!(
            seeds,
            [(1.0, [0.0, 0.0]), (0.0, [1.0, 0.0]), (0.0, [0.0, 1.0])]
        );
    }

    #[test]
    fn test_tuple_pullbacks() {
        let d = (1.0_f64, 2.0_f64, 3.0_f64, 4.0_f64, 5.0_f64, 6.0_f64);
        assert_eq!(tuple_pullback_0(&d), 1.0);
        assert_eq!(tuple_pullback_5(&d), 6.0);
        assert_eq!(tuple_pullback_1(&(0.5_f32, vec![1.0_f64])), vec![1.0]);
    }
}
