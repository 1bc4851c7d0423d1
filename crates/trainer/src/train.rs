//! `trainer train`: resolve the configuration, open the data, build the model, and hand
//! everything to burn-train's `SupervisedTraining`; then write the final model, the summary and
//! the skipped-file list. Also `--resume` from the last complete checkpoint of a run.
//!
//! [`run`] goes through stages that each hand the next a small value: [`set_up`](crate::setup::set_up) (the
//! configuration, the run directory and the data), [`build_model`], [`build_schedule`],
//! [`build_loaders`], [`launch`] (burn-train) and [`finish`](crate::summary::finish) (the model
//! file and the summary).

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alexnet::optim::SgdConfig;
use alexnet::{AlexNet, WeightsError};
use alexnet_data::loader::BatchLoader;
use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::{AdamWConfig, ModuleOptimizer};
use burn::tensor::Device;
use burn::train::checkpoint::{FileCheckpointer, KeepLastNCheckpoints};
use burn::train::metric::{AccuracyMetric, LearningRateMetric, LossMetric, TopKAccuracyMetric};
use burn::train::renderer::default_renderer;
use burn::train::{Interrupter, Learner, SupervisedTraining, TrainingError};

use crate::checkpoint::ModelCheckpointer;
use crate::cli::usage;
use crate::cli::{Opt, Scheduler, TrainArgs};
use crate::config::TrainConfig;
use crate::data::SharedDataset;
use crate::loader::EpochLoader;
use crate::logging;
use crate::metrics::EpochRow;
use crate::nan_guard::NanGuard;
use crate::parallel::Mode;
use crate::renderer::RunRenderer;
use crate::run_dir::last_complete_checkpoint;
use crate::schedule::{Plateau, Schedule, SharedFactor};
use crate::setup::{Loaders, Setup, set_up};
use crate::watchdog::Watchdog;

/// Checkpoints kept on disk (the newest complete set survives a kill while the next is written).
const KEEP_CHECKPOINTS: usize = 2;

/// How long DDP workers get to return after a stop before the process ends.
const DDP_STOP_GRACE: Duration = Duration::from_secs(120);

/// The environment variable that overrides [`DDP_STOP_GRACE`] (seconds).
const DDP_STOP_GRACE_ENV: &str = "ALEXNET_DDP_STOP_GRACE";

