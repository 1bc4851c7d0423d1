//! [`WeightsError`]: everything that can go wrong with a weights file, each naming the file.

use std::path::PathBuf;

/// What can go wrong reading or writing a weights file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The extension is not one of `.bpk`, `.safetensors`, `.pth`, `.pt`.
    #[error("{}: unknown weights format (use .bpk, .safetensors, or .pth/.pt to load)", path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The format needs a feature of the `alexnet` crate that this build leaves out.
    #[error("{}: this build of the alexnet crate cannot read this format (enable its `{feature}` feature)", path.display())]
    FormatDisabled {
        /// The file.
        path: PathBuf,
        /// The feature to enable.
        feature: &'static str,
    },
    /// PyTorch files can be imported but not written.
    #[error("{}: cannot write PyTorch pickles; save as .bpk or .safetensors", path.display())]
    ReadOnlyFormat {
        /// The file.
        path: PathBuf,
    },
    /// The file does not exist.
    #[error("{}: no such weights file", path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// The file exists but could not be parsed (truncated, corrupt, or not that format).
    #[error("{}: cannot read weights ({reason}); the file may be truncated or in another format", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the reader reported.
        reason: String,
    },
    /// A tensor's shape in the file differs from the model's.
    #[error(
        "{}: tensor `{tensor}` has shape {found:?} in the file but the model expects {expected:?} \
         (is the file for another variant or class count?)", path.display()
    )]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// The parameter (model key, e.g. `fc8.weight`).
        tensor: String,
        /// Shape in the model.
        expected: Vec<usize>,
        /// Shape in the file.
        found: Vec<usize>,
    },
    /// A parameter of the model is not in the file.
    #[error("{}: tensor `{tensor}` (shape {expected:?}) is missing from the file", path.display())]
    MissingTensor {
        /// The parameter (model key).
        tensor: String,
        /// Shape in the model.
        expected: Vec<usize>,
        /// The file.
        path: PathBuf,
    },
    /// The file holds a tensor the model has no parameter for.
    #[error("{}: the file holds tensor `{tensor}`, which this model does not have (is the file for another variant?)", path.display())]
    UnexpectedTensor {
        /// The tensor's key in the file (after key remapping).
        tensor: String,
        /// The file.
        path: PathBuf,
    },
    /// Any other problem applying a tensor (dtype, adapter).
    #[error("{}: {reason}", path.display())]
    Apply {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The file's AlexNet metadata cannot be parsed.
    #[error("{}: bad AlexNet metadata ({reason})", path.display())]
    BadMetadata {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The file has no AlexNet metadata and is not a torchvision state dict.
    #[error(
        "{}: cannot tell which AlexNet the file holds ({reason}); build the model from an \
         AlexNetConfig and load it with load_weights", path.display()
    )]
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// Why the shapes do not describe a torchvision AlexNet.
        reason: String,
    },
    /// Writing the file failed.
    #[error("{}: cannot write weights: {reason}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}
