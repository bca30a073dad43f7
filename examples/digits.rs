//! The seed's network, trained on real handwritten digits with the gradient
//! that `#[grad]` writes:
//!
//! ```text
//! L = ½‖Y − (W2 σ(W1 X + b1) + b2)‖²
//! ```
//!
//! X holds one 8×8 image per column (64 pixels scaled to [0, 1]), Y the
//! one-hot labels (10 rows), W1 is `HIDDEN × 64`, W2 is `10 × HIDDEN`, the
//! biases b1 and b2 are columns added to every sample, σ the logistic
//! sigmoid. The parameters are one struct, `Mlp`, with `#[derive(Params)]`:
//! `loss_grad` returns its gradient as an `Mlp`, and an SGD step is
//! `p.axpy(-step, &g)`. The 1 797 images are the UCI digits bundled with
//! smartcore; 20 % are held out for testing. Minibatch SGD on `loss_grad`,
//! seeds fixed, so the printed accuracy is reproducible.
//!
//! ```text
//! cargo run --release --example digits
//! ```
//!
//! Prints a gradient check against central finite differences, a progress
//! bar over the epochs with the training loss, the test accuracy and the time,
//! and writes the loss curve to `target/digits-loss.png`.

use std::path::PathBuf;
use std::time::Instant;

use autodiff::{Params, grad, matmul, norm_sq, sigmoid};
use indicatif::{ProgressBar, ProgressStyle};
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;

/// The network's parameters; the biases are columns, broadcast over the
/// samples of a batch.
#[derive(Params, Clone)]
struct Mlp {
    w1: Array2<f64>,
    b1: Array2<f64>,
    w2: Array2<f64>,
    b2: Array2<f64>,
}

impl Mlp {
    /// Glorot-uniform weights, zero biases.
    fn new(rng: &mut XorShiftRng) -> Mlp {
        Mlp {
            w1: glorot(HIDDEN, 64, rng),
            b1: Array2::zeros((HIDDEN, 1)),
            w2: glorot(10, HIDDEN, rng),
            b2: Array2::zeros((10, 1)),
        }
    }

    /// The outputs for the samples in the columns of `x`.
    fn predict(&self, x: &Array2<f64>) -> Array2<f64> {
        matmul(&self.w2, &sigmoid(matmul(&self.w1, x) + &self.b1)) + &self.b2
    }
}

/// Squared loss of the one-hidden-layer network on the batch `x` (one sample
/// per column) with one-hot targets `y`, summed over the batch.
#[grad(wrt(p))]
fn loss(p: &Mlp, x: &Array2<f64>, y: &Array2<f64>) -> f64 {
    let h = sigmoid(matmul(&p.w1, x) + &p.b1);
    0.5 * norm_sq(&(y - &(matmul(&p.w2, &h) + &p.b2)))
}

const HIDDEN: usize = 32;
const EPOCHS: usize = 100;
const BATCH: usize = 16;
/// Step size per sample: each step moves by `LEARNING_RATE / BATCH` times the
/// batch's summed gradient.
const LEARNING_RATE: f64 = 0.2;
const SEED: u64 = 2024;
const TEST_FRACTION: f64 = 0.2;

/// The digits as columns: pixels `64 × n` in [0, 1], one-hot targets
/// `10 × n`, and the labels.
struct Digits {
    x: Array2<f64>,
    y: Array2<f64>,
    labels: Vec<usize>,
}

