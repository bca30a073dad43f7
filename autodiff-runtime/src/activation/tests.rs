//! Tests of the activations: values against mpmath references, pullbacks
//! against central differences, arrays against the scalar rule.

/// `got` within `tol` of `want`, relative.
#[track_caller]
fn assert_rel(got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs(),
        "got {got:e}, want {want:e}"
    );
}

/// What the array and by-reference forms of every activation keep, as two
/// tests in the module that invokes it: `f(&x)` is `x.mapv(f)`, and so is
/// `f` of a view; an owned array is overwritten in place; the pullback on
/// arrays matches central differences (within `tol`), and its `_into`
/// variant gives the same; `f(&x)` is `f(x)` to the bit in `f32` and `f64`.
macro_rules! array_and_reference_contract {
    ($f:ident, $pullback:ident, $into:ident, seeds $s1:literal $s2:literal, scale $scale:literal, tol $tol:literal) => {
        #[test]
        fn test_array_contract() {
            use crate::array::testing::{random, weighted};
            use crate::check::check;
            use crate::rules::{$into, $pullback};
            use ndarray::Array2;
            let x = random((3, 4), $s1).mapv(|v| $scale * v);
            let y = $f(&x);
            assert_eq!(y, x.mapv($f));
            assert_eq!($f(x.view()), y);
            let again = x.clone();
            let p = again.as_ptr();
            let owned = $f(again);
            assert_eq!(owned.as_ptr(), p, "the owned buffer is reused");
            assert_eq!(owned, y);
            let w = random((3, 4), $s2);
            let g = $pullback(&x, &y, &w);
            check(|x: &Array2<f64>| weighted(&w, &$f(x)), x.clone(), g.clone()).assert_close($tol);
            assert_eq!($into(&x, &y, w), g, "the `_into` pullback agrees");
        }

        #[test]
        fn test_by_reference() {
            for x in [-3.0_f64, 0.0, 0.5, 800.0] {
                assert_eq!($f(&x).to_bits(), $f(x).to_bits());
                let y = x as f32;
                assert_eq!($f(&y).to_bits(), $f(y).to_bits());
            }
        }
    };
}

mod sigmoid {
    #[cfg(test)]
    // Reference values keep the digits mpmath printed; rustc rounds them
    // correctly. Exact values (kinks, ±∞, ties) are what many asserts check.
    #[allow(clippy::excessive_precision, clippy::float_cmp)]
    mod tests {
        use crate::activation::exports::*;
        use crate::activation::rule_traits::*;
        use crate::check::check;
        use crate::rules;

        /// The distance in units in the last place between two positive `f64`.
        fn ulps(a: f64, b: f64) -> u64 {
            assert!(a > 0.0 && b > 0.0, "{a}, {b}");
            a.to_bits().abs_diff(b.to_bits())
        }

        #[test]
        fn test_sigmoid() {
            // Reference values: mpmath, `mp.dps = 40; 1/(1 + exp(-mpf(x)))`.
            assert_eq!(sigmoid(0.0_f64), 0.5);
            assert!(
                ulps(
                    sigmoid(7.0_f64),
                    0.999_088_948_805_599_354_642_136_676_225_3
                ) <= 1
            );
            assert!(ulps(sigmoid(-7.0_f64), 9.110_511_944_006_453_578_633_238e-4) <= 2);
            assert!(ulps(sigmoid(-40.0_f64), 4.248_354_255_291_588_977_280_721e-18) <= 2);
            assert!(ulps(sigmoid(2.5_f64), 0.924_141_819_978_756_448_806_693_8) <= 1);
            assert_eq!(sigmoid(0.0_f32), 0.5);
            assert!((sigmoid(-7.0_f32) - 9.110_512e-4).abs() < 2.0 * f32::EPSILON * 9.11e-4);
        }

