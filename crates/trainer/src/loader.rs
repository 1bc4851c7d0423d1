//! burn-train's `DataLoader` over `alexnet-data`'s `BatchLoader`: a new shuffled order every
//! epoch (from the seed and the epoch number, so a resumed run sees the same orders), a
//! background thread that prepares the next batches while the model trains on the current one,
//! and a clear error when the data is broken.

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use alexnet::ImageBatch;
use alexnet_data::loader::{BatchLoader, HostBatch, TooManyFailures};
use alexnet_data::rng::epoch_order;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::Device;

use crate::data::SharedDataset;

/// Batches prepared ahead of the model.
const PREFETCH: usize = 2;

/// A data loader for one split.
#[derive(Clone)]
pub struct EpochLoader {
    loader: Arc<BatchLoader<SharedDataset>>,
    device: Device,
    batch_size: usize,
    shuffle: bool,
    seed: u64,
    /// The positions of each epoch's order this loader serves (all of them unless sliced).
    range: Option<Range<usize>>,
    /// The epoch the next `iter()` serves (1-based, as burn-train counts).
    epoch: Arc<AtomicUsize>,
    /// The error that stopped loading, for the final report.
    failure: Arc<Mutex<Option<TooManyFailures>>>,
    workers: Option<Arc<rayon::ThreadPool>>,
}

impl EpochLoader {
    /// A loader of `loader`'s dataset; `first_epoch` is the epoch the first `iter()` serves.
    pub fn new(
        loader: Arc<BatchLoader<SharedDataset>>,
        device: Device,
        batch_size: usize,
        shuffle: bool,
        seed: u64,
        first_epoch: usize,
        workers: Option<Arc<rayon::ThreadPool>>,
    ) -> Self {
        Self {
            loader,
            device,
            batch_size,
            shuffle,
            seed,
            range: None,
            epoch: Arc::new(AtomicUsize::new(first_epoch)),
            failure: Arc::new(Mutex::new(None)),
            workers,
        }
    }

    /// The error that stopped loading, if any.
    pub fn failure(&self) -> Option<TooManyFailures> {
        self.failure.lock().ok().and_then(|f| f.clone())
    }

    /// Every item skipped so far (an unreadable file is listed once per epoch it was met).
    pub fn skipped(&self) -> Vec<alexnet_data::loader::Skipped> {
        self.loader.skipped()
    }

    /// The item order of `epoch`: a seeded Fisher-Yates shuffle, or the identity, cut to the
    /// loader's slice.
    fn order(&self, epoch: usize) -> Vec<usize> {
        let n = self.loader.dataset().len();
        let order = if self.shuffle {
            epoch_order(n, self.seed, epoch as u64)
        } else {
            (0..n).collect()
        };
        match &self.range {
            Some(range) => order[range.clone()].to_vec(),
            None => order,
        }
    }
}

struct EpochIter {
    receiver: Receiver<Result<HostBatch, TooManyFailures>>,
    device: Device,
    done: usize,
    total: usize,
    failure: Arc<Mutex<Option<TooManyFailures>>>,
}

impl Iterator for EpochIter {
    type Item = Result<ImageBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.receiver.recv().ok()? {
                Ok(batch) if batch.is_empty() => continue,
                Ok(batch) => {
                    self.done += batch.len();
                    let (images, targets) = batch.to_tensors(&self.device);
                    return Some(Ok(ImageBatch { images, targets }));
                }
                Err(err) => {
                    let message = err.to_string();
                    if let Ok(mut slot) = self.failure.lock() {
                        *slot = Some(err);
                    }
                    return Some(Err(DatasetError::new(std::io::Error::other(message))));
                }
            }
        }
    }
}

impl DataLoaderIterator<ImageBatch> for EpochIter {
    fn progress(&self) -> Progress {
        Progress::new(self.done, self.total, Some("images".into()))
    }
}

impl DataLoader<ImageBatch> for EpochLoader {
    fn iter<'a>(&'a self) -> Box<dyn DataLoaderIterator<ImageBatch> + 'a> {
        let epoch = self.epoch.fetch_add(1, Ordering::SeqCst);
        let order = self.order(epoch);
        let total = order.len();
        let (sender, receiver) = sync_channel(PREFETCH);
        let loader = Arc::clone(&self.loader);
        let batch_size = self.batch_size;
        let workers = self.workers.clone();
        std::thread::spawn(move || {
            for indices in order.chunks(batch_size) {
                let batch = match &workers {
                    Some(pool) => pool.install(|| loader.load(epoch as u64, indices)),
                    None => loader.load(epoch as u64, indices),
                };
                let stop = batch.is_err();
                // The receiver is gone when the epoch was cut short: stop quietly.
                if sender.send(batch).is_err() || stop {
                    return;
                }
            }
        });
        Box::new(EpochIter {
            receiver,
            device: self.device.clone(),
            done: 0,
            total,
            failure: Arc::clone(&self.failure),
        })
    }

    fn num_items(&self) -> usize {
        self.range
            .as_ref()
            .map_or(self.loader.dataset().len(), ExactSizeIterator::len)
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<ImageBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    /// Positions `start..end` of every epoch's order (relative to this loader's own items, as
    /// burn-train's split across devices asks): loaders sliced from one loader share its seed,
    /// so their slices of an epoch are disjoint and together cover the split.
    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<ImageBatch>> {
        let offset = self.range.as_ref().map_or(0, |r| r.start);
        let len = self.num_items();
        let (start, end) = (start.min(len), end.min(len).max(start.min(len)));
        Arc::new(Self {
            range: Some(offset + start..offset + end),
            epoch: Arc::new(AtomicUsize::new(self.epoch.load(Ordering::SeqCst))),
            ..self.clone()
        })
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use alexnet_data::AugmentConfig;
    use alexnet_data::synthetic::{Split, SyntheticConfig, SyntheticDataset};

    /// A shuffled loader over 10 synthetic images, in batches of 3.
    fn loader() -> EpochLoader {
        let config = SyntheticConfig {
            image_size: 32,
            train_len: 10,
            val_len: 2,
            seed: 7,
        };
        let dataset = SyntheticDataset::new(config, Split::Train).expect("valid size");
        let dataset: SharedDataset = Arc::new(dataset);
        let batches = BatchLoader::new(dataset, AugmentConfig::eval(32), 7);
        EpochLoader::new(Arc::new(batches), Device::flex(), 3, true, 7, 1, None)
    }

    /// The labels an epoch serves, in order.
    fn labels(loader: &dyn DataLoader<ImageBatch>) -> Vec<i64> {
        loader
            .iter()
            .flat_map(|batch| {
                let batch = batch.expect("loads");
                batch.targets.into_data().iter::<i64>().collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn slices_serve_their_part_of_the_epoch_order() {
        let whole = loader();
        let expected: Vec<i64> = labels(&whole);
        let (a, b) = (loader().slice(0, 4), loader().slice(4, 10));
        assert_eq!((a.num_items(), b.num_items()), (4, 6));
        let mut got = labels(a.as_ref());
        got.extend(labels(b.as_ref()));
        assert_eq!(got, expected);
        let inner = loader().slice(2, 9).slice(1, 3);
        assert_eq!(inner.num_items(), 2);
        assert_eq!(labels(inner.as_ref()), expected[3..5]);
    }
}
