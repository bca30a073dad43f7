//! Matrix products and transposes: [`matmul`], [`dot`], [`transpose`], and
//! their rules for ndarray arrays.
//!
//! The pullbacks of a matrix product are matrix products themselves, written
//! with `general_mat_mul`/`general_mat_vec_mul` into a fresh output and with
//! transposes as views (strides), never copies.

use ndarray::linalg::{general_mat_mul, general_mat_vec_mul};
use ndarray::{
    Array, Array1, Array2, ArrayBase, ArrayView, ArrayView1, ArrayView2, Axis, Data, Dimension,
    Ix1, Ix2, Zip,
};

use crate::array::Element;
use crate::tangent::Differentiable;

/// Rules of the matrix product `c = a · b` ([`matmul`](crate::matmul) and
/// ndarray's `.dot()`): `da = d · bᵀ`, `db = aᵀ · d` (for vectors, the
/// matching outer or inner products).
#[diagnostic::on_unimplemented(
    message = "no derivative rule for the matrix product of `{Self}` and `{Rhs}`",
    label = "`matmul`/`.dot()` is differentiated here",
    note = "matrix products are differentiated for ndarray arrays of 1 or 2 dimensions"
)]
pub trait MatmulRule<Rhs: Differentiable + ?Sized>: Differentiable {
    /// The adjoint type of `a · b`.
    type DOut;
    /// Gradient contribution to `a` (`self`).
    fn matmul_pullback_lhs(&self, rhs: &Rhs, d: &Self::DOut) -> Self::Tangent;
    /// Gradient contribution to `b` (`rhs`).
    fn matmul_pullback_rhs(&self, rhs: &Rhs, d: &Self::DOut) -> Rhs::Tangent;
}

/// Rules of the inner product `s = Σ aᵢ·bᵢ` ([`dot`](crate::dot)): `da = d·b`,
/// `db = d·a`.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for `dot` of `{Self}` and `{Rhs}`",
    note = "`dot` is differentiated for ndarray arrays of the same shape"
)]
pub trait DotRule<Rhs: Differentiable + ?Sized>: Differentiable {
    /// The scalar type of the product.
    type DOut;
    /// Gradient contribution to `a` (`self`).
    fn dot_pullback_lhs(&self, rhs: &Rhs, d: &Self::DOut) -> Self::Tangent;
    /// Gradient contribution to `b` (`rhs`).
    fn dot_pullback_rhs(&self, rhs: &Rhs, d: &Self::DOut) -> Rhs::Tangent;
}

/// Rule of the transpose `y = xᵀ` ([`transpose`](crate::transpose), `.t()`):
/// `dx = dᵀ`.
#[diagnostic::on_unimplemented(
    message = "no derivative rule for the transpose of `{Self}`",
    note = "transposes are differentiated for ndarray arrays"
)]
pub trait TransposeRule: Differentiable {
    /// The adjoint type of `xᵀ`.
    type DOut;
    /// Gradient contribution to `x`.
    fn transpose_pullback(&self, d: &Self::DOut) -> Self::Tangent;
    /// As [`Self::transpose_pullback`], given the adjoint by value: an array
    /// can swap its axes in place instead of copying.
    #[inline]
    fn transpose_pullback_into(&self, d: Self::DOut) -> Self::Tangent {
        self.transpose_pullback(&d)
    }
}

/// The operand pairs [`matmul`] multiplies: matrix · matrix → matrix,
/// matrix · vector → vector, vector · matrix → vector, and vector · vector →
/// scalar (as ndarray's `.dot()`), of `f32` or `f64`. Each operand is a
/// reference to any array (`&Array2`, `&ArrayView2`, …) or a view by value
/// (so `matmul(transpose(&a), &b)` works).
///
/// ```
/// use autodiff_runtime::Matmul;
/// use ndarray::array;
/// let a = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!((&a).matmul(a.t()), array![[5.0, 11.0], [11.0, 25.0]]);
/// ```
#[diagnostic::on_unimplemented(
    message = "`matmul` is not defined for `{Self}` and `{Rhs}`",
    label = "matrix product of these arguments",
    note = "`matmul` multiplies ndarray matrices and vectors (1 or 2 dimensions), passed as `&Array` or as views"
)]
pub trait Matmul<Rhs> {
    /// The type of the product.
    type Output;
    /// The matrix product `self · rhs`; panics if the inner dimensions differ.
    fn matmul(self, rhs: Rhs) -> Self::Output;
}

