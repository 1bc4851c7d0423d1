//! # alexnet-data
//!
//! Data for alexnet-burn: datasets that yield (RGB8 image, label) samples,
//! image decoding that never crashes on a bad file, and the deterministic random streams the
//! augmentation of Krizhevsky et al., ["ImageNet Classification with Deep Convolutional Neural
//! Networks"](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html)
//! (NIPS 2012) draws from.
//!
//! - [`synthetic`]: the built-in procedurally generated dataset (no files, no network).
//! - [`folder`]: ImageFolder layouts (`root/<class>/*`, `root/{train,val}/<class>/*`).
//! - [`imagenet`]: ILSVRC-2012 layouts (val in class folders, or flat with a labels file).
//! - [`imagenette`]: fast.ai's Imagenette (10 ImageNet classes), with its noisy-label CSV.
//! - [`cifar`]: CIFAR-10's binary batches.
//! - `download` (the `download` feature): CIFAR-10 and Imagenette downloads (resumable,
//!   checksummed, safe extraction) and checked downloads of other files.
//! - [`decode`]: content-sniffed decoding to upright RGB8, truncated-JPEG detection.
//! - [`augment`]: the staged augmentation pipeline (presets `paper`, `torchvision`, `eval`, and
//!   ten-crop), deterministic per (seed, epoch, index).
//! - [`loader`]: parallel decode + augment into batches (Burn tensors with the `tensors`
//!   feature), skipping and counting bad files.
//! - [`ImageDataset`]: the trait every source implements.

pub mod augment;
pub mod cifar;
pub mod dataset;
pub mod decode;
#[cfg(feature = "download")]
pub mod download;
pub mod folder;
pub mod imagenet;
pub mod imagenette;
pub mod loader;
pub mod rng;
pub mod synthetic;

pub use augment::{AugmentConfig, AugmentPreset, ColorJitter, Crop};
pub use dataset::{ImageDataset, Sample, SampleError};
pub use decode::{DecodeError, decode_bytes, decode_file};
pub use folder::{FolderError, ImageFolder};
pub use synthetic::{Split, SyntheticConfig, SyntheticDataset};
