//! Saving and loading AlexNet weights: Burn's burnpack (`.bpk`), safetensors, and PyTorch state
//! dicts (`.pth` / `.pt`, e.g. torchvision's `alexnet-owt-7be5be79.pth`).
//!
//! Files are recognised by extension. Safetensors files hold PyTorch's layout (linear weights
//! `[out, in]`), so a file written here loads into `torch.nn.Module.load_state_dict` and the other
//! way round. Loading is strict, like `load_state_dict(strict=True)`: every parameter of the
//! model must be in the file with the same shape, and the file must hold nothing else; otherwise
//! a [`WeightsError`] names the tensor (and both shapes) and the model is not returned half-loaded.
//! PyTorch files are read by `burn-store`'s own unpickler, which never runs pickle code.

use std::io;
use std::path::Path;

#[cfg(feature = "import")]
use burn::store::PytorchStore;
use burn::store::{
    ApplyError, ApplyResult, BurnpackStore, KeyRemapper, ModuleSnapshot, PathFilter,
};
#[cfg(feature = "safetensors")]
use burn::store::{BurnToPyTorchAdapter, PyTorchToBurnAdapter, SafetensorsStore};

use crate::AlexNet;

mod error;
mod info;
pub use error::WeightsError;
pub use info::{ConfigSource, WeightsInfo, metadata_entries};

/// torchvision's state-dict keys and the layers they belong to here (`features` and `classifier`
/// are `nn.Sequential`s whose indices count the ReLU, pooling and dropout layers too).
const TORCHVISION_KEYS: [(&str, &str); 8] = [
    (r"^features\.0\.", "conv1."),  // Conv2d(3, 64, 11, stride 4, pad 2)
    (r"^features\.3\.", "conv2."),  // Conv2d(64, 192, 5, pad 2), after ReLU(1), MaxPool(2)
    (r"^features\.6\.", "conv3."),  // Conv2d(192, 384, 3, pad 1), after ReLU(4), MaxPool(5)
    (r"^features\.8\.", "conv4."),  // Conv2d(384, 256, 3, pad 1), after ReLU(7)
    (r"^features\.10\.", "conv5."), // Conv2d(256, 256, 3, pad 1), after ReLU(9)
    (r"^classifier\.1\.", "fc6."),  // Linear(9216, 4096), after Dropout(0)
    (r"^classifier\.4\.", "fc7."),  // Linear(4096, 4096), after ReLU(2), Dropout(3)
    (r"^classifier\.6\.", "fc8."),  // Linear(4096, num_classes), after ReLU(5)
];

/// Weight file formats, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightsFormat {
    /// Burn's burnpack, `.bpk`.
    Burnpack,
    /// Safetensors, `.safetensors`, in PyTorch's tensor layout.
    Safetensors,
    /// A PyTorch state dict saved with `torch.save`, `.pth` or `.pt` (read only).
    Pytorch,
}

impl WeightsFormat {
    /// The crate feature that reads (and writes) this format, if it needs one.
    pub fn feature(self) -> Option<&'static str> {
        match self {
            Self::Burnpack => None,
            Self::Safetensors => Some("safetensors"),
            Self::Pytorch => Some("import"),
        }
    }

    /// The format of `path`, which must exist.
    fn of_existing(path: &Path) -> Result<Self, WeightsError> {
        let format = Self::from_path(path).ok_or_else(|| WeightsError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
        if !path.is_file() {
            return Err(WeightsError::NotFound {
                path: path.to_path_buf(),
            });
        }
        Ok(format)
    }

    /// The error for a format this build of the crate leaves out.
    fn disabled(self, path: &Path) -> WeightsError {
        WeightsError::FormatDisabled {
            path: path.to_path_buf(),
            feature: self.feature().unwrap_or("default"),
        }
    }

    /// The format a path's extension names (case-insensitive), if any.
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "bpk" => Some(Self::Burnpack),
            "safetensors" => Some(Self::Safetensors),
            "pth" | "pt" => Some(Self::Pytorch),
            _ => None,
        }
    }
}

