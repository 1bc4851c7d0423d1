//! Opening the configured dataset (downloading it first when asked) as train and val splits.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alexnet_data::download::{self, Archive};
use alexnet_data::synthetic::{Split, SyntheticConfig, SyntheticDataset};
use alexnet_data::{ImageDataset, ImageFolder, augment::eval_resize};
use anyhow::{Context, Result};

use crate::cli::usage;
use crate::cli::{DatasetKind, SyntheticDraw};
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
                fresh_each_epoch: config.data.synthetic_draw == SyntheticDraw::Fresh,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The synthetic training image 3 of epochs 1 and 2, and validation image 3 of both, under
    /// `draw`.
    fn epochs_1_and_2(draw: SyntheticDraw) -> [[Vec<u8>; 2]; 2] {
        let mut config = TrainConfig::default();
        config.data.synthetic_train = 8;
        config.data.synthetic_val = 8;
        config.data.synthetic_draw = draw;
        let (train, val, _) = open(&config).expect("opens");
        let image = |split: &SharedDataset, epoch| {
            split
                .get_in_epoch(3, epoch)
                .expect("in range")
                .image
                .into_raw()
        };
        [
            [image(&train, 1), image(&train, 2)],
            [image(&val, 1), image(&val, 2)],
        ]
    }

    #[test]
    fn the_default_run_draws_new_training_images_every_epoch() {
        assert_eq!(
            TrainConfig::default().data.synthetic_draw,
            SyntheticDraw::Fresh
        );
        let [[train_1, train_2], [val_1, val_2]] = epochs_1_and_2(SyntheticDraw::Fresh);
        assert_ne!(train_1, train_2);
        assert_eq!(val_1, val_2);
        let [[train_1, train_2], _] = epochs_1_and_2(SyntheticDraw::Fixed);
        assert_eq!(train_1, train_2);
    }
}
