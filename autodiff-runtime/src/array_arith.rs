//! The arithmetic rules on ndarray arrays: `+ - * /` between two arrays (with
//! ndarray's co-broadcasting), between an array and a scalar (either side),
//! and unary `-`.
//!
//! The gradient of an operand is the adjoint, times the local derivative,
//! summed over the axes the operand was broadcast along, back to its own
//! shape ([`unbroadcast`]). A scalar operand's gradient is the sum over the
//! whole array. Every pullback allocates exactly one array, its output.

use ndarray::{Array, ArrayBase, ArrayView, ArrayViewD, Axis, Data, DimMax, Dimension, Ix2, Zip};

use crate::arith::{AddRule, DivRule, MulRule, NegRule, SubRule};
use crate::array::Element;
use crate::linalg::inner;

/// `d` as an array of `shape`'s dimension type, when it has exactly that
/// shape (no broadcasting happened): its buffer is then reused as is.
#[inline]
fn reuse<A, O: Dimension, T: Dimension>(
    d: Array<A, O>,
    shape: T,
) -> Result<Array<A, T>, Array<A, O>> {
    if d.shape() != shape.slice() {
        return Err(d);
    }
    // Equal shapes have an equal number of axes, which is all the
    // conversion checks: it cannot fail here.
    d.into_dimensionality::<T>()
        .map_err(|_| unreachable!("equal shapes have equal dimensionality"))
}

/// The gradient of an operand of shape `target` whose adjoint contribution is
/// `f(d, x, y)` elementwise over the adjoint `d`, with `x` and `y` broadcast
/// to `d`'s shape: summed over the broadcast axes when `target` is smaller
/// than `d`. Rules that read fewer operands pass `d` for the rest.
#[inline]
fn unbroadcast<A, D, O, E1, E2>(
    target: D,
    d: ArrayView<'_, A, O>,
    x: ArrayView<'_, A, E1>,
    y: ArrayView<'_, A, E2>,
    f: impl Fn(A, A, A) -> A,
) -> Array<A, D>
where
    A: Element,
    D: Dimension,
    O: Dimension,
    E1: Dimension,
    E2: Dimension,
{
    if d.shape() == target.slice() {
        // No broadcast axis: one elementwise pass.
        let d = d
            .into_dimensionality::<D>()
            .expect("equal shapes have equally many axes");
        return Zip::from(&d)
            .and_broadcast(&x)
            .and_broadcast(&y)
            .map_collect(|&d, &x, &y| f(d, x, y));
    }
    let shape = d.shape();
    let x = x
        .broadcast(shape)
        .expect("an operand's shape broadcasts to the result's");
    let y = y
        .broadcast(shape)
        .expect("an operand's shape broadcasts to the result's");
    sum_broadcast(target, d.into_dyn(), x, y, f)
}