impl AlexNet {
    /// Loads every parameter from `path` (`.bpk`, `.safetensors`, `.pth`/`.pt`) into this model,
    /// which must have the same variant and class count as the file. torchvision's key names
    /// (`features.0.weight`, ...) are mapped onto this model's (`conv1.weight`, ...).
    ///
    /// Consumes the model and returns it loaded, so a failed load never leaves a half-loaded
    /// model behind.
    pub fn load_weights(self, path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        self.load_filtered(path.as_ref(), true)
    }

    /// Loads every parameter except the classifier head (`fc8`), which keeps its initial values:
    /// the fine-tuning start, e.g. torchvision's 1000-class ImageNet weights into a model built
    /// `with_num_classes(n)`. Everything else is as strict as [`load_weights`](Self::load_weights)
    /// (same variant and widths; a mismatched `fc8` in the file is ignored).
    pub fn load_backbone(self, path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        self.load_filtered(path.as_ref(), false)
    }

    fn load_filtered(mut self, path: &Path, with_head: bool) -> Result<Self, WeightsError> {
        let format = WeightsFormat::of_existing(path)?;
        let filter = if with_head {
            PathFilter::all()
        } else {
            PathFilter::new().with_predicate(|key, _| !is_head(key))
        };
        let mut expected = self.parameter_shapes();
        if !with_head {
            expected.retain(|(key, _)| !is_head(key));
        }
        let unreadable = |reason: String| WeightsError::Unreadable {
            path: path.to_path_buf(),
            reason,
        };
        let mut result = match format {
            WeightsFormat::Burnpack => {
                let mut store = BurnpackStore::from_file(path)
                    .auto_extension(false)
                    .validate(false)
                    .allow_partial(true)
                    .filter(filter)
                    .remap(torchvision_keys());
                self.load_from(&mut store)
                    .map_err(|e| unreadable(e.to_string()))?
            }
            #[cfg(feature = "safetensors")]
            WeightsFormat::Safetensors => {
                let mut store = SafetensorsStore::from_file(path)
                    .with_from_adapter(PyTorchToBurnAdapter)
                    .validate(false)
                    .allow_partial(true)
                    .filter(filter)
                    .remap(torchvision_keys());
                self.load_from(&mut store)
                    .map_err(|e| unreadable(e.to_string()))?
            }
            #[cfg(feature = "import")]
            WeightsFormat::Pytorch => {
                let mut store = PytorchStore::from_file(path)
                    .map_indices_contiguous(false)
                    .validate(false)
                    .allow_partial(true)
                    .filter(filter)
                    .remap(torchvision_keys());
                self.load_from(&mut store)
                    .map_err(|e| unreadable(e.to_string()))?
            }
            #[allow(unreachable_patterns)]
            _ => return Err(format.disabled(path)),
        };
        if !with_head {
            result.missing.retain(|(key, _)| !is_head(key));
            result.unused.retain(|key| !is_head(key));
        }
        check_result(path, &result, &expected)?;
        Ok(self)
    }

    /// Writes every parameter to `path`, as burnpack (`.bpk`) or safetensors (`.safetensors`,
    /// PyTorch layout), with the model's [`AlexNetConfig`](crate::AlexNetConfig) as metadata,
    /// so [`AlexNet::from_file`] rebuilds it from the file alone. The file is written to a
    /// temporary name, synced and renamed, so `path` holds either the old file or the complete
    /// new one, never a partial write.
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<(), WeightsError> {
        self.save_with_metadata(path.as_ref(), None)
    }

    /// [`save_weights`](Self::save_weights) with the class names (in output order) recorded
    /// too, for [`WeightsInfo::classes`].
    pub fn save_weights_with_classes(
        &self,
        path: impl AsRef<Path>,
        classes: &[String],
    ) -> Result<(), WeightsError> {
        self.save_with_metadata(path.as_ref(), Some(classes))
    }

