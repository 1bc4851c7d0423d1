//! What a weights file says about the network it holds: the [`AlexNetConfig`] (and class names)
//! written as metadata by [`AlexNet::save_weights`], or, for a torchvision state dict without
//! metadata, the configuration its tensor shapes imply.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::Path;

use burn::config::{Config, config_to_json};
use burn::store::burn_pack::Reader;
#[cfg(feature = "import")]
use burn::store::pytorch_reader::PytorchReader;
use burn::tensor::Device;

use super::{WeightsError, WeightsFormat};
use crate::{AlexNet, AlexNetConfig};

/// Metadata key of the model's name (`alexnet`).
const MODEL_KEY: &str = "model";
/// Metadata key of the model's configuration (JSON).
pub(super) const CONFIG_KEY: &str = "alexnet.config";
/// Metadata key of the class names (a JSON array of strings).
pub(super) const CLASSES_KEY: &str = "alexnet.classes";

/// Where a [`WeightsInfo`]'s configuration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// The file's own metadata, written by [`AlexNet::save_weights`].
    Metadata,
    /// The tensor shapes of a torchvision state dict (`features.0.weight`, ...), which has no
    /// metadata: the torchvision variant, widths and class count as the shapes give them.
    TorchvisionShapes,
}

/// The network a weights file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightsInfo {
    /// The configuration to build the model with.
    pub config: AlexNetConfig,
    /// The class names in output order, when the file records them.
    pub classes: Option<Vec<String>>,
    /// Where `config` comes from.
    pub source: ConfigSource,
}

impl WeightsInfo {
    /// Reads what `path` says about its network, without loading its tensors.
    pub fn read(path: impl AsRef<Path>) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        let format = WeightsFormat::of_existing(path)?;
        let unreadable = |reason: String| WeightsError::Unreadable {
            path: path.to_path_buf(),
            reason,
        };
        let (metadata, shapes) = match format {
            WeightsFormat::Burnpack => {
                let reader =
                    Reader::from_file_exact(path).map_err(|e| unreadable(e.to_string()))?;
                let metadata = reader.metadata().clone();
                let tensors = reader
                    .into_tensors()
                    .map_err(|e| unreadable(e.to_string()))?;
                let shapes = tensors
                    .into_iter()
                    .map(|t| (t.name, t.shape.to_vec()))
                    .collect();
                (metadata, shapes)
            }
            WeightsFormat::Safetensors => safetensors_header(path).map_err(unreadable)?,
            #[cfg(not(feature = "import"))]
            WeightsFormat::Pytorch => return Err(format.disabled(path)),
            #[cfg(feature = "import")]
            WeightsFormat::Pytorch => {
                let reader = PytorchReader::new(path).map_err(|e| unreadable(e.to_string()))?;
                let shapes = reader
                    .tensors()
                    .iter()
                    .map(|(name, t)| (name.clone(), t.shape().to_vec()))
                    .collect();
                (BTreeMap::new(), shapes)
            }
        };
        Self::from_parts(path, &metadata, &shapes)
    }

    fn from_parts(
        path: &Path,
        metadata: &BTreeMap<String, String>,
        shapes: &BTreeMap<String, Vec<usize>>,
    ) -> Result<Self, WeightsError> {
        let bad = |reason: String| WeightsError::BadMetadata {
            path: path.to_path_buf(),
            reason,
        };
        let classes = match metadata.get(CLASSES_KEY) {
            Some(json) => Some(
                serde_json::from_str::<Vec<String>>(json)
                    .map_err(|e| bad(format!("{CLASSES_KEY}: {e}")))?,
            ),
            None => None,
        };
        if let Some(json) = metadata.get(CONFIG_KEY) {
            let config = AlexNetConfig::load_binary(json.as_bytes())
                .map_err(|e| bad(format!("{CONFIG_KEY}: {e}")))?;
            return Ok(Self {
                config,
                classes,
                source: ConfigSource::Metadata,
            });
        }
        let config = torchvision_config(shapes).map_err(|reason| WeightsError::Unrecognised {
            path: path.to_path_buf(),
            reason,
        })?;
        Ok(Self {
            config,
            classes,
            source: ConfigSource::TorchvisionShapes,
        })
    }
}

impl AlexNet {
    /// Builds the model a weights file holds and loads it: the configuration comes from the
    /// file's metadata (every file [`save_weights`](Self::save_weights) writes has it), or from
    /// the tensor shapes of a torchvision state dict. Other files are an error that says to
    /// build the model from an [`AlexNetConfig`] and call [`load_weights`](Self::load_weights).
    ///
    /// ```no_run
    /// use alexnet::AlexNet;
    /// use burn::tensor::Device;
    ///
    /// let model = AlexNet::from_file("runs/demo/model.bpk", &Device::default())?;
    /// println!("{} classes", model.num_classes());
    /// # Ok::<(), alexnet::WeightsError>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>, device: &Device) -> Result<Self, WeightsError> {
        let path = path.as_ref();
        let info = WeightsInfo::read(path)?;
        info.config.init(device).load_weights(path)
    }
}

