//! Parameter structs: what an optimiser needs of a model's parameters, for
//! floats, arrays, `Vec`s and (through `#[derive(Params)]`) structs of them.

use crate::check::Real;
use ndarray::{Array, Dimension, Zip};

use crate::array::Element;
use crate::dual::Dual;
use num_traits::{Float, Zero};

/// A set of parameters an optimiser updates: the fields of a model, or one
/// float or array. `#[derive(autodiff::Params)]` implements it for a struct
/// of such fields (nested structs included), with the struct as its own
/// gradient type.
///
/// ```
/// use autodiff_runtime::Params;
/// let mut w = vec![1.0_f64, 2.0];
/// let g = vec![0.5, -1.0];
/// w.axpy(-0.1, &g); // one SGD step: w ← w − 0.1·g
/// assert_eq!(w, [0.95, 2.1]);
/// assert_eq!(w.num_elements(), 2);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a parameter type",
    label = "not a float, an array, a `Vec` of floats or a `#[derive(Params)]` struct",
    note = "every field of a `#[derive(Params)]` struct is differentiated; mark a constant field `#[params(skip)]`"
)]
pub trait Params: Sized {
    /// The element type (`f32` or `f64`).
    type Scalar: Copy;
    /// All zeros, in the shape of `self`.
    fn zeros_like(&self) -> Self;
    /// `self += other`.
    fn add_assign(&mut self, other: &Self);
    /// `self *= by`.
    fn scale(&mut self, by: Self::Scalar);
    /// `self += a · x`: with `a = −learning rate` and `x` the gradient, an
    /// SGD step in one call.
    fn axpy(&mut self, a: Self::Scalar, x: &Self);
    /// The number of elements, over every field.
    fn num_elements(&self) -> usize;
    /// Element `i` of the flat view (fields in declaration order, each in
    /// its logical order), as `f64`.
    fn element(&self, i: usize) -> f64;
    /// Sets element `i` of the flat view.
    fn set_element(&mut self, i: usize, value: f64);
    /// The machine epsilon of the element type, as `f64`.
    fn element_epsilon(&self) -> f64;
}

macro_rules! float_params {
    ($($t:ty),*) => {$(
        impl Params for $t {
            type Scalar = $t;
            #[inline]
            fn zeros_like(&self) -> $t {
                0.0
            }
            #[inline]
            fn add_assign(&mut self, other: &$t) {
                *self += *other;
            }
            #[inline]
            fn scale(&mut self, by: $t) {
                *self *= by;
            }
            #[inline]
            fn axpy(&mut self, a: $t, x: &$t) {
                *self += a * *x;
            }
            fn num_elements(&self) -> usize {
                1
            }
            fn element(&self, _i: usize) -> f64 {
                <$t as Real>::to_f64(*self)
            }
            fn set_element(&mut self, _i: usize, value: f64) {
                *self = <$t as Real>::from_f64(value);
            }
            fn element_epsilon(&self) -> f64 {
                <$t as Real>::EPSILON
            }
        }

        impl Params for Vec<$t> {
            type Scalar = $t;
            fn zeros_like(&self) -> Vec<$t> {
                vec![0.0; self.len()]
            }
            fn add_assign(&mut self, other: &Vec<$t>) {
                assert_eq!(self.len(), other.len(), "parameters of different lengths");
                for (a, b) in self.iter_mut().zip(other) {
                    *a += *b;
                }
            }
            fn scale(&mut self, by: $t) {
                for a in self.iter_mut() {
                    *a *= by;
                }
            }
            fn axpy(&mut self, a: $t, x: &Vec<$t>) {
                assert_eq!(self.len(), x.len(), "parameters of different lengths");
                for (s, x) in self.iter_mut().zip(x) {
                    *s += a * *x;
                }
            }
            fn num_elements(&self) -> usize {
                self.len()
            }
            fn element(&self, i: usize) -> f64 {
                <$t as Real>::to_f64(self[i])
            }
            fn set_element(&mut self, i: usize, value: f64) {
                self[i] = <$t as Real>::from_f64(value);
            }
            fn element_epsilon(&self) -> f64 {
                <$t as Real>::EPSILON
            }
        }
    )*};
}

float_params!(f32, f64);

impl<A: Element + Real, D: Dimension> Params for Array<A, D> {
    type Scalar = A;
    fn zeros_like(&self) -> Self {
        Array::zeros(self.raw_dim())
    }
    fn add_assign(&mut self, other: &Self) {
        Zip::from(self).and(other).for_each(|s, &o| *s = *s + o);
    }
    fn scale(&mut self, by: A) {
        self.mapv_inplace(|v| v * by);
    }
    fn axpy(&mut self, a: A, x: &Self) {
        Zip::from(self).and(x).for_each(|s, &x| *s = *s + a * x);
    }
    fn num_elements(&self) -> usize {
        self.len()
    }
    fn element(&self, i: usize) -> f64 {
        let value = match self.as_slice() {
            Some(slice) => slice.get(i).copied(),
            None => self.iter().nth(i).copied(),
        };
        value.map_or(f64::NAN, <A as Real>::to_f64)
    }
    fn set_element(&mut self, i: usize, value: f64) {
        let value = <A as Real>::from_f64(value);
        if let Some(slice) = self.as_slice_mut() {
            if let Some(slot) = slice.get_mut(i) {
                *slot = value;
            }
        } else if let Some(slot) = self.iter_mut().nth(i) {
            *slot = value;
        }
    }
    fn element_epsilon(&self) -> f64 {
        <A as Real>::EPSILON
    }
}

/// A dual number is one parameter (its real part is what the check moves).
impl<F: Float> Params for Dual<F> {
    type Scalar = Dual<F>;
    fn zeros_like(&self) -> Self {
        Dual::zero()
    }
    fn add_assign(&mut self, other: &Self) {
        *self += *other;
    }
    fn scale(&mut self, by: Self) {
        *self *= by;
    }
    fn axpy(&mut self, a: Self, x: &Self) {
        *self += a * *x;
    }
    fn num_elements(&self) -> usize {
        1
    }
    fn element(&self, _i: usize) -> f64 {
        self.re.to_f64().unwrap_or(f64::NAN)
    }
    fn set_element(&mut self, _i: usize, value: f64) {
        self.re = F::from(value).unwrap_or_else(F::nan);
    }
    fn element_epsilon(&self) -> f64 {
        F::epsilon().to_f64().unwrap_or(f64::NAN)
    }
}
