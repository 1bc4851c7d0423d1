//! # alexnet-device
//!
//! The one place where alexnet-burn picks a Burn backend. Cargo features compile backends in
//! (`flex` and `ndarray` by default; `wgpu`, `vulkan`, `cuda`, `tch` on request), and a device
//! spec chosen at run time (`--device`, or the `BURN_DEVICE` environment variable) selects one of
//! them. A backend that was not compiled in is a clear [`DeviceError`], never a panic.
//!
//! Device specs: `flex`, `ndarray`, `wgpu[:N]`, `vulkan[:N]`, `cuda[:N]`, `tch` (LibTorch on the
//! CPU) and `tch-cuda[:N]` (LibTorch on GPU `N`). Without a spec, [`default_device`] takes the
//! first compiled-in backend of cuda, vulkan, wgpu, flex, ndarray, tch.
//!
//! This crate is not needed to use the `alexnet` model crate: any Burn `Device` works there.
//!
//! [`flush_denormals`] switches the CPU to flush subnormal floats to zero; without it a CPU
//! training run slows down as it converges (see the function's documentation).
//! [`request_short_slice`] and [`start_pinned_workers`] keep the CPU compute threads at full
//! speed beside other processes (see their modules' documentation).

mod affinity;
#[cfg(feature = "cuda")]
mod cuda;
mod denormals;
mod gpu_runtime;
mod list;
mod slice;

pub use affinity::{PIN_THREADS_ENV, allowed_cpus, start_pinned_workers};
pub use denormals::{denormals_flushed, flush_denormals};
pub use gpu_runtime::{AutotuneLevel, GpuRuntime, configure_gpu_runtime};
pub use list::{check_collectives, parse_devices};
pub use slice::{SHORT_SLICE_NS, current_slice_ns, request_short_slice};

use std::fmt;
use std::str::FromStr;

use burn::backend::DispatchDevice;
use burn::tensor::Device;

/// The environment variable read by [`device_from_env`] (the same name Burn itself reads).
pub const DEVICE_ENV: &str = "BURN_DEVICE";

/// A Burn backend this workspace knows how to compile in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Burn's pure-Rust CPU backend (feature `flex`, the default CPU backend).
    Flex,
    /// The ndarray CPU backend (feature `ndarray`).
    Ndarray,
    /// wgpu, on whatever graphics API the machine offers (feature `wgpu`).
    Wgpu,
    /// wgpu pinned to Vulkan, SPIR-V kernels (feature `vulkan`).
    Vulkan,
    /// CubeCL CUDA (feature `cuda`).
    Cuda,
    /// LibTorch through tch-rs (feature `tch`).
    Tch,
}

impl Backend {
    /// Every backend, in [`default_device`]'s order of preference.
    pub const ALL: [Backend; 6] = [
        Backend::Cuda,
        Backend::Vulkan,
        Backend::Wgpu,
        Backend::Flex,
        Backend::Ndarray,
        Backend::Tch,
    ];