/// `Σ f(d, x, y)` over the axes of `d` that `target` lacks (leading axes) or
/// has with length 1, into a fresh array of shape `target`.
fn sum_broadcast<A: Element, D: Dimension>(
    target: D,
    d: ArrayViewD<'_, A>,
    x: ArrayViewD<'_, A>,
    y: ArrayViewD<'_, A>,
    f: impl Fn(A, A, A) -> A,
) -> Array<A, D> {
    let n = d.ndim();
    let lead = n
        .checked_sub(target.ndim())
        .expect("an operand has no more axes than the result");
    let (mut reduced, mut kept) = (Vec::new(), Vec::new());
    for (i, &len) in d.shape().iter().enumerate() {
        if i < lead || (target[i - lead] == 1 && len != 1) {
            reduced.push(i);
        } else {
            assert_eq!(
                target[i - lead],
                len,
                "the adjoint's shape is not a broadcast of the operand's"
            );
            kept.push(i);
        }
    }
    let mut out = Array::zeros(target);
    // A matrix summed to a column or a row (a bias over a batch): lane by
    // lane, without the general path's per-element index arithmetic.
    if let (2, Ok(d2), Ok(x2), Ok(y2)) = (
        n,
        d.view().into_dimensionality::<Ix2>(),
        x.view().into_dimensionality::<Ix2>(),
        y.view().into_dimensionality::<Ix2>(),
    ) && lead == 0
    {
        let mut out2 = out
            .view_mut()
            .into_dimensionality::<Ix2>()
            .expect("two axes, as the adjoint");
        match reduced[..] {
            [1] => {
                Zip::from(out2.rows_mut())
                    .and(d2.rows())
                    .and(x2.rows())
                    .and(y2.rows())
                    .for_each(|mut o, d, x, y| {
                        o[0] = Zip::from(&d)
                            .and(&x)
                            .and(&y)
                            .fold(A::zero(), |acc, &d, &x, &y| acc + f(d, x, y));
                    });
                return out;
            }
            [0] => {
                for ((d, x), y) in d2.rows().into_iter().zip(x2.rows()).zip(y2.rows()) {
                    Zip::from(out2.row_mut(0))
                        .and(&d)
                        .and(&x)
                        .and(&y)
                        .for_each(|o, &d, &x, &y| *o = *o + f(d, x, y));
                }
                return out;
            }
            _ => {}
        }
    }
    // The output without its summed length-1 axes: the kept axes, in order.
    let mut out_k = out.view_mut().into_dyn();
    for &i in reduced.iter().rev() {
        if i >= lead {
            out_k = out_k.index_axis_move(Axis(i - lead), 0);
        }
    }
    // Summed axes first, then the kept ones (views: nothing is copied).
    let r = reduced.len();
    let perm: Vec<usize> = reduced.iter().chain(&kept).copied().collect();
    let [d, x, y] = [d, x, y].map(|v| v.permuted_axes(perm.clone()));
    if kept.is_empty() || reduced.last() == Some(&(n - 1)) {
        // The innermost axis is summed: one contiguous reduction per output
        // element.
        let kept_shape = out_k.raw_dim();
        for (ix, o) in ndarray::indices(kept_shape)
            .into_iter()
            .zip(out_k.iter_mut())
        {
            let ix = ix.slice();
            *o = Zip::from(select(d.view(), r, ix))
                .and(select(x.view(), r, ix))
                .and(select(y.view(), r, ix))
                .fold(A::zero(), |acc, &d, &x, &y| acc + f(d, x, y));
        }
    } else {
        // The innermost axis is kept: add one slab of the output's shape per
        // index of the summed axes.
        for ix in ndarray::indices(&d.shape()[..r]) {
            let ix = ix.slice();
            Zip::from(&mut out_k)
                .and(select(d.view(), 0, ix))
                .and(select(x.view(), 0, ix))
                .and(select(y.view(), 0, ix))
                .for_each(|o, &d, &x, &y| *o = *o + f(d, x, y));
        }
    }
    out
}

/// `v` at index `ix` of its axes `first..first + ix.len()`, which are removed.
#[inline]
fn select<'a, A>(mut v: ArrayViewD<'a, A>, first: usize, ix: &[usize]) -> ArrayViewD<'a, A> {
    for (j, &i) in ix.iter().enumerate().rev() {
        v = v.index_axis_move(Axis(first + j), i);
    }
    v
}

// Array ⊗ array, co-broadcast as ndarray's operators do: the result has the
// shape of `<D as DimMax<E>>::Output`, and each operand's gradient is summed
// back to that operand's shape.

