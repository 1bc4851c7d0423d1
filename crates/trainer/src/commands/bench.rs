//! `trainer bench`: images/s of inference and of a training step on synthetic input created once
//! on the device. The training step is the trainer's: forward, backward, and the update of
//! `--opt sgd` (lr 0.01, momentum 0.9, dampening 0, weight decay 5e-4, as `torch.optim.SGD` with
//! the paper's values) or `--opt adamw` (the default run's: lr 2e-3, weight decay 1e-4), with the
//! model handed to the optimiser and not held elsewhere. Warm-up iterations
//! first, then the median of timed iterations; every phase (forward, backward, update) ends with
//! a device sync before the clock is read, and each phase's median is reported too.

use std::time::{Duration, Instant};

use alexnet::{AlexNet, AlexNetConfig, ImageBatch};
use anyhow::{Context, Result};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Distribution, Int, Tensor};
use serde::Serialize;

use crate::cli::{BenchArgs, BenchMode, Opt};

/// One measured configuration (a row of the table, a line of `--json`).
#[derive(Debug, Serialize)]
pub struct BenchRow {
    /// Backend name (`flex`, `ndarray`, `wgpu`, ...).
    pub backend: String,
    /// Model variant.
    pub arch: String,
    /// `infer` or `train`.
    pub mode: &'static str,
    /// Width factor of every layer (1 is the variant's own widths).
    pub width: f64,
    /// Batch size.
    pub batch: usize,
    /// Input side in pixels.
    pub image_size: usize,
    /// Throughput from the median iteration.
    pub images_per_sec: f64,
    /// Median iteration time.
    pub median_ms: f64,
    /// Median time of the forward pass (with the loss, when training).
    pub forward_ms: f64,
    /// Median time of the backward pass (training only).
    pub backward_ms: Option<f64>,
    /// Median time of the optimiser's update (training only).
    pub step_ms: Option<f64>,
    /// The first warm-up iteration (kernel compilation and autotuning on GPU backends).
    pub first_step_ms: Option<f64>,
    /// Float precision (`fp32`, `bf16`, `f16`, `mixed`).
    pub precision: &'static str,
    /// The training step's optimiser (`sgd`, `adamw`; training only).
    pub opt: Option<&'static str>,
    /// Peak resident memory of the process so far (MiB), where the OS reports it.
    pub peak_rss_mb: Option<f64>,
}

/// Runs the benchmark described by `args` and prints it.
pub fn run(args: &BenchArgs) -> Result<()> {
    check(args)?;
    crate::device::configure_gpu(args.autotune_level.as_deref());
    let mut device = crate::device::select(args.device.as_deref())?;
    crate::device::set_precision(&mut device, args.precision)?;
    let modes: &[BenchMode] = match args.mode {
        BenchMode::Both => &[BenchMode::Infer, BenchMode::Train],
        ref m => std::slice::from_ref(m),
    };
    let mut rows = Vec::new();
    for mode in modes {
        let row = measure(args, &device, mode)?;
        if args.json {
            println!("{}", serde_json::to_string(&row)?);
        }
        rows.push(row);
    }
    if !args.json {
        print_table(&rows);
    }
    Ok(())
}

/// The arguments' ranges; a problem is a usage error.
fn check(args: &BenchArgs) -> Result<()> {
    if args.iters == 0 || args.batch_size == 0 || args.num_classes == 0 {
        return Err(crate::cli::usage(
            "--iters, --batch-size and --num-classes must be at least 1",
        ));
    }
    let min = args.arch.config().min_input_size();
    if args.image_size < min {
        return Err(crate::cli::usage(format!(
            "--image-size {} is below the {} minimum of {min}",
            args.image_size,
            args.arch.name()
        )));
    }
    if !(args.width > 0.0 && args.width <= 4.0) {
        return Err(crate::cli::usage(format!(
            "--width {} must be in (0, 4]",
            args.width
        )));
    }
    Ok(())
}

