//! The [`AlexNet`] module and its forward pass.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{AdaptiveAvgPool2d, MaxPool2d};
use burn::nn::{Dropout, Linear, LinearConfig, LocalResponseNorm};
use burn::tensor::activation::relu;
use burn::tensor::{Device, FloatDType, Tensor};

use crate::AlexNetConfig;

#[cfg(feature = "flex")]
use burn_cnn_kernels::conv::conv2d_layer as conv2d;
#[cfg(feature = "flex")]
use burn_cnn_kernels::linear::linear_layer as linear;
#[cfg(feature = "flex")]
use burn_cnn_kernels::pool::max_pool2d_layer as max_pool;

/// [`Conv2d::forward`]: without the `flex` feature every backend runs Burn's convolution.
#[cfg(not(feature = "flex"))]
fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    conv.forward(x) // [N, C_out, H_out, W_out]
}

/// [`Linear::forward`]: without the `flex` feature every backend runs Burn's layer.
#[cfg(not(feature = "flex"))]
fn linear(layer: &Linear, x: Tensor<2>) -> Tensor<2> {
    layer.forward(x) // [N, out]
}

/// [`MaxPool2d::forward`]: without the `flex` feature every backend runs Burn's max pool.
#[cfg(not(feature = "flex"))]
fn max_pool(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    pool.forward(x) // [N, C, H_out, W_out]
}

/// AlexNet: five convolutions, three overlapping max pools, an adaptive average pool to 6x6 and
/// three fully connected layers. Build it with [`AlexNetConfig`](crate::AlexNetConfig).
///
/// Parameter names (`conv1.weight` ... `fc8.bias`) are the keys of saved weight files.
#[derive(Module, Debug)]
pub struct AlexNet {
    /// 11x11 stride-4 convolution on the RGB input.
    pub conv1: Conv2d,
    /// 5x5 convolution (grouped in `paper2012`).
    pub conv2: Conv2d,
    /// 3x3 convolution over all channels.
    pub conv3: Conv2d,
    /// 3x3 convolution (grouped in `paper2012`).
    pub conv4: Conv2d,
    /// 3x3 convolution (grouped in `paper2012`).
    pub conv5: Conv2d,
    /// Local response normalisation after the ReLU of conv1 and conv2 (`paper2012` only).
    pub lrn: Option<LocalResponseNorm>,
    /// 3x3 stride-2 max pool after conv1, conv2 and conv5.
    pub pool: MaxPool2d,
    /// Adaptive average pool to 6x6 (the identity at the native input size).
    pub avgpool: AdaptiveAvgPool2d,
    /// Dropout before fc6 and fc7.
    pub dropout: Dropout,
    /// First hidden fully connected layer (9216 -> 4096 in the published widths).
    pub fc6: Linear,
    /// Second hidden fully connected layer (4096 -> 4096).
    pub fc7: Linear,
    /// Classifier head (4096 -> classes). Logits; softmax lives in the loss or in prediction.
    pub fc8: Linear,
    /// Smallest square input side the network accepts.
    pub min_input_size: usize,
    /// The configuration the model was built from (written into saved weight files).
    #[module(skip)]
    pub config: AlexNetConfig,
    /// The lower precision the convolutions and fully connected layers compute in (mixed
    /// precision, see [`with_autocast`](Self::with_autocast)); `None`: the input's own.
    #[module(skip)]
    pub autocast: Option<FloatDType>,
}

/// Why an input cannot go through the network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The input does not have three colour channels.
    #[error("AlexNet expects RGB input of shape [N, 3, H, W], got {dims:?}")]
    Channels {
        /// The dimensions of the rejected input.
        dims: [usize; 4],
    },
    /// The input is smaller than the network's minimum.
    #[error(
        "input of {height}x{width} pixels is too small for this AlexNet: the minimum is \
         {min}x{min} (conv1 and the three max pools need at least that much)"
    )]
    TooSmall {
        /// Input height.
        height: usize,
        /// Input width.
        width: usize,
        /// The minimum side length.
        min: usize,
    },
}