// Every combination of a reference and a view, for each shape pair; the
// product is ndarray's `.dot()` (matrixmultiply's GEMM for f32 and f64).
macro_rules! matmul_forward {
    ($($ld:ty, $rd:ty => $out:ty;)*) => {$(
        impl<A: Element, S: Data<Elem = A>, S2: Data<Elem = A>> Matmul<&ArrayBase<S2, $rd>>
            for &ArrayBase<S, $ld>
        {
            type Output = $out;
            #[inline]
            fn matmul(self, rhs: &ArrayBase<S2, $rd>) -> $out {
                self.dot(rhs)
            }
        }

        impl<A: Element, S: Data<Elem = A>> Matmul<ArrayView<'_, A, $rd>> for &ArrayBase<S, $ld> {
            type Output = $out;
            #[inline]
            fn matmul(self, rhs: ArrayView<'_, A, $rd>) -> $out {
                self.dot(&rhs)
            }
        }

        impl<A: Element, S2: Data<Elem = A>> Matmul<&ArrayBase<S2, $rd>> for ArrayView<'_, A, $ld> {
            type Output = $out;
            #[inline]
            fn matmul(self, rhs: &ArrayBase<S2, $rd>) -> $out {
                self.dot(rhs)
            }
        }

        impl<A: Element> Matmul<ArrayView<'_, A, $rd>> for ArrayView<'_, A, $ld> {
            type Output = $out;
            #[inline]
            fn matmul(self, rhs: ArrayView<'_, A, $rd>) -> $out {
                self.dot(&rhs)
            }
        }
    )*};
}

matmul_forward! {
    Ix2, Ix2 => Array2<A>;
    Ix2, Ix1 => Array1<A>;
    Ix1, Ix2 => Array1<A>;
    Ix1, Ix1 => A;
}

/// The matrix product `a · b`: matrix · matrix, matrix · vector, vector ·
/// matrix (and vector · vector, the inner product), as ndarray's `.dot()`.
/// Operands are array references or views; see [`Matmul`].
///
/// ```
/// use autodiff_runtime::{matmul, transpose};
/// use ndarray::array;
/// let w = array![[1.0_f64, 2.0], [3.0, 4.0], [5.0, 6.0]];
/// let x = array![1.0, -1.0];
/// assert_eq!(matmul(&w, &x), array![-1.0, -1.0, -1.0]);
/// assert_eq!(matmul(transpose(&w), &w), array![[35.0, 44.0], [44.0, 56.0]]);
/// assert_eq!(matmul(&x, transpose(&w)), array![-1.0, -1.0, -1.0]);
/// ```
#[inline]
pub fn matmul<L: Matmul<R>, R>(a: L, b: R) -> L::Output {
    a.matmul(b)
}

/// The inner product `Σ aᵢ·bᵢ` of two arrays of the same shape (any number
/// of axes, summed elementwise by index). Panics if the shapes differ.
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(autodiff_runtime::dot(&a, &a), 30.0);
/// assert_eq!(autodiff_runtime::dot(&a.t(), &a.t()), 30.0);
/// ```
#[inline]
pub fn dot<A, S, S2, D>(a: &ArrayBase<S, D>, b: &ArrayBase<S2, D>) -> A
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    inner(a, b)
}

/// The transpose of a matrix, as a view (no copy).
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0_f64, 2.0, 3.0]];
/// assert_eq!(autodiff_runtime::transpose(&a), array![[1.0], [2.0], [3.0]]);
/// ```
#[inline]
pub fn transpose<S: Data>(a: &ArrayBase<S, Ix2>) -> ArrayView2<'_, S::Elem> {
    a.t()
}

/// `Σ aᵢ·bᵢ` by index; the unrolled contiguous kernel when both arrays have
/// the same contiguous memory order.
#[inline]
pub(crate) fn inner<A, S, S2, D>(a: &ArrayBase<S, D>, b: &ArrayBase<S2, D>) -> A
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    assert_eq!(a.shape(), b.shape(), "`dot` of arrays of different shapes");
    if a.strides() == b.strides()
        && let (Some(x), Some(y)) = (a.as_slice_memory_order(), b.as_slice_memory_order())
    {
        return ArrayView1::from(x).dot(&ArrayView1::from(y));
    }
    Zip::from(a)
        .and(b)
        .fold(A::zero(), |acc, &x, &y| acc + x * y)
}

