//! # alexnet
//!
//! AlexNet, the network of Krizhevsky, Sutskever and Hinton, ["ImageNet Classification with Deep
//! Convolutional Neural Networks"](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html)
//! (NIPS 2012), for the [Burn](https://burn.dev) deep-learning framework.
//!
//! One model definition runs on every Burn backend; the program using it compiles backends in
//! through Burn's features and passes a `Device`. With the default `flex` feature the model's
//! convolutions, max pools and fully connected layers go through the `burn-cnn-kernels` crate
//! (re-exported as [`conv`], [`pool`] and [`linear`]), which runs its own kernels on flex devices
//! and Burn's operations everywhere else; `default-features = false` runs Burn's operations on
//! every backend. The `tch` feature runs the convolutions' backward pass on LibTorch as
//! PyTorch's own.
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
//! - With the `onnx` feature, `AlexNet::save_onnx` writes the model as an ONNX file (see
//!   `onnx`), for ONNX Runtime, TensorRT, OpenVINO and other runtimes.
//! - [`atomic`] replaces a file atomically (temporary file, sync, rename), as every file the
//!   crate writes is replaced.
//! - [`conv`], [`pool`] and [`linear`] are those layers (from `burn-cnn-kernels`), usable in
//!   other models.
//! - With the `optim` feature, `optim::Sgd` and `optim::AdamW` are SGD and AdamW with PyTorch's
//!   semantics, one fused in-place pass per parameter on flex.
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

pub mod atomic;
mod autocast;
mod config;
#[cfg(feature = "pretrained")]
mod hub;
mod init;
mod model;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod pretrained;
#[cfg(feature = "train")]
mod train;
pub mod weights;

#[cfg(feature = "optim")]
pub use burn_cnn_kernels::optim;
#[cfg(feature = "flex")]
pub use burn_cnn_kernels::{conv, linear, pool};

pub use config::{AlexNetConfig, AlexNetInit, LrnConfig};
#[cfg(feature = "pretrained")]
pub use hub::PretrainedError;
pub use model::{AlexNet, InputError};
pub use pretrained::{AlexNetWeights, imagenet_classes};
#[cfg(feature = "train")]
pub use train::ImageBatch;
pub use weights::{ConfigSource, WeightsError, WeightsFormat, WeightsInfo};

/// The Rust snippets of this crate's README, compiled (and run, unless marked `no_run`) as
/// doctests. They use the `train` feature (`ImageBatch`, `alexnet::optim`) and flex, so they are
/// tested with `cargo test --workspace --features alexnet/train`, CI's test command.
#[cfg(all(doctest, feature = "train", feature = "flex"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The Rust snippets of the workspace's README (its "Using the crate" section), tested the same
/// way.
#[cfg(all(doctest, feature = "train", feature = "flex"))]
#[doc = include_str!("../../../README.md")]
pub struct WorkspaceReadmeDoctests;
