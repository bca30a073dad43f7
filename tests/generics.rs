//! Generic `#[grad]` functions: `f_grad::<f32>` and `f_grad::<f64>` from one
//! definition, checked against central finite differences and the calculus.

use autodiff::{Scalar, check, grad, sigmoid};
use num_traits::Float;

#[grad]
fn unit<T: Scalar>(x: T, a: T, b: T) -> T {
    sigmoid(a * x + b)
}

/// The sigmoid unit of the motivating example, in both precisions.
#[test]
fn test_sigmoid_unit_in_f32_and_f64() {
    let (y, (dx, da, db)) = unit_grad::<f64>(2.0, 3.0, 1.0);
    let s = 1.0 / (1.0 + (-7.0_f64).exp());
    assert!((y - s).abs() < 1e-15);
    let ds = s * (1.0 - s);
    assert!((dx - 3.0 * ds).abs() < 1e-15);
    assert!((da - 2.0 * ds).abs() < 1e-15);
    assert!((db - ds).abs() < 1e-15);
    let (y32, (dx32, da32, db32)) = unit_grad::<f32>(2.0, 3.0, 1.0);
    assert!((f64::from(y32) - s).abs() < 1e-6);
    assert!((f64::from(dx32) - dx).abs() < 1e-6);
    assert!((f64::from(da32) - da).abs() < 1e-6);
    assert!((f64::from(db32) - db).abs() < 1e-6);
}

/// A num-traits bound works too; the macro adds `T: Scalar` to the
/// generated functions.
#[grad(wrt(x, y))]
fn mixed<T: Float>(x: T, y: T, k: i32) -> T {
    (x * y).sin() + x.powi(k) / y
}

#[test]
fn test_num_traits_bound_against_finite_differences() {
    for (x, y) in [(0.5, 1.5), (-1.25, 0.75)] {
        let (value, (dx, dy)) = mixed_grad::<f64>(x, y, 3);
        assert_eq!(value, mixed(x, y, 3));
        check(|&(x, y): &(f64, f64)| mixed(x, y, 3), (x, y), (dx, dy)).assert_close(1e-6);
        let (_, (dx32, dy32)) = mixed_grad::<f32>(x as f32, y as f32, 3);
        check(
            |&(x, y): &(f32, f32)| mixed(x, y, 3),
            (x as f32, y as f32),
            (dx32, dy32),
        )
        .assert_close(2e-2);
    }
}

/// A generic slice in a loop, and a generic `#[grad]` function calling
/// another one.
#[grad]
fn energy<T: Scalar>(x: &[T], k: T) -> T {
    let mut s = T::zero();
    for i in 0..x.len() - 1 {
        s += spring(x[i + 1] - x[i], k);
    }
    s
}

#[grad]
fn spring<T: Scalar>(d: T, k: T) -> T {
    k * d * d / (T::one() + T::one())
}

#[test]
fn test_generic_slice_loop_and_call() {
    let x = vec![0.0, 0.5, 1.5, 1.75];
    let (value, (dx, dk)) = energy_grad::<f64>(&x, 2.0);
    assert_eq!(value, energy(&x, 2.0));
    check(
        |(x, k): &(Vec<f64>, f64)| energy(x, *k),
        (x.clone(), 2.0),
        (dx, dk),
    )
    .assert_close(1e-6);
    let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let (_, (dx32, _)) = energy_grad::<f32>(&x32, 2.0);
    assert_eq!(dx32.len(), 4);
}
