//! ONNX export: the exported file, run by tract (a Rust ONNX runtime), gives `AlexNet::forward`'s
//! logits within 1e-4 of their largest magnitude, for every variant, at batch 1 and 3 from one
//! file (the batch is symbolic), at the native size and at small and non-square sizes (the
//! adaptive pool as `AveragePool` or as bin matrices); the metadata round-trips; bad options are
//! refused without touching an existing file.
#![cfg(feature = "onnx")]

mod common;

use alexnet::onnx::{OnnxError, OnnxOptions};
use alexnet::{AlexNet, AlexNetConfig, AlexNetInit, InputError, LrnConfig};
use burn::module::Module;
use burn::tensor::{Device, Distribution, Tensor};
use common::{relative_error, values};
use tract_onnx::prelude::{Framework, InferenceModelExt, TypedModel, TypedRunnableModel, tvec};

/// Largest difference to Burn's logits, relative to their largest magnitude.
const TOLERANCE: f32 = 1e-4;

fn flex() -> Device {
    alexnet_device::parse_device("flex").expect("flex is a dev-dependency feature")
}

/// `model` exported with `options` and loaded by tract, its batch left symbolic.
fn tract_model(model: &AlexNet, options: &OnnxOptions) -> TypedRunnableModel<TypedModel> {
    let bytes = model.to_onnx(options).expect("export");
    tract_onnx::onnx()
        .model_for_read(&mut bytes.as_slice())
        .expect("tract reads the file")
        .into_optimized()
        .expect("tract optimises the graph")
        .into_runnable()
        .expect("tract runs the graph")
}

/// tract's output for `images`, and Burn's, as flat vectors.
fn both(
    runnable: &TypedRunnableModel<TypedModel>,
    model: &AlexNet,
    images: Tensor<4>,
    softmax: bool,
) -> (Vec<f32>, Vec<f32>) {
    let [n, c, h, w] = images.dims();
    let pixels = values(images.clone());
    let input = tract_onnx::prelude::tract_ndarray::Array4::from_shape_vec((n, c, h, w), pixels)
        .expect("shape");
    let input = tract_onnx::prelude::Tensor::from(input);
    let outputs = runnable
        .run(tvec!(input.into()))
        .expect("tract runs the exported model");
    let onnx = outputs[0].to_array_view::<f32>().expect("f32 output");
    assert_eq!(onnx.shape(), [n, model.num_classes()], "output shape");
    let logits = model.forward(images);
    let burn = if softmax {
        burn::tensor::activation::softmax(logits, 1)
    } else {
        logits
    };
    (onnx.iter().copied().collect(), values(burn))
}

