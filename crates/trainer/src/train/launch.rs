//! The training itself: burn-train's `SupervisedTraining` with the run's metrics, checkpointer,
//! renderer, schedule and device strategy; then why it stopped, if it stopped early.

use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alexnet::optim::{AdamWConfig, SgdConfig};
use alexnet::{AlexNet, AlexNetConfig};
use anyhow::{Result, anyhow};
use burn::optim::ModuleOptimizer;
use burn::train::checkpoint::{FileCheckpointer, KeepLastNCheckpoints};
use burn::train::metric::{LearningRateMetric, LossMetric};
use burn::train::renderer::default_renderer;
use burn::train::{Interrupter, Learner, SupervisedTraining, TrainingError};

use super::accuracy::Accuracy;
use super::checkpoint::ModelCheckpointer;
use super::nan_guard::NanGuard;
use super::parallel::Mode;
use super::run_dir::last_complete_checkpoint;
use super::schedule::{Plateau, Schedule};
use super::setup::{Loaders, Setup};
use super::watchdog::{Watchdog, exit_hung};
use crate::cli::{Opt, Scheduler};
use crate::config::TrainConfig;
use crate::output::logging;
use crate::output::metrics::EpochRow;
use crate::output::renderer::RunRenderer;
use crate::output::terminal;

/// Checkpoints kept on disk (the newest complete set survives a kill while the next is written).
const KEEP_CHECKPOINTS: usize = 2;

/// How long DDP workers get to return after a stop before the process ends.
const DDP_STOP_GRACE: Duration = Duration::from_secs(120);

/// The environment variable that overrides [`DDP_STOP_GRACE`] (seconds).
const DDP_STOP_GRACE_ENV: &str = "ALEXNET_DDP_STOP_GRACE";

/// The optimiser `--opt` names: `sgd` is `torch.optim.SGD`'s (dampening 0, L2 weight decay),
/// `adamw` `torch.optim.AdamW`'s with Burn's epsilon (1e-5); both fused on flex.
fn build_optimizer(config: &TrainConfig) -> Result<ModuleOptimizer> {
    optimizer(config.optim.opt, config.optim.momentum, config.optim.wd)
}

/// `opt` with `momentum` (SGD only) and weight decay `wd` (L2 for SGD, decoupled for AdamW).
pub(crate) fn optimizer(opt: Opt, momentum: f64, wd: f64) -> Result<ModuleOptimizer> {
    Ok(match opt {
        Opt::Sgd => SgdConfig::new()
            .with_momentum(momentum)
            .with_weight_decay(wd)
            .init()?,
        Opt::Adamw => AdamWConfig::new().with_weight_decay(wd).init()?,
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
pub(crate) fn launch(
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
    let training = metrics_and_checkpoints(setup, &model.config, &nan, loaders)
        .num_epochs(config.schedule.epochs)
        .renderer(Box::new(renderer))
        .with_application_logger(None)
        .with_interrupter(interrupter.clone());
    let training = with_run_options(training, setup, plateau);
    if tui {
        logging::redirect(Some(&run_dir.join("train.log")));
    }
    let optim = build_optimizer(config)?;
    let watchdog = (setup.devices.mode == Mode::Ddp)
        .then(|| ddp_watchdog(setup, &interrupter, &nan, loaders, tui));
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

/// burn-train's training on the run's loaders, with its metrics (accuracy, loss, learning rate,
/// the NaN guard) and checkpointers (model with its metadata, optimiser, schedule).
fn metrics_and_checkpoints(
    setup: &Setup,
    model: &AlexNetConfig,
    nan: &NanGuard,
    loaders: &Loaders,
) -> SupervisedTraining<AlexNet> {
    let run_dir = &setup.run_dir;
    SupervisedTraining::new(
        run_dir,
        Arc::new(loaders.train.clone()),
        Arc::new(loaders.val.clone()),
    )
    .metrics((Accuracy::top1(), LossMetric::new()))
    .metric_valid_numeric(Accuracy::top_k(5.min(setup.num_classes)))
    .metric_train_numeric(LearningRateMetric::new())
    .metric_train(nan.clone())
    .with_custom_checkpointers(
        ModelCheckpointer::new(run_dir, model, &setup.config.classes),
        FileCheckpointer::new(run_dir.join("checkpoint"), "optim"),
        FileCheckpointer::new(run_dir.join("checkpoint"), "scheduler"),
    )
    .with_checkpointing_strategy(KeepLastNCheckpoints::new(KEEP_CHECKPOINTS))
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
        let run_dir = setup.run_dir.display();
        // A tenth of the learning rate, written as users type it (0.0002, not 0.00019999...).
        let lr: f64 = format!("{:.3e}", setup.config.optim.lr / 10.0)
            .parse()
            .unwrap_or(setup.config.optim.lr / 10.0);
        let from = match last_complete_checkpoint(&setup.run_dir) {
            Some(epoch) => format!("from epoch {}", epoch + 1),
            None => "from epoch 1".to_owned(),
        };
        return Some(anyhow!(
            "training stopped: the training loss became {value}; {note}; to go on {from} with a \
             lower learning rate: --resume --output-dir {run_dir} --lr {lr}"
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

/// Ends the process when a DDP run asked to stop does not return (see [`Watchdog`]), giving the
/// terminal back first when Burn's TUI (`tui`) holds it.
fn ddp_watchdog(
    setup: &Setup,
    interrupter: &Interrupter,
    nan: &NanGuard,
    loaders: &Loaders,
    tui: bool,
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
        let restore = || if tui { terminal::restore() } else { Ok(()) };
        exit_hung(&err, restore, |code| std::process::exit(code));
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
