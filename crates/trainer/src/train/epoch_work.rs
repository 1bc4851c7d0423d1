//! One epoch's loading, on the background thread of [`EpochLoader`](super::loader::EpochLoader):
//! each batch decoded in turn, its failures counted in the loader's own run of failures, and,
//! for a data-parallel replica, a stand-in for a batch whose every image failed to decode. A
//! replica must not skip a step (in DDP the other devices would wait in that step's all-reduce
//! for ever), so it trains on one readable image instead, with no weight in the gradient: the
//! step's gradient is then the other replicas' (still scaled by 1/replicas, as if the stand-in's
//! share were zero). Looking for a stand-in counts no failure: the images tried are counted
//! when their own batch is loaded.

use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};

use alexnet_data::loader::{BatchLoader, HostBatch, TooManyFailures};

use super::data::SharedDataset;

/// A batch for the model; `stand_in` when it replaces a replica's batch that failed whole.
pub struct Served {
    /// The images.
    pub batch: HostBatch,
    /// Whether it stands in for a failed batch (no weight in the gradient).
    pub stand_in: bool,
}

/// Where a replica finds its stand-ins: the epoch's order, cut into global batches.
pub struct StandIns {
    /// Every item of the epoch, in order.
    pub order: Vec<usize>,
    /// Images per global batch (per-device batch times replicas).
    pub global_batch: usize,
}

/// What the loading thread of one epoch needs.
pub struct EpochWork {
    /// The batch loader.
    pub loader: Arc<BatchLoader<SharedDataset>>,
    /// Decode threads (none: rayon's global pool).
    pub workers: Option<Arc<rayon::ThreadPool>>,
    /// The loader's run of undecodable images.
    pub streak: Arc<Mutex<usize>>,
    /// The epoch (seeds the augmentation).
    pub epoch: u64,
    /// A replica's stand-ins; none for a loader that is not a replica.
    pub stand_ins: Option<StandIns>,
}

impl EpochWork {
    /// Loads `batches` in turn into `sender`, until the first error or until the receiver is
    /// gone (the epoch was cut short).
    pub fn run(self, batches: &[Vec<usize>], sender: &SyncSender<Result<Served, TooManyFailures>>) {
        for (i, indices) in batches.iter().enumerate() {
            let served = self.load(indices).map(|batch| self.stand_in_for(i, batch));
            let stop = served.is_err();
            if sender.send(served).is_err() || stop {
                return;
            }
        }
    }

    /// `indices`, decoded, their failures counted in the loader's run.
    fn load(&self, indices: &[usize]) -> Result<HostBatch, TooManyFailures> {
        let mut streak = self.streak.lock().unwrap_or_else(|p| p.into_inner());
        let count: &mut usize = &mut streak;
        let mut load = || self.loader.load_counting(self.epoch, indices, count);
        match &self.workers {
            Some(pool) => pool.install(load),
            None => load(),
        }
    }

    /// `batch` (the `i`th), or a replica's stand-in for it when it is empty: the first image
    /// that decodes from global batch `i + 1` on, then from the epoch's start. `batch` itself
    /// when none does (the replica has nothing to train on).
    fn stand_in_for(&self, i: usize, batch: HostBatch) -> Served {
        let found = match &self.stand_ins {
            Some(s) if batch.is_empty() => {
                let peek = |index| self.loader.peek(self.epoch, index);
                stand_in(&s.order, (i + 1) * s.global_batch, peek)
            }
            _ => None,
        };
        match found {
            Some(batch) => Served {
                batch,
                stand_in: true,
            },
            None => Served {
                batch,
                stand_in: false,
            },
        }
    }
}

/// The first item of `order` from position `from` on, then from its start, that `peek`
/// decodes.
fn stand_in(
    order: &[usize],
    from: usize,
    peek: impl Fn(usize) -> Option<HostBatch>,
) -> Option<HostBatch> {
    let from = from.min(order.len());
    order[from..]
        .iter()
        .chain(&order[..from])
        .find_map(|&index| peek(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_is_the_first_readable_image_from_the_next_global_batch_on() {
        let batch = |label: usize| HostBatch {
            images: vec![0.0; 3],
            labels: vec![label],
            size: 1,
        };
        let order = [5, 0, 3, 1, 4, 2];
        // 3 and 1 decode.
        let peek = |index: usize| [3, 1].contains(&index).then(|| batch(index));
        assert_eq!(stand_in(&order, 3, peek), Some(batch(1)));
        assert_eq!(stand_in(&order, 4, peek), Some(batch(3)), "wraps around");
        assert_eq!(stand_in(&order, 9, peek), Some(batch(3)), "past the end");
        assert_eq!(stand_in(&order, 0, |_| None), None);
    }
}
