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
}

impl AlexNet {
    /// Forward pass plus cross-entropy loss, in the form burn-train's classification metrics use.
    pub fn forward_classification(&self, batch: ImageBatch) -> ClassificationOutput {
        let ImageBatch { images, targets } = batch;
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
        let item = self.forward_classification(batch);
        TrainOutput::new(self, item.loss.backward(), item)
    }
}

impl InferenceStep for AlexNet {
    type Input = ImageBatch;
    type Output = ClassificationOutput;

    fn step(&self, batch: ImageBatch) -> ClassificationOutput {
        self.forward_classification(batch)
    }
}
