//! The dataset interface shared by every source: indexed (RGB8 image, label) samples and class
//! names. A sample that cannot be produced (an undecodable file) is a [`SampleError`] naming the
//! file and the reason, so the loader can skip it, log it and count it.

use std::path::PathBuf;

use crate::decode::decode_file;

use image::RgbImage;

/// One labelled image.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Upright 8-bit RGB pixels.
    pub image: RgbImage,
    /// Class index into [`ImageDataset::classes`].
    pub label: usize,
}

/// Why sample `index` could not be produced.
#[derive(Debug, thiserror::Error)]
#[error("{}: {reason}", path.as_ref().map_or_else(|| format!("item {index}"), |p| p.display().to_string()))]
pub struct SampleError {
    /// The item's index in its dataset.
    pub index: usize,
    /// The file behind the item, when there is one.
    pub path: Option<PathBuf>,
    /// What went wrong.
    pub reason: String,
}

impl SampleError {
    /// An index past the end of a dataset of `len` items.
    pub fn out_of_range(index: usize, len: usize) -> Self {
        Self {
            index,
            path: None,
            reason: format!("index out of range (dataset has {len} items)"),
        }
    }
}

/// A dataset of labelled images.
pub trait ImageDataset: Send + Sync {
    /// Number of items.
    fn len(&self) -> usize;

    /// Whether the dataset has no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Item `index`, decoded.
    fn get(&self, index: usize) -> Result<Sample, SampleError>;

    /// Item `index` as training epoch `epoch` (1-based) sees it: [`get`](Self::get)'s item for
    /// every epoch, except in a dataset that draws fresh items each epoch (a synthetic training
    /// split with [`fresh_each_epoch`](crate::synthetic::SyntheticConfig::fresh_each_epoch)).
    fn get_in_epoch(&self, index: usize, epoch: u64) -> Result<Sample, SampleError> {
        let _ = epoch;
        self.get(index)
    }

    /// Class names, in label order.
    fn classes(&self) -> &[String];
}

/// Decodes item `index` of a list of (file, label) pairs: the `get` of every file-backed dataset.
pub(crate) fn decode_listed(
    items: &[(PathBuf, usize)],
    index: usize,
) -> Result<Sample, SampleError> {
    let (path, label) = items
        .get(index)
        .ok_or_else(|| SampleError::out_of_range(index, items.len()))?;
    let image = decode_file(path).map_err(|e| SampleError {
        index,
        path: Some(path.clone()),
        reason: e.to_string(),
    })?;
    Ok(Sample {
        image,
        label: *label,
    })
}

impl<T: ImageDataset + ?Sized> ImageDataset for Box<T> {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> Result<Sample, SampleError> {
        (**self).get(index)
    }

    fn get_in_epoch(&self, index: usize, epoch: u64) -> Result<Sample, SampleError> {
        (**self).get_in_epoch(index, epoch)
    }

    fn classes(&self) -> &[String] {
        (**self).classes()
    }
}

impl<T: ImageDataset + ?Sized> ImageDataset for std::sync::Arc<T> {
    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> Result<Sample, SampleError> {
        (**self).get(index)
    }

    fn get_in_epoch(&self, index: usize, epoch: u64) -> Result<Sample, SampleError> {
        (**self).get_in_epoch(index, epoch)
    }

    fn classes(&self) -> &[String] {
        (**self).classes()
    }
}