        #[test]
        fn test_sigmoid_extremes() {
            // Finite (no exp overflow, no ∞/∞) at ±800 and ±∞.
            assert_eq!(sigmoid(800.0_f64), 1.0);
            assert_eq!(sigmoid(-800.0_f64), 0.0);
            assert_eq!(sigmoid(f64::INFINITY), 1.0);
            assert_eq!(sigmoid(f64::NEG_INFINITY), 0.0);
            assert_eq!(sigmoid(800.0_f32), 1.0);
            assert_eq!(sigmoid(-800.0_f32), 0.0);
            assert_eq!(sigmoid(f32::INFINITY), 1.0);
            assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
            assert!(sigmoid(f64::NAN).is_nan());
            for x in [800.0_f64, -800.0, f64::INFINITY, f64::NEG_INFINITY] {
                let g = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
                assert_eq!(g, 0.0, "σ'({x}) = {g}");
            }
            for x in [800.0_f32, -800.0, f32::INFINITY, f32::NEG_INFINITY] {
                let g = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
                assert_eq!(g, 0.0, "σ'({x}) = {g}");
            }
        }

        #[test]
        fn test_sigmoid_pullback() {
            for x in [-6.0_f64, -2.0, -0.3, 0.0, 0.5, 3.0, 7.0] {
                for d in [1.0, -0.7] {
                    let g = rules::sigmoid_pullback(&x, &sigmoid(x), &d);
                    let r = check(|x: &f64| d * sigmoid(*x), x, g);
                    assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
                }
            }
            for x in [-3.0_f32, 0.0, 0.5, 4.0] {
                let g = x.sigmoid_pullback(&sigmoid(x), &1.0);
                let r = check(|x: &f32| sigmoid(*x), x, g);
                assert!(r.is_close(1e-2), "at x = {x}: {r}");
            }
            // The analytic value: σ(0)·σ(−0) = ¼.
            assert_eq!(0.0_f64.sigmoid_pullback(&0.5, &1.0), 0.25);
        }

        #[test]
        fn test_sigmoid_pullback_precision() {
            // σ'(7) = e⁻⁷/(1 + e⁻⁷)², from
            //   python3 -c "from mpmath import mp, exp, mpf; mp.dps = 40; \
            //               x = mpf(7); print(exp(-x) / (1 + exp(-x))**2)"
            // (the same digits from Python's `decimal` at 60 digits). The f64
            // formula y·(1 − y) gives 0.000910221180121784, ≈ 390 ulp away.
            let exact = 0.000_910_221_180_121_826_515_363_859_381_163_876_524_5_f64;
            let x = 7.0_f64;
            let got = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
            assert!(
                ulps(got, exact) <= 4,
                "σ'(7) = {got:e}, exact {exact:e}: {} ulp",
                ulps(got, exact)
            );
            let got = (-x).sigmoid_pullback(&sigmoid(-x), &1.0);
            assert!(
                ulps(got, exact) <= 4,
                "σ'(−7) = {got:e}: {} ulp",
                ulps(got, exact)
            );
            // Deep in the tail, where y·(1 − y) has no digits left: σ'(±30).
            let exact = 9.357_622_968_838_423_302_763_293e-14_f64;
            for x in [30.0_f64, -30.0] {
                let got = rules::sigmoid_pullback(&x, &sigmoid(x), &1.0);
                assert!(
                    ulps(got, exact) <= 4,
                    "σ'({x}) = {got:e}: {} ulp",
                    ulps(got, exact)
                );
            }
            // f32, computed in f32.
            let got = rules::sigmoid_pullback(&7.0_f32, &sigmoid(7.0_f32), &1.0);
            #[allow(clippy::cast_possible_truncation)]
            let exact = 0.000_910_221_180_121_826_5_f64 as f32;
            assert!(
                got.to_bits().abs_diff(exact.to_bits()) <= 4,
                "σ'(7) = {got:e} in f32"
            );
        }