/// Exports `config` for `size` and checks batch 1 and 3 against `AlexNet::forward`.
fn check(config: AlexNetConfig, size: [usize; 2], softmax: bool) {
    let device = flex();
    let model = config.init(&device);
    let options = OnnxOptions::default()
        .with_input_size(size)
        .with_softmax(softmax);
    let runnable = tract_model(&model, &options);
    for batch in [1, 3] {
        let images = Tensor::<4>::random(
            [batch, 3, size[0], size[1]],
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let (onnx, burn) = both(&runnable, &model, images, softmax);
        let error = relative_error(&onnx, &burn);
        assert!(
            error <= TOLERANCE,
            "{size:?} batch {batch}: relative error {error:e} over {TOLERANCE:e}"
        );
    }
}

#[test]
fn standard_at_227_matches_forward() {
    check(AlexNetConfig::standard(), [227, 227], false);
}

#[test]
fn paper2012_with_lrn_and_groups_at_227_matches_forward() {
    check(AlexNetConfig::paper2012(), [227, 227], false);
}

#[test]
fn torchvision_at_224_and_227_matches_forward() {
    check(AlexNetConfig::torchvision(), [224, 224], false);
    check(AlexNetConfig::torchvision(), [227, 227], false);
}

#[test]
fn small_sizes_with_other_class_counts_match_forward() {
    // 67 px: a 1x1 map spread to 6x6 by the bin matrices; 99x131: bins of unequal sizes, and
    // non-square; 419 px: a 12x12 map, pooled by AveragePool.
    check(
        AlexNetConfig::standard()
            .with_num_classes(10)
            .with_width(0.5),
        [67, 67],
        false,
    );
    check(
        AlexNetConfig::paper2012()
            .with_num_classes(7)
            .with_width(0.25),
        [99, 131],
        false,
    );
    check(
        AlexNetConfig::torchvision()
            .with_num_classes(3)
            .with_width(0.25),
        [128, 128],
        false,
    );
    check(
        AlexNetConfig::standard()
            .with_num_classes(5)
            .with_width(0.125),
        [419, 419],
        false,
    );
}

#[test]
fn softmax_output_matches_softmax_of_forward() {
    check(
        AlexNetConfig::standard()
            .with_num_classes(10)
            .with_width(0.5),
        [67, 67],
        true,
    );
}

#[test]
fn graph_has_a_symbolic_batch_and_the_documented_names() {
    let model = AlexNetConfig::paper2012()
        .with_num_classes(4)
        .with_width(0.125)
        .init(&flex());
    let bytes = model.to_onnx(&OnnxOptions::default()).expect("export");
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .expect("tract parses the protobuf");
    let graph = proto.graph.expect("a graph");
    assert_eq!(proto.opset_import[0].version, alexnet::onnx::OPSET);
    assert_eq!(proto.ir_version, alexnet::onnx::IR_VERSION);
    assert_eq!(graph.input.len(), 1);
    assert_eq!(graph.input[0].name, "images");
    assert_eq!(graph.output[0].name, "logits");
    let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(ops.iter().filter(|&&op| op == "LRN").count(), 2, "{ops:?}");
    assert_eq!(ops.iter().filter(|&&op| op == "Conv").count(), 5, "{ops:?}");
    assert!(!ops.contains(&"Dropout"), "{ops:?}");
    let dims = |info: &tract_onnx::pb::ValueInfoProto| format!("{:?}", info.r#type);
    assert!(
        dims(&graph.input[0]).contains("DimParam(\"N\")"),
        "{}",
        dims(&graph.input[0])
    );
    assert!(
        dims(&graph.output[0]).contains("DimParam(\"N\")"),
        "{}",
        dims(&graph.output[0])
    );
    let initializers: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    assert!(initializers.contains(&"conv1.weight") && initializers.contains(&"fc8.bias"));
}

/// An LRN strong enough to move the logits far beyond the tolerance: a window of 3 channels,
/// alpha 2, beta 0.6, k 1.5, after He-initialised convolutions that keep activations near 1.
fn active_lrn_config() -> AlexNetConfig {
    let mut config = AlexNetConfig::paper2012()
        .with_num_classes(6)
        .with_width(0.25)
        .with_init(AlexNetInit::Kaiming);
    config.lrn = Some(
        LrnConfig::new()
            .with_size(3)
            .with_alpha(2.0)
            .with_beta(0.6)
            .with_k(1.5),
    );
    config
}

/// `model`'s weights in a model built from `config` (LRN has no parameters of its own).
fn with_lrn(model: &AlexNet, lrn: LrnConfig, device: &Device) -> AlexNet {
    let mut config = model.config.clone();
    config.lrn = Some(lrn);
    config.init(device).load_record(model.clone().into_record())
}

#[test]
fn an_active_lrn_is_exported_with_its_size_alpha_beta_and_bias() {
    let device = flex();
    let config = active_lrn_config();
    let lrn = config.lrn.clone().expect("an LRN");
    let model = config.init(&device);
    let images = Tensor::<4>::random([2, 3, 99, 99], Distribution::Normal(0.0, 1.0), &device);
    // Each constant matters: changing any one moves the logits by over 10x the tolerance, so an
    // export that got one wrong could not pass the comparison below.
    let logits = values(model.forward(images.clone()));
    for changed in [
        lrn.clone().with_size(5),
        lrn.clone().with_alpha(2.2),
        lrn.clone().with_beta(0.66),
        lrn.clone().with_k(1.65),
    ] {
        let moved = relative_error(
            &values(with_lrn(&model, changed.clone(), &device).forward(images.clone())),
            &logits,
        );
        assert!(
            moved > 10.0 * TOLERANCE,
            "{changed:?} moves the logits by only {moved:e}"
        );
    }
    let options = OnnxOptions::default().with_input_size([99, 99]);
    let (onnx, burn) = both(&tract_model(&model, &options), &model, images, false);
    let error = relative_error(&onnx, &burn);
    assert!(
        error <= TOLERANCE,
        "relative error {error:e} over {TOLERANCE:e}"
    );
    // The nodes carry the constants ONNX's LRN takes (alpha not divided by the window size).
    let bytes = model.to_onnx(&options).expect("export");
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .expect("tract parses the protobuf");
    let nodes: Vec<_> = proto
        .graph
        .expect("a graph")
        .node
        .into_iter()
        .filter(|n| n.op_type == "LRN")
        .collect();
    assert_eq!(nodes.len(), 2);
    for node in nodes {
        let attr = |name: &str| {
            node.attribute
                .iter()
                .find(|a| a.name == name)
                .unwrap_or_else(|| panic!("{}: no {name}", node.name))
                .clone()
        };
        assert_eq!(attr("size").i, 3, "{}", node.name);
        assert_eq!(attr("alpha").f, 2.0, "{}", node.name);
        assert_eq!(attr("beta").f, 0.6, "{}", node.name);
        assert_eq!(attr("bias").f, 1.5, "{}", node.name);
    }
}

#[test]
fn metadata_round_trips() {
    let config = AlexNetConfig::paper2012()
        .with_num_classes(3)
        .with_width(0.125);
    let model = config.init(&flex());
    let classes = vec![
        "cat".to_owned(),
        "dog \"good\"".to_owned(),
        "ünïcode".to_owned(),
    ];
    let options = OnnxOptions::default().with_class_names(classes.clone());
    let bytes = model.to_onnx(&options).expect("export");
    let proto = tract_onnx::onnx()
        .proto_model_for_read(&mut bytes.as_slice())
        .expect("tract parses the protobuf");
    let meta = |key: &str| {
        proto
            .metadata_props
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.clone())
            .unwrap_or_else(|| panic!("no {key} entry"))
    };
    let read: Vec<String> = serde_json::from_str(&meta("alexnet.classes")).expect("JSON array");
    assert_eq!(read, classes);
    let read: AlexNetConfig = serde_json::from_str(&meta("alexnet.config")).expect("config JSON");
    assert_eq!(read, config);
    assert_eq!(meta("model"), "alexnet");
    assert!(meta("preprocessing").contains("0.485"));
}

#[test]
fn bad_options_are_refused_and_leave_an_existing_file() {
    let model = AlexNetConfig::standard()
        .with_num_classes(3)
        .with_width(0.125)
        .init(&flex());
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("model.onnx");
    std::fs::write(&path, b"old").expect("write");
    let names = OnnxOptions::default().with_class_names(vec!["one".into()]);
    let err = model
        .save_onnx(&path, &names)
        .expect_err("1 name for 3 classes");
    assert!(
        matches!(
            err,
            OnnxError::ClassNames {
                given: 1,
                classes: 3
            }
        ),
        "{err}"
    );
    let small = OnnxOptions::default().with_input_size([66, 200]);
    let err = model
        .save_onnx(&path, &small)
        .expect_err("66 px is below the minimum");
    assert!(
        matches!(err, OnnxError::Input(InputError::TooSmall { min: 67, .. })),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).expect("read"), b"old");
    let missing = dir.path().join("no/such/dir/model.onnx");
    let err = model
        .save_onnx(&missing, &OnnxOptions::default())
        .expect_err("no directory");
    assert!(
        matches!(err, OnnxError::Io { .. }) && err.to_string().contains("no/such/dir"),
        "{err}"
    );
    model
        .save_onnx(&path, &OnnxOptions::default())
        .expect("export");
    assert!(std::fs::metadata(&path).expect("file").len() > 1000);
}
