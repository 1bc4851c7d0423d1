//! The first stage of a training run: the resolved configuration checked against the data and
//! a resumed run's, the run directory with its `config.json`, and `metrics.csv` trimmed to the
//! epochs a resume keeps.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::tensor::Device;

use super::data::{self, SharedDataset};
use super::loader::EpochLoader;
use super::parallel::{DeviceSet, Mode};
use super::run_dir::{last_complete_checkpoint, prepare_run_dir, write_json_atomic};
use crate::cli::{TrainArgs, usage};
use crate::config::{TrainConfig, dataset_name};
use crate::output::metrics::{EpochRow, read_csv, write_csv};

/// A run ready to train: its resolved configuration, directory, devices and data.
pub(crate) struct Setup {
    pub(crate) config: TrainConfig,
    pub(crate) run_dir: PathBuf,
    /// The main device (validation, checkpoints, the final model).
    pub(crate) device: Device,
    /// Every training device.
    pub(crate) devices: DeviceSet,
    pub(crate) backend: String,
    pub(crate) train_set: SharedDataset,
    pub(crate) val_set: SharedDataset,
    pub(crate) num_classes: usize,
    /// The checkpoint epoch a `--resume` continues from.
    pub(crate) resume_from: Option<usize>,
    /// `metrics.csv`'s rows up to that epoch.
    pub(crate) rows: Vec<EpochRow>,
}

impl Setup {
    /// The first epoch this invocation trains.
    pub(crate) fn first_epoch(&self) -> usize {
        self.resume_from.unwrap_or(0) + 1
    }
}

/// The two loaders of a run.
pub(crate) struct Loaders {
    pub(crate) train: EpochLoader,
    pub(crate) val: EpochLoader,
}

/// Resolves the configuration, checks it against the data and a resumed run's, and reads the
/// `metrics.csv` rows a resume keeps; writes nothing (see [`write_run_dir`]).
pub(crate) fn set_up(args: &TrainArgs) -> Result<Setup> {
    let (run_dir, saved) = prepare_run_dir(args)?;
    let mut config = TrainConfig::resolve(args, saved.clone())?;
    let devices = open_devices(&mut config)?;
    let device = devices.main().clone();
    let backend = crate::device::backend_name(&device).to_owned();
    let resume_from = args
        .resume
        .then(|| last_complete_checkpoint(&run_dir))
        .flatten();
    if let (Some(epoch), Some(saved)) = (resume_from, saved.as_ref()) {
        check_resume(saved, &config, &run_dir, epoch)?;
    }
    let (train_set, val_set, classes) = data::open(&config)?;
    if train_set.len() < devices.replicas() {
        return Err(usage(format!(
            "{} devices need at least as many training images; the dataset has {}",
            devices.replicas(),
            train_set.len()
        )));
    }
    if saved
        .as_ref()
        .is_some_and(|s| !s.classes.is_empty() && s.classes != classes)
    {
        return Err(usage(format!(
            "the dataset's classes differ from the ones {} was trained on",
            run_dir.display()
        )));
    }
    let num_classes = config.model.num_classes.unwrap_or(classes.len());
    if num_classes < classes.len() {
        return Err(usage(format!(
            "--num-classes {num_classes} is smaller than the dataset's {} classes",
            classes.len()
        )));
    }
    config.model.num_classes = Some(num_classes);
    config.classes = classes;
    let csv = run_dir.join("metrics.csv");
    let rows: Vec<EpochRow> = read_csv(&csv)
        .into_iter()
        .filter(|r| r.epoch <= resume_from.unwrap_or(0))
        .collect();
    let setup = Setup {
        config,
        run_dir,
        device,
        devices,
        backend,
        train_set,
        val_set,
        num_classes,
        resume_from,
        rows,
    };
    log_start(&setup, args.resume);
    Ok(setup)
}

/// Writes the run directory once every check has passed: `config.json`, and `metrics.csv`
/// trimmed to the epochs a resume keeps.
pub(crate) fn write_run_dir(setup: &Setup) -> Result<()> {
    let run_dir = &setup.run_dir;
    std::fs::create_dir_all(run_dir).map_err(|e| {
        usage(format!(
            "cannot create --output-dir {}: {e}",
            run_dir.display()
        ))
    })?;
    write_json_atomic(&run_dir.join("config.json"), &setup.config)?;
    let csv = run_dir.join("metrics.csv");
    write_csv(&csv, &setup.rows).with_context(|| format!("cannot write {}", csv.display()))
}

