//! The top-1 and top-k accuracy `train` reports (`metrics.csv`, `summary.json`), as burn-train
//! metrics that score each output row with [`scoring::top_k`], the rule `eval` and `predict` use.
//! They keep the names of burn-train's `AccuracyMetric` and `TopKAccuracyMetric`.

use std::sync::Arc;

use burn::tensor::{Int, Tensor, TensorReadError};
use burn::train::ClassificationOutput;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};

use crate::scoring;

/// A step's output rows and labels, for [`Accuracy`].
pub struct Scored {
    outputs: Tensor<2>,
    targets: Tensor<1, Int>,
}

impl Adaptor<Scored> for ClassificationOutput {
    fn adapt(&self) -> Scored {
        Scored {
            outputs: self.output.clone(),
            targets: self.targets.clone(),
        }
    }
}

/// The share of images whose label is among the `k` best classes of their output row.
#[derive(Clone)]
pub struct Accuracy {
    k: usize,
    name: MetricName,
    state: NumericMetricState,
}

impl Accuracy {
    /// Top-1 accuracy (named `Accuracy`).
    pub fn top1() -> Self {
        Self::named(1, "Accuracy".to_owned())
    }

    /// Top-k accuracy (named `Top-K Accuracy @ TopK(k)`).
    pub fn top_k(k: usize) -> Self {
        Self::named(k, format!("Top-K Accuracy @ TopK({k})"))
    }

    fn named(k: usize, name: String) -> Self {
        Self {
            k,
            name: Arc::new(name),
            state: NumericMetricState::default(),
        }
    }

    fn format(&self) -> FormatOptions {
        FormatOptions::new(self.name.clone()).unit("%").precision(2)
    }
}

/// Hits among `outputs` (rows of `classes` values) against `labels`, by [`scoring::top_k`].
fn hits(outputs: &[f32], labels: &[i64], classes: usize, k: usize) -> usize {
    outputs
        .chunks(classes.max(1))
        .zip(labels)
        .filter(|(row, label)| {
            scoring::top_k(row, k).is_some_and(|top| top.iter().any(|&c| c as i64 == **label))
        })
        .count()
}

impl Metric for Accuracy {
    type Input = Scored;

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn update(
        &mut self,
        input: &Scored,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let [batch, classes] = input.outputs.dims();
        let outputs = input.outputs.clone().try_into_vec_as::<f32>()?;
        let labels = input.targets.clone().try_into_vec_as::<i64>()?;
        let hits = hits(&outputs, &labels, classes, self.k);
        self.state
            .update(100.0 * hits as f64 / batch.max(1) as f64, batch);
        Ok(self.state.compute_update(self.format()))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.state.compute_final(self.format()))
    }

    fn clear(&mut self) {
        self.state.reset()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: Some("%".to_owned()),
            higher_is_better: true,
        }
        .into()
    }
}

impl Numeric for Accuracy {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Int, Tensor, TensorData};
    use burn::train::ClassificationOutput;
    use burn::train::metric::{Adaptor, Metric, Numeric};

    use super::{Accuracy, Scored};
    use crate::scoring::fixture::{LABELS, ROWS, TOP1_HITS, TOP2_HITS};

    /// The metric's value, a percentage, over the shared rows as one batch.
    fn measure(mut metric: Accuracy) -> f64 {
        let device = Device::flex();
        let values: Vec<f32> = ROWS.iter().flatten().copied().collect();
        let outputs = Tensor::<2>::from_data(TensorData::new(values, [ROWS.len(), 4]), &device);
        let labels: Vec<i64> = LABELS.iter().map(|&l| l as i64).collect();
        let targets = Tensor::<1, Int>::from_data(TensorData::new(labels, [LABELS.len()]), &device);
        let loss = Tensor::<1>::zeros([1], &device);
        let input: Scored = ClassificationOutput::new(loss, outputs, targets).adapt();
        metric
            .update(&input, &burn_metadata())
            .expect("the metric reads its tensors");
        metric.value().expect("a value").current()
    }

    fn burn_metadata() -> burn::train::metric::MetricMetadata {
        burn::train::metric::MetricMetadata {
            progress: burn::data::dataloader::Progress {
                items_processed: 1,
                items_total: 1,
                unit: None,
            },
            iteration: Some(0),
            lr: None,
        }
    }

    #[test]
    fn the_reported_accuracy_scores_the_shared_rows_as_the_rule_says() {
        let n = ROWS.len() as f64;
        assert_eq!(measure(Accuracy::top1()), 100.0 * TOP1_HITS as f64 / n);
        assert_eq!(measure(Accuracy::top_k(2)), 100.0 * TOP2_HITS as f64 / n);
    }
}
