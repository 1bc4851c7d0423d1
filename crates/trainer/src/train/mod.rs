//! The training pipeline behind `trainer train`: the run's setup and directory, its data and
//! loaders split over the devices, the learning-rate schedule, the guards that stop a broken
//! run, checkpoints, and the summary at the end.
//!
//! `trainer train`: resolve the configuration, open the data, build the model, and hand
//! everything to burn-train's `SupervisedTraining`; then write the final model, the summary and
//! the skipped-file list. Also `--resume` from the last complete checkpoint of a run.
//!
//! [`run`] goes through stages that each hand the next a small value: [`set_up`] (the
//! configuration, the run directory and the data), [`build_model`], [`write_run_dir`] (once
//! every check has passed), [`build_schedule`],
//! [`build_loaders`], [`launch`](fn@launch) (burn-train) and [`finish`] (the model file and the
//! summary).

mod accuracy;
mod checkpoint;
pub mod data;
mod epoch_work;
mod launch;
mod loader;
mod nan_guard;
mod parallel;
mod run_dir;
mod schedule;
mod setup;
mod shard;
mod summary;
mod watchdog;

use std::sync::Arc;
use std::time::Instant;

use alexnet::{AlexNet, WeightsError};
use alexnet_data::loader::BatchLoader;
use anyhow::{Context, Result};
use burn::module::Module;
use burn::tensor::Device;

use self::data::SharedDataset;
use self::launch::launch;
pub(crate) use self::launch::optimizer;
use self::loader::EpochLoader;
use self::schedule::{Plateau, Schedule, SharedFactor};
use self::setup::{Loaders, Setup, set_up, write_run_dir};
use self::summary::finish;
use crate::cli::{TrainArgs, usage};

/// Runs `trainer train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let started = Instant::now();
    let setup = set_up(args)?;
    for (i, device) in setup.devices.distinct() {
        device.seed(setup.config.seed + i as u64);
    }
    let ad = setup.device.clone().autodiff();
    let model = build_model(&setup, &ad)?;
    write_run_dir(&setup)?;
    let (schedule, plateau) = build_schedule(&setup);
    let loaders = build_loaders(&setup, &ad)?;
    let trained = launch(&setup, model, schedule, plateau, &loaders)?;
    finish(&setup, &trained, &loaders, started)
}

/// The model on the autodiff device `ad`: freshly initialised, then loaded from `--weights` or
/// `--pretrained` (all but a head of another class count), with conv1-conv5 frozen on request.
fn build_model(setup: &Setup, ad: &Device) -> Result<AlexNet> {
    let config = &setup.config;
    let model_config = config.model_config(setup.num_classes);
    let mut model: AlexNet = model_config
        .init(ad)
        .with_autocast(config.precision.autocast());
    let weights = match (&config.model.weights, config.model.pretrained) {
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
                    .init(ad)
                    .with_autocast(config.precision.autocast())
                    .load_backbone(weights)
                    .map_err(|e| usage(format!("--weights: {e}")))?;
                log::info!(
                    "loaded {} except its head ({tensor} {found:?}); fc8 starts fresh for {} classes",
                    weights.display(),
                    setup.num_classes
                );
                model
            }
            Err(e) => return Err(usage(format!("--weights: {e}"))),
        };
    }
    if config.model.freeze_features {
        model.conv1 = model.conv1.no_grad();
        model.conv2 = model.conv2.no_grad();
        model.conv3 = model.conv3.no_grad();
        model.conv4 = model.conv4.no_grad();
        model.conv5 = model.conv5.no_grad();
        log::info!("conv1-conv5 frozen: training fc6-fc8 only");
    }
    Ok(model)
}

/// The learning-rate schedule, and the plateau detector that drives it (replayed over the
/// validation losses of the epochs a resume keeps).
fn build_schedule(setup: &Setup) -> (Schedule, Plateau) {
    let config = &setup.config;
    let factor = SharedFactor::new();
    let plateau = Plateau::new(factor.clone(), config.schedule.plateau_patience);
    plateau.replay(setup.rows.iter().map(|r| r.val_loss));
    let schedule = Schedule {
        kind: config.schedule.lr_scheduler,
        lr: config.optim.lr,
        iters_per_epoch: setup
            .train_set
            .len()
            .div_ceil(config.data.batch_size * setup.devices.replicas()),
        epochs: config.schedule.epochs,
        warmup_epochs: config.schedule.warmup_epochs,
        step_size: config.schedule.lr_step_size,
        gamma: config.schedule.lr_gamma,
        plateau: factor,
        step: 0,
    };
    (schedule, plateau)
}

/// The shuffled training loader on `ad` and the validation loader on the plain device.
fn build_loaders(setup: &Setup, ad: &Device) -> Result<Loaders> {
    let config = &setup.config;
    let workers = match config.data.workers {
        Some(n) => Some(Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build()
                .context("cannot start the data worker threads")?,
        )),
        None => None,
    };
    let loader = |set: &SharedDataset, augment, device: &Device, shuffle| {
        let batches = BatchLoader::new(Arc::clone(set), augment, config.seed)
            .with_max_consecutive_failures(config.data.max_consecutive_failures);
        EpochLoader::new(
            Arc::new(batches),
            device.clone(),
            config.data.batch_size,
            shuffle,
            config.seed,
            setup.first_epoch(),
            workers.clone(),
        )
    };
    let devices = &setup.devices;
    Ok(Loaders {
        train: loader(&setup.train_set, config.train_augment(), ad, true)
            .with_replicas(devices.replicas(), devices.loss_scale()),
        val: loader(&setup.val_set, config.eval_augment(), &setup.device, false),
    })
}
