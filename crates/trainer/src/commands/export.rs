//! `trainer export`: any model `predict` can load (a run, a weights file, torchvision's
//! weights), written as an ONNX file with its class names (see [`alexnet::onnx`]).

use alexnet::onnx::OnnxOptions;
use anyhow::{Context, Result};

use crate::cli::{ExportArgs, usage};
use crate::inference::load;

/// Runs `trainer export`.
pub fn run(args: &ExportArgs) -> Result<()> {
    if args.image_size == Some(0) {
        return Err(usage("--image-size must be at least 1"));
    }
    let device = crate::device::select(None)?;
    let classifier = load(&args.model, "export", &device)?;
    let model = &classifier.model;
    let size = args.image_size.unwrap_or(model.config.image_size);
    if size < model.min_input_size {
        return Err(usage(format!(
            "--image-size {size} is too small for this model: the minimum is {}",
            model.min_input_size
        )));
    }
    let options = OnnxOptions::default()
        .with_softmax(args.softmax)
        .with_input_size([size, size])
        .with_class_names(classifier.classes.clone());
    model
        .save_onnx(&args.output, &options)
        .with_context(|| format!("cannot export to {}", args.output.display()))?;
    let output = if args.softmax {
        "probabilities"
    } else {
        "logits"
    };
    println!(
        "{}: {} classes, input images [N, 3, {size}, {size}], output {output} [N, {}]",
        args.output.display(),
        model.num_classes(),
        model.num_classes()
    );
    Ok(())
}