/// The run's devices, with the GPU runtime's settings and the precision applied; a device list
/// goes into `config` written out (`cuda:all` expanded), with the global batch.
fn open_devices(config: &mut TrainConfig) -> Result<DeviceSet> {
    crate::device::configure_gpu(config.autotune_level.as_deref());
    let devices = DeviceSet::resolve(config.device.as_deref(), &config.devices)?;
    for (_, mut device) in devices.distinct() {
        crate::device::set_precision(&mut device, config.precision)?;
    }
    if !config.devices.is_empty() {
        config.devices = devices.names.clone();
        config.global_batch_size = Some(config.data.batch_size * devices.replicas());
    }
    Ok(devices)
}

/// What a resume from the checkpoint of `epoch` cannot change: the number of devices (the
/// global batch, and with it the schedule's steps per epoch), and [`fixed_on_resume`]'s keys.
/// A run with no complete checkpoint has nothing to keep: it starts again with the new flags.
fn check_resume(
    saved: &TrainConfig,
    config: &TrainConfig,
    run_dir: &Path,
    epoch: usize,
) -> Result<()> {
    let replicas = |c: &TrainConfig| c.devices.len().max(1);
    if replicas(saved) != replicas(config) {
        return Err(usage(format!(
            "--resume cannot change the number of devices ({} to {}): the global batch and the \
             schedule depend on it",
            replicas(saved),
            replicas(config)
        )));
    }
    let (old, new) = (serde_json::to_value(saved)?, serde_json::to_value(config)?);
    let changed: Vec<String> = fixed_on_resume(saved)
        .into_iter()
        .filter(|key| old[key] != new[key])
        .map(|key| {
            let flag = key.replace('_', "-");
            format!("--{flag} {} to {}", plain(&old[key]), plain(&new[key]))
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let model = run_dir.join("model.bpk");
    let model = if model.is_file() {
        model
    } else {
        run_dir.join(format!("checkpoint/model-{epoch}.bpk"))
    };
    Err(usage(format!(
        "--resume cannot change what the run's checkpoints and schedule mean ({}); start a new \
         run in another --output-dir (--weights {} starts it from this one's model)",
        changed.join(", "),
        model.display()
    )))
}

/// The `config.json` keys a resume keeps: the data that sets the steps per epoch (and on the
/// synthetic set, the seed and validation size that draw its images), the parameters' shapes,
/// the optimiser whose state the checkpoint holds, and the schedule's shape. The peak learning
/// rate and the epochs may change: the schedule is recomputed with them and continues from the
/// checkpoint's step.
fn fixed_on_resume(saved: &TrainConfig) -> Vec<&'static str> {
    let mut keys = vec![
        "dataset",
        "imagenette_noise",
        "synthetic_train",
        "synthetic_draw",
        "batch_size",
        "arch",
        "image_size",
        "num_classes",
        "width",
        "freeze_features",
        "opt",
        "momentum",
        "wd",
        "lr_scheduler",
        "lr_step_size",
        "lr_gamma",
        "warmup_epochs",
        "plateau_patience",
    ];
    if saved.data.dataset == crate::cli::DatasetKind::Synthetic {
        keys.extend(["seed", "synthetic_val"]);
    }
    keys
}

/// A configuration value as a user types it (strings without quotes).
fn plain(value: &serde_json::Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

/// Says what the run is about to do.
fn log_start(setup: &Setup, resume: bool) {
    let (config, run_dir) = (&setup.config, setup.run_dir.display());
    match setup.resume_from {
        Some(epoch) if epoch >= config.schedule.epochs => log::info!(
            "{run_dir} already finished its {} epochs; to train on, resume it with a larger \
             --epochs (--resume --output-dir {run_dir} --epochs {})",
            config.schedule.epochs,
            epoch + config.schedule.epochs.max(1)
        ),
        Some(epoch) => log::info!(
            "resuming {run_dir} from the checkpoint of epoch {epoch}; training epochs {}..={}",
            setup.first_epoch(),
            config.schedule.epochs
        ),
        None if resume => {
            log::warn!("{run_dir} has no complete checkpoint; starting it from epoch 1")
        }
        None => {}
    }
    log::info!(
        "training {} AlexNet ({} classes, {} px) on {} ({} train / {} val images) with {}; run directory {run_dir}",
        config.model.arch.name(),
        setup.num_classes,
        config.model.image_size,
        dataset_name(config.data.dataset),
        setup.train_set.len(),
        setup.val_set.len(),
        devices_text(setup),
    );
}

/// The device, or the device list and how it trains (with the global batch).
fn devices_text(setup: &Setup) -> String {
    let set = &setup.devices;
    let how = match set.mode {
        Mode::Single => return setup.backend.clone(),
        Mode::Ddp => "DDP",
        Mode::MultiDevice => "replicas",
    };
    format!(
        "{} ({how}, {} images per step)",
        set.names.join(","),
        setup.config.data.batch_size * set.replicas()
    )
}
