//! `trainer train`: resolve the configuration, open the data, build the model, and hand
//! everything to burn-train's `SupervisedTraining`; then write the final model, the summary and
//! the skipped-file list. Also `--resume` from the last complete checkpoint of a run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use alexnet::{AlexNet, WeightsError};
use alexnet_data::loader::BatchLoader;
use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, SgdConfig};
use burn::tensor::{Tensor, TensorReadError};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::metric::{
    AccuracyMetric, Adaptor, LearningRateMetric, LossMetric, Metric, MetricMetadata, MetricName,
    SerializedEntry, TopKAccuracyMetric,
};
use burn::train::renderer::default_renderer;
use burn::train::{ClassificationOutput, Interrupter, Learner, SupervisedTraining};
use serde::Serialize;

use crate::cli::{Opt, Scheduler, TrainArgs};
use crate::config::{TrainConfig, dataset_name, load_run_config};
use crate::loader::EpochLoader;
use crate::renderer::{EpochRow, RunRenderer, read_csv, write_csv};
use crate::schedule::{Plateau, Schedule, SharedFactor};
use crate::{data, logging, usage};

/// Checkpoints kept on disk (the newest complete set survives a kill while the next is written).
const KEEP_CHECKPOINTS: usize = 2;

/// `summary.json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Final validation top-1, a fraction in [0, 1].
    pub top1: f64,
    /// Final validation top-5 (top-k, k = min(5, classes)).
    pub top5: f64,
    /// Final validation loss.
    pub val_loss: f64,
    /// Final training loss.
    pub train_loss: f64,
    /// Epochs completed.
    pub epochs: usize,
    /// Distinct files that could not be decoded (and were skipped).
    pub skipped_files: usize,
    /// The final model.
    pub model: PathBuf,
    /// Wall time of this invocation (a resumed run counts from its restart).
    pub seconds: f64,
    /// Mean training throughput over the epochs of this invocation.
    pub images_per_sec: f64,
    /// Backend that trained it.
    pub device: String,
    /// Epoch the run resumed from (0: it did not).
    pub resumed_from: usize,
    /// The run directory.
    pub run_dir: PathBuf,
}