    /// The backend's name, which is also its cargo feature and its device-spec prefix.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::Ndarray => "ndarray",
            Backend::Wgpu => "wgpu",
            Backend::Vulkan => "vulkan",
            Backend::Cuda => "cuda",
            Backend::Tch => "tch",
        }
    }

    /// The backend a device runs on (an autodiff device: the backend it wraps), read from the
    /// device's dispatch enum; `None` for a backend this workspace does not build.
    pub fn of(device: &Device) -> Option<Backend> {
        match device.clone().inner().as_dispatch() {
            #[cfg(feature = "flex")]
            DispatchDevice::Flex(_) => Some(Backend::Flex),
            #[cfg(feature = "ndarray")]
            DispatchDevice::NdArray(_) => Some(Backend::Ndarray),
            #[cfg(feature = "tch")]
            DispatchDevice::LibTorch(_) => Some(Backend::Tch),
            #[cfg(any(feature = "wgpu", feature = "vulkan", feature = "cuda"))]
            DispatchDevice::Cube(cube) => cube_backend(cube),
            #[allow(unreachable_patterns)] // every variant of this build may be matched above
            _ => None,
        }
    }

    /// Whether this binary was built with the backend's feature.
    pub fn is_compiled_in(self) -> bool {
        match self {
            Backend::Flex => cfg!(feature = "flex"),
            Backend::Ndarray => cfg!(feature = "ndarray"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Vulkan => cfg!(feature = "vulkan"),
            Backend::Cuda => cfg!(feature = "cuda"),
            Backend::Tch => cfg!(feature = "tch"),
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Backend {
    type Err = DeviceError;

    fn from_str(name: &str) -> Result<Self, DeviceError> {
        Backend::ALL
            .into_iter()
            .find(|b| b.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| DeviceError::Unknown {
                spec: name.to_string(),
            })
    }
}

/// The backend of a cubecl device: its runtime, and for wgpu the graphics API it is pinned to.
#[cfg(any(feature = "wgpu", feature = "vulkan", feature = "cuda"))]
fn cube_backend(device: &burn::backend::CubeDevice) -> Option<Backend> {
    use burn::backend::CubeDevice;
    match device {
        CubeDevice::Cuda(_) => Some(Backend::Cuda),
        #[cfg(any(feature = "wgpu", feature = "vulkan"))]
        CubeDevice::Wgpu(wgpu) if wgpu.backend == burn::backend::WgpuBackend::Vulkan => {
            Some(Backend::Vulkan)
        }
        #[cfg(any(feature = "wgpu", feature = "vulkan"))]
        CubeDevice::Wgpu(_) => Some(Backend::Wgpu),
        _ => None,
    }
}

/// Backends compiled into this binary, in order of preference.
pub fn compiled_backends() -> Vec<Backend> {
    Backend::ALL
        .into_iter()
        .filter(|b| b.is_compiled_in())
        .collect()
}

/// A device spec that cannot be honoured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The spec names no backend this workspace knows.
    #[error(
        "unknown device `{spec}`: expected flex, ndarray, wgpu[:N], vulkan[:N], cuda[:N], tch or tch-cuda[:N]"
    )]
    Unknown {
        /// The spec as given.
        spec: String,
    },
    /// The backend exists but this binary was built without it.
    #[error(
        "device `{spec}` needs the `{backend}` backend, which this binary was built without; \
         rebuild with its cargo feature, e.g. `cargo build --release -p trainer --features \
         {backend}` (compiled in: {compiled})"
    )]
    NotCompiledIn {
        /// The spec as given.
        spec: String,
        /// The missing backend.
        backend: Backend,
        /// The backends that are compiled in, comma-separated.
        compiled: String,
    },
    /// The device index after `:` is not a number.
    #[error("device `{spec}`: `{index}` is not a device index ({})", index_hint(.spec))]
    BadIndex {
        /// The spec as given.
        spec: String,
        /// The text after the colon.
        index: String,
    },
    /// A device list with no device.
    #[error("the device list is empty")]
    EmptyList,
    /// A device list mixes backends.
    #[error("every device of a list must be on one backend: `{first}` and `{other}` are not")]
    MixedBackends {
        /// The first device's name.
        first: String,
        /// The first device on another backend.
        other: String,
    },
    /// A device list names one GPU twice.
    #[error("`{name}` is listed twice: each GPU of a device list holds one replica")]
    DuplicateDevice {
        /// The repeated device's name.
        name: String,
    },
    /// `cuda:all` found no GPU.
    #[error("`{spec}`: no CUDA GPU is present (is the NVIDIA driver installed?)")]
    NoGpu {
        /// The spec as given.
        spec: String,
    },
    /// CUDA's collectives need NCCL, which is not installed.
    #[error(
        "training on a CUDA device list needs NCCL, and no libnccl.so loads (the CUDA runtime \
         looks for that name, not libnccl.so.2): install NCCL's development package (Ubuntu: \
         `apt install libnccl2 libnccl-dev`), or link libnccl.so to an installed libnccl.so.2 in \
         a folder on LD_LIBRARY_PATH, or train on one GPU with --device"
    )]
    NoNccl,
    /// The backend cannot all-reduce across devices.
    #[error("the {backend} backend has no collective operations (only cuda does)")]
    NoCollectives {
        /// The backend's name.
        backend: String,
    },
    /// No backend is compiled in at all.
    #[error(
        "no Burn backend is compiled in; enable one of the features flex, ndarray, wgpu, vulkan, cuda, tch"
    )]
    NoBackend,
}

