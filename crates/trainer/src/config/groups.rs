//! The groups of a run's configuration: data, model, optimiser, schedule and augmentation.
//! Each has its defaults and checks its own values; `config.json` holds their keys side by
//! side, as one flat object.

use std::path::{Path, PathBuf};

use alexnet::AlexNetConfig;
use alexnet_data::{AugmentConfig, AugmentPreset, ColorJitter, Crop};
use anyhow::Result;
use serde::{Deserialize, Serialize};

use super::recipe::Recipe;
use crate::cli::usage;
use crate::cli::{Arch, DatasetKind, Init, Opt, Scheduler, SyntheticDraw};

/// Where the images come from and how they are batched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataConfig {
    /// Dataset source.
    pub dataset: DatasetKind,
    /// Dataset root (none for synthetic).
    pub data_dir: Option<PathBuf>,
    /// Download cifar10/imagenette into `data_dir` when missing.
    pub download: bool,
    /// ImageNet flat-val labels file.
    pub val_labels: Option<PathBuf>,
    /// Imagenette noisy-label percentage.
    pub imagenette_noise: u8,
    /// Synthetic training images.
    pub synthetic_train: usize,
    /// Synthetic validation images.
    pub synthetic_val: usize,
    /// Synthetic training images: new ones every epoch or the same (a run saved without the
    /// key drew the same).
    #[serde(default = "SyntheticDraw::fixed")]
    pub synthetic_draw: SyntheticDraw,
    /// Images per batch.
    pub batch_size: usize,
    /// Decode/augment threads (none: all cores).
    pub workers: Option<usize>,
    /// Cap on consecutive undecodable images.
    pub max_consecutive_failures: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: DatasetKind::Synthetic,
            data_dir: None,
            download: false,
            val_labels: None,
            imagenette_noise: 0,
            synthetic_train: 12_000,
            synthetic_val: 1_000,
            synthetic_draw: SyntheticDraw::Fresh,
            batch_size: 128,
            workers: None,
            max_consecutive_failures: alexnet_data::loader::DEFAULT_MAX_CONSECUTIVE_FAILURES,
        }
    }
}

impl DataConfig {
    /// Batch size, workers, and the synthetic split sizes or a data directory that exists
    /// (unless downloading).
    pub fn validate(&self) -> Result<()> {
        first_failure([
            (
                self.batch_size >= 1,
                "--batch-size must be at least 1".into(),
            ),
            (
                self.workers != Some(0),
                "--workers must be at least 1".into(),
            ),
        ])?;
        if self.dataset == DatasetKind::Synthetic {
            return first_failure([(
                self.synthetic_train > 0 && self.synthetic_val > 0,
                "--synthetic-train and --synthetic-val must be at least 1".into(),
            )]);
        }
        let downloadable = matches!(self.dataset, DatasetKind::Cifar10 | DatasetKind::Imagenette);
        first_failure([(
            !self.download || downloadable,
            format!(
                "--download fetches cifar10 or imagenette, not --dataset {}",
                dataset_name(self.dataset)
            ),
        )])?;
        let Some(dir) = &self.data_dir else {
            return Err(usage(format!(
                "--dataset {} needs --data-dir (or ALEXNET_DATA_DIR)",
                dataset_name(self.dataset)
            )));
        };
        check_data_dir(dir, self.download, downloadable)
    }
}

/// The network and the weights it starts from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    /// Model variant.
    pub arch: Arch,
    /// Input side.
    pub image_size: usize,
    /// Head size (none: the dataset's class count).
    pub num_classes: Option<usize>,
    /// Width factor of every layer.
    pub width: f64,
    /// Dropout of fc6/fc7, resolved from the data's recipe when a run starts (`null`, in a
    /// `config.json` or `--config` file: the variant's own).
    pub dropout: Option<f64>,
    /// Weight initialisation (none: the variant's own).
    pub init: Option<Init>,
    /// Initial weights.
    pub weights: Option<PathBuf>,
    /// Initialise from torchvision's ImageNet weights.
    #[serde(default)]
    pub pretrained: bool,
    /// Train only the classifier.
    #[serde(default)]
    pub freeze_features: bool,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            arch: Arch::Standard,
            image_size: 67,
            num_classes: None,
            width: 0.5,
            dropout: Some(Recipe::of(DatasetKind::Synthetic).dropout(Arch::Standard)),
            init: Some(Init::Kaiming),
            weights: None,
            pretrained: false,
            freeze_features: false,
        }
    }
}

