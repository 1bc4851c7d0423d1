//! The subcommands other than `train`, one module each: `eval` (accuracy of a saved model),
//! `predict` (top-k classes of images), `neighbours` (nearest images in fc7's space), `filters`
//! (conv1's kernels as a picture), `bench` (images/s of inference and training steps) and
//! `export` (a model as an ONNX file).

pub mod bench;
pub mod eval;
pub mod export;
pub mod filters;
pub mod neighbours;
pub mod predict;
