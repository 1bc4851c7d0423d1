//! The flags of `trainer train`, in the groups of the run's configuration.

use std::path::PathBuf;

use alexnet_data::AugmentPreset;
use clap::Args;
use serde::Serialize;

use super::values::{
    Arch, DatasetKind, Init, Opt, Precision, Preset, Scheduler, SyntheticDraw, autotune_level,
};

/// `trainer train`: every flag is optional; unset ones come from `--config`, then `--preset`,
/// then the defaults. Serialised (set flags only) into the run's configuration, whose groups
/// these mirror.
#[derive(Debug, Default, Args, Serialize)]
pub struct TrainArgs {
    /// JSON file of configuration values (keys as in a run's config.json); flags win over it.
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,
    /// A published recipe: `paper` (the 2012 one).
    #[arg(long, value_enum)]
    #[serde(skip)]
    pub preset: Option<Preset>,
    /// Run directory (default: runs/<dataset>-<arch>-<time>).
    #[arg(long, value_name = "DIR")]
    #[serde(skip)]
    pub output_dir: Option<PathBuf>,
    /// Continue the run in --output-dir (default: the newest run in runs/) from its last
    /// complete checkpoint.
    #[arg(long)]
    #[serde(skip)]
    pub resume: bool,
    /// Seed of initialisation, shuffling and augmentation.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Device: flex, ndarray, wgpu, vulkan, cuda[:N], tch, tch-cuda[:N] (env BURN_DEVICE).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Data-parallel training on a comma-separated device list, -b images per device:
    /// cuda:0,cuda:1 or cuda:all (Burn's DDP, gradients averaged through NCCL), or devices of
    /// another backend (flex,flex: one replica each, gradients averaged on the first).
    #[arg(long, value_delimiter = ',', conflicts_with = "device")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub devices: Option<Vec<String>>,
    /// Float precision: fp32; bf16 or f16 (every tensor, GPU backends and flex); mixed (f32
    /// parameters and optimiser, bf16 convolutions and fully connected layers).
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<Precision>,
    /// GPU autotune level: minimal, balanced, extensive or full (default: CUBECL_AUTOTUNE_LEVEL,
    /// cubecl.toml, or balanced).
    #[arg(long, value_parser = autotune_level)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub autotune_level: Option<String>,
    /// Where the images come from and how they are batched.
    #[command(flatten)]
    #[serde(flatten)]
    pub data: DataArgs,
    /// The network and the weights it starts from.
    #[command(flatten)]
    #[serde(flatten)]
    pub model: ModelArgs,
    /// The optimiser.
    #[command(flatten)]
    #[serde(flatten)]
    pub optim: OptimArgs,
    /// Epochs and the learning-rate schedule.
    #[command(flatten)]
    #[serde(flatten)]
    pub schedule: ScheduleArgs,
    /// The training augmentation.
    #[command(flatten)]
    #[serde(flatten)]
    pub augment: AugmentArgs,
}

/// Where the images come from and how they are batched.
#[derive(Debug, Default, Args, Serialize)]
#[command(next_help_heading = "Data")]
pub struct DataArgs {
    /// Dataset.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<DatasetKind>,
    /// Dataset root (not needed for synthetic).
    #[arg(long, env = "ALEXNET_DATA_DIR", value_name = "DIR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// Download the dataset into --data-dir if it is not there (cifar10, imagenette).
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub download: bool,
    /// ImageNet: labels file for a flat val folder.
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_labels: Option<PathBuf>,
    /// Imagenette: percentage of noisy training labels (0, 1, 5, 25, 50).
    #[arg(long, value_name = "PERCENT")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imagenette_noise: Option<u8>,
    /// Synthetic dataset: number of training images.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic_train: Option<usize>,
    /// Synthetic dataset: number of validation images.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic_val: Option<usize>,
    /// Synthetic dataset: new training images every epoch, or the same ones.
    #[arg(long, value_enum, value_name = "DRAW")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub synthetic_draw: Option<SyntheticDraw>,
    /// Images per batch.
    #[arg(short = 'b', long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<usize>,
    /// Decode/augment worker threads (default: all cores).
    #[arg(short = 'j', long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workers: Option<usize>,
    /// Stop when this many images in a row cannot be decoded.
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_consecutive_failures: Option<usize>,
}

