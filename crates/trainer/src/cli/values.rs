//! The values flags take: model variants, initialisations, datasets, optimisers, schedules,
//! presets, float precisions, what `bench` measures, and `--autotune-level`'s names.

use alexnet::AlexNetConfig;
use burn::tensor::FloatDType;
use clap::ValueEnum;
use serde::{Deserialize, Serialize};

/// Model variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Single-tower AlexNet of the paper's layer sizes (input 227).
    Standard,
    /// The 2012 paper: LRN, two-GPU grouped convolutions, the paper's initialisation.
    Paper2012,
    /// torchvision's `alexnet` (64/192/384/256/256 channels, input 224).
    Torchvision,
}

impl Arch {
    /// The model configuration (1000 classes; set the head with `with_num_classes`).
    pub fn config(self) -> AlexNetConfig {
        match self {
            Arch::Standard => AlexNetConfig::standard(),
            Arch::Paper2012 => AlexNetConfig::paper2012(),
            Arch::Torchvision => AlexNetConfig::torchvision(),
        }
    }

    /// The input side the variant was designed for (227 px for standard and paper2012, 224 for
    /// torchvision's).
    pub fn native_image_size(self) -> usize {
        match self {
            Arch::Standard | Arch::Paper2012 => 227,
            Arch::Torchvision => 224,
        }
    }

    /// The name users type.
    pub fn name(self) -> &'static str {
        match self {
            Arch::Standard => "standard",
            Arch::Paper2012 => "paper2012",
            Arch::Torchvision => "torchvision",
        }
    }
}

/// Weight initialisations (`--init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Init {
    /// PyTorch's default (Kaiming-uniform with a = sqrt(5)), as torchvision's `alexnet()`.
    Default,
    /// The paper's: N(0, 0.01), biases 1 in conv2/4/5 and fc6/7.
    Paper2012,
    /// He-normal (fan in, gain sqrt(2)), biases 0: the fastest start from scratch.
    Kaiming,
}

impl From<Init> for alexnet::AlexNetInit {
    fn from(init: Init) -> Self {
        match init {
            Init::Default => alexnet::AlexNetInit::Default,
            Init::Paper2012 => alexnet::AlexNetInit::Paper2012,
            Init::Kaiming => alexnet::AlexNetInit::Kaiming,
        }
    }
}

/// Dataset sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// The built-in procedurally generated shapes (no files).
    Synthetic,
    /// `DATA_DIR/{train,val}/<class>/*`.
    Folder,
    /// ILSVRC-2012: `DATA_DIR/train/<wnid>/*`, val in folders or flat with a labels file.
    Imagenet,
    /// CIFAR-10 binary: `DATA_DIR/cifar-10-batches-bin` (or DATA_DIR itself).
    Cifar10,
    /// Imagenette 160 px: `DATA_DIR/imagenette2-160` (or DATA_DIR itself).
    Imagenette,
}

/// Which training images the synthetic dataset shows each epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SyntheticDraw {
    /// New images every epoch (the generator never runs out, so nothing is seen twice).
    Fresh,
    /// The same `--synthetic-train` images every epoch.
    Fixed,
}

impl SyntheticDraw {
    /// What a saved `config.json` without the key used.
    pub fn fixed() -> Self {
        Self::Fixed
    }
}

/// Optimisers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Opt {
    /// SGD with momentum and L2 weight decay (the paper's).
    Sgd,
    /// AdamW (decoupled weight decay).
    Adamw,
}

/// Learning-rate schedules (warm-up, if any, comes first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    /// Constant learning rate.
    Constant,
    /// Multiply by `--lr-gamma` every `--lr-step-size` epochs.
    Step,
    /// Cosine annealing to 0 over the run.
    Cosine,
    /// The paper's: divide by 10 when the validation loss stops improving.
    Plateau,
}

/// Presets `--preset` applies before the config file and the flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
    /// Krizhevsky et al. 2012: paper2012 variant, SGD lr 0.01 momentum 0.9 wd 5e-4, batch
    /// 128, divide the lr by 10 on plateau, paper augmentation (crops, flips, PCA lighting).
    Paper,
}

/// What `bench` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchMode {
    /// Forward pass only.
    Infer,
    /// Forward, backward and SGD update.
    Train,
    /// Both, one after the other.
    Both,
}

/// Float precision. `bf16`/`f16` make that the device's default float type: parameters,
/// activations, gradients and optimiser state are all stored in it (Burn 0.22 keeps no f32
/// master copy and scales no loss), where the backend supports the type. `mixed` keeps the
/// parameters, gradients and optimiser in f32 and computes the convolutions and fully
/// connected layers in bf16 through differentiable casts (`torch.autocast`'s split).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// 32-bit floats.
    #[default]
    Fp32,
    /// bfloat16 everywhere.
    Bf16,
    /// IEEE half everywhere.
    F16,
    /// f32 parameters, bf16 convolutions and matrix products.
    Mixed,
}

impl Precision {
    /// The flag value.
    pub fn name(self) -> &'static str {
        match self {
            Precision::Fp32 => "fp32",
            Precision::Bf16 => "bf16",
            Precision::F16 => "f16",
            Precision::Mixed => "mixed",
        }
    }

    /// The device's default float type this precision sets (`None`: f32, as it is).
    pub fn device_dtype(self) -> Option<FloatDType> {
        match self {
            Precision::Bf16 => Some(FloatDType::BF16),
            Precision::F16 => Some(FloatDType::F16),
            Precision::Fp32 | Precision::Mixed => None,
        }
    }

    /// The precision the model's autocast computes in (`None`: autocast off).
    pub fn autocast(self) -> Option<FloatDType> {
        (self == Precision::Mixed).then_some(FloatDType::BF16)
    }
}

/// Parses `--autotune-level` (minimal, balanced, extensive, full) to its name.
pub fn autotune_level(value: &str) -> Result<String, String> {
    value
        .parse::<alexnet_device::AutotuneLevel>()
        .map(|level| level.name().to_owned())
}
