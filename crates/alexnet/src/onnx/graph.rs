//! The inference graph of an [`AlexNet`] as ONNX nodes and initializers, layer by layer as
//! [`AlexNet::forward`] runs them (dropout left out).

use burn::module::Param;
use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::tensor::Tensor;

use super::proto::attribute_proto::AttributeType;
use super::proto::tensor_proto::DataType;
use super::proto::{AttributeProto, GraphProto, NodeProto, TensorProto};
use super::{INPUT_NAME, OUTPUT_LOGITS, OUTPUT_PROBABILITIES, OnnxError, OnnxOptions};
use crate::AlexNet;

/// The nodes and initializers of a graph under construction, and the spatial size of the
/// tensor the last node produced.
struct Builder {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    /// `[H, W]` of the current feature map.
    side: [usize; 2],
}

/// The graph of `model` for `[N, 3, H, W]` input (`[H, W]` from `options`), ending in
/// `logits` or `probabilities`: its nodes, initializers and the output's name.
pub(super) fn build(
    model: &AlexNet,
    options: &OnnxOptions,
    [height, width]: [usize; 2],
) -> Result<(GraphProto, &'static str), OnnxError> {
    let mut b = Builder {
        nodes: Vec::new(),
        initializers: Vec::new(),
        side: [height, width],
    };
    let x = b.conv("conv1", &model.conv1, INPUT_NAME)?; // [N, 96, 55, 55]
    let x = b.relu("relu1", &x);
    let x = b.norm(model, "1", &x)?;
    let x = b.max_pool("pool1", &model.pool, &x)?; // [N, 96, 27, 27]
    let x = b.conv("conv2", &model.conv2, &x)?; // [N, 256, 27, 27]
    let x = b.relu("relu2", &x);
    let x = b.norm(model, "2", &x)?;
    let x = b.max_pool("pool2", &model.pool, &x)?; // [N, 256, 13, 13]
    let x = b.conv("conv3", &model.conv3, &x)?;
    let x = b.relu("relu3", &x); // [N, 384, 13, 13]
    let x = b.conv("conv4", &model.conv4, &x)?;
    let x = b.relu("relu4", &x); // [N, 384, 13, 13]
    let x = b.conv("conv5", &model.conv5, &x)?;
    let x = b.relu("relu5", &x); // [N, 256, 13, 13]
    let x = b.max_pool("pool5", &model.pool, &x)?; // [N, 256, 6, 6]
    let x = b.adaptive_avg_pool("avgpool", model.avgpool.output_size, &x)?; // [N, 256, 6, 6]
    let x = b.node("Flatten", "flatten", &[&x], vec![int("axis", 1)]); // [N, 9216]
    let x = b.linear("fc6", &model.fc6, &x)?;
    let x = b.relu("relu6", &x); // [N, 4096]
    let x = b.linear("fc7", &model.fc7, &x)?;
    let x = b.relu("relu7", &x); // [N, 4096]
    let (logits, output) = if options.softmax {
        ("fc8", OUTPUT_PROBABILITIES)
    } else {
        (OUTPUT_LOGITS, OUTPUT_LOGITS)
    };
    let x = b.linear_to("fc8", logits, &model.fc8, &x)?; // [N, num_classes]
    if options.softmax {
        b.node("Softmax", output, &[&x], vec![int("axis", 1)]);
    }
    let graph = GraphProto {
        name: Some("alexnet".to_owned()),
        node: b.nodes,
        initializer: b.initializers,
        ..GraphProto::default()
    };
    Ok((graph, output))
}

impl Builder {
    /// Appends a node `op` whose output (and node name) is `name`; returns the output's name.
    fn node(
        &mut self,
        op: &str,
        name: &str,
        inputs: &[&str],
        attribute: Vec<AttributeProto>,
    ) -> String {
        self.nodes.push(NodeProto {
            name: Some(name.to_owned()),
            op_type: Some(op.to_owned()),
            input: inputs.iter().map(|&i| i.to_owned()).collect(),
            output: vec![name.to_owned()],
            attribute,
            ..NodeProto::default()
        });
        name.to_owned()
    }

    fn relu(&mut self, name: &str, x: &str) -> String {
        self.node("Relu", name, &[x], Vec::new())
    }

    /// An f32 initializer named `name` with `values` of shape `dims`.
    fn constant(
        &mut self,
        name: &str,
        dims: &[usize],
        values: impl Iterator<Item = f32>,
    ) -> String {
        self.initializers.push(TensorProto {
            name: Some(name.to_owned()),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: Some(DataType::Float as i32),
            raw_data: Some(values.flat_map(f32::to_le_bytes).collect()),
            ..TensorProto::default()
        });
        name.to_owned()
    }