/// The network and the weights it starts from.
#[derive(Debug, Default, Args, Serialize)]
#[command(next_help_heading = "Model")]
pub struct ModelArgs {
    /// Model variant.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arch: Option<Arch>,
    /// Input side in pixels (standard needs >= 67, torchvision >= 63).
    #[arg(long, value_name = "PIXELS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// Number of classes (default: the dataset's).
    #[arg(long, value_name = "N")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub num_classes: Option<usize>,
    /// Scale every layer's width (channels and hidden units) by this factor.
    #[arg(long, value_name = "FACTOR")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<f64>,
    /// Dropout probability of fc6/fc7.
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropout: Option<f64>,
    /// Weight initialisation (default: kaiming; the paper preset: the variant's own).
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<Init>,
    /// Initialise from a weights file (.bpk, .safetensors, .pth). A file whose head has another
    /// class count loads everything but the head, which starts fresh (fine-tuning).
    #[arg(long, value_name = "FILE")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<PathBuf>,
    /// Initialise from torchvision's ImageNet weights (IMAGENET1K_V1, --arch torchvision),
    /// downloaded into the cache when missing; the head is replaced for the dataset's classes.
    #[arg(long, conflicts_with = "weights")]
    #[serde(skip_serializing_if = "is_false")]
    pub pretrained: bool,
    /// Train only fc6-fc8: the convolutions keep the weights they were loaded with.
    #[arg(long)]
    #[serde(skip_serializing_if = "is_false")]
    pub freeze_features: bool,
}

/// The optimiser.
#[derive(Debug, Default, Args, Serialize)]
#[command(next_help_heading = "Optimiser")]
pub struct OptimArgs {
    /// Optimiser.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opt: Option<Opt>,
    /// Initial learning rate.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr: Option<f64>,
    /// SGD momentum.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub momentum: Option<f64>,
    /// Weight decay.
    #[arg(long = "wd", alias = "weight-decay")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wd: Option<f64>,
}

/// Epochs and the learning-rate schedule.
#[derive(Debug, Default, Args, Serialize)]
#[command(next_help_heading = "Schedule")]
pub struct ScheduleArgs {
    /// Number of epochs.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// Learning-rate schedule.
    #[arg(long, value_enum)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_scheduler: Option<Scheduler>,
    /// Epochs between steps of the `step` schedule.
    #[arg(long, value_name = "EPOCHS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_step_size: Option<usize>,
    /// Factor of the `step` schedule.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lr_gamma: Option<f64>,
    /// Epochs of linear warm-up from lr/10.
    #[arg(long, value_name = "EPOCHS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_epochs: Option<usize>,
    /// `plateau`: epochs without a better validation loss before dividing the lr by 10.
    #[arg(long, value_name = "EPOCHS")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plateau_patience: Option<usize>,
}

/// The training augmentation.
#[derive(Debug, Default, Args, Serialize)]
#[command(next_help_heading = "Augmentation")]
pub struct AugmentArgs {
    /// Training augmentation: paper, torchvision, eval (none: no augmentation, the same as eval).
    #[arg(long, value_parser = parse_aug_preset, value_name = "PRESET")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aug: Option<AugmentPreset>,
    /// Smallest area fraction of torchvision's random-resized crop (as timm's `--scale`; the
    /// preset's own is 0.08).
    #[arg(long, value_name = "FRACTION")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crop_scale: Option<f64>,
    /// Horizontal-flip probability (overrides the preset's).
    #[arg(long, value_name = "P", value_parser = parse_probability)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hflip: Option<f64>,
    /// Colour-jitter strength for brightness, contrast and saturation (0: off).
    #[arg(long, value_name = "STRENGTH")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_jitter: Option<f32>,
    /// Std of the paper's PCA lighting noise (0: off; the paper's is 0.1).
    #[arg(long, value_name = "STD")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pca_lighting: Option<f32>,
}
fn parse_aug_preset(s: &str) -> Result<AugmentPreset, String> {
    s.parse()
        .map_err(|e: alexnet_data::augment::UnknownAugmentPreset| e.to_string())
}

fn parse_probability(s: &str) -> Result<f64, String> {
    let p: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(format!("{p} is not a probability in [0, 1]"))
    }
}

fn is_false(b: &bool) -> bool {
    !b
}
