//! What every subcommand shares: usage errors (exit code 2) and the device the user names.

use anyhow::Result;
use burn::tensor::Device;

use crate::cli;

/// A problem with what the user asked for (exit code 2), as opposed to a failure while working.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Shorthand for a usage error.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// The device `--device` (or `BURN_DEVICE`) names, or the default one.
pub fn device(spec: Option<&str>) -> Result<Device> {
    let env = std::env::var(alexnet_device::DEVICE_ENV).ok();
    let spec = spec.or(env.as_deref());
    alexnet_device::select_device(spec).map_err(|e| usage(e.to_string()))
}

/// Makes `precision` the default float type of `device`; before any tensor is created on it.
/// A backend without that type is a usage error.
pub fn set_precision(device: &mut Device, precision: cli::Precision) -> Result<()> {
    let dtype = match precision {
        cli::Precision::Fp32 => return Ok(()),
        cli::Precision::Bf16 => burn::tensor::FloatDType::BF16,
        cli::Precision::F16 => burn::tensor::FloatDType::F16,
    };
    let backend = backend_name(device);
    device.configure(dtype).map_err(|e| {
        usage(format!(
            "--precision {} is not available on {backend}: {e:?}",
            precision.name()
        ))
    })
}

/// The backend name of a device (`flex`, `ndarray`, `cuda`, ...), `unknown` for another.
pub fn backend_name(device: &Device) -> &'static str {
    alexnet_device::Backend::of(device).map_or("unknown", |b| b.name())
}