impl AlexNet {
    /// Class logits for a batch of images.
    ///
    /// `images`: `[N, 3, H, W]`, normalised; returns `[N, num_classes]`.
    ///
    /// # Panics
    ///
    /// With the message of [`InputError`] if the input is not RGB or is smaller than
    /// [`min_input_size`](Self::min_input_size). Use [`try_forward`](Self::try_forward) to get the
    /// error as a value.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self.try_forward(images) {
            Ok(logits) => logits,
            Err(err) => panic!("{err}"),
        }
    }

    /// [`forward`](Self::forward) that returns an [`InputError`] instead of panicking on input
    /// of the wrong shape.
    pub fn try_forward(&self, images: Tensor<4>) -> Result<Tensor<2>, InputError> {
        let x = self.hidden(images, true)?; // [N, 4096]
        Ok(self.fc(&self.fc8, x)) // [N, num_classes]
    }

    /// fc7's activations, with dropout before fc6 and fc7 when `dropout` is set (it is the
    /// identity off autodiff devices).
    fn hidden(&self, images: Tensor<4>, dropout: bool) -> Result<Tensor<2>, InputError> {
        let drop = |x: Tensor<2>| if dropout { self.dropout.forward(x) } else { x };
        let x = self.try_forward_features(images)?; // [N, 256, 6, 6]
        let x: Tensor<2> = x.flatten(1, 3); // [N, 9216]
        let x = relu(self.fc(&self.fc6, drop(x))); // [N, 4096]
        Ok(relu(self.fc(&self.fc7, drop(x)))) // [N, 4096]
    }

    /// The activations after fc7's ReLU, `[N, 4096]` (the hidden width): the image descriptor
    /// whose nearest neighbours the 2012 paper shows (its Figure 4), torchvision's
    /// `model.classifier[:6](torch.flatten(model.avgpool(model.features(x)), 1))` in eval mode.
    /// Dropout is not applied, on any device.
    ///
    /// # Panics
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_fc7(&self, images: Tensor<4>) -> Tensor<2> {
        match self.try_forward_fc7(images) {
            Ok(fc7) => fc7,
            Err(err) => panic!("{err}"),
        }
    }

    /// [`forward_fc7`](Self::forward_fc7) that returns an [`InputError`] instead of panicking.
    pub fn try_forward_fc7(&self, images: Tensor<4>) -> Result<Tensor<2>, InputError> {
        self.hidden(images, false) // [N, 4096]
    }

    /// The convolutional features after the adaptive average pool: `[N, 256, 6, 6]` (the channel
    /// count is conv5's width).
    ///
    /// # Panics
    ///
    /// As [`forward`](Self::forward).
    pub fn forward_features(&self, images: Tensor<4>) -> Tensor<4> {
        match self.try_forward_features(images) {
            Ok(features) => features,
            Err(err) => panic!("{err}"),
        }
    }

    /// [`forward_features`](Self::forward_features) that returns an [`InputError`] instead of
    /// panicking.
    pub fn try_forward_features(&self, images: Tensor<4>) -> Result<Tensor<4>, InputError> {
        self.check_input(images.dims())?;
        let x = images; // [N, 3, 227, 227]
        let x = self.norm(relu(self.conv(&self.conv1, x))); // [N, 96, 55, 55]
        let x = max_pool(&self.pool, x); // [N, 96, 27, 27]
        let x = self.norm(relu(self.conv(&self.conv2, x))); // [N, 256, 27, 27]
        let x = max_pool(&self.pool, x); // [N, 256, 13, 13]
        let x = relu(self.conv(&self.conv3, x)); // [N, 384, 13, 13]
        let x = relu(self.conv(&self.conv4, x)); // [N, 384, 13, 13]
        let x = relu(self.conv(&self.conv5, x)); // [N, 256, 13, 13]
        let x = max_pool(&self.pool, x); // [N, 256, 6, 6]
        Ok(self.avgpool.forward(x)) // [N, 256, 6, 6]
    }

    /// Number of classes the head predicts.
    pub fn num_classes(&self) -> usize {
        self.fc8.weight.dims()[1]
    }

    /// Replaces the head (fc8) by a freshly initialised one with `num_classes` outputs, keeping
    /// every other layer: the usual first step of fine-tuning (torchvision users write
    /// `model.classifier[6] = nn.Linear(4096, n)`). The new head gets PyTorch's default
    /// initialisation.
    pub fn with_classes(mut self, num_classes: usize, device: &Device) -> Self {
        let hidden = self.fc8.weight.dims()[0];
        self.fc8 = LinearConfig::new(hidden, num_classes).init(device);
        self.config.num_classes = num_classes;
        self
    }

    /// The same model with its convolutions and fully connected layers computing in `dtype`
    /// (bf16 or f16) and the rest in the parameters' f32: mixed precision, as `torch.autocast`
    /// does it. The casts are differentiable, so training updates f32 weights with f32
    /// gradients. `None` turns it off. The device must compute in `dtype` (flex, CUDA and
    /// LibTorch compute in bf16; ndarray does not: `Device::supports_dtype` tells).
    pub fn with_autocast(self, dtype: Option<FloatDType>) -> Self {
        Self {
            autocast: dtype,
            ..self
        }
    }

    /// A convolution layer, in the autocast precision when one is set.
    fn conv(&self, layer: &Conv2d, x: Tensor<4>) -> Tensor<4> {
        match self.autocast {
            Some(dtype) => crate::autocast::conv2d(layer, x, dtype),
            None => conv2d(layer, x),
        }
    }

    /// A fully connected layer, in the autocast precision when one is set.
    fn fc(&self, layer: &Linear, x: Tensor<2>) -> Tensor<2> {
        match self.autocast {
            Some(dtype) => crate::autocast::linear(layer, x, dtype),
            None => linear(layer, x),
        }
    }

    /// Local response normalisation where the variant has it, the identity otherwise.
    fn norm(&self, x: Tensor<4>) -> Tensor<4> {
        match &self.lrn {
            Some(lrn) => lrn.forward(x),
            None => x,
        }
    }

    pub(crate) fn check_input(&self, dims: [usize; 4]) -> Result<(), InputError> {
        let [_, channels, height, width] = dims;
        if channels != 3 {
            return Err(InputError::Channels { dims });
        }
        let min = self.min_input_size;
        if height < min || width < min {
            return Err(InputError::TooSmall { height, width, min });
        }
        Ok(())
    }
}
