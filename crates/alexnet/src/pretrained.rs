//! Pretrained weights as data, the way torchvision describes them (`AlexNet_Weights`): where the
//! file comes from, how to check it, what it scored, its classes and the preprocessing it expects.
//!
//! With the `pretrained` feature, `AlexNetWeights::path` finds the file in torch hub's cache or
//! downloads and checks it, and `AlexNetWeights::load` builds the model from it. Without it,
//! download [`AlexNetWeights::url`] yourself and load the file with
//! [`AlexNet::from_file`](crate::AlexNet::from_file).
//!
//! ```
//! use alexnet::pretrained::{imagenet_classes, AlexNetWeights};
//! let weights = AlexNetWeights::ImageNet1kV1;
//! assert_eq!(weights.file_name(), "alexnet-owt-7be5be79.pth");
//! assert_eq!(imagenet_classes()[0], "tench");
//! assert_eq!(weights.transforms().crop_size, 224);
//! ```

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::AlexNetConfig;

/// The 1000 ImageNet-1k class names in index order (sorted WordNet ids), as torchvision lists
/// them: index 0 is "tench", 999 "toilet tissue".
pub fn imagenet_classes() -> &'static [&'static str] {
    static CLASSES: OnceLock<Vec<&'static str>> = OnceLock::new();
    CLASSES.get_or_init(|| include_str!("imagenet_classes.txt").lines().collect())
}

/// The evaluation preprocessing a set of weights was trained for (torchvision's
/// `ImageClassification` preset): resize the shorter side to `resize_size` with antialiased
/// bilinear resampling, centre-crop `crop_size`, scale to [0, 1] and normalise by ImageNet's
/// mean and standard deviation (`alexnet_data::augment::IMAGENET_MEAN` and `IMAGENET_STD`;
/// `AugmentConfig::eval_with` builds this pipeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalTransform {
    /// Target length of the shorter side before cropping.
    pub resize_size: u32,
    /// Side of the square centre crop (the network's input).
    pub crop_size: u32,
}

/// Published AlexNet weights (torchvision's `AlexNet_Weights`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlexNetWeights {
    /// torchvision's `AlexNet_Weights.IMAGENET1K_V1`: the "One weird trick" network
    /// ([`AlexNetConfig::torchvision`]) trained on ImageNet-1k; acc@1 56.522, acc@5 79.066.
    ImageNet1kV1,
}

impl AlexNetWeights {
    /// Every published set, newest last.
    pub const ALL: [AlexNetWeights; 1] = [AlexNetWeights::ImageNet1kV1];
    /// The set torchvision's `DEFAULT` points at.
    pub const DEFAULT: AlexNetWeights = AlexNetWeights::ImageNet1kV1;

    /// torchvision's name for the set (`IMAGENET1K_V1`).
    pub fn name(self) -> &'static str {
        match self {
            AlexNetWeights::ImageNet1kV1 => "IMAGENET1K_V1",
        }
    }

    /// Where torchvision publishes the file.
    pub fn url(self) -> &'static str {
        match self {
            AlexNetWeights::ImageNet1kV1 => {
                "https://download.pytorch.org/models/alexnet-owt-7be5be79.pth"
            }
        }
    }

    /// The file name (the last part of [`url`](Self::url)); torchvision's cache uses it too.
    pub fn file_name(self) -> &'static str {
        match self {
            AlexNetWeights::ImageNet1kV1 => "alexnet-owt-7be5be79.pth",
        }
    }

    /// The first hex digits of the file's SHA-256, as embedded in the file name (torchvision's
    /// `check_hash` rule).
    pub fn sha256_prefix(self) -> &'static str {
        match self {
            AlexNetWeights::ImageNet1kV1 => "7be5be79",
        }
    }

    /// Number of parameters of the network the file holds.
    pub fn num_params(self) -> usize {
        match self {
            AlexNetWeights::ImageNet1kV1 => 61_100_840,
        }
    }

    /// Top-1 accuracy (percent) on the ImageNet-1k validation set, as torchvision reports it.
    pub fn acc1(self) -> f64 {
        match self {
            AlexNetWeights::ImageNet1kV1 => 56.522,
        }
    }

    /// Top-5 accuracy (percent) on the ImageNet-1k validation set.
    pub fn acc5(self) -> f64 {
        match self {
            AlexNetWeights::ImageNet1kV1 => 79.066,
        }
    }

    /// The class names, in output order.
    pub fn categories(self) -> &'static [&'static str] {
        match self {
            AlexNetWeights::ImageNet1kV1 => imagenet_classes(),
        }
    }

    /// The network the file fits.
    pub fn config(self) -> AlexNetConfig {
        match self {
            AlexNetWeights::ImageNet1kV1 => AlexNetConfig::torchvision(),
        }
    }

    /// The preprocessing the weights expect at evaluation.
    pub fn transforms(self) -> EvalTransform {
        match self {
            AlexNetWeights::ImageNet1kV1 => EvalTransform {
                resize_size: 256,
                crop_size: 224,
            },
        }
    }
}

impl fmt::Display for AlexNetWeights {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A weights name that is not one of [`AlexNetWeights::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown AlexNet weights `{0}` (known: IMAGENET1K_V1, DEFAULT)")]
pub struct UnknownWeights(pub String);

impl FromStr for AlexNetWeights {
    type Err = UnknownWeights;

    /// Accepts torchvision's names, case-insensitively, and `DEFAULT`.
    fn from_str(name: &str) -> Result<Self, UnknownWeights> {
        match name.trim().to_ascii_uppercase().replace('-', "_").as_str() {
            "IMAGENET1K_V1" | "DEFAULT" => Ok(AlexNetWeights::ImageNet1kV1),
            _ => Err(UnknownWeights(name.to_string())),
        }
    }
}
