//! # alexnet
//!
//! AlexNet, the network of Krizhevsky, Sutskever and Hinton, ["ImageNet Classification with Deep
//! Convolutional Neural Networks"](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html)
//! (NIPS 2012), for the [Burn](https://burn.dev) deep-learning framework.
//!
//! One model definition runs on every Burn backend; the program using it compiles backends in
//! through Burn's features and passes a `Device`. The one backend this crate compiles in itself
//! is flex (the default `flex` feature), for its own kernels there: [`conv`], [`pool`] and
//! [`linear`] run the convolutions, max pools and fully connected layers on flex devices, Burn's
//! operations run everywhere else. `default-features = false` leaves flex out and runs Burn's
//! operations on every backend. The `tch` feature runs the convolutions' backward pass on
//! LibTorch as PyTorch's own.
//!
//! - [`AlexNetConfig`] builds one of three variants: [`standard`](AlexNetConfig::standard) (the
//!   paper's layer sizes on one device, 62,378,344 parameters),
//!   [`paper2012`](AlexNetConfig::paper2012) (grouped convolutions, local response normalisation
//!   and the paper's initialisation, 60,965,224) and [`torchvision`](AlexNetConfig::torchvision)
//!   (weight-compatible with `torchvision.models.alexnet`, 61,100,840).
//! - [`AlexNet`] runs the forward pass; inputs other than the native 227/224 pixels go through an
//!   adaptive average pool to 6x6.
//! - [`weights`] saves and loads burnpack and safetensors files and imports torchvision's `.pth`;
//!   [`AlexNet::load_backbone`] loads all but the classifier head, for fine-tuning.
//! - [`pretrained`] describes torchvision's published weights ([`AlexNetWeights`]: URL, checksum,
//!   accuracy, eval transform) and bundles the 1000 ImageNet class names.
//! - [`conv`], [`pool`] and [`linear`] are those layers, usable in other models on flex.
//! - With the `optim` feature, `optim::Sgd` is SGD with PyTorch's semantics (momentum,
//!   dampening, Nesterov, L2 weight decay), one fused in-place pass per parameter on flex.
//! - With the `train` feature (which includes `optim`), `AlexNet` implements burn-train's
//!   `TrainStep` and `InferenceStep`.
//!
//! ```no_run
//! use alexnet::{AlexNet, AlexNetConfig};
//! use burn::tensor::{Device, Tensor};
//!
//! let device = Device::default();
//! let model: AlexNet = AlexNetConfig::standard().with_num_classes(10).init(&device);
//! let images = Tensor::<4>::zeros([2, 3, 227, 227], &device);
//! let logits: Tensor<2> = model.forward(images); // [2, 10]
//! ```

mod autocast;
mod config;
#[cfg(feature = "flex")]
pub mod conv;
#[cfg(feature = "flex")]
mod flex_slices;
#[cfg(feature = "flex")]
mod gemm;
#[cfg(feature = "pretrained")]
mod hub;
#[cfg(feature = "flex")]
pub mod linear;
mod model;
#[cfg(feature = "optim")]
pub mod optim;
#[cfg(feature = "flex")]
pub mod pool;
pub mod pretrained;
#[cfg(feature = "train")]
mod train;
pub mod weights;

pub use config::{AlexNetConfig, AlexNetInit, LrnConfig};
#[cfg(feature = "pretrained")]
pub use hub::PretrainedError;
pub use model::{AlexNet, InputError};
pub use pretrained::{AlexNetWeights, imagenet_classes};
#[cfg(feature = "train")]
pub use train::ImageBatch;
pub use weights::{ConfigSource, WeightsError, WeightsFormat, WeightsInfo};