/// The metadata (key, text) that [`AlexNet::save_weights`] writes into a weights file for a
/// model of `config` with `classes`: what makes the file self-describing. For burnpack files
/// written some other way (a training checkpointer's), so that [`WeightsInfo::read`] and
/// [`AlexNet::from_file`] read them as they read a saved model.
pub fn metadata_entries(
    config: &AlexNetConfig,
    classes: Option<&[String]>,
) -> Vec<(&'static str, String)> {
    let mut entries = vec![
        (MODEL_KEY, "alexnet".to_owned()),
        (CONFIG_KEY, config_to_json(config)),
    ];
    if let Some(classes) = classes {
        let json = serde_json::to_string(classes).unwrap_or_else(|_| "[]".into());
        entries.push((CLASSES_KEY, json));
    }
    entries
}

type Header = (BTreeMap<String, String>, BTreeMap<String, Vec<usize>>);

/// The metadata and tensor shapes of a safetensors file, from its JSON header alone.
fn safetensors_header(path: &Path) -> Result<Header, String> {
    let mut file = fs::File::open(path).map_err(|e| e.to_string())?;
    let mut len = [0u8; 8];
    file.read_exact(&mut len).map_err(|e| e.to_string())?;
    let len = u64::from_le_bytes(len);
    let file_len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > file_len.saturating_sub(8) {
        return Err(format!("header of {len} bytes in a file of {file_len}"));
    }
    let mut header = vec![0u8; len as usize];
    file.read_exact(&mut header).map_err(|e| e.to_string())?;
    let header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&header).map_err(|e| format!("header: {e}"))?;
    let mut metadata = BTreeMap::new();
    let mut shapes = BTreeMap::new();
    for (key, value) in header {
        if key == "__metadata__" {
            metadata = serde_json::from_value(value).map_err(|e| format!("metadata: {e}"))?;
        } else {
            let shape = serde_json::from_value(value["shape"].clone())
                .map_err(|e| format!("{key}: shape: {e}"))?;
            shapes.insert(key, shape);
        }
    }
    Ok((metadata, shapes))
}

/// torchvision's `alexnet()` (conv1 padded by 2, 224 px, no groups or LRN) with the widths and
/// class count of a state dict's shapes, or why the shapes are not such a state dict. Shapes
/// cannot show padding, LRN or the initialisation: a file under torchvision's key names is taken
/// to be torchvision's network.
fn torchvision_config(shapes: &BTreeMap<String, Vec<usize>>) -> Result<AlexNetConfig, String> {
    let get = |key: &str| {
        shapes
            .get(key)
            .ok_or_else(|| format!("no tensor `{key}` (not a torchvision AlexNet state dict)"))
    };
    let convs = [
        ("features.0", 11),
        ("features.3", 5),
        ("features.6", 3),
        ("features.8", 3),
        ("features.10", 3),
    ];
    let mut channels = [0; 5];
    let mut c_in = 3;
    for (i, (conv, k)) in convs.iter().enumerate() {
        let shape = get(&format!("{conv}.weight"))?;
        if shape.len() != 4 || shape[1] != c_in || shape[2..] != [*k, *k] {
            return Err(format!(
                "`{conv}.weight` has shape {shape:?}, not [_, {c_in}, {k}, {k}] (grouped or another network)"
            ));
        }
        channels[i] = shape[0];
        c_in = shape[0];
    }
    let fc = |key: &str| -> Result<[usize; 2], String> {
        match get(key)?.as_slice() {
            &[out, inp] => Ok([out, inp]),
            other => Err(format!("`{key}` has shape {other:?}, not a linear weight")),
        }
    };
    let [hidden, fc6_in] = fc("classifier.1.weight")?;
    let [classes, fc8_in] = fc("classifier.6.weight")?;
    if fc("classifier.4.weight")? != [hidden, hidden] || fc8_in != hidden {
        return Err(format!(
            "the classifier's widths do not chain ({hidden} hidden)"
        ));
    }
    if fc6_in != channels[4] * 36 {
        return Err(format!(
            "classifier.1 takes {fc6_in} inputs, not {} (conv5's {} channels at 6x6)",
            channels[4] * 36,
            channels[4]
        ));
    }
    Ok(AlexNetConfig::torchvision()
        .with_channels(channels)
        .with_hidden(hidden)
        .with_num_classes(classes))
}