impl Digits {
    fn columns(&self, idx: &[usize]) -> Self {
        Self {
            x: self.x.select(Axis(1), idx),
            y: self.y.select(Axis(1), idx),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Loads smartcore's copy of the UCI digits: 1 797 rows of 64 pixels in
/// 0..=16, row-major, and a label 0..=9 per row.
fn load_digits() -> Digits {
    let data = smartcore::dataset::digits::load_dataset();
    let (n, d) = (data.num_samples, data.num_features);
    assert_eq!((n, d), (1797, 64), "unexpected shape of the digits data");
    let rows = Array2::from_shape_vec((n, d), data.data).expect("n × d pixels");
    let x = rows.t().mapv(|p| f64::from(p) / 16.0);
    let labels: Vec<usize> = data
        .target
        .iter()
        .map(|&t| {
            assert!((0.0..=9.0).contains(&t) && t.fract() == 0.0, "label {t}");
            t as usize
        })
        .collect();
    let mut y = Array2::zeros((10, n));
    for (j, &label) in labels.iter().enumerate() {
        y[[label, j]] = 1.0;
    }
    Digits { x, y, labels }
}

/// Uniform Glorot initialisation: U(−a, a), a = √(6 / (fan_in + fan_out)).
fn glorot(rows: usize, cols: usize, rng: &mut XorShiftRng) -> Array2<f64> {
    let a = (6.0 / (rows + cols) as f64).sqrt();
    Array2::from_shape_simple_fn((rows, cols), || rng.random_range(-a..a))
}

/// Fraction of the columns of `data` whose largest output is the label.
fn accuracy(p: &Mlp, data: &Digits) -> f64 {
    let out = p.predict(&data.x);
    let correct = out
        .axis_iter(Axis(1))
        .zip(&data.labels)
        .filter(|(col, label)| {
            let best = col
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i);
            best == Some(**label)
        })
        .count();
    correct as f64 / data.len() as f64
}

/// Compares `loss_grad` with central finite differences on a few samples and
/// returns the worst relative error over every parameter.
fn gradient_check(p: &Mlp, data: &Digits) -> f64 {
    let tiny = data.columns(&[0, 1, 2, 3]);
    let (_, g) = loss_grad(p, &tiny.x, &tiny.y);
    let report = autodiff::check(|p: &Mlp| loss(p, &tiny.x, &tiny.y), p.clone(), g);
    // Central differences of a loss of size ~1 are good to ~1e-10 absolute,
    // i.e. ~1e-6 relative on the smallest gradient elements (~1e-4).
    report.assert_close(1e-5);
    report.max_rel_error()
}

/// Mean per-sample loss on `data`.
fn mean_loss(p: &Mlp, data: &Digits) -> f64 {
    loss(p, &data.x, &data.y) / data.len() as f64
}

fn plot(path: &PathBuf, train: &[f64], test: &[f64]) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;

    // plotters draws text with ab_glyph from a font it is given, not from the
    // system's fonts.
    plotters::style::register_font(
        "sans-serif",
        FontStyle::Normal,
        epaint_default_fonts::UBUNTU_LIGHT,
    )
    .map_err(|_| "the bundled font does not load")?;

    let root = BitMapBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = train.iter().chain(test).copied().fold(0.0, f64::max) * 1.05;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("loss ½|Y − W2 σ(W1 X)|² per image, network 64-{HIDDEN}-10"),
            ("sans-serif", 24),
        )
        .margin(16)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..train.len() as f64, 0.0..top)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc("loss")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .label_style(("sans-serif", 16))
        .axis_desc_style(("sans-serif", 18))
        .draw()?;
    let points = |v: &[f64]| -> Vec<(f64, f64)> {
        v.iter()
            .enumerate()
            .map(|(i, &l)| ((i + 1) as f64, l))
            .collect()
    };
    chart
        .draw_series(LineSeries::new(points(train), BLUE.stroke_width(2)))?
        .label("training set (mean over the epoch's batches)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(points(test), RED.stroke_width(2)))?
        .label("held-out test set (after the epoch)")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 16))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let mut rng = XorShiftRng::seed_from_u64(SEED);

    let digits = load_digits();
    let mut order: Vec<usize> = (0..digits.len()).collect();
    order.shuffle(&mut rng);
    let n_test = (digits.len() as f64 * TEST_FRACTION).round() as usize;
    let (test_idx, train_idx) = order.split_at(n_test);
    let test = digits.columns(test_idx);
    let train = digits.columns(train_idx);
    println!(
        "digits: {} images of 8×8 pixels, {} for training, {} held out",
        digits.len(),
        train.len(),
        test.len()
    );

    let mut p = Mlp::new(&mut rng);
    println!(
        "network: 64 → {HIDDEN} (sigmoid) → 10, {} parameters (weights and biases); \
         minibatch SGD, batch {BATCH}, learning rate {LEARNING_RATE}, {EPOCHS} epochs",
        p.num_elements()
    );

    let worst = gradient_check(&p, &train);
    println!(
        "gradient check on 4 samples, all {} parameters: loss_grad against central \
         differences, worst relative error {worst:.1e}",
        p.num_elements()
    );

    let bar = ProgressBar::new(EPOCHS as u64);
    bar.set_style(ProgressStyle::with_template(
        "epoch {pos:>3}/{len} [{bar:30}] {msg}",
    )?);
    let mut train_curve = Vec::with_capacity(EPOCHS);
    let mut test_curve = Vec::with_capacity(EPOCHS);
    let mut idx: Vec<usize> = (0..train.len()).collect();
    let step = LEARNING_RATE / BATCH as f64;
    let train_start = Instant::now();
    for epoch in 1..=EPOCHS {
        idx.shuffle(&mut rng);
        let mut total = 0.0;
        for batch in idx.chunks(BATCH) {
            let xb = train.x.select(Axis(1), batch);
            let yb = train.y.select(Axis(1), batch);
            let (l, g) = loss_grad(&p, &xb, &yb);
            p.axpy(-step, &g);
            total += l;
        }
        let train_loss = total / train.len() as f64;
        let test_loss = mean_loss(&p, &test);
        train_curve.push(train_loss);
        test_curve.push(test_loss);
        bar.set_message(format!("loss {train_loss:.4} (test {test_loss:.4})"));
        bar.inc(1);
        if epoch % 20 == 0 || epoch == 1 {
            // Shown also where the bar is not (output to a file or a pipe).
            bar.suspend(|| {
                println!(
                    "epoch {epoch:>3}: training loss {train_loss:.4}, test loss {test_loss:.4}, \
                     test accuracy {:.1} %",
                    100.0 * accuracy(&p, &test)
                );
            });
        }
    }
    bar.finish_and_clear();
    let train_time = train_start.elapsed();

    let acc = accuracy(&p, &test);
    println!(
        "test accuracy {:.1} % ({} of {} held-out images); training accuracy {:.1} %",
        100.0 * acc,
        (acc * test.len() as f64).round(),
        test.len(),
        100.0 * accuracy(&p, &train)
    );

    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/digits-loss.png");
    std::fs::create_dir_all(path.parent().expect("a parent"))?;
    plot(&path, &train_curve, &test_curve)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let shown = path.strip_prefix(&cwd).unwrap_or(&path);
    println!("loss curve: {}", shown.display());
    println!(
        "time: training {:.2} s ({EPOCHS} epochs), total {:.2} s",
        train_time.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
