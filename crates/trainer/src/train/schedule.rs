//! Learning-rate schedules as one burn `LrScheduler` (stepped once per optimiser step):
//! optional linear warm-up from lr/10, then constant, step, cosine, or the paper's
//! divide-by-10-on-plateau. Burn has no plateau scheduler: [`Plateau`] watches the validation
//! loss after each epoch (as an early-stopping strategy that never stops) and lowers a factor
//! the scheduler shares.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::train::EarlyStoppingStrategy;
use burn::train::metric::store::{Aggregate, EventStoreClient, Split};

use crate::cli::Scheduler;

/// A factor shared between the scheduler and the plateau controller.
#[derive(Debug, Clone)]
pub struct SharedFactor(Arc<AtomicU64>);

impl SharedFactor {
    /// A factor of 1.
    pub fn new() -> Self {
        Self(Arc::new(AtomicU64::new(1f64.to_bits())))
    }

    /// The current factor.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::SeqCst))
    }

    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::SeqCst);
    }
}

/// The whole schedule, in optimiser steps.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// Which schedule.
    pub kind: Scheduler,
    /// Initial (peak) learning rate.
    pub lr: f64,
    /// Optimiser steps per epoch.
    pub iters_per_epoch: usize,
    /// Epochs in the run.
    pub epochs: usize,
    /// Warm-up epochs.
    pub warmup_epochs: usize,
    /// `step`: epochs per step.
    pub step_size: usize,
    /// `step`: factor per step.
    pub gamma: f64,
    /// `plateau`: the factor the controller lowers.
    pub plateau: SharedFactor,
    /// Steps taken so far.
    pub step: usize,
}

impl Schedule {
    /// The learning rate of optimiser step `i` (0-based).
    pub fn lr_at(&self, i: usize) -> f64 {
        let ipe = self.iters_per_epoch.max(1) as f64;
        let warmup = self.warmup_epochs as f64 * ipe;
        let t = i as f64;
        let base = match self.kind {
            Scheduler::Constant => self.lr,
            Scheduler::Step => {
                let steps = (t / ipe).floor() as i32 / self.step_size.max(1) as i32;
                self.lr * self.gamma.powi(steps)
            }
            Scheduler::Cosine => {
                let span = (self.epochs as f64 * ipe - warmup).max(1.0);
                let progress = ((t - warmup) / span).clamp(0.0, 1.0);
                self.lr * 0.5 * (1.0 + (std::f64::consts::PI * progress).cos())
            }
            Scheduler::Plateau => self.lr * self.plateau.get(),
        };
        if t < warmup {
            base * (0.1 + 0.9 * t / warmup)
        } else {
            base
        }
    }
}

impl LrScheduler for Schedule {
    fn step(&mut self) -> f64 {
        let lr = self.lr_at(self.step);
        self.step += 1;
        lr
    }

    fn to_record(&self) -> LrSchedulerRecord {
        LrSchedulerRecord::new()
            .with_scalar("step", self.step as u64)
            .with_scalar("plateau_factor", self.plateau.get())
    }

    fn load_record(&mut self, record: LrSchedulerRecord) {
        if let Some(step) = record.scalar::<u64>("step") {
            self.step = step as usize;
        }
        if let Some(factor) = record.scalar::<f64>("plateau_factor") {
            self.plateau.set(factor);
        }
    }
}

/// The paper's rule: divide the learning rate by 10 when the validation loss has not improved
/// for more than `patience` epochs (PyTorch's `ReduceLROnPlateau(factor=0.1)` semantics).
///
/// Clones share their state: burn-train's DDP gives every device's worker a clone, and each asks
/// about the same epoch; only the first question of an epoch counts.
#[derive(Debug, Clone)]
pub struct Plateau {
    factor: SharedFactor,
    patience: usize,
    state: Arc<Mutex<PlateauState>>,
}

/// What [`Plateau`] remembers between epochs.
#[derive(Debug)]
struct PlateauState {
    best: f64,
    bad_epochs: usize,
    /// The last epoch observed through [`Plateau::observe_epoch`].
    last_epoch: usize,
}

impl Plateau {
    /// A controller writing into `factor`.
    pub fn new(factor: SharedFactor, patience: usize) -> Self {
        Self {
            factor,
            patience,
            state: Arc::new(Mutex::new(PlateauState {
                best: f64::INFINITY,
                bad_epochs: 0,
                last_epoch: 0,
            })),
        }
    }

