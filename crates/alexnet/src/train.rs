//! burn-train glue: the batch type, [`AlexNet::forward_classification`] and the
//! `TrainStep` / `InferenceStep` impls (they live here because of Rust's orphan rule).

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor};
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};

use crate::AlexNet;

/// A batch of normalised images and their class indices.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// `[N, 3, H, W]` images.
    pub images: Tensor<4>,
    /// `[N]` class indices.
    pub targets: Tensor<1, Int>,
    /// The factor the training step's backward pass applies to the loss (1 by default). Data
    /// parallel training whose replicas' gradients are summed sets 1/replicas, so that the sum is
    /// the mean, as on one device. The reported loss is not scaled.
    pub loss_scale: f32,
}

impl ImageBatch {
    /// A batch whose loss is differentiated as it is (`loss_scale` 1).
    pub fn new(images: Tensor<4>, targets: Tensor<1, Int>) -> Self {
        Self {
            images,
            targets,
            loss_scale: 1.0,
        }
    }

    /// The same batch, with its loss scaled by `loss_scale` in the backward pass.
    pub fn with_loss_scale(self, loss_scale: f32) -> Self {
        Self { loss_scale, ..self }
    }
}

impl AlexNet {
    /// Forward pass plus cross-entropy loss, in the form burn-train's classification metrics use.
    pub fn forward_classification(&self, batch: ImageBatch) -> ClassificationOutput {
        let ImageBatch {
            images, targets, ..
        } = batch;
        let device = images.device();
        let output = self.forward(images); // [N, num_classes]
        let loss = CrossEntropyLossConfig::new()
            .init(&device)
            .forward(output.clone(), targets.clone()); // [1]
        ClassificationOutput::new(loss, output, targets)
    }
}

impl TrainStep for AlexNet {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> TrainOutput<ClassificationOutput> {
        let scale = batch.loss_scale;
        let item = self.forward_classification(batch);
        let grads = if scale == 1.0 {
            item.loss.backward()
        } else {
            (item.loss.clone() * scale).backward()
        };
        TrainOutput::new(self, grads, item)
    }
}

impl InferenceStep for AlexNet {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