/// `u vᵀ`, in one pass into a fresh matrix.
#[inline]
fn outer<A: Element>(u: ArrayView1<'_, A>, v: ArrayView1<'_, A>) -> Array2<A> {
    let shape = (u.len(), v.len());
    let (u, v) = (u.insert_axis(Axis(1)), v.insert_axis(Axis(0)));
    Zip::from(u.broadcast(shape).expect("a column broadcasts to a matrix"))
        .and(v.broadcast(shape).expect("a row broadcasts to a matrix"))
        .map_collect(|&a, &b| a * b)
}

/// `C = A·B`: `dA = D·Bᵀ`, `dB = Aᵀ·D`, each one GEMM into a fresh matrix.
///
/// ```
/// use autodiff_runtime::rules::{matmul_pullback_lhs, matmul_pullback_rhs};
/// use ndarray::array;
/// let (a, b) = (array![[1.0_f64, 2.0]], array![[3.0], [4.0]]);
/// let d = array![[1.0]];
/// assert_eq!(matmul_pullback_lhs(&a, &b, &d), array![[3.0, 4.0]]);
/// assert_eq!(matmul_pullback_rhs(&a, &b, &d), array![[1.0], [2.0]]);
/// ```
impl<A, S, S2> MatmulRule<ArrayBase<S2, Ix2>> for ArrayBase<S, Ix2>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    type DOut = Array2<A>;
    #[inline]
    fn matmul_pullback_lhs(&self, rhs: &ArrayBase<S2, Ix2>, d: &Array2<A>) -> Array2<A> {
        let mut out = Array2::zeros(self.raw_dim());
        general_mat_mul(A::one(), d, &rhs.t(), A::zero(), &mut out);
        out
    }
    #[inline]
    fn matmul_pullback_rhs(&self, rhs: &ArrayBase<S2, Ix2>, d: &Array2<A>) -> Array2<A> {
        let mut out = Array2::zeros(rhs.raw_dim());
        general_mat_mul(A::one(), &self.t(), d, A::zero(), &mut out);
        out
    }
}

/// `c = A·x`: `dA = d xᵀ` (outer product), `dx = Aᵀ·d`.
impl<A, S, S2> MatmulRule<ArrayBase<S2, Ix1>> for ArrayBase<S, Ix2>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    type DOut = Array1<A>;
    #[inline]
    fn matmul_pullback_lhs(&self, rhs: &ArrayBase<S2, Ix1>, d: &Array1<A>) -> Array2<A> {
        assert_eq!(d.len(), self.nrows(), "adjoint of the wrong length");
        outer(d.view(), rhs.view())
    }
    #[inline]
    fn matmul_pullback_rhs(&self, rhs: &ArrayBase<S2, Ix1>, d: &Array1<A>) -> Array1<A> {
        let mut out = Array1::zeros(rhs.raw_dim());
        general_mat_vec_mul(A::one(), &self.t(), d, A::zero(), &mut out);
        out
    }
}

/// `c = xᵀ·B`: `dx = B·d`, `dB = x dᵀ` (outer product).
impl<A, S, S2> MatmulRule<ArrayBase<S2, Ix2>> for ArrayBase<S, Ix1>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    type DOut = Array1<A>;
    #[inline]
    fn matmul_pullback_lhs(&self, rhs: &ArrayBase<S2, Ix2>, d: &Array1<A>) -> Array1<A> {
        let mut out = Array1::zeros(self.raw_dim());
        general_mat_vec_mul(A::one(), rhs, d, A::zero(), &mut out);
        out
    }
    #[inline]
    fn matmul_pullback_rhs(&self, rhs: &ArrayBase<S2, Ix2>, d: &Array1<A>) -> Array2<A> {
        assert_eq!(d.len(), rhs.ncols(), "adjoint of the wrong length");
        outer(self.view(), d.view())
    }
}

/// `s = x·y` (vectors, ndarray's `.dot()`): `dx = d·y`, `dy = d·x`.
impl<A, S, S2> MatmulRule<ArrayBase<S2, Ix1>> for ArrayBase<S, Ix1>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    type DOut = A;
    #[inline]
    fn matmul_pullback_lhs(&self, rhs: &ArrayBase<S2, Ix1>, d: &A) -> Array1<A> {
        let d = *d;
        rhs.mapv(|b| d * b)
    }
    #[inline]
    fn matmul_pullback_rhs(&self, _rhs: &ArrayBase<S2, Ix1>, d: &A) -> Array1<A> {
        let d = *d;
        self.mapv(|a| a * d)
    }
}