/// Runs `trainer train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let started = Instant::now();
    let (run_dir, saved) = prepare_run_dir(args)?;
    let mut config = TrainConfig::resolve(args, saved.clone())?;
    let device = crate::device(config.device.as_deref())?;
    let backend = crate::backend_name(&device);
    if let Some(saved) = &saved
        && saved.arch != config.arch
    {
        return Err(usage("--resume cannot change --arch of a run"));
    }

    let (train_set, val_set, classes) = data::open(&config)?;
    if let Some(saved) = &saved
        && !saved.classes.is_empty()
        && saved.classes != classes
    {
        return Err(usage(format!(
            "the dataset's classes differ from the ones {} was trained on",
            run_dir.display()
        )));
    }
    let num_classes = config.num_classes.unwrap_or(classes.len());
    if num_classes < classes.len() {
        return Err(usage(format!(
            "--num-classes {num_classes} is smaller than the dataset's {} classes",
            classes.len()
        )));
    }
    config.num_classes = Some(num_classes);
    config.classes = classes;
    std::fs::create_dir_all(&run_dir).map_err(|e| {
        usage(format!(
            "cannot create --output-dir {}: {e}",
            run_dir.display()
        ))
    })?;
    write_json_atomic(&run_dir.join("config.json"), &config)?;

    let resume_from = if args.resume {
        last_complete_checkpoint(&run_dir)
    } else {
        None
    };
    let rows = read_csv(&run_dir.join("metrics.csv"))
        .into_iter()
        .filter(|r| r.epoch <= resume_from.unwrap_or(0))
        .collect::<Vec<_>>();
    write_csv(&run_dir.join("metrics.csv"), &rows)
        .with_context(|| format!("cannot write {}", run_dir.join("metrics.csv").display()))?;
    let first_epoch = resume_from.unwrap_or(0) + 1;
    match resume_from {
        Some(epoch) if epoch >= config.epochs => {
            log::info!(
                "{} already finished its {} epochs; pass a larger --epochs to train on",
                run_dir.display(),
                config.epochs
            );
        }
        Some(epoch) => log::info!(
            "resuming {} from the checkpoint of epoch {epoch}; training epochs {first_epoch}..={}",
            run_dir.display(),
            config.epochs
        ),
        None if args.resume => log::warn!(
            "{} has no complete checkpoint; starting it from epoch 1",
            run_dir.display()
        ),
        None => {}
    }
    log::info!(
        "training {} AlexNet ({num_classes} classes, {} px) on {} ({} train / {} val images) with {backend}; run directory {}",
        config.arch.name(),
        config.image_size,
        dataset_name(config.dataset),
        train_set.len(),
        val_set.len(),
        run_dir.display()
    );

    // Model, optimiser, schedule.
    device.seed(config.seed);
    let ad = device.clone().autodiff();
    let model_config = config.model_config(num_classes);
    let mut model: AlexNet = model_config.init(&ad);
    let weights = match (&config.weights, config.pretrained) {
        (Some(file), _) => Some(file.clone()),
        (None, true) => Some(alexnet::AlexNetWeights::DEFAULT.path()?),
        (None, false) => None,
    };
    if let Some(weights) = &weights {
        model = match model.load_weights(weights) {
            Ok(model) => model,
            Err(WeightsError::ShapeMismatch { tensor, found, .. })
                if tensor.starts_with("fc8.") =>
            {
                let model = model_config
                    .init(&ad)
                    .load_backbone(weights)
                    .map_err(|e| usage(format!("--weights: {e}")))?;
                log::info!(
                    "loaded {} except its head ({tensor} {found:?}); fc8 starts fresh for {num_classes} classes",
                    weights.display()
                );
                model
            }
            Err(e) => return Err(usage(format!("--weights: {e}"))),
        };
    }
    if config.freeze_features {
        model.conv1 = model.conv1.no_grad();
        model.conv2 = model.conv2.no_grad();
        model.conv3 = model.conv3.no_grad();
        model.conv4 = model.conv4.no_grad();
        model.conv5 = model.conv5.no_grad();
        log::info!("conv1-conv5 frozen: training fc6-fc8 only");
    }
    let optim = match config.opt {
        Opt::Sgd => SgdConfig::new()
            .with_momentum((config.momentum > 0.0).then(|| {
                MomentumConfig::new()
                    .with_momentum(config.momentum)
                    .with_dampening(0.0)
            }))
            .with_weight_decay((config.wd > 0.0).then(|| WeightDecayConfig::new(config.wd as f32)))
            .init(),
        Opt::Adamw => AdamWConfig::new()
            .with_weight_decay(config.wd as f32)
            .init(),
    };
    let plateau_factor = SharedFactor::new();
    let mut plateau = Plateau::new(plateau_factor.clone(), config.plateau_patience);
    plateau.replay(rows.iter().map(|r| r.val_loss));
    let iters_per_epoch = train_set.len().div_ceil(config.batch_size);
    let schedule = Schedule {
        kind: config.lr_scheduler,
        lr: config.lr,
        iters_per_epoch,
        epochs: config.epochs,
        warmup_epochs: config.warmup_epochs,
        step_size: config.lr_step_size,
        gamma: config.lr_gamma,
        plateau: plateau_factor,
        step: 0,
    };

    // Data.
    let workers = match config.workers {
        Some(n) => Some(Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .context("cannot start the data worker threads")?,
        )),
        None => None,
    };
    let train_loader = EpochLoader::new(
        Arc::new(
            BatchLoader::new(train_set, config.train_augment(), config.seed)
                .with_max_consecutive_failures(config.max_consecutive_failures),
        ),
        ad.clone(),
        config.batch_size,
        true,
        config.seed,
        first_epoch,
        workers.clone(),
    );
    let val_loader = EpochLoader::new(
        Arc::new(
            BatchLoader::new(val_set, config.eval_augment(), config.seed)
                .with_max_consecutive_failures(config.max_consecutive_failures),
        ),
        device.clone(),
        config.batch_size,
        false,
        config.seed,
        first_epoch,
        workers,
    );

    // burn-train.
    let interrupter = Interrupter::new();
    let nan = NanGuard {
        stop: interrupter.clone(),
        seen: Arc::new(Mutex::new(None)),
    };
    let tui = std::io::stdout().is_terminal();
    let shared_rows = Arc::new(Mutex::new(rows));
    let renderer = RunRenderer::new(
        tui.then(|| default_renderer(interrupter.clone(), resume_from)),
        &run_dir,
        Arc::clone(&shared_rows),
        first_epoch,
        config.epochs,
    );
    let k = 5.min(num_classes);
    let mut training = SupervisedTraining::new(
        &run_dir,
        Arc::new(train_loader.clone()),
        Arc::new(val_loader.clone()),
    )
    .metrics((AccuracyMetric::new(), LossMetric::new()))
    .metric_valid_numeric(TopKAccuracyMetric::new(k))
    .metric_train_numeric(LearningRateMetric::new())
    .metric_train(nan.clone())
    .with_default_checkpointers()
    .with_checkpointing_strategy(KeepLastNCheckpoints::new(KEEP_CHECKPOINTS))
    .num_epochs(config.epochs)
    .renderer(Box::new(renderer))
    .with_application_logger(None)
    .with_interrupter(interrupter.clone());
    if config.lr_scheduler == Scheduler::Plateau {
        training = training.early_stopping(plateau);
    }
    if let Some(epoch) = resume_from {
        training = training.checkpoint(epoch);
    }
    if tui {
        logging::redirect(Some(&run_dir.join("train.log")));
    }
    let result = training.launch(Learner::new(model, optim, schedule));
    // Dropping the renderer closes Burn's TUI (it owns the terminal's alternate screen until
    // then), so the summary below lands on the normal screen.
    drop(result.renderer);
    logging::redirect(None);

    // Outcome.
    let rows = shared_rows
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let last_good = last_complete_checkpoint(&run_dir);
    let checkpoint_note = last_good.map_or_else(
        || "no checkpoint was written".to_owned(),
        |e| format!("the last complete checkpoint is epoch {e}"),
    );
    if let Some(value) = nan.seen.lock().ok().and_then(|v| *v) {
        return Err(anyhow!(
            "training stopped: the training loss became {value}; {checkpoint_note} (lower --lr and --resume)"
        ));
    }
    if let Some(failure) = train_loader.failure().or_else(|| val_loader.failure()) {
        return Err(anyhow!("training stopped: {failure}; {checkpoint_note}"));
    }
    if let Some(error) = result.error {
        return Err(anyhow!("training stopped: {error:?}; {checkpoint_note}"));
    }
    let model_path = run_dir.join("model.bpk");
    result
        .model
        .save_weights_with_classes(&model_path, &config.classes)
        .with_context(|| format!("cannot write the final model {}", model_path.display()))?;

    let mut skipped = train_loader.skipped();
    skipped.extend(val_loader.skipped());
    skipped.sort();
    skipped.dedup();
    if !skipped.is_empty() {
        let path = run_dir.join("skipped.txt");
        let text: String = skipped.iter().map(|s| format!("{s}\n")).collect();
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        log::warn!(
            "skipped {} unreadable files, see {}",
            skipped.len(),
            path.display()
        );
    }
    let last = rows.last().cloned().unwrap_or_default();
    let this_run: Vec<&EpochRow> = rows.iter().filter(|r| r.epoch >= first_epoch).collect();
    let summary = Summary {
        top1: last.val_top1,
        top5: last.val_top5,
        val_loss: last.val_loss,
        train_loss: last.train_loss,
        epochs: last.epoch,
        skipped_files: skipped.len(),
        model: model_path,
        seconds: started.elapsed().as_secs_f64(),
        images_per_sec: if this_run.is_empty() {
            0.0
        } else {
            this_run.iter().map(|r| r.images_per_sec).sum::<f64>() / this_run.len() as f64
        },
        device: backend,
        resumed_from: resume_from.unwrap_or(0),
        run_dir: run_dir.clone(),
    };
    write_json_atomic(&run_dir.join("summary.json"), &summary)?;
    println!(
        "done: {} epochs, val top-1 {:.2}%, top-5 {:.2}%, {} skipped files, {}",
        summary.epochs,
        summary.top1 * 100.0,
        summary.top5 * 100.0,
        summary.skipped_files,
        crate::renderer::format_duration(summary.seconds)
    );
    println!("model: {}", summary.model.display());
    println!("run directory: {}", run_dir.display());
    Ok(())
}

