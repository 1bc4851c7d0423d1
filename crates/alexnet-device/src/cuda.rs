//! What the CUDA runtime reports: the GPUs present, and whether NCCL is there.

use burn::tensor::{Device, DeviceType};

/// The CUDA GPUs present (0 without a driver).
pub fn device_count() -> usize {
    Device::enumerate(DeviceType::Cuda).len()
}

/// Whether the CUDA runtime found NCCL's library when it started GPU 0: without it, Burn's
/// all-reduce panics on the first step.
pub fn nccl_available() -> bool {
    burn::cubecl::Device::cuda(0).is_ok_and(|gpu| gpu.client().has_device_transport())
}
