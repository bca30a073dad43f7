//! Along an axis, and parts of an array: ndarray's `sum_axis`, `mean_axis`,
//! `row`, `column`, `index_axis`, `slice`, `insert_axis`,
//! `into_shape_with_order` and `to_shape`, and the
//! primitives [`softmax`], [`log_softmax`], [`logsumexp`] and
//! [`logsumexp_axis`] (stable: the largest element of each lane is
//! subtracted before the exponentials), [`max_element`] and [`min_element`].
//!
//! The pullbacks take the operand `x` (for its shape), the method's constant
//! arguments as the user wrote them (an `Axis`, an index, an `s![…]`), the
//! output `y` where the derivative reads it, and the adjoint `d`; each
//! returns a fresh array of `x`'s shape.

use ndarray::{
    Array, ArrayBase, Axis, Data, Dimension, Ix1, Ix2, Order, RemoveAxis, ShapeArg, SliceArg,
};
use num_traits::{Float, NumCast};

use crate::array::Element;

/// `n` as the element type.
fn count<A: Float>(n: usize) -> A {
    <A as NumCast>::from(n).unwrap_or_else(A::nan)
}

/// `d`, with the summed-out `axis` put back, repeated to `x`'s shape.
fn spread<A, S, S2, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    d: &ArrayBase<S2, D::Smaller>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: RemoveAxis,
{
    match d.view().insert_axis(axis).broadcast(x.raw_dim()) {
        Some(spread) => spread.to_owned(),
        None => panic!(
            "the adjoint of a reduction along {axis:?} has shape {:?}, which does not fit \
             the operand's shape {:?}",
            d.shape(),
            x.shape()
        ),
    }
}

/// Pullback of `x.sum_axis(axis)`: `d`, repeated along `axis`.
///
/// ```
/// use autodiff_runtime::rules::sum_axis_pullback;
/// use ndarray::{Axis, array};
/// let x = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let g = sum_axis_pullback(&x, Axis(0), &array![1.0, 2.0, 3.0]);
/// assert_eq!(g, array![[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]);
/// ```
#[inline]
pub fn sum_axis_pullback<A, S, S2, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    d: &ArrayBase<S2, D::Smaller>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: RemoveAxis,
{
    spread(x, axis, d)
}

/// Pullback of `x.mean_axis(axis).unwrap()`: `d / n`, repeated along `axis`
/// (`n` its length).
///
/// ```
/// use autodiff_runtime::rules::mean_axis_pullback;
/// use ndarray::{Axis, array};
/// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// let g = mean_axis_pullback(&x, Axis(1), &array![2.0, 4.0]);
/// assert_eq!(g, array![[1.0, 1.0], [2.0, 2.0]]);
/// ```
#[inline]
pub fn mean_axis_pullback<A, S, S2, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    d: &ArrayBase<S2, D::Smaller>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: RemoveAxis,
{
    let n: A = count(x.len_of(axis));
    spread(x, axis, d).mapv_into(|v| v / n)
}

/// Pullback of `x.index_axis(axis, i)`: `d` at index `i` along `axis`, zero
/// elsewhere.
///
/// ```
/// use autodiff_runtime::rules::index_axis_pullback;
/// use ndarray::{Axis, array};
/// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// let g = index_axis_pullback(&x, Axis(1), 1, &array![5.0, 6.0]);
/// assert_eq!(g, array![[0.0, 5.0], [0.0, 6.0]]);
/// ```
#[inline]
pub fn index_axis_pullback<A, S, S2, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    i: usize,
    d: &ArrayBase<S2, D::Smaller>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: RemoveAxis,
{
    let mut g = Array::zeros(x.raw_dim());
    g.index_axis_mut(axis, i).assign(d);
    g
}

/// Pullback of `x.row(i)`: `d` in row `i`, zero elsewhere.
///
/// ```
/// use autodiff_runtime::rules::row_pullback;
/// use ndarray::array;
/// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(row_pullback(&x, 0, &array![5.0, 6.0]), array![[5.0, 6.0], [0.0, 0.0]]);
/// ```
#[inline]
pub fn row_pullback<A, S, S2>(
    x: &ArrayBase<S, Ix2>,
    i: usize,
    d: &ArrayBase<S2, Ix1>,
) -> Array<A, Ix2>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    index_axis_pullback(x, Axis(0), i, d)
}