/// The run directory (created later, once everything is validated) and, for `--resume`, its
/// saved configuration.
fn prepare_run_dir(args: &TrainArgs) -> Result<(PathBuf, Option<TrainConfig>)> {
    if args.resume {
        let dir = match &args.output_dir {
            Some(dir) => dir.clone(),
            None => newest_run(Path::new("runs")).ok_or_else(|| {
                usage("--resume: no run in runs/ to resume; pass --output-dir DIR")
            })?,
        };
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(usage(format!(
                "--resume: {} is not a run directory (no config.json)",
                dir.display()
            )));
        }
        let saved = load_run_config(&config_path).map_err(|e| usage(format!("--resume: {e:#}")))?;
        return Ok((dir, Some(saved)));
    }
    let dir = match &args.output_dir {
        Some(dir) => dir.clone(),
        None => {
            let dataset = args.dataset.map_or("synthetic", dataset_name);
            let arch = args.arch.map_or("standard", |a| a.name());
            PathBuf::from("runs").join(format!("{dataset}-{arch}-{}", utc_stamp()))
        }
    };
    if dir.join("config.json").exists() {
        return Err(usage(format!(
            "{} already holds a run; pass --resume to continue it or choose another --output-dir",
            dir.display()
        )));
    }
    Ok((dir, None))
}

