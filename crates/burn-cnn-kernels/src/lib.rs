//! # burn-cnn-kernels
//!
//! Faster layers for convolutional networks on [Burn](https://burn.dev) 0.22.1's CPU backend
//! flex, and on its LibTorch backend: drop-in functions for a model's `forward` that take the
//! kernels of this crate where they apply and Burn's own operations everywhere else, so one model
//! definition still runs on every backend.
//!
//! - [`conv`]: 2-D convolution (forward pass and both gradients as im2col plus one matrix
//!   multiplication per group of samples on flex; PyTorch's native backward pass on LibTorch).
//! - [`pool`]: max pooling (the maxima and their positions in one pass per plane on flex).
//! - [`linear`]: the fully connected layer and its three gradients as matrix multiplications on
//!   flex.
//! - `optim` (the `optim` feature): SGD and AdamW with PyTorch's semantics, one fused in-place
//!   pass per parameter on flex (SGD: PyTorch's in-place operations on LibTorch).
//!
//! [`kernel_backend`] tells which devices take the kernels. Each layer is a Burn backend
//! extension (`#[backend_extension]`) with its own backward pass, checked against Burn's own
//! operation in its unit tests. Why each kernel exists and what it gains: the project's
//! [performance notes](https://github.com/alexnet-burn/alexnet-burn/blob/main/docs/performance.md).
//!
//! ```no_run
//! use burn::nn::conv::{Conv2d, Conv2dConfig};
//! use burn::nn::PaddingConfig2d;
//! use burn::tensor::{Device, Tensor};
//! use burn_cnn_kernels::conv::conv2d_layer;
//!
//! let device = Device::flex();
//! let conv: Conv2d = Conv2dConfig::new([3, 64], [3, 3])
//!     .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
//!     .init(&device);
//! let x = Tensor::<4>::zeros([8, 3, 32, 32], &device);
//! let y = conv2d_layer(&conv, x); // [8, 64, 32, 32], as conv.forward(x)
//! ```

// Burn marks its LibTorch backend deprecated (it is still supported); the extensions name it.
#![cfg_attr(feature = "tch", allow(deprecated))]

#[cfg(feature = "flex")]
mod backend;
#[cfg(feature = "flex")]
pub mod conv;
#[cfg(feature = "flex")]
mod flex_slices;
#[cfg(feature = "flex")]
mod gemm;
#[cfg(feature = "flex")]
pub mod linear;
#[cfg(feature = "optim")]
pub mod optim;
#[cfg(feature = "flex")]
pub mod pool;

#[cfg(feature = "flex")]
pub use backend::{KernelBackend, kernel_backend};