/// Pullback of `x.column(j)`: `d` in column `j`, zero elsewhere.
///
/// ```
/// use autodiff_runtime::rules::column_pullback;
/// use ndarray::array;
/// let x = array![[1.0_f64, 2.0], [3.0, 4.0]];
/// assert_eq!(column_pullback(&x, 0, &array![5.0, 6.0]), array![[5.0, 0.0], [6.0, 0.0]]);
/// ```
#[inline]
pub fn column_pullback<A, S, S2>(
    x: &ArrayBase<S, Ix2>,
    j: usize,
    d: &ArrayBase<S2, Ix1>,
) -> Array<A, Ix2>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
{
    index_axis_pullback(x, Axis(1), j, d)
}

/// Pullback of `x.slice(info)`: `d` in the slice, zero elsewhere (a slice
/// that steps over an element more than once is not possible in ndarray).
///
/// ```
/// use autodiff_runtime::rules::slice_pullback;
/// use ndarray::{array, s};
/// let x = array![1.0_f64, 2.0, 3.0, 4.0];
/// assert_eq!(slice_pullback(&x, s![1..;2], &array![5.0, 6.0]), array![0.0, 5.0, 0.0, 6.0]);
/// ```
#[inline]
pub fn slice_pullback<A, S, S2, D, I>(
    x: &ArrayBase<S, D>,
    info: I,
    d: &ArrayBase<S2, I::OutDim>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
    I: SliceArg<D>,
{
    let mut g = Array::zeros(x.raw_dim());
    g.slice_mut(info).assign(d);
    g
}

/// Pullback of `x.into_shape_with_order(shape)` and `x.to_shape(shape)`:
/// `d` read back into `x`'s shape, in the order `shape` names (row-major
/// unless it says otherwise), as the forward reshape read `x`.
///
/// ```
/// use autodiff_runtime::rules::into_shape_with_order_pullback;
/// use ndarray::{Order, array};
/// let x = array![[1.0_f64, 2.0, 3.0], [4.0, 5.0, 6.0]];
/// let d = array![10.0, 20.0, 30.0, 40.0, 50.0, 60.0];
/// assert_eq!(into_shape_with_order_pullback(&x, 6, &d), array![[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]]);
/// let g = into_shape_with_order_pullback(&x, (6, Order::ColumnMajor), &d);
/// assert_eq!(g, array![[10.0, 30.0, 50.0], [20.0, 40.0, 60.0]]);
/// ```
pub fn into_shape_with_order_pullback<A, S, S2, D, E>(
    x: &ArrayBase<S, D>,
    shape: E,
    d: &ArrayBase<S2, E::Dim>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
    E: ShapeArg,
{
    let (_, order) = shape.into_shape_and_order();
    let order = order.unwrap_or(Order::RowMajor);
    match d.to_shape((x.raw_dim(), order)) {
        Ok(g) => g.into_owned(),
        Err(_) => panic!(
            "the adjoint of a reshape has shape {:?}, which does not fit the operand's shape {:?}",
            d.shape(),
            x.shape()
        ),
    }
}

/// Pullback of `x.to_shape(shape)`: as [`into_shape_with_order_pullback`].
///
/// ```
/// use autodiff_runtime::rules::to_shape_pullback;
/// use ndarray::array;
/// let x = array![1.0_f64, 2.0, 3.0, 4.0];
/// assert_eq!(to_shape_pullback(&x, (2, 2), &array![[1.0, 2.0], [3.0, 4.0]]), x);
/// ```
#[inline]
pub fn to_shape_pullback<A, S, S2, D, E>(
    x: &ArrayBase<S, D>,
    shape: E,
    d: &ArrayBase<S2, E::Dim>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
    E: ShapeArg,
{
    into_shape_with_order_pullback(x, shape, d)
}

/// Pullback of `x.insert_axis(axis)`: `d` without the new axis of length 1.
///
/// ```
/// use autodiff_runtime::rules::insert_axis_pullback;
/// use ndarray::{Axis, array};
/// let x = array![1.0_f64, 2.0];
/// assert_eq!(insert_axis_pullback(&x, Axis(1), &array![[3.0], [4.0]]), array![3.0, 4.0]);
/// ```
#[inline]
pub fn insert_axis_pullback<A, S, S2, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    d: &ArrayBase<S2, D::Larger>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    let d = d.view().index_axis_move(axis, 0);
    match d.into_shape_with_order(x.raw_dim()) {
        Ok(g) => g.to_owned(),
        Err(_) => panic!(
            "the adjoint of `insert_axis({axis:?})` does not fit the operand's shape {:?}",
            x.shape()
        ),
    }
}

/// The largest element of `lane`, or 0 when it is infinite or NaN (then the
/// shift changes nothing the exponentials could lose).
fn shift<'a, A: Element + 'a>(lane: impl IntoIterator<Item = &'a A>) -> A {
    let max = lane
        .into_iter()
        .fold(A::neg_infinity(), |max, &v| if v > max { v } else { max });
    if max.is_finite() { max } else { A::zero() }
}

/// The softmax along `axis`: `yᵢ = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)` in each
/// lane, with `m` the lane's largest element, so no exponential overflows.
///
/// ```
/// use ndarray::{Axis, array};
/// let y = autodiff_runtime::softmax(&array![[1.0_f64, 1.0], [0.0, 1000.0]], Axis(1));
/// assert_eq!(y, array![[0.5, 0.5], [0.0, 1.0]]);
/// ```
pub fn softmax<A, S, D>(x: &ArrayBase<S, D>, axis: Axis) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: RemoveAxis,
{
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let m = shift(lane.iter());
        let mut total = A::zero();
        for v in lane.iter_mut() {
            *v = (*v - m).exp();
            total = total + *v;
        }
        lane.mapv_inplace(|v| v / total);
    }
    y
}

/// The log-softmax along `axis`: `yᵢ = xᵢ − m − ln Σⱼ exp(xⱼ − m)` in each
/// lane, `m` the lane's largest element (exact where `ln(softmax(x))`
/// would give `-inf`).
///
/// ```
/// use ndarray::{Axis, array};
/// let y = autodiff_runtime::log_softmax(&array![0.0_f64, 1000.0], Axis(0));
/// assert_eq!(y, array![-1000.0, 0.0]);
/// ```
pub fn log_softmax<A, S, D>(x: &ArrayBase<S, D>, axis: Axis) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: RemoveAxis,
{
    let mut y = x.to_owned();
    for mut lane in y.lanes_mut(axis) {
        let m = shift(lane.iter());
        let total = lane.iter().fold(A::zero(), |t, &v| t + (v - m).exp());
        let offset = m + total.ln();
        lane.mapv_inplace(|v| v - offset);
    }
    y
}

/// `ln Σᵢ exp(xᵢ)` over every element, computed as `m + ln Σᵢ exp(xᵢ − m)`
/// with `m` the largest element: no overflow, no underflow to `-inf` of a
/// sum that is not zero. `-inf` for an empty array.
///
/// ```
/// use ndarray::array;
/// let y = autodiff_runtime::logsumexp(&array![1000.0_f64, 1000.0]);
/// assert!((y - (1000.0 + 2.0_f64.ln())).abs() < 1e-12);
/// ```
pub fn logsumexp<A, S, D>(x: &ArrayBase<S, D>) -> A
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    lse(x.iter())
}