        array_and_reference_contract!(sigmoid, sigmoid_pullback, sigmoid_pullback_into, seeds 1 2, scale 4.0, tol 1e-7);

        #[test]
        fn test_sigmoid_array_tails() {
            use ndarray::array;
            // Same numerics as the scalar rule, finite in the tails.
            let x = array![-800.0_f32, 0.0, 7.0, 800.0];
            let g = rules::sigmoid_pullback(&x.view(), &sigmoid(&x), &array![1.0, 1.0, 1.0, 1.0]);
            assert_eq!(g, x.mapv(|x| x.sigmoid_pullback(&sigmoid(x), &1.0)));
            assert_eq!(g[0], 0.0);
            assert_eq!(g[1], 0.25);
        }
    }

    #[cfg(test)]
    mod cheap_branch {
        use crate::rules_traits::SigmoidRule;
        use crate::sigmoid;

        /// σ'(x) as e/(1 + e)², e = e^(−|x|): the formula with no cancellation.
        fn reference(x: f64) -> f64 {
            let e = (-x.abs()).exp();
            e / ((1.0 + e) * (1.0 + e))
        }

        #[test]
        fn test_sigmoid_pullback_without_exp_stays_within_4_ulp() {
            let mut worst = 0;
            for i in 0..=200_000 {
                let x = -40.0 + 41.0 * f64::from(i) / 200_000.0; // up to the branch at 1
                let got = x.sigmoid_pullback(&sigmoid(x), &1.0);
                let want = reference(x);
                worst = worst.max(got.to_bits().abs_diff(want.to_bits()));
            }
            assert!(worst <= 4, "worst {worst} ulp from e/(1 + e)²");
        }

        #[test]
        fn test_sigmoid_pullback_above_the_branch_is_the_exp_formula() {
            for x in [1.0000001, 2.0, 7.0, 30.0, 700.0] {
                assert_eq!(x.sigmoid_pullback(&sigmoid(x), &1.0), reference(x));
            }
        }
    }
}

mod relu {
    #[cfg(test)]
    // Exact values (kinks, ±∞, ties) are what many asserts check.
    #[allow(clippy::float_cmp)]
    mod tests {
        use crate::activation::exports::*;
        use crate::activation::rule_traits::*;
        use crate::check::check;
        use crate::rules;

        #[test]
        fn test_relu() {
            assert_eq!(relu(2.5_f64), 2.5);
            assert_eq!(relu(-2.5_f64), 0.0);
            assert_eq!(relu(0.0_f64), 0.0);
            assert_eq!(relu(f64::INFINITY), f64::INFINITY);
            assert_eq!(relu(f64::NEG_INFINITY), 0.0);
            assert!(relu(f64::NAN).is_nan());
            assert_eq!(relu(-1.0_f32), 0.0);
            assert_eq!(relu(1e-30_f32), 1e-30);
        }

        #[test]
        fn test_relu_pullback() {
            for x in [-2.0_f64, -0.1, 0.3, 5.0, 1e6] {
                for d in [1.0, -0.7] {
                    let g = rules::relu_pullback(&x, &relu(x), &d);
                    let r = check(|x: &f64| d * relu(*x), x, g);
                    assert!(r.is_close(1e-9), "at x = {x}, d = {d}: {r}");
                }
            }
            for x in [-2.0_f32, 0.5, 3.0] {
                let r = check(|x: &f32| relu(*x), x, x.relu_pullback(&relu(x), &1.0));
                assert!(r.is_close(1e-2), "at x = {x}: {r}");
            }
            assert_eq!(3.0_f64.relu_pullback(&3.0, &-2.0), -2.0);
            // The kink x = 0 (either sign): 0.
            assert_eq!(0.0_f64.relu_pullback(&0.0, &1.0), 0.0);
            assert_eq!((-0.0_f64).relu_pullback(&0.0, &1.0), 0.0);
            assert_eq!(0.0_f32.relu_pullback(&0.0, &1.0), 0.0);
            assert!(f64::NAN.relu_pullback(&f64::NAN, &1.0).is_nan());
        }

