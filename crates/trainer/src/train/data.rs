//! Opening the configured dataset (downloading it first when asked) as train and val splits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alexnet_data::download::{self, Archive};
use alexnet_data::synthetic::{Split, SyntheticConfig, SyntheticDataset};
use alexnet_data::{ImageDataset, ImageFolder, augment::eval_resize};
use anyhow::{Context, Result};

use crate::cli::DatasetKind;
use crate::cli::usage;
use crate::config::TrainConfig;

/// A dataset split shared by the loader threads.
pub type SharedDataset = Arc<dyn ImageDataset>;

/// The train and val splits of `config`'s dataset, and the class names (label order).
pub fn open(config: &TrainConfig) -> Result<(SharedDataset, SharedDataset, Vec<String>)> {
    let (train, val): (SharedDataset, SharedDataset) = match config.data.dataset {
        DatasetKind::Synthetic => {
            let synthetic = SyntheticConfig {
                // Rendered at the eval resize of the input, so crops have room to move.
                image_size: eval_resize(config.model.image_size as u32).clamp(32, 256),
                train_len: config.data.synthetic_train,
                val_len: config.data.synthetic_val,
                seed: config.seed,
            };
            let make = |split| {
                SyntheticDataset::new(synthetic.clone(), split).map_err(|e| usage(e.to_string()))
            };
            (Arc::new(make(Split::Train)?), Arc::new(make(Split::Val)?))
        }
        DatasetKind::Folder => {
            let (train, val) = ImageFolder::splits(data_dir(config)?)
                .map_err(|e| usage(format!("--dataset folder: {e}")))?;
            (Arc::new(train), Arc::new(val))
        }
        DatasetKind::Imagenet => {
            let (train, val) =
                alexnet_data::imagenet::open(data_dir(config)?, config.data.val_labels.as_deref())
                    .map_err(|e| usage(format!("--dataset imagenet: {e}")))?;
            (Arc::new(train), Arc::new(val))
        }
        DatasetKind::Cifar10 => {
            let dir = prepared(config, &download::CIFAR10)?;
            let train = alexnet_data::cifar::Cifar10::train(&dir)
                .map_err(|e| usage(format!("--dataset cifar10: {e}")))?;
            let val = alexnet_data::cifar::Cifar10::test(&dir)
                .map_err(|e| usage(format!("--dataset cifar10: {e}")))?;
            (Arc::new(train), Arc::new(val))
        }
        DatasetKind::Imagenette => {
            let dir = prepared(config, &download::IMAGENETTE_160)?;
            let (train, val) = alexnet_data::imagenette::open(&dir, config.data.imagenette_noise)
                .map_err(|e| usage(format!("--dataset imagenette: {e}")))?;
            (Arc::new(train), Arc::new(val))
        }
    };
    let classes = train.classes().to_vec();
    Ok((train, val, classes))
}

fn data_dir(config: &TrainConfig) -> Result<&Path> {
    config
        .data
        .data_dir
        .as_deref()
        .ok_or_else(|| usage("this dataset needs --data-dir"))
}

/// The dataset folder of an archive dataset: `DATA_DIR/<folder>` or `DATA_DIR` itself when it
/// is already that folder; downloaded and extracted first with `--download`.
fn prepared(config: &TrainConfig, archive: &Archive<'_>) -> Result<PathBuf> {
    let root = data_dir(config)?;
    let inner = root.join(archive.folder);
    if inner.is_dir() {
        return Ok(inner);
    }
    if root.file_name().is_some_and(|n| n == archive.folder) && root.is_dir() {
        return Ok(root.to_path_buf());
    }
    if !config.data.download {
        return Err(usage(format!(
            "{} not found; pass --download to fetch it into {} (or see datasets/)",
            inner.display(),
            root.display()
        )));
    }
    download::prepare(archive, root)
        .with_context(|| format!("could not fetch {}", archive.remote.url))
}
