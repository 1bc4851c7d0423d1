//! ONNX export (feature `onnx`): [`AlexNet::save_onnx`] writes the model's inference graph, its
//! weights and its description as an ONNX file that ONNX Runtime, TensorRT, OpenVINO and other
//! runtimes load.
//!
//! The graph is the forward pass of [`AlexNet::forward`] in evaluation mode (no dropout), in
//! float32, at opset 13 (IR version 8):
//!
//! - input `images`, `[N, 3, H, W]` float32 with a symbolic batch `N`, RGB scaled to 0..1 and
//!   normalised with ImageNet's mean `[0.485, 0.456, 0.406]` and standard deviation
//!   `[0.229, 0.224, 0.225]`; `H` and `W` are fixed (the configuration's `image_size` unless
//!   [`OnnxOptions::input_size`] says otherwise);
//! - `Conv` (with its groups), `Relu`, `LRN` where the variant has it, `MaxPool`; the adaptive
//!   average pool as nothing at the native size, as `AveragePool` where the sides divide evenly,
//!   and otherwise as two `MatMul`s with constant bin matrices (exactly Burn's and PyTorch's
//!   bins); `Flatten` and `Gemm` for the fully connected layers;
//! - output `logits`, `[N, classes]`, or `probabilities` after a `Softmax` with
//!   [`OnnxOptions::softmax`];
//! - the parameters as float32 initializers under their Burn names (`conv1.weight`, ...);
//! - `metadata_props`: `model` (`alexnet`), `alexnet.config` (the [`AlexNetConfig`] as JSON, as
//!   in a saved weights file), `alexnet.classes` (a JSON array, when class names are given) and
//!   `preprocessing` (the expected input in words).
//!
//! [`AlexNetConfig`]: crate::AlexNetConfig

mod graph;
#[allow(missing_docs, clippy::all, clippy::pedantic)]
mod proto;

use std::io;
use std::path::{Path, PathBuf};

use prost::Message;

use self::proto::tensor_proto::DataType;
use self::proto::tensor_shape_proto::{Dimension, dimension};
use self::proto::type_proto;
use self::proto::{
    ModelProto, OperatorSetIdProto, StringStringEntryProto, TensorShapeProto, TypeProto,
    ValueInfoProto,
};
use crate::weights::metadata_entries;
use crate::{AlexNet, InputError};

/// Name of the graph's input.
pub const INPUT_NAME: &str = "images";
/// Name of the graph's output without the softmax.
pub const OUTPUT_LOGITS: &str = "logits";
/// Name of the graph's output with the softmax ([`OnnxOptions::softmax`]).
pub const OUTPUT_PROBABILITIES: &str = "probabilities";
/// The ONNX operator set the graph is written for.
pub const OPSET: i64 = 13;
/// The ONNX IR version of the file (ONNX 1.10 and ONNX Runtime 1.10 onwards read it).
pub const IR_VERSION: i64 = 8;
/// The symbolic batch dimension of the input and output.
pub const BATCH_DIM: &str = "N";
/// The `preprocessing` entry of the file's metadata.
pub const PREPROCESSING: &str = "RGB, NCHW float32, scaled to 0..1, then normalised with \
     mean [0.485, 0.456, 0.406] and std [0.229, 0.224, 0.225]";

/// What [`AlexNet::save_onnx`] writes besides the network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OnnxOptions {
    /// End the graph with a softmax over the classes (output `probabilities`); the default is
    /// the logits (output `logits`), as `torch.onnx.export` of torchvision's model gives.
    pub softmax: bool,
    /// The input's `[height, width]`; `None`: the configuration's `image_size`, square. Any size
    /// the model accepts (from its `min_input_size` up) can be written; the graph is fixed for it.
    pub input_size: Option<[usize; 2]>,
    /// Class names in output order, stored as the `alexnet.classes` metadata entry.
    pub class_names: Option<Vec<String>>,
}

impl OnnxOptions {
    /// With or without the final softmax.
    pub fn with_softmax(self, softmax: bool) -> Self {
        Self { softmax, ..self }
    }

    /// For `[height, width]` input.
    pub fn with_input_size(self, input_size: [usize; 2]) -> Self {
        Self {
            input_size: Some(input_size),
            ..self
        }
    }