        array_and_reference_contract!(relu, relu_pullback, relu_pullback_into, seeds 3 4, scale 1.0, tol 1e-9);

        #[test]
        fn test_relu_array_kink() {
            use ndarray::array;
            // The kink: 0.
            let x = array![0.0_f64, -0.0, 1.0];
            assert_eq!(
                rules::relu_pullback(&x, &relu(&x), &array![2.0, 2.0, 2.0]),
                array![0.0, 0.0, 2.0]
            );
        }
    }
}

mod softplus {
    #[cfg(test)]
    // Reference values keep the digits mpmath printed; rustc rounds them
    // correctly. Exact values (kinks, ±∞, ties) are what many asserts check.
    #[allow(clippy::excessive_precision, clippy::float_cmp)]
    mod tests {
        use crate::activation::exports::*;
        use crate::activation::rule_traits::*;
        use crate::check::check;
        use crate::rules;

        use super::super::assert_rel;

        #[test]
        fn test_softplus() {
            // Reference values: mpmath, `mp.dps = 40; log(1 + exp(mpf(x)))`.
            assert_rel(softplus(0.0_f64), core::f64::consts::LN_2, 1e-16);
            assert_rel(softplus(1.0_f64), 1.313_261_687_518_222_834_048_995, 4e-16);
            assert_rel(
                softplus(-1.0_f64),
                0.313_261_687_518_222_834_048_995_5,
                4e-16,
            );
            assert_rel(softplus(7.0_f64), 7.000_911_466_453_774_244_691_702, 4e-16);
            assert_rel(
                softplus(-7.0_f64),
                9.114_664_537_742_446_917_024_938e-4,
                4e-16,
            );
            assert_rel(softplus(2.5_f64), 2.578_889_734_292_549_623_344_044, 4e-16);
            // ln(1 + e⁻³⁰) without ln_1p would lose 3 digits in 1 + 9.4e-14.
            assert_rel(
                softplus(-30.0_f64),
                9.357_622_968_839_736_779_377_697e-14,
                4e-16,
            );
            assert_rel(softplus(30.0_f64), 30.000_000_000_000_093_576_229_69, 4e-16);
            assert_rel(
                f64::from(softplus(1.0_f32)),
                1.313_261_687_518_222_834,
                2e-7,
            );
            assert_rel(
                f64::from(softplus(-7.0_f32)),
                9.114_664_537_742_446_917e-4,
                4e-7,
            );
        }

        #[test]
        fn test_softplus_extremes() {
            assert_eq!(softplus(800.0_f64), 800.0);
            assert_eq!(softplus(-800.0_f64), 0.0);
            assert_eq!(softplus(f64::INFINITY), f64::INFINITY);
            assert_eq!(softplus(f64::NEG_INFINITY), 0.0);
            assert_eq!(softplus(800.0_f32), 800.0);
            assert_eq!(softplus(-800.0_f32), 0.0);
            assert_eq!(softplus(f32::INFINITY), f32::INFINITY);
            assert_eq!(softplus(f32::NEG_INFINITY), 0.0);
            assert!(softplus(f64::NAN).is_nan());
            for (x, want) in [
                (800.0_f64, 1.0),
                (-800.0, 0.0),
                (f64::INFINITY, 1.0),
                (f64::NEG_INFINITY, 0.0),
            ] {
                assert_eq!(
                    rules::softplus_pullback(&x, &softplus(x), &1.0),
                    want,
                    "at {x}"
                );
            }
            for (x, want) in [
                (800.0_f32, 1.0),
                (-800.0, 0.0),
                (f32::INFINITY, 1.0),
                (f32::NEG_INFINITY, 0.0),
            ] {
                assert_eq!(
                    rules::softplus_pullback(&x, &softplus(x), &1.0),
                    want,
                    "at {x}"
                );
            }
        }