/// `a + b`: `da = Σ d`, `db = Σ d` (each summed to its operand's shape).
///
/// ```
/// use autodiff_runtime::rules::{add_pullback_lhs, add_pullback_rhs};
/// use ndarray::array;
/// let (a, b) = (array![[1.0_f64, 2.0], [3.0, 4.0]], array![10.0, 20.0]);
/// let d = array![[1.0, 2.0], [3.0, 4.0]];
/// assert_eq!(add_pullback_lhs(&a, &b, &d), d);
/// assert_eq!(add_pullback_rhs(&a, &b, &d), array![4.0, 6.0]); // summed over rows
/// ```
impl<A, S, S2, D, E> AddRule<ArrayBase<S2, E>> for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension + DimMax<E>,
    E: Dimension,
{
    type DOut = Array<A, <D as DimMax<E>>::Output>;
    #[inline]
    fn add_pullback_lhs(&self, _rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, D> {
        unbroadcast(self.raw_dim(), d.view(), d.view(), d.view(), |d, _, _| d)
    }
    #[inline]
    fn add_pullback_rhs(&self, rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, E> {
        unbroadcast(rhs.raw_dim(), d.view(), d.view(), d.view(), |d, _, _| d)
    }
    /// Without broadcasting, the adjoint itself: no new array.
    #[inline]
    fn add_pullback_lhs_into(&self, rhs: &ArrayBase<S2, E>, d: Self::DOut) -> Array<A, D> {
        reuse(d, self.raw_dim()).unwrap_or_else(|d| self.add_pullback_lhs(rhs, &d))
    }
    /// Without broadcasting, the adjoint itself: no new array.
    #[inline]
    fn add_pullback_rhs_into(&self, rhs: &ArrayBase<S2, E>, d: Self::DOut) -> Array<A, E> {
        reuse(d, rhs.raw_dim()).unwrap_or_else(|d| self.add_pullback_rhs(rhs, &d))
    }
}

/// `a - b`: `da = Σ d`, `db = −Σ d`.
impl<A, S, S2, D, E> SubRule<ArrayBase<S2, E>> for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension + DimMax<E>,
    E: Dimension,
{
    type DOut = Array<A, <D as DimMax<E>>::Output>;
    #[inline]
    fn sub_pullback_lhs(&self, _rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, D> {
        unbroadcast(self.raw_dim(), d.view(), d.view(), d.view(), |d, _, _| d)
    }
    #[inline]
    fn sub_pullback_rhs(&self, rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, E> {
        unbroadcast(rhs.raw_dim(), d.view(), d.view(), d.view(), |d, _, _| -d)
    }
    /// Without broadcasting, the adjoint itself: no new array.
    #[inline]
    fn sub_pullback_lhs_into(&self, rhs: &ArrayBase<S2, E>, d: Self::DOut) -> Array<A, D> {
        reuse(d, self.raw_dim()).unwrap_or_else(|d| self.sub_pullback_lhs(rhs, &d))
    }
    /// Without broadcasting, the adjoint negated in place: no new array.
    #[inline]
    fn sub_pullback_rhs_into(&self, rhs: &ArrayBase<S2, E>, d: Self::DOut) -> Array<A, E> {
        match reuse(d, rhs.raw_dim()) {
            Ok(mut d) => {
                d.mapv_inplace(|d| -d);
                d
            }
            Err(d) => self.sub_pullback_rhs(rhs, &d),
        }
    }
}

/// `a ⊙ b`: `da = Σ d ⊙ b`, `db = Σ a ⊙ d`.
impl<A, S, S2, D, E> MulRule<ArrayBase<S2, E>> for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension + DimMax<E>,
    E: Dimension,
{
    type DOut = Array<A, <D as DimMax<E>>::Output>;
    #[inline]
    fn mul_pullback_lhs(&self, rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, D> {
        unbroadcast(self.raw_dim(), d.view(), rhs.view(), d.view(), |d, b, _| {
            d * b
        })
    }
    #[inline]
    fn mul_pullback_rhs(&self, rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, E> {
        unbroadcast(rhs.raw_dim(), d.view(), self.view(), d.view(), |d, a, _| {
            a * d
        })
    }
}

/// `y = a / b`: `da = Σ d / b`, `db = Σ −d · (y / b)`.
impl<A, S, S2, D, E> DivRule<ArrayBase<S2, E>> for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension + DimMax<E>,
    E: Dimension,
{
    type DOut = Array<A, <D as DimMax<E>>::Output>;
    #[inline]
    fn div_pullback_lhs(&self, rhs: &ArrayBase<S2, E>, d: &Self::DOut) -> Array<A, D> {
        unbroadcast(self.raw_dim(), d.view(), rhs.view(), d.view(), |d, b, _| {
            d / b
        })
    }
    #[inline]
    fn div_pullback_rhs(
        &self,
        rhs: &ArrayBase<S2, E>,
        y: &Self::DOut,
        d: &Self::DOut,
    ) -> Array<A, E> {
        unbroadcast(rhs.raw_dim(), d.view(), y.view(), rhs.view(), |d, y, b| {
            -d * (y / b)
        })
    }
}

/// `−x`: `dx = −d`.
impl<A, S, D> NegRule for ArrayBase<S, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    type DOut = Array<A, D>;
    #[inline]
    fn neg_pullback(&self, d: &Array<A, D>) -> Array<A, D> {
        d.mapv(|d| -d)
    }
    #[inline]
    fn neg_pullback_into(&self, mut d: Array<A, D>) -> Array<A, D> {
        d.mapv_inplace(|d| -d);
        d
    }
}

// Array ⊗ scalar and scalar ⊗ array: the array's gradient is elementwise,
// the scalar's is summed over the array. Written per float type, as a
// generic scalar `A` would overlap the array impls.
macro_rules! scalar_array_rules {
    ($($t:ty),*) => {$(
        impl<S: Data<Elem = $t>, D: Dimension> AddRule<$t> for ArrayBase<S, D> {
            type DOut = Array<$t, D>;
            #[inline]
            fn add_pullback_lhs(&self, _rhs: &$t, d: &Array<$t, D>) -> Array<$t, D> {
                d.clone()
            }
            #[inline]
            fn add_pullback_rhs(&self, _rhs: &$t, d: &Array<$t, D>) -> $t {
                d.sum()
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> AddRule<ArrayBase<S, D>> for $t {
            type DOut = Array<$t, D>;
            #[inline]
            fn add_pullback_lhs(&self, _rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> $t {
                d.sum()
            }
            #[inline]
            fn add_pullback_rhs(&self, _rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> Array<$t, D> {
                d.clone()
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> SubRule<$t> for ArrayBase<S, D> {
            type DOut = Array<$t, D>;
            #[inline]
            fn sub_pullback_lhs(&self, _rhs: &$t, d: &Array<$t, D>) -> Array<$t, D> {
                d.clone()
            }
            #[inline]
            fn sub_pullback_rhs(&self, _rhs: &$t, d: &Array<$t, D>) -> $t {
                -d.sum()
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> SubRule<ArrayBase<S, D>> for $t {
            type DOut = Array<$t, D>;
            #[inline]
            fn sub_pullback_lhs(&self, _rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> $t {
                d.sum()
            }
            #[inline]
            fn sub_pullback_rhs(&self, _rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> Array<$t, D> {
                d.mapv(|d| -d)
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> MulRule<$t> for ArrayBase<S, D> {
            type DOut = Array<$t, D>;
            #[inline]
            fn mul_pullback_lhs(&self, rhs: &$t, d: &Array<$t, D>) -> Array<$t, D> {
                let b = *rhs;
                d.mapv(|d| d * b)
            }
            #[inline]
            fn mul_pullback_rhs(&self, _rhs: &$t, d: &Array<$t, D>) -> $t {
                inner(self, d)
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> MulRule<ArrayBase<S, D>> for $t {
            type DOut = Array<$t, D>;
            #[inline]
            fn mul_pullback_lhs(&self, rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> $t {
                inner(d, rhs)
            }
            #[inline]
            fn mul_pullback_rhs(&self, _rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> Array<$t, D> {
                let a = *self;
                d.mapv(|d| a * d)
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> DivRule<$t> for ArrayBase<S, D> {
            type DOut = Array<$t, D>;
            #[inline]
            fn div_pullback_lhs(&self, rhs: &$t, d: &Array<$t, D>) -> Array<$t, D> {
                let b = *rhs;
                d.mapv(|d| d / b)
            }
            // Σ −dᵢ · yᵢ / b, with one division.
            #[inline]
            fn div_pullback_rhs(&self, rhs: &$t, y: &Array<$t, D>, d: &Array<$t, D>) -> $t {
                -inner(d, y) / *rhs
            }
        }

        impl<S: Data<Elem = $t>, D: Dimension> DivRule<ArrayBase<S, D>> for $t {
            type DOut = Array<$t, D>;
            #[inline]
            fn div_pullback_lhs(&self, rhs: &ArrayBase<S, D>, d: &Array<$t, D>) -> $t {
                Zip::from(d).and(rhs).fold(0.0, |acc, &d, &b| acc + d / b)
            }
            #[inline]
            fn div_pullback_rhs(
                &self,
                rhs: &ArrayBase<S, D>,
                y: &Array<$t, D>,
                d: &Array<$t, D>,
            ) -> Array<$t, D> {
                Zip::from(d).and(y).and(rhs).map_collect(|&d, &y, &b| -d * (y / b))
            }
        }
    )*};
}

scalar_array_rules!(f32, f64);

#[cfg(test)]
#[allow(clippy::float_cmp)]
mod tests {
    use crate::array::testing::{random, weighted, weighted_f32};
    use crate::check::check;
    use crate::rules;
    use ndarray::{Array, Array1, Array2, ArrayD, Dimension, IxDyn, array};

    const TOL: f64 = 1e-8;

    type DynPullbacks = fn(&ArrayD<f64>, &ArrayD<f64>, &ArrayD<f64>) -> (ArrayD<f64>, ArrayD<f64>);
    type ArrayScalar = fn(&Array2<f64>, f64, &Array2<f64>) -> (Array2<f64>, f64);
    type ScalarArray = fn(f64, &Array2<f64>, &Array2<f64>) -> (f64, Array2<f64>);

    /// Checks both pullbacks of the array op `op(a, b)` at the adjoint `w`
    /// (of the result's shape) against finite differences of `Σ w ⊙ op(a, b)`.
    fn fd_arrays<D, E, O>(
        op: impl Fn(&Array<f64, D>, &Array<f64, E>) -> Array<f64, O>,
        pullbacks: impl Fn(
            &Array<f64, D>,
            &Array<f64, E>,
            &Array<f64, O>,
        ) -> (Array<f64, D>, Array<f64, E>),
        a: Array<f64, D>,
        b: Array<f64, E>,
        tol: f64,
    ) where
        D: Dimension,
        E: Dimension,
        O: Dimension,
    {
        let y = op(&a, &b);
        let w = random(y.raw_dim(), 99);
        let g = pullbacks(&a, &b, &w);
        assert_eq!(g.0.shape(), a.shape());
        assert_eq!(g.1.shape(), b.shape());
        let r = check(
            |(a, b): &(Array<f64, D>, Array<f64, E>)| weighted(&w, &op(a, b)),
            (a, b),
            g,
        );
        assert!(r.is_close(tol), "{r}");
    }

    /// Shape pairs spanning the broadcasting cases: equal, a row vector, a
    /// column, both sides broadcast, a scalar array, leading axes.
    fn shape_pairs() -> Vec<(Vec<usize>, Vec<usize>)> {
        vec![
            (vec![3, 4], vec![3, 4]),
            (vec![3, 4], vec![4]),
            (vec![4], vec![3, 4]),
            (vec![3, 4], vec![3, 1]),
            (vec![3, 1], vec![1, 4]),
            (vec![2, 3, 4], vec![3, 1]),
            (vec![2, 1, 4], vec![3, 4]),
            (vec![3, 4], vec![]),
            (vec![1, 1], vec![2, 3]),
        ]
    }

    fn fd_broadcast(
        op: fn(&ArrayD<f64>, &ArrayD<f64>) -> ArrayD<f64>,
        pullbacks: DynPullbacks,
        tol: f64,
    ) {
        for (i, (sa, sb)) in shape_pairs().into_iter().enumerate() {
            let a = random(IxDyn(&sa), 2 * i as u64);
            let b = random(IxDyn(&sb), 2 * i as u64 + 1);
            fd_arrays(op, pullbacks, a, b, tol);
        }
    }

    #[test]
    fn test_add() {
        fd_broadcast(
            |a, b| a + b,
            |a, b, d| {
                (
                    rules::add_pullback_lhs(a, b, d),
                    rules::add_pullback_rhs(a, b, d),
                )
            },
            TOL,
        );
        // Typed dimensions: matrix + row vector (the bias of a layer).
        fd_arrays(
            |a: &Array2<f64>, b: &Array1<f64>| a + b,
            |a, b, d| {
                (
                    rules::add_pullback_lhs(a, b, d),
                    rules::add_pullback_rhs(a, b, d),
                )
            },
            random((5, 3), 1),
            random(3, 2),
            TOL,
        );
        let d = array![[1.0, 2.0], [3.0, 4.0]];
        let b = array![[0.0], [0.0]];
        assert_eq!(
            rules::add_pullback_rhs(&d.view(), &b, &d),
            array![[3.0], [7.0]]
        );
    }

    #[test]
    fn test_sub() {
        fd_broadcast(
            |a, b| a - b,
            |a, b, d| {
                (
                    rules::sub_pullback_lhs(a, b, d),
                    rules::sub_pullback_rhs(a, b, d),
                )
            },
            TOL,
        );
    }

    #[test]
    fn test_mul() {
        fd_broadcast(
            |a, b| a * b,
            |a, b, d| {
                (
                    rules::mul_pullback_lhs(a, b, d),
                    rules::mul_pullback_rhs(a, b, d),
                )
            },
            TOL,
        );
        fd_arrays(
            |a: &Array2<f64>, b: &Array2<f64>| a * b,
            |a, b, d| {
                (
                    rules::mul_pullback_lhs(a, b, d),
                    rules::mul_pullback_rhs(a, b, d),
                )
            },
            random((4, 3), 3),
            random((4, 1), 4),
            TOL,
        );
    }

    #[test]
    fn test_div() {
        fd_broadcast(
            |a, b| a / b,
            |a, b, d| {
                let y = a / b;
                (
                    rules::div_pullback_lhs(a, b, d),
                    rules::div_pullback_rhs(a, b, &y, d),
                )
            },
            // Divisors down to 0.05: derivatives up to ~10³, where the
            // finite difference's truncation error is ~1e-8 relative.
            1e-6,
        );
    }

    #[test]
    fn test_neg() {
        let x = random((3, 2), 5);
        let w = random((3, 2), 6);
        let g = rules::neg_pullback(&x, &w);
        check(|x: &Array2<f64>| weighted(&w, &-x), x, g).assert_close(TOL);
    }

    #[test]
    fn test_transposed_operands() {
        // Views with non-standard strides, and a column-major adjoint.
        let a = random((3, 4), 7);
        let b = random((4, 3), 8);
        let w = random((4, 3), 9).reversed_axes(); // (3, 4), F layout
        let ga = rules::mul_pullback_lhs(&a.view(), &b.t(), &w);
        let gb = rules::mul_pullback_rhs(&a.view(), &b.t(), &w);
        assert_eq!(ga, &w * &b.t());
        assert_eq!(gb, &a * &w);
        let gs = rules::add_pullback_rhs(&a, &b.column(0), &w);
        assert_eq!(gs, w.sum_axis(ndarray::Axis(0)));
    }

    /// Checks `op(a, s)` and `op(s, a)` for an array `a` and a scalar `s`.
    fn fd_scalar(op: fn(f64, f64) -> f64, array_scalar: ArrayScalar, scalar_array: ScalarArray) {
        let a = random((3, 4), 10);
        let s = 1.7;
        let w = random((3, 4), 11);
        let g = array_scalar(&a, s, &w);
        let r = check(
            |(a, s): &(Array2<f64>, f64)| weighted(&w, &a.mapv(|a| op(a, *s))),
            (a.clone(), s),
            g,
        );
        assert!(r.is_close(TOL), "array ⊗ scalar: {r}");
        let g = scalar_array(s, &a, &w);
        let r = check(
            |(s, a): &(f64, Array2<f64>)| weighted(&w, &a.mapv(|a| op(*s, a))),
            (s, a),
            g,
        );
        assert!(r.is_close(TOL), "scalar ⊗ array: {r}");
    }

    #[test]
    fn test_add_scalar() {
        fd_scalar(
            |a, b| a + b,
            |a, s, d| {
                (
                    rules::add_pullback_lhs(a, &s, d),
                    rules::add_pullback_rhs(a, &s, d),
                )
            },
            |s, a, d| {
                (
                    rules::add_pullback_lhs(&s, a, d),
                    rules::add_pullback_rhs(&s, a, d),
                )
            },
        );
    }

    #[test]
    fn test_sub_scalar() {
        fd_scalar(
            |a, b| a - b,
            |a, s, d| {
                (
                    rules::sub_pullback_lhs(a, &s, d),
                    rules::sub_pullback_rhs(a, &s, d),
                )
            },
            |s, a, d| {
                (
                    rules::sub_pullback_lhs(&s, a, d),
                    rules::sub_pullback_rhs(&s, a, d),
                )
            },
        );
    }

    #[test]
    fn test_mul_scalar() {
        fd_scalar(
            |a, b| a * b,
            |a, s, d| {
                (
                    rules::mul_pullback_lhs(a, &s, d),
                    rules::mul_pullback_rhs(a, &s, d),
                )
            },
            |s, a, d| {
                (
                    rules::mul_pullback_lhs(&s, a, d),
                    rules::mul_pullback_rhs(&s, a, d),
                )
            },
        );
    }

    #[test]
    fn test_div_scalar() {
        fd_scalar(
            |a, b| a / b,
            |a, s, d| {
                let y = a / s;
                (
                    rules::div_pullback_lhs(a, &s, d),
                    rules::div_pullback_rhs(a, &s, &y, d),
                )
            },
            |s, a, d| {
                let y = s / a;
                (
                    rules::div_pullback_lhs(&s, a, d),
                    rules::div_pullback_rhs(&s, a, &y, d),
                )
            },
        );
    }

    #[test]
    fn test_arith_f32() {
        let a = random((2, 3), 12).mapv(|v| v as f32);
        let b = random(3, 13).mapv(|v| v as f32);
        let w = random((2, 3), 14).mapv(|v| v as f32);
        let y = &a / &b;
        let g = (
            rules::div_pullback_lhs(&a, &b, &w),
            rules::div_pullback_rhs(&a, &b, &y, &w),
        );
        let r = check(
            |(a, b): &(Array2<f32>, Array1<f32>)| weighted_f32(&w, &(a / b)),
            (a.clone(), b),
            g,
        );
        assert!(r.is_close(1e-2), "{r}");
        let s = 0.5_f32;
        let g = (
            rules::mul_pullback_lhs(&s, &a, &w),
            rules::mul_pullback_rhs(&s, &a, &w),
        );
        let r = check(
            |(s, a): &(f32, Array2<f32>)| weighted_f32(&w, &(a * *s)),
            (s, a),
            g,
        );
        assert!(r.is_close(1e-2), "{r}");
    }

    #[test]
    fn test_wrong_pullback_fails() {
        // The harness catches a gradient that forgets to sum a broadcast axis
        // (the bias gradient taken from row 0 only).
        let (a, b) = (random((3, 2), 15), random(2, 16));
        let w = random((3, 2), 17);
        let wrong = (rules::add_pullback_lhs(&a, &b, &w), w.row(0).to_owned());
        let r = check(
            |(a, b): &(Array2<f64>, Array1<f64>)| weighted(&w, &(a + b)),
            (a, b),
            wrong,
        );
        assert!(!r.is_close(1e-3), "{r}");
    }
}
