//! Building an [`AlexNet`] from its [`AlexNetConfig`]: the layers and how their weights are
//! drawn ([`AlexNetInit`]).

use burn::module::{Initializer, Param};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2dConfig, MaxPool2dConfig};
use burn::nn::{DropoutConfig, Linear, LinearConfig, LocalResponseNormConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

use crate::config::{AlexNetConfig, AlexNetInit, POOLED_SIDE};
use crate::model::AlexNet;

impl AlexNetConfig {
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
