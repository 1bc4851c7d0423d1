//! burn-train's `DataLoader` over `alexnet-data`'s `BatchLoader`: a new shuffled order every
//! epoch (from the seed and the epoch number, so a resumed run sees the same orders), a
//! background thread that prepares the next batches while the model trains on the current one,
//! and a clear error when the data is broken. Split across data-parallel devices, each device's
//! loader serves its share of every global batch ([`shard`]), counts its own undecodable
//! images, and never skips a step ([`epoch_work`](super::epoch_work)).

use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use alexnet::ImageBatch;
use alexnet_data::loader::{BatchLoader, TooManyFailures};
use alexnet_data::rng::epoch_order;
use burn::data::dataloader::{DataLoader, DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::tensor::Device;

use super::data::SharedDataset;
use super::epoch_work::{EpochWork, Served, StandIns};
use super::shard;

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
    /// The part of each epoch's order this loader serves.
    part: Part,
    /// The data-parallel devices a split of this loader serves (1: one device).
    replicas: usize,
    /// The loss scale of the batches a replica serves (see [`ImageBatch::loss_scale`]).
    replica_loss_scale: f32,
    /// The epoch the next `iter()` serves (1-based, as burn-train counts).
    epoch: Arc<AtomicUsize>,
    /// The error that stopped loading, for the final report.
    failure: Arc<Mutex<Option<TooManyFailures>>>,
    /// The undecodable images in a row this loader has met, over its epochs: each split of a
    /// loader (a replica) counts its own.
    streak: Arc<Mutex<usize>>,
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
            part: Part::All,
            replicas: 1,
            replica_loss_scale: 1.0,
            epoch: Arc::new(AtomicUsize::new(first_epoch)),
            failure: Arc::new(Mutex::new(None)),
            streak: Arc::new(Mutex::new(0)),
            workers,
        }
    }

    /// The same loader for `replicas` data-parallel devices: burn-train's split of it across
    /// them gives each device its share of every global batch (`batch_size * replicas` images),
    /// with `loss_scale` on its batches (`1 / replicas` where the devices' gradients are summed).
    pub fn with_replicas(self, replicas: usize, loss_scale: f32) -> Self {
        Self {
            replicas: replicas.max(1),
            replica_loss_scale: loss_scale,
            ..self
        }
    }

    /// The training images all replicas together process per epoch.
    pub fn images_per_epoch(&self) -> usize {
        let len = self.loader.dataset().len();
        match self.replicas {
            1 => len,
            n => (0..n)
                .map(|r| shard::replica_items(len, self.batch_size, n, r))
                .sum(),
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

    /// The batches of an epoch whose items come in `order` (a seeded Fisher-Yates shuffle, or
    /// the identity): its part of them, cut into batches.
    fn batches(&self, order: &[usize]) -> Vec<Vec<usize>> {
        let chunks = |items: &[usize]| {
            items
                .chunks(self.batch_size)
                .map(<[usize]>::to_vec)
                .collect()
        };
        match &self.part {
            Part::All => chunks(order),
            Part::Range(range) => chunks(&order[range.clone()]),
            Part::Replica(r) => shard::replica_batches(order, self.batch_size, self.replicas, *r),
        }
    }

    /// Every item of the dataset in `epoch`'s order.
    fn order(&self, epoch: usize) -> Vec<usize> {
        let n = self.loader.dataset().len();
        if self.shuffle {
            epoch_order(n, self.seed, epoch as u64)
        } else {
            (0..n).collect()
        }
    }

    /// The loss scale of this loader's batches.
    fn loss_scale(&self) -> f32 {
        match self.part {
            Part::Replica(_) => self.replica_loss_scale,
            _ => 1.0,
        }
    }
}

/// The part of each epoch's order a loader serves.
#[derive(Clone, Debug)]
enum Part {
    /// Every item.
    All,
    /// Positions of the order.
    Range(Range<usize>),
    /// One replica's share of each global batch.
    Replica(usize),
}

struct EpochIter {
    receiver: Receiver<Result<Served, TooManyFailures>>,
    device: Device,
    done: usize,
    total: usize,
    loss_scale: f32,
    failure: Arc<Mutex<Option<TooManyFailures>>>,
}

impl Iterator for EpochIter {
    type Item = Result<ImageBatch, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.receiver.recv().ok()? {
                Ok(served) if served.batch.is_empty() => continue,
                Ok(Served { batch, stand_in }) => {
                    self.done += batch.len();
                    let (images, targets) = batch.to_tensors(&self.device);
                    let scale = if stand_in { 0.0 } else { self.loss_scale };
                    let batch = ImageBatch::new(images, targets).with_loss_scale(scale);
                    return Some(Ok(batch));
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
        let batches = self.batches(&order);
        let total = batches.iter().map(Vec::len).sum();
        let (sender, receiver) = sync_channel(PREFETCH);
        let work = EpochWork {
            loader: Arc::clone(&self.loader),
            workers: self.workers.clone(),
            streak: Arc::clone(&self.streak),
            epoch: epoch as u64,
            // A replica's batch `i` comes from the epoch's global batch `i`.
            stand_ins: matches!(self.part, Part::Replica(_)).then(|| StandIns {
                order,
                global_batch: self.batch_size * self.replicas,
            }),
        };
        std::thread::spawn(move || work.run(&batches, &sender));
        Box::new(EpochIter {
            receiver,
            device: self.device.clone(),
            done: 0,
            total,
            loss_scale: self.loss_scale(),
            failure: Arc::clone(&self.failure),
        })
    }

    fn num_items(&self) -> usize {
        let len = self.loader.dataset().len();
        match &self.part {
            Part::All => len,
            Part::Range(range) => range.len(),
            Part::Replica(r) => shard::replica_items(len, self.batch_size, self.replicas, *r),
        }
    }

    fn to_device(&self, device: &Device) -> Arc<dyn DataLoader<ImageBatch>> {
        Arc::new(Self {
            device: device.clone(),
            ..self.clone()
        })
    }

    /// burn-train's split across the devices of a loader made `with_replicas`: replica `i`'s
    /// share of every global batch. Otherwise positions `start..end` of every epoch's order
    /// (relative to this loader's own items): loaders sliced from one loader share its seed, so
    /// their slices of an epoch are disjoint and together cover the split.
    fn slice(&self, start: usize, end: usize) -> Arc<dyn DataLoader<ImageBatch>> {
        let epoch = Arc::new(AtomicUsize::new(self.epoch.load(Ordering::SeqCst)));
        let len = self.num_items();
        let replica = match self.part {
            Part::All if self.replicas > 1 => shard::split_index(len, self.replicas, start, end),
            _ => None,
        };
        if let Some(r) = replica {
            return Arc::new(Self {
                part: Part::Replica(r),
                epoch,
                streak: Arc::new(Mutex::new(0)),
                ..self.clone()
            });
        }
        let offset = match &self.part {
            Part::Range(r) => r.start,
            _ => 0,
        };
        let (start, end) = (start.min(len), end.min(len).max(start.min(len)));
        Arc::new(Self {
            part: Part::Range(offset + start..offset + end),
            epoch,
            streak: Arc::new(Mutex::new(0)),
            ..self.clone()
        })
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;
    use alexnet_data::synthetic::{Split, SyntheticConfig, SyntheticDataset};
    use alexnet_data::{AugmentConfig, ImageDataset, Sample, SampleError};

    /// `len` synthetic training images of 32 px.
    fn synthetic(len: usize) -> SyntheticDataset {
        let config = SyntheticConfig {
            image_size: 32,
            train_len: len,
            val_len: 2,
            seed: 7,
            fresh_each_epoch: false,
        };
        SyntheticDataset::new(config, Split::Train).expect("valid size")
    }

    /// A shuffled loader over 10 synthetic images, in batches of 3.
    fn loader() -> EpochLoader {
        let dataset: SharedDataset = Arc::new(synthetic(10));
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

    #[test]
    fn split_across_replicas_each_serves_its_share_of_every_global_batch() {
        let whole = labels(&loader());
        let replicas = loader().with_replicas(2, 0.5);
        // burn-train's split of 10 items across 2 devices
        let (a, b) = (replicas.slice(0, 5), replicas.slice(5, 10));
        assert_eq!((a.num_items(), b.num_items()), (5, 5));
        assert_eq!(replicas.images_per_epoch(), 10);
        // global batches of 6: positions 0-2 and 6-7 to the first, 3-5 and 8-9 to the second
        assert_eq!(labels(a.as_ref()), [&whole[0..3], &whole[6..8]].concat());
        assert_eq!(labels(b.as_ref()), [&whole[3..6], &whole[8..10]].concat());
        let scales: Vec<f32> = a.iter().map(|b| b.expect("loads").loss_scale).collect();
        assert_eq!(scales, [0.5, 0.5]);
        let unsplit: Vec<f32> = replicas
            .iter()
            .map(|b| b.expect("loads").loss_scale)
            .collect();
        assert!(unsplit.iter().all(|&s| s == 1.0), "{unsplit:?}");
    }

    /// The synthetic images labelled with their index, except that `broken` fail to decode.
    struct Broken {
        images: SyntheticDataset,
        broken: Vec<usize>,
    }

    impl ImageDataset for Broken {
        fn len(&self) -> usize {
            self.images.len()
        }

        fn get(&self, index: usize) -> Result<Sample, SampleError> {
            if self.broken.contains(&index) {
                let reason = "broken".to_owned();
                return Err(SampleError {
                    index,
                    path: None,
                    reason,
                });
            }
            let image = self.images.get(index)?.image;
            Ok(Sample {
                image,
                label: index,
            })
        }

        fn classes(&self) -> &[String] {
            self.images.classes()
        }
    }

    /// The two replicas of an unshuffled loader over 8 images in batches of 2 (global batches
    /// of 4), whose `broken` images fail to decode, stopping after `cap` failures in a row.
    fn replicas(broken: &[usize], cap: usize) -> [Arc<dyn DataLoader<ImageBatch>>; 2] {
        let images = synthetic(8);
        let broken = broken.to_vec();
        let dataset: SharedDataset = Arc::new(Broken { images, broken });
        let batches = BatchLoader::new(dataset, AugmentConfig::eval(32), 7)
            .with_max_consecutive_failures(cap);
        let loader = EpochLoader::new(Arc::new(batches), Device::flex(), 2, false, 7, 1, None)
            .with_replicas(2, 0.5);
        [loader.slice(0, 4), loader.slice(4, 8)]
    }

    /// The items (labels) and loss scale of every batch an epoch serves, or its error.
    fn serve(loader: &dyn DataLoader<ImageBatch>) -> Result<Vec<(Vec<i64>, f32)>, String> {
        loader
            .iter()
            .map(|batch| {
                let batch = batch.map_err(|e| e.to_string())?;
                let items = batch.targets.into_data().iter::<i64>().collect();
                Ok((items, batch.loss_scale))
            })
            .collect()
    }

    #[test]
    fn each_replica_counts_its_own_consecutive_failures() {
        // Replica 0 serves [0, 1], [4, 5] and ends on a failure (5); replica 1 serves
        // [2, 3], [6, 7] and starts with one (2). Neither has 2 failures in a row.
        let [a, b] = replicas(&[2, 5], 2);
        assert_eq!(
            serve(a.as_ref()),
            Ok(vec![(vec![0, 1], 0.5), (vec![4], 0.5)])
        );
        assert_eq!(
            serve(b.as_ref()),
            Ok(vec![(vec![3], 0.5), (vec![6, 7], 0.5)])
        );
    }

    #[test]
    fn the_search_for_a_stand_in_counts_no_failure_twice() {
        // Replica 1's first batch, [2, 3], fails whole: 2 failures in a row, under the cap of 3.
        let [_, b] = replicas(&[2, 3], 3);
        let served = serve(b.as_ref()).expect("2 failures in a row are under the cap");
        assert_eq!(served.len(), 2, "one batch per step: {served:?}");
        assert_eq!(served[1], (vec![6, 7], 0.5));
    }

    #[test]
    fn a_stand_in_batch_has_no_weight_in_the_gradient() {
        let [_, b] = replicas(&[2, 3], 100);
        let served = serve(b.as_ref()).expect("under the cap");
        let (items, scale) = &served[0];
        assert_eq!(items.len(), 1, "one readable image stands in: {served:?}");
        assert!(![2, 3].contains(&items[0]), "{served:?}");
        assert_eq!(*scale, 0.0, "a stand-in weighs nothing");
        assert_eq!(served[1], (vec![6, 7], 0.5));
    }
}