        #[test]
        fn test_softplus_pullback() {
            for x in [-30.0_f64, -6.0, -0.3, 0.0, 0.5, 3.0, 40.0] {
                for d in [1.0, -0.7] {
                    let g = rules::softplus_pullback(&x, &softplus(x), &d);
                    let r = check(|x: &f64| d * softplus(*x), x, g);
                    assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
                }
            }
            for x in [-3.0_f32, 0.0, 0.5, 4.0] {
                let r = check(
                    |x: &f32| softplus(*x),
                    x,
                    x.softplus_pullback(&softplus(x), &1.0),
                );
                assert!(r.is_close(1e-2), "at x = {x}: {r}");
            }
            // softplus' = σ: σ(0) = ½, σ(1) and σ(−7) from mpmath.
            assert_eq!(0.0_f64.softplus_pullback(&0.0, &1.0), 0.5);
            assert_rel(
                1.0_f64.softplus_pullback(&0.0, &1.0),
                0.731_058_578_630_004_879_251_159,
                4e-16,
            );
            assert_rel(
                (-7.0_f64).softplus_pullback(&0.0, &1.0),
                9.110_511_944_006_453_578_633e-4,
                4e-16,
            );
        }

        array_and_reference_contract!(softplus, softplus_pullback, softplus_pullback_into, seeds 5 6, scale 4.0, tol 1e-7);

        #[test]
        fn test_softplus_array_tails() {
            use ndarray::array;
            let x = array![-800.0_f32, 0.0, 800.0];
            let g = rules::softplus_pullback(&x, &softplus(&x), &array![1.0, 1.0, 1.0]);
            assert_eq!(g, array![0.0, 0.5, 1.0]);
        }
    }
}

mod silu {
    #[cfg(test)]
    // Reference values keep the digits mpmath printed; rustc rounds them
    // correctly. Exact values (±∞, 0) are what some asserts check.
    #[allow(clippy::excessive_precision, clippy::float_cmp)]
    mod tests {
        use crate::activation::exports::*;
        use crate::activation::rule_traits::*;
        use crate::check::check;
        use crate::rules;

        use super::super::assert_rel;

        /// `(x, silu(x), silu′(x))`: mpmath, `mp.dps = 40`,
        /// `x/(1 + exp(-x))` and `σ(x)·(1 + x·σ(−x))`.
        const REFERENCE: &[(f64, f64, f64)] = &[
            (
                1.0,
                0.731_058_578_630_004_879_251_159_2,
                0.927_670_511_871_486_731_788_584_0,
            ),
            (
                -1.0,
                -0.268_941_421_369_995_120_748_840_8,
                0.072_329_488_128_513_268_211_416_02,
            ),
            (
                7.0,
                6.993_622_641_639_195_482_494_957,
                1.005_460_497_066_452_140_249_684,
            ),
            (
                -7.0,
                -0.006_377_358_360_804_517_505_043_266,
                -0.005_460_497_066_452_140_249_683_692,
            ),
            (
                30.0,
                29.999_999_999_997_192_713_109_35,
                1.000_000_000_002_713_710_660_963,
            ),
            (
                -30.0,
                -2.807_286_890_651_789_686_151_869e-12,
                -2.713_710_660_963_134_001_290_592e-12,
            ),
            (
                2.5,
                2.310_354_549_946_891_122_016_735,
                1.099_401_111_341_526_841_137_526,
            ),
            (
                -40.0,
                -1.699_341_702_116_635_590_912_288e-16,
                -1.656_858_159_563_719_693_920_076e-16,
            ),
        ];

        #[test]
        fn test_silu() {
            for &(x, value, _) in REFERENCE {
                assert_rel(silu(x), value, 4e-16);
                assert_rel(f64::from(silu(x as f32)), value, 4e-7);
            }
            assert_eq!(silu(0.0_f64), 0.0);
        }