    /// Takes the validation loss of `epoch` once (later calls for that epoch or an earlier one
    /// are ignored); returns the new factor when it dropped.
    pub fn observe_epoch(&self, epoch: usize, val_loss: f64) -> Option<f64> {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            if epoch <= state.last_epoch {
                return None;
            }
            state.last_epoch = epoch;
        }
        self.observe(val_loss)
    }

    /// Takes the validation loss of an epoch; returns the new factor when it dropped.
    pub fn observe(&self, val_loss: f64) -> Option<f64> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if val_loss < state.best {
            state.best = val_loss;
            state.bad_epochs = 0;
            return None;
        }
        state.bad_epochs += 1;
        if state.bad_epochs > self.patience {
            state.bad_epochs = 0;
            let factor = self.factor.get() / 10.0;
            self.factor.set(factor);
            return Some(factor);
        }
        None
    }

    /// Rebuilds the state of a resumed run from its earlier validation losses.
    pub fn replay(&self, losses: impl IntoIterator<Item = f64>) {
        self.factor.set(1.0);
        for loss in losses {
            self.observe(loss);
        }
    }
}

impl EarlyStoppingStrategy for Plateau {
    fn should_stop(&mut self, epoch: usize, store: &EventStoreClient) -> bool {
        if let Some(loss) = store.find_metric("Loss", epoch, Aggregate::Mean, &Split::Valid)
            && let Some(factor) = self.observe_epoch(epoch, loss)
        {
            log::info!(
                "validation loss has not improved for {} epochs: learning rate x{factor:e}",
                self.patience + 1
            );
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(kind: Scheduler, warmup_epochs: usize) -> Schedule {
        Schedule {
            kind,
            lr: 0.1,
            iters_per_epoch: 10,
            epochs: 10,
            warmup_epochs,
            step_size: 3,
            gamma: 0.1,
            plateau: SharedFactor::new(),
            step: 0,
        }
    }

    #[test]
    fn step_cosine_and_warmup_shapes() {
        let s = schedule(Scheduler::Step, 0);
        assert!((s.lr_at(29) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(30) - 0.01).abs() < 1e-12);
        assert!((s.lr_at(60) - 0.001).abs() < 1e-12);
        let c = schedule(Scheduler::Cosine, 0);
        assert!((c.lr_at(0) - 0.1).abs() < 1e-12);
        assert!((c.lr_at(50) - 0.05).abs() < 1e-9);
        assert!(c.lr_at(100) < 1e-12);
        let w = schedule(Scheduler::Constant, 2);
        assert!((w.lr_at(0) - 0.01).abs() < 1e-12);
        assert!(w.lr_at(10) > w.lr_at(5) && w.lr_at(19) < 0.1);
        assert!((w.lr_at(20) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn plateau_divides_by_ten_after_patience_and_replays() {
        let factor = SharedFactor::new();
        let plateau = Plateau::new(factor.clone(), 1);
        let mut sched = schedule(Scheduler::Plateau, 0);
        sched.plateau = factor.clone();
        assert_eq!(plateau.observe(1.0), None);
        assert_eq!(plateau.observe(1.1), None); // 1 bad epoch: within patience
        assert_eq!(plateau.observe(1.2), Some(0.1)); // 2 bad epochs: divide
        assert!((sched.lr_at(0) - 0.01).abs() < 1e-12);
        assert_eq!(plateau.observe(0.5), None);
        let again = Plateau::new(factor.clone(), 1);
        again.replay([1.0, 1.1, 1.2, 0.5]);
        assert!((factor.get() - 0.1).abs() < 1e-12);
        // the record carries the step and the factor
        sched.step = 7;
        let mut restored = schedule(Scheduler::Plateau, 0);
        restored.load_record(sched.to_record());
        assert_eq!(restored.step, 7);
        assert!((restored.plateau.get() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn clones_count_each_epoch_once() {
        let factor = SharedFactor::new();
        let plateau = Plateau::new(factor.clone(), 0);
        let workers = [plateau.clone(), plateau.clone(), plateau];
        for (epoch, loss) in [(1, 1.0), (2, 1.0), (3, 1.0)] {
            for worker in &workers {
                worker.observe_epoch(epoch, loss);
            }
        }
        // epochs 2 and 3 did not improve: two divisions, not six
        assert!((factor.get() - 0.01).abs() < 1e-12, "{}", factor.get());
    }
}