/// The run under `root` whose config.json is newest.
fn newest_run(root: &Path) -> Option<PathBuf> {
    std::fs::read_dir(root)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let config = e.path().join("config.json");
            let modified = config.metadata().ok()?.modified().ok()?;
            Some((modified, e.path()))
        })
        .max()
        .map(|(_, path)| path)
}

/// The newest epoch whose model, optimiser and scheduler checkpoints are all on disk (burn
/// writes each file to a temporary name and renames it, so a present file is complete).
pub fn last_complete_checkpoint(run_dir: &Path) -> Option<usize> {
    let dir = run_dir.join("checkpoint");
    let mut epochs: Vec<usize> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable_by(|a, b| b.cmp(a));
    epochs.into_iter().find(|epoch| {
        ["model", "optim", "scheduler"].iter().all(|kind| {
            dir.join(format!("{kind}-{epoch}.bpk"))
                .metadata()
                .is_ok_and(|m| m.len() > 0)
        })
    })
}

/// Writes JSON to a temporary file, syncs it and renames it over `path`.
pub fn write_json_atomic(path: &Path, value: &impl Serialize) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let text = serde_json::to_string_pretty(value)?;
    (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        std::io::Write::write_all(&mut file, b"\n")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })()
    .with_context(|| format!("cannot write {}", path.display()))
}

/// `20261127-213000` (UTC), for default run names.
fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The training loss of one step, for [`NanGuard`].
pub struct StepLoss(Tensor<1>);

impl Adaptor<StepLoss> for ClassificationOutput {
    fn adapt(&self) -> StepLoss {
        StepLoss(self.loss.clone())
    }
}

/// Stops training at the first non-finite training loss (the last complete checkpoint stays
/// the newest one: the interrupted epoch writes none).
#[derive(Clone)]
struct NanGuard {
    stop: Interrupter,
    seen: Arc<Mutex<Option<f64>>>,
}

impl Metric for NanGuard {
    type Input = StepLoss;

    fn name(&self) -> MetricName {
        Arc::new("Finite loss guard".to_owned())
    }

    fn update(
        &mut self,
        loss: &StepLoss,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let value: f64 = loss.0.clone().mean().try_into_scalar::<f64>()?;
        if !value.is_finite() {
            if let Ok(mut seen) = self.seen.lock()
                && seen.is_none()
            {
                *seen = Some(value);
            }
            self.stop.stop(Some("non-finite training loss"));
        }
        Ok(SerializedEntry::new(String::new(), String::new()))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(SerializedEntry::new(String::new(), String::new()))
    }

    fn clear(&mut self) {}
}
