//! Which devices take the kernels: the one place that decides it from the device's backend.

use burn::backend::DispatchDevice;
use burn::tensor::Device;

/// A backend this crate has kernels for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KernelBackend {
    /// Burn's flex CPU backend: the convolution, max pooling, fully connected and SGD kernels.
    Flex,
    /// Burn's LibTorch backend (the `tch` feature): the convolution's backward pass and SGD's
    /// update.
    #[cfg(feature = "tch")]
    LibTorch,
}

/// The backend of `device` (with or without autodiff) when this crate has kernels for it;
/// `None` where Burn's own operations run. Each kernel then checks its own element type.
pub fn kernel_backend(device: &Device) -> Option<KernelBackend> {
    match device.clone().inner().as_dispatch() {
        DispatchDevice::Flex(_) => Some(KernelBackend::Flex),
        #[cfg(feature = "tch")]
        DispatchDevice::LibTorch(_) => Some(KernelBackend::LibTorch),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{KernelBackend, kernel_backend};
    use burn::tensor::Device;

    #[test]
    fn flex_takes_the_kernels_with_and_without_autodiff() {
        assert_eq!(kernel_backend(&Device::flex()), Some(KernelBackend::Flex));
        assert_eq!(
            kernel_backend(&Device::flex().autodiff()),
            Some(KernelBackend::Flex)
        );
    }

    #[test]
    fn ndarray_runs_burns_operations() {
        let device = alexnet_device::parse_device("ndarray").expect("a dev-dependency feature");
        assert_eq!(kernel_backend(&device), None);
        assert_eq!(kernel_backend(&device.autodiff()), None);
    }

    #[cfg(feature = "tch")]
    #[test]
    fn libtorch_takes_the_kernels() {
        assert_eq!(
            kernel_backend(&Device::libtorch().autodiff()),
            Some(KernelBackend::LibTorch)
        );
    }
}