fn lse<'a, A: Element + 'a>(lane: impl Iterator<Item = &'a A> + Clone) -> A {
    let m = shift(lane.clone());
    let total = lane.fold(A::zero(), |t, &v| t + (v - m).exp());
    m + total.ln()
}

/// [`logsumexp`] of each lane along `axis`: one dimension fewer than `x`.
///
/// ```
/// use ndarray::{Axis, array};
/// let y = autodiff_runtime::logsumexp_axis(&array![[0.0_f64, 0.0], [1000.0, 1000.0]], Axis(1));
/// assert!((&y - &array![2.0_f64.ln(), 1000.0 + 2.0_f64.ln()]).iter().all(|e| e.abs() < 1e-12));
/// ```
pub fn logsumexp_axis<A, S, D>(x: &ArrayBase<S, D>, axis: Axis) -> Array<A, D::Smaller>
where
    A: Element,
    S: Data<Elem = A>,
    D: RemoveAxis,
{
    x.map_axis(axis, |lane| lse(lane.iter()))
}

/// `exp(x − y)`, the softmax weights from `x` and its log-sum-exp `y`, and
/// 0 where `y` is `-inf` (every element `-inf`: no weight is defined).
fn weight<A: Element>(x: A, y: A) -> A {
    if y == A::neg_infinity() {
        A::zero()
    } else {
        (x - y).exp()
    }
}