    /// A parameter of the model as an initializer named `name`.
    fn param<const D: usize>(&mut self, name: &str, param: &Param<Tensor<D>>) -> String {
        let data = param.val().into_data();
        let dims = data.shape().to_vec();
        self.constant(name, &dims, data.iter::<f32>())
    }

    /// `Conv` with the layer's weight, bias, stride, padding, dilation and groups.
    fn conv(&mut self, name: &str, layer: &Conv2d, x: &str) -> Result<String, OnnxError> {
        let [top, left, bottom, right] = explicit_padding(name, &layer.padding)?;
        let mut inputs = vec![
            x.to_owned(),
            self.param(&format!("{name}.weight"), &layer.weight),
        ];
        if let Some(bias) = &layer.bias {
            inputs.push(self.param(&format!("{name}.bias"), bias));
        }
        let attributes = vec![
            ints("kernel_shape", &layer.kernel_size),
            ints("strides", &layer.stride),
            ints("pads", &[top, left, bottom, right]),
            ints("dilations", &layer.dilation),
            int("group", layer.groups as i64),
        ];
        self.side = window_output(
            name,
            self.side,
            layer.kernel_size,
            layer.stride,
            [top + bottom, left + right],
            layer.dilation,
            false,
        )?;
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Ok(self.node("Conv", name, &inputs, attributes))
    }

    /// `LRN` after conv1's or conv2's ReLU where the model has it; `x` unchanged otherwise.
    fn norm(&mut self, model: &AlexNet, layer: &str, x: &str) -> Result<String, OnnxError> {
        if model.lrn.is_none() {
            return Ok(x.to_owned());
        }
        let Some(lrn) = &model.config.lrn else {
            return Err(OnnxError::Unsupported {
                layer: "lrn".to_owned(),
                what: "a local response normalisation its configuration does not describe".into(),
            });
        };
        // ONNX's LRN divides alpha by the window size and sums over floor((size - 1) / 2)
        // channels before and ceil((size - 1) / 2) after: Burn's window (and PyTorch's for the
        // odd sizes AlexNet uses).
        let attributes = vec![
            int("size", lrn.size as i64),
            float("alpha", lrn.alpha as f32),
            float("beta", lrn.beta as f32),
            float("bias", lrn.k as f32),
        ];
        Ok(self.node("LRN", &format!("lrn{layer}"), &[x], attributes))
    }

    /// `MaxPool` with the layer's window, stride, padding, dilation and rounding.
    fn max_pool(&mut self, name: &str, layer: &MaxPool2d, x: &str) -> Result<String, OnnxError> {
        let [top, left, bottom, right] = explicit_padding(name, &layer.padding)?;
        let attributes = vec![
            ints("kernel_shape", &layer.kernel_size),
            ints("strides", &layer.stride),
            ints("pads", &[top, left, bottom, right]),
            ints("dilations", &layer.dilation),
            int("ceil_mode", i64::from(layer.ceil_mode)),
        ];
        self.side = window_output(
            name,
            self.side,
            layer.kernel_size,
            layer.stride,
            [top + bottom, left + right],
            layer.dilation,
            layer.ceil_mode,
        )?;
        Ok(self.node("MaxPool", name, &[x], attributes))
    }

    /// The adaptive average pool to `out` for the current map: nothing where the map already
    /// has that size, `AveragePool` where the sides divide evenly, otherwise two `MatMul`s with
    /// constant bin matrices (`P_h [out_h, H]` on the left, `P_w [W, out_w]` on the right, each
    /// row or column averaging the bins `floor(i * S / out) .. ceil((i + 1) * S / out)`).
    fn adaptive_avg_pool(
        &mut self,
        name: &str,
        out: [usize; 2],
        x: &str,
    ) -> Result<String, OnnxError> {
        let [h, w] = self.side;
        let node = if self.side == out {
            x.to_owned()
        } else if h % out[0] == 0 && w % out[1] == 0 {
            let kernel = [h / out[0], w / out[1]];
            let attributes = vec![ints("kernel_shape", &kernel), ints("strides", &kernel)];
            self.node("AveragePool", name, &[x], attributes)
        } else {
            let rows = bins(out[0], h); // [out_h, H]
            let cols = bins(out[1], w); // [out_w, W]
            let ph = self.constant(&format!("{name}.rows"), &[out[0], h], rows.into_iter());
            let pw = transpose(&cols, out[1], w); // [W, out_w]
            let pw = self.constant(&format!("{name}.cols"), &[w, out[1]], pw.into_iter());
            let half = self.node("MatMul", &format!("{name}_rows"), &[&ph, x], Vec::new());
            self.node("MatMul", name, &[&half, &pw], Vec::new())
        };
        self.side = out;
        Ok(node)
    }