/// `s = Σ aᵢ·bᵢ`: `da = d·b`, `db = d·a`.
///
/// ```
/// use ndarray::array;
/// let (a, b) = (array![1.0_f64, 2.0], array![3.0, 4.0]);
/// assert_eq!(autodiff_runtime::rules::dot_pullback_lhs(&a, &b, &2.0), array![6.0, 8.0]);
/// ```
impl<A, S, S2, D> DotRule<ArrayBase<S2, D>> for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    type DOut = A;
    #[inline]
    fn dot_pullback_lhs(&self, rhs: &ArrayBase<S2, D>, d: &A) -> Array<A, D> {
        let d = *d;
        rhs.mapv(|b| d * b)
    }
    #[inline]
    fn dot_pullback_rhs(&self, _rhs: &ArrayBase<S2, D>, d: &A) -> Array<A, D> {
        let d = *d;
        self.mapv(|a| d * a)
    }
}

/// `y = xᵀ`: `dx = dᵀ` (an owned copy of the transposed view: a memcpy of a
/// contiguous `d`, in its memory order).
///
/// ```
/// use ndarray::array;
/// let x = array![[1.0_f64, 2.0, 3.0]];
/// let d = array![[1.0], [2.0], [3.0]];
/// assert_eq!(autodiff_runtime::rules::transpose_pullback(&x, &d), array![[1.0, 2.0, 3.0]]);
/// ```
impl<A, S> TransposeRule for ArrayBase<S, Ix2>
where
    A: Element,
    S: Data<Elem = A>,
{
    type DOut = Array2<A>;
    #[inline]
    fn transpose_pullback(&self, d: &Array2<A>) -> Array2<A> {
        d.t().to_owned()
    }
    /// No copy: the adjoint's axes are swapped in place (its strides, not its
    /// elements, move).
    #[inline]
    fn transpose_pullback_into(&self, d: Array2<A>) -> Array2<A> {
        d.reversed_axes()
    }
}

#[cfg(test)]
mod transpose_into {
    use crate::rules_traits::TransposeRule;
    use ndarray::array;