/// What to write instead of a spec with a bad index: the CPU backend's name alone (`flex`), or
/// the GPU backend's name with a number (`cuda:0`).
fn index_hint(spec: &str) -> String {
    let name = spec.trim().to_ascii_lowercase();
    let name = name.split_once(':').map_or(name.as_str(), |(n, _)| n);
    match name {
        "flex" | "ndarray" | "tch" | "libtorch" => format!("write `{name}` without one"),
        "wgpu" | "vulkan" | "cuda" | "tch-cuda" | "libtorch-cuda" => {
            format!("write e.g. `{name}:0`")
        }
        _ => "write e.g. `cuda:0`".to_owned(),
    }
}

/// Parses a device spec (`flex`, `cuda:1`, `tch-cuda`, ...) into a device.
pub fn parse_device(spec: &str) -> Result<Device, DeviceError> {
    let trimmed = spec.trim().to_ascii_lowercase();
    let (name, index) = match trimmed.split_once(':') {
        Some((name, index)) => {
            let index = index.parse::<usize>().map_err(|_| DeviceError::BadIndex {
                spec: spec.to_string(),
                index: index.to_string(),
            })?;
            (name, Some(index))
        }
        None => (trimmed.as_str(), None),
    };
    let (backend, tch_cuda) = match name {
        "tch-cuda" | "libtorch-cuda" => (Backend::Tch, true),
        "libtorch" => (Backend::Tch, false),
        other => (
            other.parse::<Backend>().map_err(|_| DeviceError::Unknown {
                spec: spec.to_string(),
            })?,
            false,
        ),
    };
    if index.is_some()
        && matches!(
            (backend, tch_cuda),
            (Backend::Flex | Backend::Ndarray, _) | (Backend::Tch, false)
        )
    {
        return Err(DeviceError::BadIndex {
            spec: spec.to_string(),
            index: format!("{} (CPU backends have no index)", index.unwrap_or_default()),
        });
    }
    if !backend.is_compiled_in() {
        return Err(DeviceError::NotCompiledIn {
            spec: spec.to_string(),
            backend,
            compiled: compiled_list(),
        });
    }
    Ok(make_device(backend, tch_cuda, index.unwrap_or(0)))
}

/// The device named by `BURN_DEVICE`, or [`default_device`] when it is unset or empty.
pub fn device_from_env() -> Result<Device, DeviceError> {
    select_device(std::env::var(DEVICE_ENV).ok().as_deref())
}

/// The device a user asked for (`--device`, `BURN_DEVICE`), or [`default_device`] when the
/// request is absent or blank.
pub fn select_device(spec: Option<&str>) -> Result<Device, DeviceError> {
    match spec {
        Some(spec) if !spec.trim().is_empty() => parse_device(spec),
        _ => default_device(),
    }
}

/// The first compiled-in backend of cuda, vulkan, wgpu, flex, ndarray, tch (device 0).
pub fn default_device() -> Result<Device, DeviceError> {
    compiled_backends()
        .first()
        .map(|&backend| make_device(backend, false, 0))
        .ok_or(DeviceError::NoBackend)
}

pub(crate) fn compiled_list() -> String {
    let names: Vec<&str> = compiled_backends().into_iter().map(Backend::name).collect();
    if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    }
}

/// Builds the device of a compiled-in backend. Callers check [`Backend::is_compiled_in`] first.
#[allow(deprecated)] // ndarray and tch are deprecated in Burn 0.22 but are supported backends here
#[allow(unused_variables)] // `tch_cuda` and `index` are unused when no GPU backend is compiled in
fn make_device(backend: Backend, tch_cuda: bool, index: usize) -> Device {
    match backend {
        #[cfg(feature = "flex")]
        Backend::Flex => Device::flex(),
        #[cfg(feature = "ndarray")]
        Backend::Ndarray => Device::ndarray(),
        #[cfg(feature = "wgpu")]
        Backend::Wgpu => Device::wgpu(gpu_kind(index)),
        #[cfg(feature = "vulkan")]
        Backend::Vulkan => Device::vulkan(gpu_kind(index)),
        #[cfg(feature = "cuda")]
        Backend::Cuda => Device::cuda(index),
        #[cfg(feature = "tch")]
        Backend::Tch if tch_cuda => Device::libtorch_cuda(index),
        #[cfg(feature = "tch")]
        Backend::Tch => Device::libtorch(),
        #[allow(unreachable_patterns)]
        other => unreachable!("backend {other} is not compiled in; callers check first"),
    }
}