    fn save_with_metadata(
        &self,
        path: &Path,
        classes: Option<&[String]>,
    ) -> Result<(), WeightsError> {
        let format = WeightsFormat::from_path(path).ok_or_else(|| WeightsError::UnknownFormat {
            path: path.to_path_buf(),
        })?;
        match format {
            WeightsFormat::Pytorch => {
                return Err(WeightsError::ReadOnlyFormat {
                    path: path.to_path_buf(),
                });
            }
            #[cfg(not(feature = "safetensors"))]
            WeightsFormat::Safetensors => return Err(format.disabled(path)),
            _ => {}
        }
        let metadata = info::metadata_entries(&self.config, classes);
        crate::atomic::write_with(path, |tmp| {
            self.save_to(format, tmp, &metadata)
                .map_err(io::Error::other)
        })
        .map_err(|e| WeightsError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
    }

    /// Writes every parameter to `tmp` in `format` (a writable one), with `metadata`.
    fn save_to(
        &self,
        format: WeightsFormat,
        tmp: &Path,
        metadata: &[(&'static str, String)],
    ) -> Result<(), String> {
        match format {
            WeightsFormat::Burnpack => {
                let mut store = BurnpackStore::from_file(tmp)
                    .auto_extension(false)
                    .overwrite(true);
                for (key, value) in metadata {
                    store = store.metadata(*key, value.as_str());
                }
                self.save_into(&mut store).map_err(|e| e.to_string())
            }
            #[cfg(feature = "safetensors")]
            WeightsFormat::Safetensors => {
                let mut store = SafetensorsStore::from_file(tmp)
                    .with_to_adapter(BurnToPyTorchAdapter)
                    .overwrite(true);
                for (key, value) in metadata {
                    store = store.metadata(*key, value.as_str());
                }
                self.save_into(&mut store).map_err(|e| e.to_string())
            }
            #[allow(unreachable_patterns)]
            _ => Err(format!("{format:?} files cannot be written")),
        }
    }

    /// Every parameter's key (`conv1.weight`, ...) and shape, in Burn's layout.
    pub fn parameter_shapes(&self) -> Vec<(String, Vec<usize>)> {
        self.collect(None, None, false)
            .into_iter()
            .map(|tensor| (tensor.name, tensor.shape.to_vec()))
            .collect()
    }
}

/// Whether a parameter key belongs to the classifier head.
fn is_head(key: &str) -> bool {
    key.starts_with("fc8.")
}

/// Remapping rules that turn torchvision's keys into this crate's; keys already in this crate's
/// naming pass through unchanged.
fn torchvision_keys() -> KeyRemapper {
    TORCHVISION_KEYS
        .iter()
        .try_fold(KeyRemapper::new(), |remapper, &(from, to)| {
            remapper.add_pattern(from, to)
        })
        .expect("the torchvision key patterns are valid regexes")
}

/// Turns a lenient [`ApplyResult`] into the strict outcome users expect.
fn check_result(
    path: &Path,
    result: &ApplyResult,
    expected: &[(String, Vec<usize>)],
) -> Result<(), WeightsError> {
    let path = path.to_path_buf();
    if let Some(error) = result.errors.first() {
        return Err(match error {
            ApplyError::ShapeMismatch {
                path: tensor,
                expected,
                found,
            } => WeightsError::ShapeMismatch {
                path,
                tensor: tensor.clone(),
                expected: expected.to_vec(),
                found: found.to_vec(),
            },
            other => WeightsError::Apply {
                path,
                reason: other.to_string(),
            },
        });
    }
    if let Some((tensor, _)) = result.missing.first() {
        let shape = expected
            .iter()
            .find(|(key, _)| key == tensor)
            .map(|(_, shape)| shape.clone())
            .unwrap_or_default();
        return Err(WeightsError::MissingTensor {
            tensor: tensor.clone(),
            expected: shape,
            path,
        });
    }
    if let Some(tensor) = result.unused.first() {
        return Err(WeightsError::UnexpectedTensor {
            tensor: tensor.clone(),
            path,
        });
    }
    Ok(())
}