/// Times inference or a training step (`mode`) of the model `args` describe on `device`.
fn measure(args: &BenchArgs, device: &Device, mode: &BenchMode) -> Result<BenchRow> {
    let mut config = args.arch.config().with_num_classes(args.num_classes);
    if args.width != 1.0 {
        config = config.with_width(args.width);
    }
    let images = Tensor::<4>::random(
        [args.batch_size, 3, args.image_size, args.image_size],
        Distribution::Normal(0.0, 1.0),
        device,
    );
    let training = !matches!(mode, BenchMode::Infer);
    let (first, runs) = if training {
        train_runs(args, device, &config, images)?
    } else {
        infer_runs(args, device, &config, images)?
    };
    let phase =
        |f: fn(&Phases) -> Duration| median(runs.iter().map(f).collect()).as_secs_f64() * 1e3;
    let median = median(runs.iter().map(Phases::total).collect());
    Ok(BenchRow {
        backend: crate::device::backend_name(device).to_owned(),
        arch: args.arch.name().to_owned(),
        mode: if training { "train" } else { "infer" },
        width: args.width,
        batch: args.batch_size,
        image_size: args.image_size,
        images_per_sec: args.batch_size as f64 / median.as_secs_f64(),
        median_ms: median.as_secs_f64() * 1e3,
        forward_ms: phase(|p| p.forward),
        backward_ms: training.then(|| phase(|p| p.backward)),
        step_ms: training.then(|| phase(|p| p.step)),
        first_step_ms: first.map(|d| d.as_secs_f64() * 1e3),
        precision: args.precision.name(),
        opt: training.then_some(match args.opt {
            Opt::Sgd => "sgd",
            Opt::Adamw => "adamw",
        }),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// The first warm-up iteration's time and the timed iterations' phases.
type Runs = (Option<Duration>, Vec<Phases>);

/// Inference on `images` `[N, 3, H, W]`: the forward phase only.
fn infer_runs(
    args: &BenchArgs,
    device: &Device,
    config: &AlexNetConfig,
    images: Tensor<4>,
) -> Result<Runs> {
    let model: AlexNet = config.init(device).with_autocast(args.precision.autocast());
    time(args, || {
        let (logits, forward) = timed(device, || model.forward(images.clone()))?; // [N, classes]
        drop(logits);
        Ok(Phases {
            forward,
            ..Phases::default()
        })
    })
}

/// The trainer's `--opt sgd` step on `images` `[N, 3, H, W]` with labels `i % classes`: the
/// model goes to the optimiser by value, so nothing else holds its parameters.
fn train_runs(
    args: &BenchArgs,
    device: &Device,
    config: &AlexNetConfig,
    images: Tensor<4>,
) -> Result<Runs> {
    let ad = device.clone().autodiff();
    let labels: Vec<i64> = (0..args.batch_size)
        .map(|i| (i % args.num_classes) as i64)
        .collect();
    let batch = ImageBatch::new(
        images.to_device(&ad),
        Tensor::<1, Int>::from_data(labels.as_slice(), &ad),
    );
    let mut model: Option<AlexNet> =
        Some(config.init(&ad).with_autocast(args.precision.autocast()));
    let (lr, mut optim) = optimizer(args.opt)?;
    time(args, || {
        let current = model
            .take()
            .context("the model is handed back every step")?;
        let (out, forward) = timed(device, || current.forward_classification(batch.clone()))?;
        let (grads, backward) = timed(device, || {
            GradientsParams::from_grads(out.loss.backward(), &current)
        })?;
        drop(out);
        let (updated, step) = timed(device, || optim.step(lr, current, grads))?;
        model = Some(updated);
        Ok(Phases {
            forward,
            backward,
            step,
        })
    })
}

/// The learning rate and optimiser of `opt`, as the trainer builds them.
fn optimizer(opt: Opt) -> Result<(f64, ModuleOptimizer)> {
    Ok(match opt {
        Opt::Sgd => (0.01, crate::train::optimizer(opt, 0.9, 5e-4)?),
        Opt::Adamw => (2e-3, crate::train::optimizer(opt, 0.0, 1e-4)?),
    })
}

/// The rows as an aligned table.
fn print_table(rows: &[BenchRow]) {
    println!(
        "{:<8} {:<11} {:>5} {:<6} {:<5} {:>5} {:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "backend",
        "arch",
        "width",
        "mode",
        "prec",
        "batch",
        "size",
        "images/s",
        "median ms",
        "fwd ms",
        "bwd ms",
        "step ms",
        "first ms",
        "peak MiB"
    );
    let ms = |m: Option<f64>| m.map_or("-".into(), |m| format!("{m:.1}"));
    for r in rows {
        println!(
            "{:<8} {:<11} {:>5} {:<6} {:<5} {:>5} {:>5} {:>9.2} {:>9.1} {:>8.1} {:>8} {:>8} {:>8} {:>8}",
            r.backend,
            r.arch,
            r.width,
            r.mode,
            r.precision,
            r.batch,
            r.image_size,
            r.images_per_sec,
            r.median_ms,
            r.forward_ms,
            ms(r.backward_ms),
            ms(r.step_ms),
            r.first_step_ms.map_or("-".into(), |m| format!("{m:.0}")),
            r.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0}"))
        );
    }
}

/// The phases of one iteration.
#[derive(Debug, Clone, Copy, Default)]
struct Phases {
    forward: Duration,
    backward: Duration,
    step: Duration,
}

impl Phases {
    fn total(&self) -> Duration {
        self.forward + self.backward + self.step
    }
}

/// `f`'s value and its time, up to the device's sync after it.
fn timed<T>(device: &Device, f: impl FnOnce() -> T) -> Result<(T, Duration)> {
    let start = Instant::now();
    let value = f();
    device
        .sync()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("device sync failed")?;
    Ok((value, start.elapsed()))
}

/// Warm-up, then timed iterations. Returns the first warm-up iteration's time (when there is a
/// warm-up) and the timed iterations' phases.
fn time(args: &BenchArgs, mut iteration: impl FnMut() -> Result<Phases>) -> Result<Runs> {
    let mut first = None;
    for _ in 0..args.warmup {
        let phases = iteration()?;
        first.get_or_insert(phases.total());
    }
    let runs = (0..args.iters)
        .map(|_| iteration())
        .collect::<Result<_>>()?;
    Ok((first, runs))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Peak resident set size (`VmHWM` of `/proc/self/status`), Linux only.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