/// Pullback of [`softmax`]: `dxᵢ = yᵢ (dᵢ − Σⱼ dⱼ yⱼ)` in each lane.
///
/// ```
/// use autodiff_runtime::rules::softmax_pullback;
/// use ndarray::{Axis, array};
/// let x = array![0.0_f64, 0.0];
/// let y = autodiff_runtime::softmax(&x, Axis(0));
/// assert_eq!(softmax_pullback(&x, Axis(0), &y, &array![1.0, 0.0]), array![0.25, -0.25]);
/// ```
pub fn softmax_pullback<A, S, S2, S3, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    y: &ArrayBase<S2, D>,
    d: &ArrayBase<S3, D>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: Data<Elem = A>,
    D: RemoveAxis,
{
    let _ = x;
    let mut g = d.to_owned();
    for (mut g, y) in g.lanes_mut(axis).into_iter().zip(y.lanes(axis)) {
        let s = g.iter().zip(&y).fold(A::zero(), |s, (&d, &y)| s + d * y);
        g.zip_mut_with(&y, |g, &y| *g = y * (*g - s));
    }
    g
}

/// Pullback of [`log_softmax`]: `dxᵢ = dᵢ − exp(yᵢ) Σⱼ dⱼ` in each lane.
///
/// ```
/// use autodiff_runtime::rules::log_softmax_pullback;
/// use ndarray::{Axis, array};
/// let x = array![0.0_f64, 0.0];
/// let y = autodiff_runtime::log_softmax(&x, Axis(0));
/// assert_eq!(log_softmax_pullback(&x, Axis(0), &y, &array![1.0, 0.0]), array![0.5, -0.5]);
/// ```
pub fn log_softmax_pullback<A, S, S2, S3, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    y: &ArrayBase<S2, D>,
    d: &ArrayBase<S3, D>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: Data<Elem = A>,
    D: RemoveAxis,
{
    let _ = x;
    let mut g = d.to_owned();
    for (mut g, y) in g.lanes_mut(axis).into_iter().zip(y.lanes(axis)) {
        let s = g.sum();
        g.zip_mut_with(&y, |g, &y| *g = *g - y.exp() * s);
    }
    g
}

/// The largest element, as `x.fold(-inf, |m, &v| m.max(v))` computes it:
/// NaNs are passed over, and an empty array gives `-inf`.
///
/// `#[grad]` writes `x.fold(init, |m, &v| m.max(v))` on a differentiated
/// array as `max_element(&x).max(init)`.
///
/// ```
/// use ndarray::array;
/// assert_eq!(autodiff_runtime::max_element(&array![[1.0_f64, 4.0], [-2.0, 3.0]]), 4.0);
/// ```
pub fn max_element<A, S, D>(x: &ArrayBase<S, D>) -> A
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.fold(A::neg_infinity(), |m, &v| m.max(v))
}

/// The smallest element, as `x.fold(inf, |m, &v| m.min(v))` computes it:
/// NaNs are passed over, and an empty array gives `inf`.
///
/// ```
/// use ndarray::array;
/// assert_eq!(autodiff_runtime::min_element(&array![[1.0_f64, 4.0], [-2.0, 3.0]]), -2.0);
/// ```
pub fn min_element<A, S, D>(x: &ArrayBase<S, D>) -> A
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.fold(A::infinity(), |m, &v| m.min(v))
}

/// `d` at the first element equal to `y`, in logical order, 0 elsewhere
/// (0 everywhere when none is: `y` NaN or infinite from an empty array).
fn at_first<A, S, D>(x: &ArrayBase<S, D>, y: &A, d: &A) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    let mut g = Array::zeros(x.raw_dim());
    if let Some((slot, _)) = g.iter_mut().zip(x.iter()).find(|(_, v)| *v == y) {
        *slot = *d;
    }
    g
}