    /// With the model's class names in the file's metadata.
    pub fn with_class_names(self, class_names: Vec<String>) -> Self {
        Self {
            class_names: Some(class_names),
            ..self
        }
    }
}

/// Why a model could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// The input size cannot go through the network.
    #[error("cannot export for this input size: {0}")]
    Input(#[from] InputError),
    /// A layer is set up in a way the exporter does not write.
    #[error("{layer}: {what} cannot be exported to ONNX")]
    Unsupported {
        /// The layer.
        layer: String,
        /// What about it.
        what: String,
    },
    /// The class names do not match the head.
    #[error("{given} class names given for a head of {classes} outputs")]
    ClassNames {
        /// Names given.
        given: usize,
        /// Outputs of the head.
        classes: usize,
    },
    /// The file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

impl AlexNet {
    /// The model as the bytes of an ONNX file (see the [module documentation](crate::onnx)).
    pub fn to_onnx(&self, options: &OnnxOptions) -> Result<Vec<u8>, OnnxError> {
        Ok(self.onnx_model(options)?.encode_to_vec())
    }

    /// Writes the model as an ONNX file at `path`, replacing it atomically (see
    /// [`atomic`](crate::atomic)): a failed export leaves an existing file as it was.
    ///
    /// ```no_run
    /// use alexnet::AlexNetConfig;
    /// use alexnet::onnx::OnnxOptions;
    ///
    /// let model = AlexNetConfig::standard().init(&Default::default());
    /// model.save_onnx("alexnet.onnx", &OnnxOptions::default())?;
    /// # Ok::<(), alexnet::onnx::OnnxError>(())
    /// ```
    pub fn save_onnx(
        &self,
        path: impl AsRef<Path>,
        options: &OnnxOptions,
    ) -> Result<(), OnnxError> {
        let path = path.as_ref();
        let bytes = self.to_onnx(options)?;
        crate::atomic::write(path, bytes).map_err(|source| OnnxError::Io {
            path: path.to_owned(),
            source,
        })
    }

    fn onnx_model(&self, options: &OnnxOptions) -> Result<ModelProto, OnnxError> {
        let classes = self.num_classes();
        if let Some(names) = &options.class_names
            && names.len() != classes
        {
            return Err(OnnxError::ClassNames {
                given: names.len(),
                classes,
            });
        }
        let size = options.input_size.unwrap_or([self.config.image_size; 2]);
        self.check_input([1, 3, size[0], size[1]])?;
        let (mut graph, output) = graph::build(self, options, size)?;
        graph.input = vec![tensor_info(INPUT_NAME, &[3, size[0], size[1]])];
        graph.output = vec![tensor_info(output, &[classes])];
        let mut metadata = metadata_entries(&self.config, options.class_names.as_deref());
        metadata.push(("preprocessing", PREPROCESSING.to_owned()));
        Ok(ModelProto {
            ir_version: Some(IR_VERSION),
            opset_import: vec![OperatorSetIdProto {
                domain: Some(String::new()),
                version: Some(OPSET),
            }],
            producer_name: Some("alexnet-burn".to_owned()),
            producer_version: Some(env!("CARGO_PKG_VERSION").to_owned()),
            doc_string: Some(format!(
                "AlexNet (Krizhevsky et al., 2012), {classes} classes, {}x{} input",
                size[0], size[1]
            )),
            graph: Some(graph),
            metadata_props: metadata
                .into_iter()
                .map(|(key, value)| StringStringEntryProto {
                    key: Some(key.to_owned()),
                    value: Some(value),
                })
                .collect(),
            ..ModelProto::default()
        })
    }
}

/// A float32 tensor `[N, dims...]` with the symbolic batch `N`.
fn tensor_info(name: &str, dims: &[usize]) -> ValueInfoProto {
    let batch = Dimension {
        value: Some(dimension::Value::DimParam(BATCH_DIM.to_owned())),
        ..Dimension::default()
    };
    let fixed = dims.iter().map(|&d| Dimension {
        value: Some(dimension::Value::DimValue(d as i64)),
        ..Dimension::default()
    });
    let shape = TensorShapeProto {
        dim: std::iter::once(batch).chain(fixed).collect(),
    };
    ValueInfoProto {
        name: Some(name.to_owned()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(shape),
            })),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}
