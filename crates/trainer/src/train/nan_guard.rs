//! A burn-train metric that stops training at the first non-finite training loss.

use std::sync::{Arc, Mutex};

use burn::tensor::{Tensor, TensorReadError};
use burn::train::metric::{Adaptor, Metric, MetricMetadata, MetricName, SerializedEntry};
use burn::train::{ClassificationOutput, Interrupter};

/// The training loss of one step, for [`NanGuard`].
pub struct StepLoss(Tensor<1>);

impl Adaptor<StepLoss> for ClassificationOutput {
    fn adapt(&self) -> StepLoss {
        StepLoss(self.loss.clone())
    }
}

/// Stops training at the first non-finite training loss (the last complete checkpoint stays
/// the newest one: the interrupted epoch writes none).
#[derive(Clone)]
pub struct NanGuard {
    stop: Interrupter,
    seen: Arc<Mutex<Option<f64>>>,
}

impl Metric for NanGuard {
    type Input = StepLoss;

    fn name(&self) -> MetricName {
        Arc::new("Finite loss guard".to_owned())
    }

    fn update(
        &mut self,
        loss: &StepLoss,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        let value: f64 = loss.0.clone().mean().try_into_scalar::<f64>()?;
        if !value.is_finite() {
            if let Ok(mut seen) = self.seen.lock()
                && seen.is_none()
            {
                *seen = Some(value);
            }
            self.stop.stop(Some("non-finite training loss"));
        }
        Ok(SerializedEntry::new(String::new(), String::new()))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(SerializedEntry::new(String::new(), String::new()))
    }

    fn clear(&mut self) {}
}

impl NanGuard {
    /// A guard that interrupts `stop`.
    pub fn new(stop: Interrupter) -> Self {
        Self {
            stop,
            seen: Arc::new(Mutex::new(None)),
        }
    }

    /// The non-finite loss that stopped training, if one did.
    pub fn seen(&self) -> Option<f64> {
        self.seen.lock().ok().and_then(|v| *v)
    }
}
