//! [`AlexNetConfig`]: the three published AlexNet variants and the knobs users change.

use burn::config::Config;
use burn::module::{Initializer, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{DropoutConfig, Linear, LinearConfig, LocalResponseNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::model::AlexNet;

/// How the weights of a freshly built model are drawn.
#[derive(Config, Debug, PartialEq)]
pub enum AlexNetInit {
    /// PyTorch's (and Burn's) default: Kaiming-uniform weights and `U(-1/sqrt(fan_in), 1/sqrt(fan_in))`
    /// biases, as `torchvision.models.alexnet()` gets.
    Default,
    /// The paper's initialisation (Section 5): weights from `N(0, 0.01)`, biases 1 in conv2, conv4,
    /// conv5, fc6 and fc7 ("accelerates the early stages of learning by providing the ReLUs with
    /// positive inputs") and 0 in the other layers.
    Paper2012,
    /// He et al. 2015 ("Delving Deep into Rectifiers"): weights from `N(0, 2 / fan_in)`, biases 0
    /// (`torch.nn.init.kaiming_normal_(mode="fan_in", nonlinearity="relu")`). Keeps the activation
    /// scale through the eight ReLU layers, so training from scratch leaves the initial
    /// `ln(classes)` loss plateau within the first few hundred steps.
    Kaiming,
}

/// Local response normalisation, `b = a / (k + alpha / size * sum(a^2 over size channels))^beta`
/// (cuda-convnet's and PyTorch's convention: alpha is divided by the window size).
#[derive(Config, Debug, PartialEq)]
pub struct LrnConfig {
    /// Channels in the window (`n` in the paper).
    #[config(default = 5)]
    pub size: usize,
    /// Scale of the sum of squares.
    #[config(default = 1e-4)]
    pub alpha: f64,
    /// Exponent.
    #[config(default = 0.75)]
    pub beta: f64,
    /// Additive constant (2 in the paper; Burn's own default is 1).
    #[config(default = 2.0)]
    pub k: f64,
}

impl LrnConfig {
    /// The paper's constants: n=5, alpha=1e-4, beta=0.75, k=2.
    pub fn paper2012() -> Self {
        Self::new()
    }
}

/// Configuration of an [`AlexNet`]. Start from one of the named variants and change what you need:
///
/// ```
/// use alexnet::AlexNetConfig;
/// let config = AlexNetConfig::standard().with_num_classes(10).with_dropout(0.3);
/// assert_eq!(config.num_classes, 10);
/// ```
///
/// | variant | conv widths | conv1 pad | groups | LRN | init | params (1000 classes) |
/// |---|---|---|---|---|---|---|
/// | [`standard`](Self::standard) | 96, 256, 384, 384, 256 | 0 | 1 | no | default | 62,378,344 |
/// | [`paper2012`](Self::paper2012) | 96, 256, 384, 384, 256 | 0 | 2 | yes | paper | 60,965,224 |
/// | [`torchvision`](Self::torchvision) | 64, 192, 384, 256, 256 | 2 | 1 | no | default | 61,100,840 |
#[derive(Config, Debug, PartialEq)]
pub struct AlexNetConfig {
    /// Number of output classes (size of fc8).
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Dropout probability before fc6 and fc7 (active only while training).
    #[config(default = 0.5)]
    pub dropout: f64,
    /// Output channels of conv1 to conv5.
    #[config(default = "[96, 256, 384, 384, 256]")]
    pub channels: [usize; 5],
    /// Width of the hidden fully connected layers fc6 and fc7.
    #[config(default = 4096)]
    pub hidden: usize,
    /// Zero padding on each side of conv1's input (0 in the paper, 2 in torchvision).
    #[config(default = 0)]
    pub conv1_padding: usize,
    /// Groups of conv2, conv4 and conv5 (2 in the paper, where each half ran on its own GPU).
    #[config(default = 1)]
    pub groups: usize,
    /// Local response normalisation after the ReLU of conv1 and conv2, or none.
    #[config(default = "None")]
    pub lrn: Option<LrnConfig>,
    /// Weight initialisation.
    #[config(default = "AlexNetInit::Default")]
    pub init: AlexNetInit,
    /// The input side length the variant was designed for (227 or 224). Other sizes down to
    /// [`AlexNetConfig::min_input_size`] work through the adaptive average pool.
    #[config(default = 227)]
    pub image_size: usize,
}

impl AlexNetConfig {
    /// The architecture of the project's specification: the paper's layer sizes on one device
    /// (no groups, no LRN), 227x227 input, PyTorch-default initialisation. 62,378,344 parameters.
    pub fn standard() -> Self {
        Self::new()
    }

    /// The network of Krizhevsky, Sutskever and Hinton (NIPS 2012) as published: grouped conv2,
    /// conv4 and conv5 (two GPUs), LRN (n=5, alpha=1e-4, beta=0.75, k=2) after the ReLU of conv1
    /// and conv2, and the paper's initialisation. 60,965,224 parameters.
    pub fn paper2012() -> Self {
        Self::new()
            .with_groups(2)
            .with_lrn(Some(LrnConfig::paper2012()))
            .with_init(AlexNetInit::Paper2012)
    }

    /// `torchvision.models.alexnet`: the "One weird trick" widths (64, 192, 384, 256, 256), conv1
    /// padded by 2, 224x224 input. Weight-compatible with torchvision's state dicts.
    /// 61,100,840 parameters.
    pub fn torchvision() -> Self {
        Self::new()
            .with_channels([64, 192, 384, 256, 256])
            .with_conv1_padding(2)
            .with_image_size(224)
    }

    /// Scales every convolution and hidden width by `factor` (rounded, kept divisible by
    /// `groups`). Useful for tests and quick experiments; `1.0` is the published network.
    pub fn with_width(mut self, factor: f64) -> Self {
        let g = self.groups.max(1);
        let scale = |c: usize| (((c as f64 * factor) / g as f64).round() as usize).max(1) * g;
        self.channels = self.channels.map(scale);
        self.hidden = ((self.hidden as f64 * factor).round() as usize).max(1);
        self
    }

    /// The smallest square input side that survives conv1 and the three max pools (67 for
    /// `standard` and `paper2012`, 63 for `torchvision`).
    pub fn min_input_size(&self) -> usize {
        (1..)
            .find(|&s| self.pool5_size(s).is_some())
            .unwrap_or(usize::MAX)
    }

    /// Side length of the map after pool5 for an input side of `input`, or `None` when the input
    /// is too small for conv1 or one of the pools.
    pub(crate) fn pool5_size(&self, input: usize) -> Option<usize> {
        let pool = |s: usize| s.checked_sub(3).map(|r| r / 2 + 1);
        let conv1 = (input + 2 * self.conv1_padding).checked_sub(11)? / 4 + 1;
        pool(pool(pool(conv1)?)?)
    }

    /// Builds the model on `device` with freshly initialised weights.
    ///
    /// # Panics
    ///
    /// If `groups` does not divide the channels of conv2, conv4 and conv5, or if `dropout` is not
    /// in `[0, 1]`.
    pub fn init(&self, device: &Device) -> AlexNet {
        let [c1, c2, c3, c4, c5] = self.channels;
        let g = self.groups;
        let conv = |[c_in, c_out]: [usize; 2],
                    k: usize,
                    stride: usize,
                    pad: usize,
                    groups: usize,
                    bias: f32| {
            let config = Conv2dConfig::new([c_in, c_out], [k, k])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_groups(groups);
            match self.init {
                AlexNetInit::Default => config.init(device),
                AlexNetInit::Paper2012 => {
                    let mut conv: Conv2d = config.with_initializer(paper_weights()).init(device);
                    conv.bias = Some(constant([c_out], bias, device));
                    conv
                }
                AlexNetInit::Kaiming => {
                    let mut conv: Conv2d = config.with_initializer(kaiming_weights()).init(device);
                    conv.bias = Some(constant([c_out], 0.0, device));
                    conv
                }
            }
        };
        let linear = |d_in: usize, d_out: usize, bias: f32| {
            let config = LinearConfig::new(d_in, d_out);
            match self.init {
                AlexNetInit::Default => config.init(device),
                AlexNetInit::Paper2012 => {
                    let mut linear: Linear = config.with_initializer(paper_weights()).init(device);
                    linear.bias = Some(constant([d_out], bias, device));
                    linear
                }
                AlexNetInit::Kaiming => {
                    let mut linear: Linear =
                        config.with_initializer(kaiming_weights()).init(device);
                    linear.bias = Some(constant([d_out], 0.0, device));
                    linear
                }
            }
        };
        let pooled = POOLED_SIDE * POOLED_SIDE;
        AlexNet {
            conv1: conv([3, c1], 11, 4, self.conv1_padding, 1, 0.0),
            conv2: conv([c1, c2], 5, 1, 2, g, 1.0),
            conv3: conv([c2, c3], 3, 1, 1, 1, 0.0),
            conv4: conv([c3, c4], 3, 1, 1, g, 1.0),
            conv5: conv([c4, c5], 3, 1, 1, g, 1.0),
            lrn: self.lrn.as_ref().map(|lrn| {
                LocalResponseNormConfig::new(lrn.size)
                    .with_alpha(lrn.alpha)
                    .with_beta(lrn.beta)
                    .with_k(lrn.k)
                    .init()
            }),
            pool: MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).init(),
            avgpool: AdaptiveAvgPool2dConfig::new([POOLED_SIDE, POOLED_SIDE]).init(),
            dropout: DropoutConfig::new(self.dropout).init(),
            fc6: linear(c5 * pooled, self.hidden, 1.0),
            fc7: linear(self.hidden, self.hidden, 1.0),
            fc8: linear(self.hidden, self.num_classes, 0.0),
            min_input_size: self.min_input_size(),
            config: self.clone(),
            autocast: None,
        }
    }
}

/// Side of the feature map the adaptive average pool produces before fc6.
pub(crate) const POOLED_SIDE: usize = 6;

fn paper_weights() -> Initializer {
    Initializer::Normal {
        mean: 0.0,
        std: 0.01,
    }
}

fn kaiming_weights() -> Initializer {
    Initializer::KaimingNormal {
        gain: std::f64::consts::SQRT_2,
        fan_out_only: false,
    }
}

fn constant(shape: [usize; 1], value: f32, device: &Device) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::full(shape, value, device))
}
