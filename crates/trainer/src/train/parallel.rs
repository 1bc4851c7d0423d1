//! The devices a run trains on, and how burn-train runs them: one device; several CUDA GPUs
//! with Burn's distributed data parallel strategy (one thread per GPU, gradients averaged by an
//! NCCL all-reduce in the backward pass); or several devices of another backend with its
//! multi-device strategy (one replica per device, gradients summed on the first device, so each
//! replica scales its loss by 1/replicas and the sum is the mean). Either way the learning rate
//! means what it means on one device with the global batch.

use alexnet_device::Backend;
use anyhow::Result;
use burn::tensor::Device;
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::train::{ExecutionStrategy, MultiDeviceOptim};

use crate::cli::usage;

/// How the replicas' gradients meet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One device.
    Single,
    /// Burn's DDP: an all-reduce (mean) per step through NCCL (CUDA only).
    Ddp,
    /// Burn's multi-device strategy: the gradients are summed on the first device.
    MultiDevice,
}

/// The devices of a run: the first one validates, checkpoints and holds the final model.
#[derive(Debug, Clone)]
pub struct DeviceSet {
    /// Every training device, in order.
    pub devices: Vec<Device>,
    /// Their specs as the run records them (`cuda:all` expanded).
    pub names: Vec<String>,
    /// How they train together.
    pub mode: Mode,
}

impl DeviceSet {
    /// The devices `--devices` lists (`specs`, `cuda:all` expanded), or the one `--device` names
    /// when the list is empty. A list is DDP on CUDA (even of one GPU, which exercises the same
    /// path) and the multi-device strategy elsewhere; devices of two backends are refused.
    pub fn resolve(device: Option<&str>, specs: &[String]) -> Result<Self> {
        if specs.is_empty() {
            let device = crate::device::select(device)?;
            let names = vec![crate::device::backend_name(&device).to_owned()];
            return Ok(Self {
                devices: vec![device],
                names,
                mode: Mode::Single,
            });
        }
        let named = alexnet_device::parse_devices(specs).map_err(|e| usage(e.to_string()))?;
        let (devices, names): (Vec<Device>, Vec<String>) = named.into_iter().unzip();
        let mode = match Backend::of(&devices[0]) {
            Some(Backend::Cuda) => Mode::Ddp,
            _ => Mode::MultiDevice,
        };
        if mode == Mode::Ddp {
            alexnet_device::check_collectives(&devices[0]).map_err(|e| usage(e.to_string()))?;
        }
        Ok(Self {
            devices,
            names,
            mode,
        })
    }

    /// The device that validates, checkpoints and holds the final model.
    pub fn main(&self) -> &Device {
        &self.devices[0]
    }

    /// Each device once (a list may name one twice, `flex,flex`), with its first position.
    pub fn distinct(&self) -> Vec<(usize, Device)> {
        let mut seen: Vec<(usize, Device)> = Vec::new();
        for (i, device) in self.devices.iter().enumerate() {
            if !seen.iter().any(|(_, d)| d == device) {
                seen.push((i, device.clone()));
            }
        }
        seen
    }

    /// How many replicas train.
    pub fn replicas(&self) -> usize {
        self.devices.len()
    }

    /// The factor each replica's loss is scaled by in the backward pass.
    pub fn loss_scale(&self) -> f32 {
        match self.mode {
            Mode::MultiDevice => 1.0 / self.replicas() as f32,
            Mode::Single | Mode::Ddp => 1.0,
        }
    }

    /// burn-train's strategy for these devices; `None` for one device (its default).
    pub fn strategy(&self) -> Option<ExecutionStrategy> {
        match self.mode {
            Mode::Single => None,
            Mode::MultiDevice => Some(ExecutionStrategy::multi(
                self.devices.clone(),
                MultiDeviceOptim::OptimMainDevice,
            )),
            Mode::Ddp => Some(ExecutionStrategy::ddp(
                self.devices.clone(),
                DistributedConfig {
                    all_reduce_op: ReduceOperation::Mean,
                },
            )),
        }
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    fn set(specs: &[&str]) -> Result<DeviceSet> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        DeviceSet::resolve(Some("flex"), &specs)
    }

    #[test]
    fn two_cpu_replicas_average_their_gradients_by_loss_scaling() {
        let set = set(&["flex", "flex"]).expect("flex twice");
        assert_eq!(set.mode, Mode::MultiDevice);
        assert_eq!(set.names, ["flex", "flex"]);
        assert_eq!(set.replicas(), 2);
        assert_eq!(set.distinct().len(), 1, "one device, named twice");
        assert_eq!(set.loss_scale(), 0.5);
        assert!(matches!(
            set.strategy(),
            Some(ExecutionStrategy::MultiDevice(devices, _)) if devices.len() == 2
        ));
    }

    #[test]
    fn no_list_is_the_one_device() {
        let set = set(&[]).expect("--device flex");
        assert_eq!(
            (set.mode, set.replicas(), set.loss_scale()),
            (Mode::Single, 1, 1.0)
        );
        assert!(set.strategy().is_none());
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn devices_of_two_backends_are_a_usage_error() {
        let err = set(&["flex", "ndarray"]).expect_err("two backends");
        assert!(
            err.downcast_ref::<crate::cli::error::UsageError>()
                .is_some()
        );
        assert!(err.to_string().contains("one backend"), "{err}");
    }
}