        #[test]
        fn test_silu_extremes() {
            assert_eq!(silu(800.0_f64), 800.0);
            assert_eq!(silu(-800.0_f64), 0.0);
            assert_eq!(silu(f64::INFINITY), f64::INFINITY);
            assert_eq!(silu(f64::NEG_INFINITY), 0.0);
            assert_eq!(silu(f32::INFINITY), f32::INFINITY);
            assert_eq!(silu(f32::NEG_INFINITY), 0.0);
            assert!(silu(f64::NAN).is_nan());
            for (x, want) in [
                (800.0_f64, 1.0),
                (-800.0, 0.0),
                (f64::INFINITY, 1.0),
                (f64::NEG_INFINITY, 0.0),
            ] {
                assert_eq!(rules::silu_pullback(&x, &silu(x), &1.0), want, "at {x}");
                let x = x as f32;
                assert_eq!(
                    rules::silu_pullback(&x, &silu(x), &1.0),
                    want as f32,
                    "at {x}"
                );
            }
            assert!(rules::silu_pullback(&f64::NAN, &f64::NAN, &1.0).is_nan());
        }

        #[test]
        fn test_silu_pullback() {
            for &(x, _, slope) in REFERENCE {
                assert_rel(x.silu_pullback(&silu(x), &1.0), slope, 8e-16);
                assert_rel(x.silu_pullback(&silu(x), &-0.5), -0.5 * slope, 8e-16);
            }
            assert_eq!(0.0_f64.silu_pullback(&0.0, &1.0), 0.5);
            for x in [-30.0_f64, -6.0, -1.3, -0.3, 0.0, 0.5, 3.0, 40.0] {
                for d in [1.0, -0.7] {
                    let g = rules::silu_pullback(&x, &silu(x), &d);
                    let r = check(|x: &f64| d * silu(*x), x, g);
                    assert!(r.is_close(1e-7), "at x = {x}, d = {d}: {r}");
                }
            }
            for x in [-3.0_f32, 0.0, 0.5, 4.0] {
                let r = check(|x: &f32| silu(*x), x, x.silu_pullback(&silu(x), &1.0));
                assert!(r.is_close(1e-2), "at x = {x}: {r}");
            }
        }

        /// The ε part of the pullback at `Dual::new(x, 1)` is silu″(x) =
        /// σ′(x)·(2 + x·(1 − 2σ(x))), written without cancellation: σ′ =
        /// e/(1 + e)², 1 − 2σ(x) = sign(−x)·(1 − e)/(1 + e), e = e^(−|x|).
        #[test]
        fn test_silu_second_derivative() {
            use crate::Dual;
            for x in [0.3_f64, 3.0, 7.0, 20.0, 300.0, -0.3, -5.0, -20.0] {
                let e = (-x.abs()).exp();
                let d1 = e / ((1.0 + e) * (1.0 + e));
                let second = d1 * (2.0 - x * x.signum() * (1.0 - e) / (1.0 + e));
                let dx = Dual::new(x, 1.0);
                let got = dx.silu_pullback(&Silu::silu(dx), &Dual::constant(1.0));
                assert_rel(got.eps, second, 1e-12);
                assert_rel(Silu::silu(dx).eps, x.silu_pullback(&silu(x), &1.0), 1e-15);
            }
        }

        array_and_reference_contract!(silu, silu_pullback, silu_pullback_into, seeds 7 8, scale 4.0, tol 1e-7);

        #[test]
        fn test_silu_array_tails() {
            use ndarray::array;
            let x = array![-800.0_f32, 0.0, 800.0];
            let g = rules::silu_pullback(&x, &silu(&x), &array![1.0, 1.0, 1.0]);
            assert_eq!(g, array![0.0, 0.5, 1.0]);
        }
    }
}