/// Pullback of [`max_element`]: `d` at the largest element (the first of
/// equal ones), 0 elsewhere.
///
/// ```
/// use autodiff_runtime::rules::max_element_pullback;
/// use ndarray::array;
/// let x = array![1.0_f64, 4.0, 4.0];
/// assert_eq!(max_element_pullback(&x, &4.0, &2.0), array![0.0, 2.0, 0.0]);
/// ```
pub fn max_element_pullback<A, S, D>(x: &ArrayBase<S, D>, y: &A, d: &A) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    at_first(x, y, d)
}

/// Pullback of [`min_element`]: `d` at the smallest element (the first of
/// equal ones), 0 elsewhere.
///
/// ```
/// use autodiff_runtime::rules::min_element_pullback;
/// use ndarray::array;
/// let x = array![[1.0_f64, -4.0], [0.0, 3.0]];
/// assert_eq!(min_element_pullback(&x, &-4.0, &2.0), array![[0.0, 2.0], [0.0, 0.0]]);
/// ```
pub fn min_element_pullback<A, S, D>(x: &ArrayBase<S, D>, y: &A, d: &A) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    at_first(x, y, d)
}

/// Pullback of [`logsumexp`]: `dxᵢ = d · exp(xᵢ − y)` (the softmax of `x`);
/// 0 when every element is `-inf`.
///
/// ```
/// use autodiff_runtime::rules::logsumexp_pullback;
/// use ndarray::array;
/// let x = array![0.0_f64, 0.0];
/// let y = autodiff_runtime::logsumexp(&x);
/// assert_eq!(logsumexp_pullback(&x, &y, &2.0), array![1.0, 1.0]);
/// ```
pub fn logsumexp_pullback<A, S, D>(x: &ArrayBase<S, D>, y: &A, d: &A) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    x.mapv(|x| *d * weight(x, *y))
}

/// Pullback of [`logsumexp_axis`]: `dxᵢ = dₗ · exp(xᵢ − yₗ)` for `i` in
/// lane `l`.
///
/// ```
/// use autodiff_runtime::rules::logsumexp_axis_pullback;
/// use ndarray::{Axis, array};
/// let x = array![[0.0_f64, 0.0], [1.0, 1.0]];
/// let y = autodiff_runtime::logsumexp_axis(&x, Axis(1));
/// let g = logsumexp_axis_pullback(&x, Axis(1), &y, &array![2.0, 4.0]);
/// assert!((&g - &array![[1.0, 1.0], [2.0, 2.0]]).iter().all(|e| e.abs() < 1e-15));
/// ```
pub fn logsumexp_axis_pullback<A, S, S2, S3, D>(
    x: &ArrayBase<S, D>,
    axis: Axis,
    y: &ArrayBase<S2, D::Smaller>,
    d: &ArrayBase<S3, D::Smaller>,
) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    S3: Data<Elem = A>,
    D: RemoveAxis,
{
    let mut g = x.to_owned();
    for ((mut g, &y), &d) in g.lanes_mut(axis).into_iter().zip(y).zip(d) {
        g.mapv_inplace(|x| d * weight(x, y));
    }
    g
}

/// Pullback of `x.view()`: `d` itself, as an owned array.
///
/// ```
/// use autodiff_runtime::rules::view_pullback;
/// use ndarray::array;
/// let x = array![1.0_f64, 2.0];
/// assert_eq!(view_pullback(&x, &array![3.0, 4.0]), array![3.0, 4.0]);
/// ```
#[inline]
pub fn view_pullback<A, S, S2, D>(x: &ArrayBase<S, D>, d: &ArrayBase<S2, D>) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    S2: Data<Elem = A>,
    D: Dimension,
{
    let _ = x;
    d.to_owned()
}

/// Part `k` of `d` along `axis`, where the parts have the lengths `lens`
/// (the operands of a concatenation, in order).
fn part<A, S, D>(axis: Axis, lens: &[usize], k: usize, d: &ArrayBase<S, D>) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    let start: usize = lens[..k].iter().sum();
    let end = start + lens[k];
    if end > d.len_of(axis) {
        panic!(
            "the adjoint of a concatenation has length {} along {axis:?}, less than its parts' {}",
            d.len_of(axis),
            lens.iter().sum::<usize>()
        );
    }
    d.slice_axis(axis, ndarray::Slice::from(start..end))
        .to_owned()
}