#[cfg(any(feature = "wgpu", feature = "vulkan"))]
fn gpu_kind(index: usize) -> burn::tensor::DeviceKind {
    if index == 0 {
        burn::tensor::DeviceKind::DefaultDevice
    } else {
        burn::tensor::DeviceKind::DiscreteGpu(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_backend_is_an_error_that_lists_the_choices() {
        let err = parse_device("tpu").expect_err("must be rejected");
        assert!(matches!(err, DeviceError::Unknown { .. }));
        assert!(err.to_string().contains("flex, ndarray"), "{err}");
    }

    /// Every spec the CLI accepts, with the backend its device runs on.
    const SPECS: [(&str, Backend); 9] = [
        ("flex", Backend::Flex),
        ("ndarray", Backend::Ndarray),
        ("tch", Backend::Tch),
        ("tch-cuda", Backend::Tch),
        ("tch-cuda:1", Backend::Tch),
        ("cuda:0", Backend::Cuda),
        ("cuda:1", Backend::Cuda),
        ("wgpu", Backend::Wgpu),
        ("vulkan", Backend::Vulkan),
    ];

    /// Building a device makes no contact with hardware, so every compiled-in spec is checked,
    /// GPU specs included, with and without autodiff.
    #[test]
    fn every_device_spec_tells_its_backend() {
        let mut checked = 0;
        for (spec, backend) in SPECS.into_iter().filter(|(_, b)| b.is_compiled_in()) {
            let device = parse_device(spec).expect("compiled in");
            assert_eq!(Backend::of(&device), Some(backend), "{spec}: {device:?}");
            assert_eq!(Backend::of(&device.autodiff()), Some(backend), "{spec}");
            checked += 1;
        }
        assert!(checked >= 1, "no backend compiled in");
    }

    #[test]
    fn bad_index_is_an_error() {
        assert!(matches!(
            parse_device("cuda:x"),
            Err(DeviceError::BadIndex { .. })
        ));
        assert!(matches!(
            parse_device("flex:1"),
            Err(DeviceError::BadIndex { .. })
        ));
    }

    /// The message names the spec to write instead, and that spec works.
    #[test]
    #[cfg(feature = "flex")]
    fn a_bad_index_says_what_to_write_and_that_works() {
        let err = parse_device("flex:1").expect_err("no index").to_string();
        assert!(err.contains("write `flex` without one"), "{err}");
        assert!(parse_device("flex").is_ok());
        let err = parse_device("cuda:x").expect_err("bad index").to_string();
        assert!(err.contains("write e.g. `cuda:0`"), "{err}");
    }

    #[test]
    fn backends_not_compiled_in_say_which_feature_to_enable() {
        for backend in Backend::ALL.into_iter().filter(|b| !b.is_compiled_in()) {
            let err = parse_device(backend.name()).expect_err("must be rejected");
            let message = err.to_string();
            assert!(
                message.contains(&format!("--features {}", backend.name())),
                "{message}"
            );
        }
    }

    #[cfg(feature = "flex")]
    #[test]
    fn flex_parses_case_insensitively() {
        let device = parse_device(" FLEX ").expect("flex is compiled in");
        assert_eq!(device, Device::flex());
    }

    #[cfg(all(
        feature = "flex",
        not(any(feature = "cuda", feature = "vulkan", feature = "wgpu"))
    ))]
    #[test]
    fn default_is_flex_without_a_gpu_backend() {
        assert_eq!(default_device().expect("a backend"), Device::flex());
        assert_eq!(select_device(None).expect("a backend"), Device::flex());
        assert_eq!(
            select_device(Some("  ")).expect("a backend"),
            Device::flex()
        );
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn a_requested_device_wins_over_the_default() {
        #[allow(deprecated)] // ndarray is deprecated in Burn 0.22 but supported here
        let ndarray = Device::ndarray();
        assert_eq!(
            select_device(Some("ndarray")).expect("compiled in"),
            ndarray
        );
        assert!(matches!(
            select_device(Some("tpu")),
            Err(DeviceError::Unknown { .. })
        ));
    }
}