/// Runs `trainer train`.
pub fn run(args: &TrainArgs) -> Result<()> {
    let started = Instant::now();
    let setup = set_up(args)?;
    for (i, device) in setup.devices.distinct() {
        device.seed(setup.config.seed + i as u64);
    }
    let ad = setup.device.clone().autodiff();
    let model = build_model(&setup, &ad)?;
    let (schedule, plateau) = build_schedule(&setup);
    let loaders = build_loaders(&setup, &ad)?;
    let trained = launch(&setup, model, schedule, plateau, &loaders)?;
    crate::summary::finish(&setup, &trained, &loaders, started)
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

/// The optimiser `--opt` names: `sgd` is `torch.optim.SGD`'s (dampening 0, L2 weight decay).
fn build_optimizer(config: &TrainConfig) -> Result<ModuleOptimizer> {
    Ok(match config.optim.opt {
        Opt::Sgd => SgdConfig::new()
            .with_momentum(config.optim.momentum)
            .with_weight_decay(config.optim.wd)
            .init()?,
        Opt::Adamw => AdamWConfig::new()
            .with_weight_decay(config.optim.wd as f32)
            .init(),
    })
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

/// What training produced.
pub(crate) struct Trained {
    /// The final model.
    pub model: AlexNet,
    /// Every epoch's metrics row, earlier invocations' included.
    pub rows: Vec<EpochRow>,
    /// The training images the last epoch processed over every device (`None`: no epoch ran).
    pub epoch_images: Option<usize>,
}

/// Trains with burn-train; returns the final model and every epoch's metrics row, or the error
/// that stopped training (naming the last complete checkpoint).
fn launch(
    setup: &Setup,
    model: AlexNet,
    schedule: Schedule,
    plateau: Plateau,
    loaders: &Loaders,
) -> Result<Trained> {
    let (config, run_dir) = (&setup.config, &setup.run_dir);
    let interrupter = Interrupter::new();
    let nan = NanGuard::new(interrupter.clone());
    let tui = std::io::stdout().is_terminal();
    let rows = Arc::new(Mutex::new(setup.rows.clone()));
    let renderer = RunRenderer::new(
        tui.then(|| default_renderer(interrupter.clone(), setup.resume_from)),
        run_dir,
        Arc::clone(&rows),
        setup.first_epoch(),
        config.schedule.epochs,
    );
    let epoch_images = renderer.epoch_images();
    let training = SupervisedTraining::new(
        run_dir,
        Arc::new(loaders.train.clone()),
        Arc::new(loaders.val.clone()),
    )
    .metrics((AccuracyMetric::new(), LossMetric::new()))
    .metric_valid_numeric(TopKAccuracyMetric::new(5.min(setup.num_classes)))
    .metric_train_numeric(LearningRateMetric::new())
    .metric_train(nan.clone())
    .with_custom_checkpointers(
        ModelCheckpointer::new(run_dir, model.config.groups),
        FileCheckpointer::new(run_dir.join("checkpoint"), "optim"),
        FileCheckpointer::new(run_dir.join("checkpoint"), "scheduler"),
    )
    .with_checkpointing_strategy(KeepLastNCheckpoints::new(KEEP_CHECKPOINTS))
    .num_epochs(config.schedule.epochs)
    .renderer(Box::new(renderer))
    .with_application_logger(None)
    .with_interrupter(interrupter.clone());
    let training = with_run_options(training, setup, plateau);
    if tui {
        logging::redirect(Some(&run_dir.join("train.log")));
    }
    let optim = build_optimizer(config)?;
    let watchdog =
        (setup.devices.mode == Mode::Ddp).then(|| ddp_watchdog(setup, &interrupter, &nan, loaders));
    let result = training.launch(Learner::new(model, optim, schedule));
    if let Some(watchdog) = watchdog {
        watchdog.finish();
    }
    // Dropping the renderer closes Burn's TUI (it owns the terminal's alternate screen until
    // then), so the summary below lands on the normal screen.
    drop(result.renderer);
    logging::redirect(None);
    if let Some(err) = stop_error(setup, &nan, loaders, result.error) {
        return Err(err);
    }
    let rows = rows.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let epoch_images = match epoch_images.load(Ordering::Relaxed) {
        0 => None,
        n => Some(n),
    };
    Ok(Trained {
        model: result.model,
        rows,
        epoch_images,
    })
}

/// The plateau schedule, the checkpoint a resume starts from, and the devices' strategy.
fn with_run_options(
    mut training: SupervisedTraining<AlexNet>,
    setup: &Setup,
    plateau: Plateau,
) -> SupervisedTraining<AlexNet> {
    if setup.config.schedule.lr_scheduler == Scheduler::Plateau {
        training = training.early_stopping(plateau);
    }
    if let Some(epoch) = setup.resume_from {
        training = training.checkpoint(epoch);
    }
    if let Some(strategy) = setup.devices.strategy() {
        training = training.with_training_strategy(strategy.into());
    }
    training
}

/// Why training stopped before its last epoch, if it did: the NaN guard, the data, or burn-train.
fn stop_error(
    setup: &Setup,
    nan: &NanGuard,
    loaders: &Loaders,
    error: Option<Arc<TrainingError>>,
) -> Option<anyhow::Error> {
    let note = checkpoint_note(&setup.run_dir);
    if let Some(value) = nan.seen() {
        return Some(anyhow!(
            "training stopped: the training loss became {value}; {note} (lower --lr and --resume)"
        ));
    }
    if let Some(failure) = loaders.train.failure().or_else(|| loaders.val.failure()) {
        return Some(anyhow!("training stopped: {failure}; {note}"));
    }
    error.map(|error| anyhow!("training stopped: {error:?}; {note}"))
}

/// Which checkpoint a stopped run can resume from.
fn checkpoint_note(run_dir: &Path) -> String {
    last_complete_checkpoint(run_dir).map_or_else(
        || "no checkpoint was written".to_owned(),
        |e| format!("the last complete checkpoint is epoch {e}"),
    )
}

/// Ends the process when a DDP run asked to stop does not return (see [`Watchdog`]).
fn ddp_watchdog(
    setup: &Setup,
    interrupter: &Interrupter,
    nan: &NanGuard,
    loaders: &Loaders,
) -> Watchdog {
    let (nan, run_dir) = (nan.clone(), setup.run_dir.clone());
    let (train, val) = (loaders.train.clone(), loaders.val.clone());
    let grace = ddp_stop_grace();
    Watchdog::start(interrupter.clone(), grace, move || {
        let reason = match (nan.seen(), train.failure().or_else(|| val.failure())) {
            (Some(value), _) => format!("the training loss became {value}"),
            (None, Some(failure)) => failure.to_string(),
            (None, None) => "it was asked to stop".to_owned(),
        };
        logging::redirect(None);
        let err = anyhow!(
            "training stopped ({reason}), but a GPU worker still waited in an all-reduce for \
             one that stopped {} s later; exiting; {}",
            grace.as_secs(),
            checkpoint_note(&run_dir)
        );
        std::process::exit(crate::cli::report(&err));
    })
}

/// How long DDP workers get to return after a stop: `ALEXNET_DDP_STOP_GRACE` seconds, or
/// [`DDP_STOP_GRACE`].
fn ddp_stop_grace() -> Duration {
    std::env::var(DDP_STOP_GRACE_ENV)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .map_or(DDP_STOP_GRACE, Duration::from_secs)
}
