//! Batching: decode and augment the items of a batch in parallel (rayon), skip the ones that
//! cannot be decoded (logged with path and reason, counted), and stack the rest into
//! `[N, 3, H, W]` pixels and `[N]` labels (Burn tensors with the `tensors` feature). A run of
//! consecutive failures longer than a cap means the data is broken, and stops loading with an
//! error instead of training on nothing; a caller may count its own run (one per data-parallel
//! replica), and [`BatchLoader::peek`] tries an item without counting it.

use std::path::PathBuf;
use std::sync::Mutex;

#[cfg(feature = "tensors")]
use burn::tensor::{Device, Int, Tensor, TensorData};
use rayon::prelude::*;

use crate::augment::AugmentConfig;
use crate::dataset::{ImageDataset, SampleError};
use crate::rng::Rng;

/// Default cap on consecutive undecodable items.
pub const DEFAULT_MAX_CONSECUTIVE_FAILURES: usize = 100;

/// A skipped item: which file and why.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Skipped {
    /// The item's index.
    pub index: usize,
    /// Its file, when it has one.
    pub path: Option<PathBuf>,
    /// Why it was skipped.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    /// `path: reason`, or `item N: reason` for items without a file.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.reason),
            None => write!(f, "item {}: {}", self.index, self.reason),
        }
    }
}

/// The data is clearly broken: too many items in a row failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{count} consecutive items could not be decoded (last: {last}); the data looks broken")]
pub struct TooManyFailures {
    /// Length of the failing run.
    pub count: usize,
    /// The last failure, formatted.
    pub last: String,
}

/// One batch on the host: `images` is `[len, 3, size, size]` in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct HostBatch {
    /// Pixels, CHW per image, images one after another.
    pub images: Vec<f32>,
    /// Class index per image.
    pub labels: Vec<usize>,
    /// Side length of every image.
    pub size: usize,
}

impl HostBatch {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether every item of the batch was skipped.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The batch as tensors on `device`: images `[N, 3, H, W]` and labels `[N]` (the `tensors`
    /// feature).
    #[cfg(feature = "tensors")]
    pub fn to_tensors(&self, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let n = self.len();
        let images = Tensor::from_data(
            TensorData::new(self.images.clone(), [n, 3, self.size, self.size]),
            device,
        );
        let labels: Vec<i64> = self.labels.iter().map(|&l| l as i64).collect();
        let labels = Tensor::from_data(TensorData::new(labels, [n]), device);
        (images, labels)
    }
}

/// An item decoded and augmented (pixels, label), or why it could not be.
type Decoded = Result<(Vec<f32>, usize), SampleError>;

/// Loads augmented batches of a dataset and keeps the record of skipped items.
pub struct BatchLoader<D> {
    dataset: D,
    augment: AugmentConfig,
    seed: u64,
    max_consecutive_failures: usize,
    state: Mutex<SkipState>,
}

#[derive(Debug, Default)]
struct SkipState {
    skipped: Vec<Skipped>,
    consecutive: usize,
}

impl<D: ImageDataset> BatchLoader<D> {
    /// A loader of `dataset` through `augment`, with random streams derived from `seed`.
    pub fn new(dataset: D, augment: AugmentConfig, seed: u64) -> Self {
        Self {
            dataset,
            augment,
            seed,
            max_consecutive_failures: DEFAULT_MAX_CONSECUTIVE_FAILURES,
            state: Mutex::new(SkipState::default()),
        }
    }

    /// Sets the cap on consecutive undecodable items.
    pub fn with_max_consecutive_failures(mut self, cap: usize) -> Self {
        self.max_consecutive_failures = cap.max(1);
        self
    }

    /// The dataset.
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// The augmentation every item goes through.
    pub fn augment(&self) -> &AugmentConfig {
        &self.augment
    }

    /// Decodes and augments `indices` (in parallel) for `epoch`. Items that fail are skipped
    /// and recorded; the batch holds the others in the order of `indices`. The failures in a
    /// row are counted across the calls of every caller.
    pub fn load(&self, epoch: u64, indices: &[usize]) -> Result<HostBatch, TooManyFailures> {
        let results = self.decode(epoch, indices);
        let mut state = self.lock();
        let SkipState {
            skipped,
            consecutive,
        } = &mut *state;
        self.collect(results, consecutive, skipped)
    }

    /// [`load`](Self::load), with the failures in a row counted in `consecutive`, which the
    /// caller owns (data-parallel replicas each count their own share). Failures are recorded
    /// with every caller's.
    pub fn load_counting(
        &self,
        epoch: u64,
        indices: &[usize],
        consecutive: &mut usize,
    ) -> Result<HostBatch, TooManyFailures> {
        let results = self.decode(epoch, indices);
        let mut state = self.lock();
        self.collect(results, consecutive, &mut state.skipped)
    }

    /// Item `index` decoded and augmented for `epoch` as [`load`](Self::load) would, alone; `None`
    /// when it fails, which is neither counted nor recorded.
    pub fn peek(&self, epoch: u64, index: usize) -> Option<HostBatch> {
        let (pixels, label) = self.decode(epoch, &[index]).pop()?.ok()?;
        Some(HostBatch {
            images: pixels,
            labels: vec![label],
            size: self.augment.crop.size() as usize,
        })
    }

    /// Each item of `indices` decoded and augmented for `epoch`, in parallel.
    fn decode(&self, epoch: u64, indices: &[usize]) -> Vec<Decoded> {
        indices
            .par_iter()
            .map(|&index| {
                let sample = self.dataset.get_in_epoch(index, epoch)?;
                let mut rng = Rng::for_item(self.seed, epoch, index as u64);
                Ok((self.augment.apply(&sample.image, &mut rng), sample.label))
            })
            .collect()
    }

    /// The decoded items of `results` as a batch; each failure is logged, recorded in
    /// `skipped` and counted in `consecutive` (a success resets it), up to the cap.
    fn collect(
        &self,
        results: Vec<Decoded>,
        consecutive: &mut usize,
        skipped: &mut Vec<Skipped>,
    ) -> Result<HostBatch, TooManyFailures> {
        let size = self.augment.crop.size() as usize;
        let mut batch = HostBatch {
            images: Vec::with_capacity(results.len() * 3 * size * size),
            labels: Vec::with_capacity(results.len()),
            size,
        };
        for result in results {
            match result {
                Ok((pixels, label)) => {
                    *consecutive = 0;
                    batch.images.extend_from_slice(&pixels);
                    batch.labels.push(label);
                }
                Err(err) => {
                    log::warn!("skipping {err}");
                    *consecutive += 1;
                    let last = err.to_string();
                    skipped.push(Skipped {
                        index: err.index,
                        path: err.path,
                        reason: err.reason,
                    });
                    if *consecutive >= self.max_consecutive_failures {
                        return Err(TooManyFailures {
                            count: *consecutive,
                            last,
                        });
                    }
                }
            }
        }
        Ok(batch)
    }

    /// The record of skipped items (a panic elsewhere does not lose it).
    fn lock(&self) -> std::sync::MutexGuard<'_, SkipState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Number of items skipped so far.
    pub fn skipped_count(&self) -> usize {
        self.state.lock().map_or(0, |s| s.skipped.len())
    }

    /// Every skipped item so far, in the order they were met.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.state
            .lock()
            .map(|s| s.skipped.clone())
            .unwrap_or_default()
    }
}
