//! Device lists for data-parallel training (`--devices cuda:0,cuda:1`, `cuda:all`, `flex,flex`)
//! and the check that a list's GPUs can all-reduce.

use burn::tensor::Device;

use crate::{Backend, DeviceError, parse_device};

/// Parses the specs of a device list, each with the name the run records; `cuda:all` stands for
/// every CUDA GPU present. Every device must be on one backend.
pub fn parse_devices(specs: &[impl AsRef<str>]) -> Result<Vec<(Device, String)>, DeviceError> {
    let mut devices = Vec::new();
    for spec in specs.iter().map(AsRef::as_ref) {
        let normalised = spec.trim().to_ascii_lowercase();
        match normalised.split_once(':') {
            Some((name, "all")) => devices.extend(all_of(spec, name)?),
            _ => devices.push((parse_device(spec)?, normalised)),
        }
    }
    let Some((first, first_name)) = devices.first() else {
        return Err(DeviceError::EmptyList);
    };
    if let Some((_, other)) = devices
        .iter()
        .find(|(device, _)| Backend::of(device) != Backend::of(first))
    {
        return Err(DeviceError::MixedBackends {
            first: first_name.clone(),
            other: other.clone(),
        });
    }
    if let Some(name) = first_repeated_gpu(&devices) {
        return Err(DeviceError::DuplicateDevice { name });
    }
    Ok(devices)
}

/// The name of the first GPU listed twice. A CPU backend may be listed several times (its replicas
/// share the machine's cores); a GPU holds one replica.
fn first_repeated_gpu(devices: &[(Device, String)]) -> Option<String> {
    devices.iter().enumerate().find_map(|(i, (device, name))| {
        let repeated = devices[..i].iter().any(|(earlier, _)| earlier == device);
        (repeated && is_gpu(device)).then(|| name.clone())
    })
}

/// Whether the device is a GPU rather than the machine's CPU.
fn is_gpu(device: &Device) -> bool {
    #[cfg(any(
        feature = "tch",
        feature = "wgpu",
        feature = "vulkan",
        feature = "cuda"
    ))]
    use burn::backend::DispatchDevice;
    match device.clone().inner().as_dispatch() {
        #[cfg(feature = "tch")]
        DispatchDevice::LibTorch(libtorch) => {
            *libtorch != burn::backend::libtorch::LibTorchDevice::Cpu
        }
        #[cfg(any(feature = "wgpu", feature = "vulkan", feature = "cuda"))]
        DispatchDevice::Cube(_) => true,
        #[allow(unreachable_patterns)] // every variant of this build may be matched above
        _ => false,
    }
}

/// Every device of backend `name` (`cuda` only).
fn all_of(spec: &str, name: &str) -> Result<Vec<(Device, String)>, DeviceError> {
    if name != "cuda" {
        return Err(DeviceError::BadIndex {
            spec: spec.to_string(),
            index: "all (only cuda:all lists the GPUs present)".into(),
        });
    }
    let count = cuda_device_count(spec)?;
    if count == 0 {
        return Err(DeviceError::NoGpu {
            spec: spec.to_string(),
        });
    }
    (0..count)
        .map(|i| {
            let name = format!("cuda:{i}");
            Ok((parse_device(&name)?, name))
        })
        .collect()
}

#[cfg(feature = "cuda")]
fn cuda_device_count(_spec: &str) -> Result<usize, DeviceError> {
    Ok(crate::cuda::device_count())
}

#[cfg(not(feature = "cuda"))]
fn cuda_device_count(spec: &str) -> Result<usize, DeviceError> {
    Err(DeviceError::NotCompiledIn {
        spec: spec.to_string(),
        backend: Backend::Cuda,
        compiled: crate::compiled_list(),
    })
}

/// Whether `device`'s backend can all-reduce gradients across its GPUs: on CUDA that needs
/// NCCL's library, which the runtime loads as `libnccl.so` at run time. Other backends have no
/// collectives (their several devices train with summed gradients instead).
pub fn check_collectives(device: &Device) -> Result<(), DeviceError> {
    match Backend::of(device) {
        #[cfg(feature = "cuda")]
        Some(Backend::Cuda) if !crate::cuda::nccl_available() => Err(DeviceError::NoNccl),
        Some(Backend::Cuda) => Ok(()),
        other => Err(DeviceError::NoCollectives {
            backend: other.map_or("unknown", Backend::name).to_string(),
        }),
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    #[test]
    fn a_list_names_each_device() {
        let devices = parse_devices(&["flex", " FLEX "]).expect("flex twice");
        let names: Vec<&str> = devices.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(names, ["flex", "flex"]);
        assert!(
            devices
                .iter()
                .all(|(d, _)| Backend::of(d) == Some(Backend::Flex))
        );
    }

    #[test]
    fn bad_lists_are_refused_with_the_reason() {
        let empty: [&str; 0] = [];
        assert_eq!(parse_devices(&empty), Err(DeviceError::EmptyList));
        let err = parse_devices(&["flex:all"]).expect_err("no flex:all");
        assert!(err.to_string().contains("only cuda:all"), "{err}");
        assert!(matches!(
            parse_devices(&["flex", "gpu"]),
            Err(DeviceError::Unknown { .. })
        ));
        #[cfg(feature = "ndarray")]
        assert_eq!(
            parse_devices(&["flex", "ndarray"]).map(|_| ()),
            Err(DeviceError::MixedBackends {
                first: "flex".into(),
                other: "ndarray".into()
            })
        );
        #[cfg(feature = "cuda")]
        for list in [
            ["cuda:0", "cuda:0"],
            ["cuda", "cuda:0"],
            ["cuda:1", "CUDA:1"],
        ] {
            assert!(
                matches!(
                    parse_devices(&list),
                    Err(DeviceError::DuplicateDevice { .. })
                ),
                "{list:?}"
            );
        }
        #[cfg(feature = "tch")]
        assert!(matches!(
            parse_devices(&["tch-cuda:1", "tch-cuda:1"]),
            Err(DeviceError::DuplicateDevice { .. })
        ));
        #[cfg(not(feature = "cuda"))]
        assert!(matches!(
            parse_devices(&["cuda:all"]),
            Err(DeviceError::NotCompiledIn {
                backend: Backend::Cuda,
                ..
            })
        ));
    }

    /// `cuda:all` lists every GPU the driver reports, or says there is none.
    #[cfg(feature = "cuda")]
    #[test]
    fn cuda_all_lists_the_gpus_present() {
        match crate::cuda::device_count() {
            0 => assert!(matches!(
                parse_devices(&["cuda:all"]),
                Err(DeviceError::NoGpu { .. })
            )),
            n => {
                let names: Vec<String> = parse_devices(&["cuda:all"])
                    .expect("GPUs")
                    .into_iter()
                    .map(|(_, name)| name)
                    .collect();
                assert_eq!(
                    names,
                    (0..n).map(|i| format!("cuda:{i}")).collect::<Vec<_>>()
                );
            }
        }
    }

    #[test]
    fn cpu_backends_have_no_collectives() {
        let err = check_collectives(&Device::flex()).expect_err("flex");
        assert!(err.to_string().contains("flex"), "{err}");
    }
}
