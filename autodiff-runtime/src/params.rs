//! Parameter structs: what an optimiser needs of a model's parameters, for
//! floats, arrays, `Vec`s and (through `#[derive(Params)]`) structs of them.

use ndarray::{Array, Dimension, Zip};

use crate::array::Element;
use crate::dual::Dual;
use num_traits::{Float, Zero};

/// A real scalar the check reads and writes as `f64`: the element type of a
/// [`Leaf`](crate::check::Leaf) and the output type of the checked function. Implemented for
/// `f32` and `f64`.
///
/// ```
/// use autodiff_runtime::check::Real;
/// assert_eq!(<f32 as Real>::from_f64(0.1).to_f64(), f64::from(0.1_f32));
/// assert_eq!(<f32 as Real>::EPSILON, f64::from(f32::EPSILON));
/// ```
pub trait Real: Copy {
    /// The machine epsilon of the type, as `f64`: it selects the default step
    /// and the relative-error floor.
    const EPSILON: f64;
    /// The value as `f64` (exact for `f32` and `f64`).
    fn to_f64(self) -> f64;
    /// The nearest value of this type to `v`.
    fn from_f64(v: f64) -> Self;
}

impl Real for f64 {
    const EPSILON: f64 = f64::EPSILON;
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn from_f64(v: f64) -> f64 {
        v
    }
}

impl Real for f32 {
    const EPSILON: f64 = f32::EPSILON as f64;
    #[inline]
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    #[allow(clippy::cast_possible_truncation)] // rounding to f32 is the point
    #[inline]
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
}

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

    )*};
}

float_params!(f32, f64);

/// `Vec`s and fixed-size arrays of floats: the same element-wise loops.
macro_rules! sequence_params {
    ($(impl[$($generics:tt)*] $seq:ty, $t:ty, $zeros:expr;)*) => {$(
        impl<$($generics)*> Params for $seq {
            type Scalar = $t;
            fn zeros_like(&self) -> $seq {
                $zeros(self)
            }
            fn add_assign(&mut self, other: &$seq) {
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
            fn axpy(&mut self, a: $t, x: &$seq) {
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

sequence_params! {
    impl[] Vec<f32>, f32, |v: &Vec<f32>| vec![0.0; v.len()];
    impl[] Vec<f64>, f64, |v: &Vec<f64>| vec![0.0; v.len()];
    impl[const N: usize] [f32; N], f32, |_: &[f32; N]| [0.0; N];
    impl[const N: usize] [f64; N], f64, |_: &[f64; N]| [0.0; N];
}

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
    /// In logical (row-major) order, whatever the memory layout, so that a
    /// point and a gradient of different layouts line up.
    fn element(&self, i: usize) -> f64 {
        match self.as_slice() {
            Some(s) => s[i].to_f64(),
            None => self[unravel(&self.raw_dim(), i)].to_f64(),
        }
    }
    fn set_element(&mut self, i: usize, value: f64) {
        let value = A::from_f64(value);
        match self.as_slice_mut() {
            Some(s) => s[i] = value,
            None => {
                let ix = unravel(&self.raw_dim(), i);
                self[ix] = value;
            }
        }
    }
    fn element_epsilon(&self) -> f64 {
        <A as Real>::EPSILON
    }
}

/// The multi-index of the `i`-th element in row-major order of `shape`.
fn unravel<D: Dimension>(shape: &D, mut i: usize) -> D {
    let mut ix = shape.clone();
    for k in (0..shape.ndim()).rev() {
        ix[k] = i % shape[k];
        i /= shape[k];
    }
    ix
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Leaf, Point, check};
    use ndarray::array;

    #[test]
    fn test_fixed_size_arrays_are_params() {
        let mut w = [1.0_f64, 2.0, 3.0];
        w.axpy(-0.5, &[2.0, 0.0, -2.0]);
        assert_eq!(w, [0.0, 2.0, 4.0]);
        w.scale(0.5);
        assert_eq!(w, [0.0, 1.0, 2.0]);
        assert_eq!(w.zeros_like(), [0.0; 3]);
        assert_eq!(w.num_elements(), 3);
        w.set_element(1, 0.25);
        assert_eq!(Leaf::get(&w, 1), 0.25);
        // The check moves them: the gradient of Σ wᵢ² is 2w.
        let at = [0.5_f32, -1.5];
        check(|w: &[f32; 2]| w[0] * w[0] + w[1] * w[1], at, [1.0, -3.0]).assert_close(1e-3);
    }

    #[test]
    fn test_the_flat_view_of_an_array_is_in_logical_order() {
        let mut a = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
        assert_eq!(Leaf::len(&a), 6);
        assert_eq!(a.get(4), 5.0);
        a.set(4, -1.0);
        assert_eq!(a[[1, 1]], -1.0);
        // Column-major: still logical order.
        let mut t = a.clone().reversed_axes(); // shape (3, 2), F layout
        assert!(t.as_slice().is_none());
        assert_eq!(t.get(1), 4.0); // t[[0, 1]] = a[[1, 0]]
        assert_eq!(t.element(1), 4.0);
        t.set(5, 9.0);
        assert_eq!(t[[2, 1]], 9.0);
        t.set_element(1, -4.0);
        assert_eq!(t[[0, 1]], -4.0);
        assert_eq!(array![1.0_f32].epsilon(), f64::from(f32::EPSILON));
        assert_eq!(Point::num_params(&(a.clone(), t.clone())), 2);
    }
}
