//! The device a command computes on: the one `--device` (or `BURN_DEVICE`) names, its float
//! precision, the GPU runtime's autotune settings, and the backend's name.

use anyhow::Result;
use burn::tensor::Device;

use crate::cli::{self, usage};

/// The device `--device` (or `BURN_DEVICE`) names, or the default one.
pub fn select(spec: Option<&str>) -> Result<Device> {
    let env = std::env::var(alexnet_device::DEVICE_ENV).ok();
    let spec = spec.or(env.as_deref());
    alexnet_device::select_device(spec).map_err(|e| usage(e.to_string()))
}

/// Makes `precision`'s float type the default of `device` (bf16, f16), before any tensor is
/// created on it; fp32 and mixed leave it f32. A backend without that type is a usage error.
pub fn set_precision(device: &mut Device, precision: cli::Precision) -> Result<()> {
    let backend = backend_name(device);
    if let Some(dtype) = precision.autocast()
        && !device.supports_dtype(dtype)
    {
        return Err(usage(format!(
            "--precision {} computes in {dtype:?}, which {backend} does not support",
            precision.name()
        )));
    }
    let Some(dtype) = precision.device_dtype() else {
        return Ok(());
    };
    device.configure(dtype).map_err(|e| {
        usage(format!(
            "--precision {} is not available on {backend}: {e:?}",
            precision.name()
        ))
    })
}

/// Applies the autotune level and the persistent autotune cache folder to the GPU runtime
/// (nothing without a GPU backend); call it before the first device is made.
pub fn configure_gpu(level: Option<&str>) {
    let level = level.and_then(|name| name.parse().ok());
    if let Some(runtime) = alexnet_device::configure_gpu_runtime(level) {
        let cache = runtime
            .cache_dir
            .map_or_else(|| "off".to_owned(), |dir| dir.display().to_string());
        log::info!(
            "GPU autotune level {}, persistent cache: {cache}",
            runtime.autotune_level
        );
    }
}

/// The backend name of a device (`flex`, `ndarray`, `cuda`, ...), `unknown` for another.
pub fn backend_name(device: &Device) -> &'static str {
    alexnet_device::Backend::of(device).map_or("unknown", |b| b.name())
}