    #[test]
    fn test_transpose_pullback_into_swaps_axes_without_copying() {
        let x = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let d = array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]];
        let want = x.transpose_pullback(&d);
        let p = d.as_ptr();
        let got = x.transpose_pullback_into(d);
        assert_eq!(got, want);
        assert_eq!(got.as_ptr(), p, "the buffer is reused");
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;
    use crate::array::testing::{random, weighted, weighted_f32};
    use crate::check::check;
    use crate::rules;
    use ndarray::array;

    const TOL: f64 = 1e-8;

    #[test]
    fn test_matmul() {
        let a = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let b = array![[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]];
        let ab = array![[4.0, 5.0], [10.0, 11.0]];
        assert_eq!(matmul(&a, &b), ab);
        assert_eq!(matmul(a.view(), &b), ab);
        assert_eq!(matmul(&a, b.view()), ab);
        assert_eq!(matmul(a.view(), b.view()), ab);
        assert_eq!(matmul(transpose(&b), transpose(&a)), ab.t());
        assert_eq!(matmul(&a.view(), &b.view()), ab);
        let x = array![1.0, -1.0, 2.0];
        assert_eq!(matmul(&a, &x), array![5.0, 11.0]);
        assert_eq!(matmul(&array![1.0, 1.0], &a), array![5.0, 7.0, 9.0]);
        assert_eq!(matmul(&x, &x), 6.0);
        assert_eq!(
            matmul(&a.mapv(|v| v as f32), &x.mapv(|v| v as f32)),
            array![5.0_f32, 11.0]
        );

        // Pullbacks against finite differences of Σ W ⊙ (A·B), with
        // transposed (column-major) operands and adjoints among the cases.
        let a = random((4, 3), 1);
        let b = random((3, 5), 2);
        let w = random((4, 5), 3);
        let g = (
            rules::matmul_pullback_lhs(&a, &b, &w),
            rules::matmul_pullback_rhs(&a, &b, &w),
        );
        check(
            |(a, b): &(Array2<f64>, Array2<f64>)| weighted(&w, &matmul(a, b)),
            (a.clone(), b.clone()),
            g,
        )
        .assert_close(TOL);
        // The transposed problem Bᵀ·Aᵀ = (A·B)ᵀ through strided views, with a
        // column-major adjoint.
        let wt = w.clone().reversed_axes();
        assert!(wt.as_slice().is_none());
        let g = (
            rules::matmul_pullback_lhs(&b.t(), &a.t(), &wt),
            rules::matmul_pullback_rhs(&b.t(), &a.t(), &wt),
        );
        check(
            |(bt, at): &(Array2<f64>, Array2<f64>)| weighted(&wt, &matmul(bt, at)),
            (b.t().to_owned(), a.t().to_owned()),
            g,
        )
        .assert_close(TOL);
    }

    #[test]
    fn test_matmul_vector() {
        // Matrix · vector.
        let (a, x) = (random((4, 3), 4), random(3, 5));
        let w = random(4, 6);
        let g = (
            rules::matmul_pullback_lhs(&a, &x, &w),
            rules::matmul_pullback_rhs(&a, &x, &w),
        );
        check(
            |(a, x): &(Array2<f64>, Array1<f64>)| weighted(&w, &matmul(a, x)),
            (a.clone(), x.clone()),
            g,
        )
        .assert_close(TOL);
        // The same through a transposed view of a column-major matrix.
        let af = a.t().as_standard_layout().into_owned().reversed_axes(); // (4, 3), F layout
        assert!(af.as_slice().is_none());
        assert_eq!(
            rules::matmul_pullback_rhs(&af, &x, &w),
            rules::matmul_pullback_rhs(&a, &x, &w)
        );
        // Vector · matrix.
        let (v, b) = (random(4, 7), random((4, 3), 8));
        let w = random(3, 9);
        let g = (
            rules::matmul_pullback_lhs(&v, &b, &w),
            rules::matmul_pullback_rhs(&v, &b, &w),
        );
        check(
            |(v, b): &(Array1<f64>, Array2<f64>)| weighted(&w, &matmul(v, b)),
            (v, b),
            g,
        )
        .assert_close(TOL);
        // Vector · vector.
        let (u, v) = (random(5, 10), random(5, 11));
        let d = -0.7;
        let g = (
            rules::matmul_pullback_lhs(&u, &v, &d),
            rules::matmul_pullback_rhs(&u, &v, &d),
        );
        check(
            |(u, v): &(Array1<f64>, Array1<f64>)| d * matmul(u, v),
            (u, v),
            g,
        )
        .assert_close(TOL);
    }

    #[test]
    fn test_matmul_f32() {
        let a = random((3, 2), 12).mapv(|v| v as f32);
        let b = random((2, 4), 13).mapv(|v| v as f32);
        let w = random((3, 4), 14).mapv(|v| v as f32);
        let g = (
            rules::matmul_pullback_lhs(&a, &b, &w),
            rules::matmul_pullback_rhs(&a, &b, &w),
        );
        let r = check(
            |(a, b): &(Array2<f32>, Array2<f32>)| weighted_f32(&w, &matmul(a, b)),
            (a, b),
            g,
        );
        assert!(r.is_close(1e-2), "{r}");
    }

    #[test]
    fn test_dot() {
        let (a, b) = (random((3, 4), 15), random((3, 4), 16));
        assert!((dot(&a, &b) - (&a * &b).sum()).abs() < 1e-12);
        // Mixed layouts take the strided path and agree.
        let bf = b.t().as_standard_layout().into_owned().reversed_axes();
        assert!(bf.as_slice().is_none());
        assert!((dot(&a, &bf) - dot(&a, &b)).abs() < 1e-12);
        let d = 1.3;
        let g = (
            rules::dot_pullback_lhs(&a, &bf, &d),
            rules::dot_pullback_rhs(&a, &bf, &d),
        );
        check(
            |(a, b): &(Array2<f64>, Array2<f64>)| d * dot(a, b),
            (a, b),
            g,
        )
        .assert_close(TOL);
        let x = array![1.0_f32, 2.0];
        assert_eq!(dot(&x, &x.view()), 5.0);
    }

    #[test]
    #[should_panic = "different shapes"]
    fn test_dot_shape_mismatch() {
        let _ = dot(&array![[1.0_f64, 2.0]], &array![[1.0], [2.0]]);
    }

    #[test]
    fn test_transpose() {
        let x = random((2, 3), 17);
        let t = transpose(&x);
        assert_eq!(t.shape(), &[3, 2]);
        assert_eq!(t[[2, 1]], x[[1, 2]]);
        let w = random((3, 2), 18);
        let g = rules::transpose_pullback(&x, &w);
        check(
            |x: &Array2<f64>| weighted(&w, &transpose(x).to_owned()),
            x,
            g,
        )
        .assert_close(TOL);
    }
}