/// Layer `k` of `d` along the new `axis` of a stack.
fn layer<A, S, D>(axis: Axis, k: usize, d: &ArrayBase<S, D::Larger>) -> Array<A, D>
where
    A: Element,
    S: Data<Elem = A>,
    D: Dimension,
{
    match d.index_axis(axis, k).into_dimensionality::<D>() {
        Ok(g) => g.to_owned(),
        Err(_) => panic!("the adjoint of a stack does not have one dimension more than its parts"),
    }
}

macro_rules! joins {
    ($($concatenate:ident $stack:ident $list:tt { $($k:tt $cpull:ident $spull:ident),+ })*) => {$(
        joined!($concatenate $stack $list);
        $(join_pullbacks!($concatenate $stack $k $cpull $spull $list);)+
    )*};
}

macro_rules! joined {
    ($concatenate:ident $stack:ident [$($x:ident $S:ident),+]) => {
        #[doc = concat!(
            "`ndarray::concatenate(axis, &[", $(stringify!($x), ".view(), ",)+
            "]).unwrap()`: the arrays joined along `axis`; `#[grad]` writes that call, and ",
            "`concatenate![axis, …]`, as this.\n\n",
            "# Panics\n\nIf the shapes differ off `axis`, where `concatenate` returns an error."
        )]
        pub fn $concatenate<A, $($S,)+ D>(axis: Axis, $($x: &ArrayBase<$S, D>),+) -> Array<A, D>
        where
            A: Element,
            $($S: Data<Elem = A>,)+
            D: RemoveAxis,
        {
            match ndarray::concatenate(axis, &[$($x.view()),+]) {
                Ok(y) => y,
                Err(error) => panic!("concatenate along {axis:?}: {error}"),
            }
        }

        #[doc = concat!(
            "`ndarray::stack(axis, &[", $(stringify!($x), ".view(), ",)+
            "]).unwrap()`: the arrays stacked along a new `axis`; `#[grad]` writes that call, ",
            "and `stack![axis, …]`, as this.\n\n",
            "# Panics\n\nIf the shapes differ, where `stack` returns an error."
        )]
        pub fn $stack<A, $($S,)+ D>(axis: Axis, $($x: &ArrayBase<$S, D>),+) -> Array<A, D::Larger>
        where
            A: Element,
            $($S: Data<Elem = A>,)+
            D: Dimension,
        {
            match ndarray::stack(axis, &[$($x.view()),+]) {
                Ok(y) => y,
                Err(error) => panic!("stack along {axis:?}: {error}"),
            }
        }
    };
}

macro_rules! join_pullbacks {
    ($concatenate:ident $stack:ident $k:tt $cpull:ident $spull:ident [$($x:ident $S:ident),+]) => {
        #[doc = concat!(
            "Pullback of [`", stringify!($concatenate), "`] to its array ", stringify!($k),
            ": that array's part of `d` along `axis`."
        )]
        pub fn $cpull<A, $($S,)+ S0, D>(
            axis: Axis,
            $($x: &ArrayBase<$S, D>,)+
            d: &ArrayBase<S0, D>,
        ) -> Array<A, D>
        where
            A: Element,
            $($S: Data<Elem = A>,)+
            S0: Data<Elem = A>,
            D: Dimension,
        {
            part(axis, &[$($x.len_of(axis)),+], $k, d)
        }

        #[doc = concat!(
            "Pullback of [`", stringify!($stack), "`] to its array ", stringify!($k),
            ": layer ", stringify!($k), " of `d` along `axis`."
        )]
        pub fn $spull<A, $($S,)+ S0, D>(
            axis: Axis,
            $($x: &ArrayBase<$S, D>,)+
            d: &ArrayBase<S0, D::Larger>,
        ) -> Array<A, D>
        where
            A: Element,
            $($S: Data<Elem = A>,)+
            S0: Data<Elem = A>,
            D: Dimension,
        {
            $(let _ = $x;)+
            layer::<A, S0, D>(axis, $k, d)
        }
    };
}

joins! {
    concatenate2 stack2 [a SA, b SB] {
        0 concatenate2_pullback_0 stack2_pullback_0,
        1 concatenate2_pullback_1 stack2_pullback_1
    }
    concatenate3 stack3 [a SA, b SB, c SC] {
        0 concatenate3_pullback_0 stack3_pullback_0,
        1 concatenate3_pullback_1 stack3_pullback_1,
        2 concatenate3_pullback_2 stack3_pullback_2
    }
}