impl ModelConfig {
    /// Input size, width, class count, and the starting weights.
    pub fn validate(&self) -> Result<()> {
        let min = self.build(self.num_classes.unwrap_or(2)).min_input_size();
        first_failure([
            (
                self.image_size >= min,
                format!(
                    "--image-size {} is too small for the {} variant (minimum {min} px)",
                    self.image_size,
                    self.arch.name()
                ),
            ),
            (
                self.image_size <= 1024,
                format!("--image-size {} is larger than 1024 px", self.image_size),
            ),
            (
                self.width > 0.0 && self.width <= 4.0,
                format!("--width {} must be in (0, 4]", self.width),
            ),
            (
                self.num_classes != Some(0),
                "--num-classes must be at least 1".into(),
            ),
        ])?;
        self.validate_weights()
    }

    /// `--weights`, `--pretrained` and `--freeze-features`.
    fn validate_weights(&self) -> Result<()> {
        first_failure([
            (
                !self.pretrained || self.arch == Arch::Torchvision,
                format!(
                    "--pretrained loads torchvision's AlexNet: pass --arch torchvision or leave \
                     --arch out (not {})",
                    self.arch.name()
                ),
            ),
            (
                !self.freeze_features || self.weights.is_some() || self.pretrained,
                "--freeze-features needs --weights or --pretrained (frozen random convolutions would not learn)".into(),
            ),
            (
                self.weights.as_ref().is_none_or(|w| w.is_file()),
                format!(
                    "--weights {}: no such file",
                    self.weights.as_deref().unwrap_or(Path::new("")).display()
                ),
            ),
        ])
    }

    /// The network for `num_classes` classes.
    pub fn build(&self, num_classes: usize) -> AlexNetConfig {
        let mut config = self
            .arch
            .config()
            .with_num_classes(num_classes)
            .with_image_size(self.image_size);
        if self.width != 1.0 {
            config = config.with_width(self.width);
        }
        if let Some(p) = self.dropout {
            config = config.with_dropout(p);
        }
        if let Some(init) = self.init {
            config = config.with_init(init.into());
        }
        config
    }
}

/// The optimiser and its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimConfig {
    /// Optimiser.
    pub opt: Opt,
    /// Initial learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Weight decay.
    pub wd: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            opt: Opt::Adamw,
            lr: 2e-3,
            momentum: 0.9,
            wd: 1e-4,
        }
    }
}

impl OptimConfig {
    /// Learning rate, momentum and weight decay.
    pub fn validate(&self) -> Result<()> {
        first_failure([
            (
                self.lr.is_finite() && self.lr > 0.0,
                format!("--lr {} must be a positive number", self.lr),
            ),
            (
                (0.0..1.0).contains(&self.momentum),
                format!("--momentum {} must be in [0, 1)", self.momentum),
            ),
            (
                self.wd.is_finite() && self.wd >= 0.0,
                format!("--wd {} must be >= 0", self.wd),
            ),
        ])
    }
}

/// How long to train and how the learning rate moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScheduleConfig {
    /// Epochs to train.
    pub epochs: usize,
    /// Schedule.
    pub lr_scheduler: Scheduler,
    /// `step`: epochs per step.
    pub lr_step_size: usize,
    /// `step`: factor per step.
    pub lr_gamma: f64,
    /// Linear warm-up epochs.
    pub warmup_epochs: usize,
    /// `plateau`: epochs without improvement before dividing by 10.
    pub plateau_patience: usize,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self {
            epochs: 9,
            lr_scheduler: Scheduler::Cosine,
            lr_step_size: 30,
            lr_gamma: 0.1,
            warmup_epochs: 2,
            plateau_patience: 2,
        }
    }
}