    /// `Gemm` with the layer's `[in, out]` weight as B (no transpose) and its bias as C.
    fn linear(&mut self, name: &str, layer: &Linear, x: &str) -> Result<String, OnnxError> {
        self.linear_to(name, name, layer, x)
    }

    /// [`linear`](Self::linear) with the parameters named after `layer_name` and the output
    /// `output`.
    fn linear_to(
        &mut self,
        layer_name: &str,
        output: &str,
        layer: &Linear,
        x: &str,
    ) -> Result<String, OnnxError> {
        let weight = self.param(&format!("{layer_name}.weight"), &layer.weight);
        let mut inputs = vec![x.to_owned(), weight];
        if let Some(bias) = &layer.bias {
            inputs.push(self.param(&format!("{layer_name}.bias"), bias));
        }
        let inputs: Vec<&str> = inputs.iter().map(String::as_str).collect();
        Ok(self.node("Gemm", output, &inputs, Vec::new()))
    }
}

/// A layer's padding as ONNX's `pads` order `[top, left, bottom, right]`.
fn explicit_padding(layer: &str, padding: &PaddingConfig2d) -> Result<[usize; 4], OnnxError> {
    match *padding {
        PaddingConfig2d::Valid => Ok([0; 4]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => Ok([top, left, bottom, right]),
        PaddingConfig2d::Same => Err(OnnxError::Unsupported {
            layer: layer.to_owned(),
            what: "`Same` padding".into(),
        }),
    }
}

/// The output side of a sliding window (convolution or pool) over `side`, or an error when the
/// window does not fit.
fn window_output(
    layer: &str,
    side: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    dilation: [usize; 2],
    ceil: bool,
) -> Result<[usize; 2], OnnxError> {
    let mut out = [0; 2];
    for i in 0..2 {
        let span = dilation[i] * (kernel[i] - 1) + 1;
        let room = (side[i] + pad[i])
            .checked_sub(span)
            .ok_or_else(|| OnnxError::Unsupported {
                layer: layer.to_owned(),
                what: format!(
                    "an input of {}x{} at this layer, smaller than its window",
                    side[0], side[1]
                ),
            })?;
        out[i] = if ceil {
            room.div_ceil(stride[i])
        } else {
            room / stride[i]
        } + 1;
    }
    Ok(out)
}

/// The `[out, size]` matrix whose row `i` averages the adaptive pool's bin `i` of `size` inputs.
fn bins(out: usize, size: usize) -> Vec<f32> {
    let mut matrix = vec![0.0; out * size];
    for i in 0..out {
        let start = i * size / out;
        let end = ((i + 1) * size).div_ceil(out).min(size);
        let weight = 1.0 / (end - start) as f32;
        matrix[i * size + start..i * size + end].fill(weight);
    }
    matrix
}

/// `matrix` (`rows x cols`, row-major) transposed.
fn transpose(matrix: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| matrix[r * cols + c]))
        .collect()
}

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Ints as i32),
        ints: values.iter().map(|&v| v as i64).collect(),
        ..AttributeProto::default()
    }
}

fn int(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Int as i32),
        i: Some(value),
        ..AttributeProto::default()
    }
}

fn float(name: &str, value: f32) -> AttributeProto {
    AttributeProto {
        name: Some(name.to_owned()),
        r#type: Some(AttributeType::Float as i32),
        f: Some(value),
        ..AttributeProto::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_pytorchs_adaptive_pool_bins() {
        // torch.nn.AdaptiveAvgPool1d(2) over 5 inputs averages [0, 3) and [2, 5).
        let m = bins(2, 5);
        let third = 1.0 / 3.0;
        assert_eq!(
            m,
            vec![third, third, third, 0.0, 0.0, 0.0, 0.0, third, third, third]
        );
        // Sizes that divide: disjoint equal windows.
        assert_eq!(bins(2, 4), vec![0.5, 0.5, 0.0, 0.0, 0.0, 0.0, 0.5, 0.5]);
    }

    #[test]
    fn window_output_matches_the_models_shapes() {
        let conv1 = window_output("conv1", [227, 227], [11, 11], [4, 4], [0, 0], [1, 1], false);
        assert_eq!(conv1.ok(), Some([55, 55]));
        let pool = window_output("pool", [55, 55], [3, 3], [2, 2], [0, 0], [1, 1], false);
        assert_eq!(pool.ok(), Some([27, 27]));
        let ceil = window_output("pool", [14, 14], [3, 3], [2, 2], [0, 0], [1, 1], true);
        assert_eq!(ceil.ok(), Some([7, 7]));
        assert!(window_output("pool", [2, 9], [3, 3], [2, 2], [0, 0], [1, 1], false).is_err());
    }
}
