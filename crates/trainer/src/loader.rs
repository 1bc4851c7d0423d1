//! burn-train's `DataLoader` over `alexnet-data`'s `BatchLoader`: a new shuffled order every
//! epoch (from the seed and the epoch number, so a resumed run sees the same orders), a
//! background thread that prepares the next batches while the model trains on the current one,
//! and a clear error when the data is broken.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use alexnet::ImageBatch;
use alexnet_data::loader::{BatchLoader, HostBatch, TooManyFailures};
use alexnet_data::rng::Rng;
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

    /// The item order of `epoch`: a seeded Fisher-Yates shuffle, or the identity.
    fn order(&self, epoch: usize) -> Vec<usize> {
        let n = self.loader.dataset().len();
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            let mut rng = Rng::for_item(self.seed, epoch as u64, u64::MAX);
            for i in (1..n).rev() {
                order.swap(i, rng.below(i + 1));
            }
        }
        order
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
        self.loader.dataset().len()
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<ImageBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<ImageBatch>> {
        // Only multi-device strategies slice; this trainer runs on one device.
        log::warn!("slicing a loader ({start}..{end}) is not supported; using the whole split");
        self.to_device(&self.device)
    }
}