impl ScheduleConfig {
    /// Epochs and the `step` schedule's parameters.
    pub fn validate(&self) -> Result<()> {
        first_failure([
            (self.epochs >= 1, "--epochs must be at least 1".into()),
            (
                self.lr_gamma > 0.0 && self.lr_gamma <= 1.0,
                format!("--lr-gamma {} must be in (0, 1]", self.lr_gamma),
            ),
            (
                self.lr_step_size >= 1,
                "--lr-step-size must be at least 1".into(),
            ),
        ])
    }
}

/// The training augmentation: a preset and overrides of its parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentSettings {
    /// Augmentation preset.
    pub aug: AugmentPreset,
    /// Smallest area fraction of the random-resized crop (none: the preset's); resolved from
    /// the data's recipe when a run starts.
    #[serde(default)]
    pub crop_scale: Option<f64>,
    /// Flip probability override.
    pub hflip: Option<f64>,
    /// Colour-jitter strength override.
    pub color_jitter: Option<f32>,
    /// PCA-lighting std override.
    pub pca_lighting: Option<f32>,
}

impl Default for AugmentSettings {
    /// The default run's (the synthetic recipe's): no augmentation.
    fn default() -> Self {
        Self {
            aug: Recipe::of(DatasetKind::Synthetic).aug(None),
            crop_scale: None,
            hflip: None,
            color_jitter: None,
            pca_lighting: None,
        }
    }
}

impl AugmentSettings {
    /// The overrides' ranges.
    pub fn validate(&self) -> Result<()> {
        first_failure([
            (
                self.crop_scale.is_none_or(|s| s > 0.0 && s <= 1.0),
                "--crop-scale must be in (0, 1]".into(),
            ),
            (
                self.color_jitter.is_none_or(|s| (0.0..=1.0).contains(&s)),
                "--color-jitter must be in [0, 1]".into(),
            ),
            (
                self.pca_lighting.is_none_or(|s| s.is_finite() && s >= 0.0),
                "--pca-lighting must be >= 0".into(),
            ),
        ])
    }

    /// The preset at `image_size` with the overrides applied.
    pub fn build(&self, image_size: usize) -> AugmentConfig {
        let mut aug = AugmentConfig::preset(self.aug, image_size as u32);
        if let (Some(min), Crop::RandomResized { scale, .. }) = (self.crop_scale, &mut aug.crop) {
            scale[0] = min;
        }
        if let Some(p) = self.hflip {
            aug.hflip = p;
        }
        if let Some(s) = self.color_jitter {
            aug.color_jitter = (s > 0.0).then_some(ColorJitter {
                brightness: s,
                contrast: s,
                saturation: s,
            });
        }
        if let Some(std) = self.pca_lighting {
            aug.pca_lighting = std;
        }
        aug
    }
}

/// The message of the first check that fails, as a usage error.
fn first_failure<const N: usize>(checks: [(bool, String); N]) -> Result<()> {
    match checks.into_iter().find(|(ok, _)| !ok) {
        Some((_, message)) => Err(usage(message)),
        None => Ok(()),
    }
}

/// The name users type for a dataset.
pub fn dataset_name(kind: DatasetKind) -> &'static str {
    match kind {
        DatasetKind::Synthetic => "synthetic",
        DatasetKind::Folder => "folder",
        DatasetKind::Imagenet => "imagenet",
        DatasetKind::Cifar10 => "cifar10",
        DatasetKind::Imagenette => "imagenette",
    }
}

/// A data dir must exist and hold something, unless it is about to be downloaded into; the
/// message offers `--download` for the datasets that have one.
fn check_data_dir(dir: &Path, download: bool, downloadable: bool) -> Result<()> {
    if download {
        return Ok(());
    }
    let hint = if downloadable {
        " (pass --download to fetch it)"
    } else {
        ""
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(|e| usage(format!("--data-dir {}: {e}{hint}", dir.display())))?;
    if entries.next().is_none() {
        return Err(usage(format!(
            "--data-dir {} is empty{hint}",
            dir.display()
        )));
    }
    Ok(())
}
