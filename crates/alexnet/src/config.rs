//! [`AlexNetConfig`]: the three published AlexNet variants and the knobs users change.

use burn::config::Config;

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

/// Configuration of an [`AlexNet`](crate::AlexNet). Start from one of the named variants and
/// change what you need:
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
}

/// Side of the feature map the adaptive average pool produces before fc6.
pub(crate) const POOLED_SIDE: usize = 6;
