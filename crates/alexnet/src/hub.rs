//! torchvision's published weights on disk (the `pretrained` feature): found in torch hub's
//! cache, or downloaded with a progress bar, resumed after an interruption and checked against
//! the SHA-256 prefix in the file name before it is used.

use std::path::PathBuf;

use alexnet_data::download::{Checksum, DownloadError, Remote, cache_dir, fetch};
use burn::tensor::Device;

use crate::{AlexNet, AlexNetWeights, WeightsError};

/// Why published weights could not be had.
#[derive(Debug, thiserror::Error)]
pub enum PretrainedError {
    /// The file is not in torch hub's cache and could not be downloaded and verified.
    #[error("cannot get torchvision's {weights} weights (without a network, put {file} at {dir})")]
    Download {
        /// The weights asked for.
        weights: AlexNetWeights,
        /// The file name to put there by hand.
        file: &'static str,
        /// The folder the download was meant for.
        dir: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<DownloadError>,
    },
    /// The file is there but does not load.
    #[error(transparent)]
    Weights(#[from] WeightsError),
}

impl AlexNetWeights {
    /// The weights file on disk: torch hub's copy when it has one (`$TORCH_HOME/hub/checkpoints`,
    /// else `~/.cache/torch/hub/checkpoints`), else this crate's cache (`$ALEXNET_CACHE_DIR`, else
    /// `~/.cache/alexnet-burn`, under `weights/`), downloaded and checked there when missing.
    pub fn path(self) -> Result<PathBuf, PretrainedError> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let torch_home = var("TORCH_HOME")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache/torch")));
        if let Some(home) = torch_home {
            let file = home.join("hub/checkpoints").join(self.file_name());
            if file.is_file() {
                return Ok(file);
            }
        }
        let dir = cache_dir().join("weights");
        let remote = Remote {
            url: self.url(),
            file_name: self.file_name(),
            checksum: Checksum::Sha256Prefix(self.sha256_prefix()),
        };
        fetch(&remote, &dir).map_err(|source| PretrainedError::Download {
            weights: self,
            file: self.file_name(),
            dir,
            source: Box::new(source),
        })
    }

    /// The network with these weights, on `device` (see [`path`](Self::path)).
    pub fn load(self, device: &Device) -> Result<AlexNet, PretrainedError> {
        let path = self.path()?;
        Ok(self.config().init(device).load_weights(path)?)
    }
}
