//! `trainer bench`: images/s of inference and of a training step (forward, backward, SGD
//! update) on synthetic input created once on the device. Warm-up iterations first, then the
//! median of timed iterations, each ending with a device sync before the clock is read.

use std::time::{Duration, Instant};

use alexnet::{AlexNet, ImageBatch};
use anyhow::{Context, Result};
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::tensor::{Device, Distribution, Int, Tensor};
use serde::Serialize;

use crate::cli::{BenchArgs, BenchMode};

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
    /// The first warm-up iteration (kernel compilation and autotuning on GPU backends).
    pub first_step_ms: Option<f64>,
    /// Float precision of every tensor (`fp32`, `bf16`, `f16`).
    pub precision: &'static str,
    /// Peak resident memory of the process so far (MiB), where the OS reports it.
    pub peak_rss_mb: Option<f64>,
}

/// Runs the benchmark described by `args` and prints it.
pub fn run(args: &BenchArgs) -> Result<()> {
    check(args)?;
    let mut device = crate::device(args.device.as_deref())?;
    crate::set_precision(&mut device, args.precision)?;
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
        return Err(crate::usage(
            "--iters, --batch-size and --num-classes must be at least 1",
        ));
    }
    let min = args.arch.config().min_input_size();
    if args.image_size < min {
        return Err(crate::usage(format!(
            "--image-size {} is below the {} minimum of {min}",
            args.image_size,
            args.arch.name()
        )));
    }
    if !(args.width > 0.0 && args.width <= 4.0) {
        return Err(crate::usage(format!(
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
    let targets = Tensor::<1, Int>::from_data(
        (0..args.batch_size)
            .map(|i| (i % args.num_classes) as i64)
            .collect::<Vec<_>>()
            .as_slice(),
        device,
    );
    let (first, times) = match mode {
        BenchMode::Infer => {
            let model: AlexNet = config.init(device);
            time(args, device, || {
                let logits = model.forward(images.clone()); // [N, classes]
                drop(logits.into_data());
            })?
        }
        _ => {
            let ad = device.clone().autodiff();
            let mut model: AlexNet = config.init(&ad);
            let mut optim = SgdConfig::new()
                .with_momentum(Some(MomentumConfig::new().with_momentum(0.9)))
                .init();
            let batch = ImageBatch {
                images: images.clone().to_device(&ad),
                targets: targets.clone().to_device(&ad),
            };
            time(args, device, || {
                let out = model.forward_classification(batch.clone());
                let grads = GradientsParams::from_grads(out.loss.backward(), &model);
                model = optim.step(0.01, model.clone(), grads);
            })?
        }
    };
    let median = median(times);
    Ok(BenchRow {
        backend: crate::backend_name(device).to_owned(),
        arch: args.arch.name().to_owned(),
        mode: if matches!(mode, BenchMode::Infer) {
            "infer"
        } else {
            "train"
        },
        width: args.width,
        batch: args.batch_size,
        image_size: args.image_size,
        images_per_sec: args.batch_size as f64 / median.as_secs_f64(),
        median_ms: median.as_secs_f64() * 1e3,
        first_step_ms: first.map(|d| d.as_secs_f64() * 1e3),
        precision: args.precision.name(),
        peak_rss_mb: peak_rss_mb(),
    })
}

/// The rows as an aligned table.
fn print_table(rows: &[BenchRow]) {
    println!(
        "{:<8} {:<11} {:>5} {:<6} {:<5} {:>5} {:>5} {:>10} {:>10} {:>9} {:>9}",
        "backend",
        "arch",
        "width",
        "mode",
        "prec",
        "batch",
        "size",
        "images/s",
        "median ms",
        "first ms",
        "peak MiB"
    );
    for r in rows {
        println!(
            "{:<8} {:<11} {:>5} {:<6} {:<5} {:>5} {:>5} {:>10.2} {:>10.1} {:>9} {:>9}",
            r.backend,
            r.arch,
            r.width,
            r.mode,
            r.precision,
            r.batch,
            r.image_size,
            r.images_per_sec,
            r.median_ms,
            r.first_step_ms.map_or("-".into(), |m| format!("{m:.0}")),
            r.peak_rss_mb.map_or("-".into(), |m| format!("{m:.0}"))
        );
    }
}

/// Warm-up, then timed iterations; each ends with a device sync. Returns the first warm-up
/// iteration's time (when there is a warm-up) and the timed iterations.
fn time(
    args: &BenchArgs,
    device: &Device,
    mut step: impl FnMut(),
) -> Result<(Option<Duration>, Vec<Duration>)> {
    let sync = || {
        device
            .sync()
            .map_err(|e| anyhow::anyhow!("{e:?}"))
            .context("device sync failed")
    };
    let mut first = None;
    for _ in 0..args.warmup {
        let start = Instant::now();
        step();
        sync()?;
        first.get_or_insert(start.elapsed());
    }
    let mut times = Vec::with_capacity(args.iters);
    for _ in 0..args.iters {
        let start = Instant::now();
        step();
        sync()?;
        times.push(start.elapsed());
    }
    Ok((first, times))
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
