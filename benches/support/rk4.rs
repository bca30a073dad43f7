//! The RK4 integrator the loop and checkpoint benches and tests share:
//! `rk4!(name)` defines `#[grad(wrt(x))] pub fn name(x: &[f64], h: f64,
//! steps: usize) -> f64`, and `rk4!(#[checkpoint] name)` the same with the
//! attribute on its loop over the steps.
//!
//! y′ = f(y), f(u)_i = x_i·(u_{i−1} − u_i) (f(u)_0 = −x_0·u_0), from
//! y = e_0, `steps` RK4 steps of size `h`, its state and stages in local
//! `Vec`s; the output is the last compartment.

macro_rules! rk4 {
    ($(#[$attr:meta])* $name:ident) => {
        #[::autodiff::grad(wrt(x))]
        pub fn $name(x: &[f64], h: f64, steps: usize) -> f64 {
            let n = x.len();
            let mut y = vec![0.0; n];
            y[0] = 1.0;
            let mut k1 = vec![0.0; n];
            let mut k2 = vec![0.0; n];
            let mut k3 = vec![0.0; n];
            let mut k4 = vec![0.0; n];
            let mut tmp = vec![0.0; n];
            $(#[$attr])*
            for _ in 0..steps {
                k1[0] = -x[0] * y[0];
                for i in 1..n {
                    k1[i] = x[i] * (y[i - 1] - y[i]);
                }
                for i in 0..n {
                    tmp[i] = y[i] + 0.5 * h * k1[i];
                }
                k2[0] = -x[0] * tmp[0];
                for i in 1..n {
                    k2[i] = x[i] * (tmp[i - 1] - tmp[i]);
                }
                for i in 0..n {
                    tmp[i] = y[i] + 0.5 * h * k2[i];
                }
                k3[0] = -x[0] * tmp[0];
                for i in 1..n {
                    k3[i] = x[i] * (tmp[i - 1] - tmp[i]);
                }
                for i in 0..n {
                    tmp[i] = y[i] + h * k3[i];
                }
                k4[0] = -x[0] * tmp[0];
                for i in 1..n {
                    k4[i] = x[i] * (tmp[i - 1] - tmp[i]);
                }
                for i in 0..n {
                    y[i] += h * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]) / 6.0;
                }
            }
            y[n - 1]
        }
    };
}
