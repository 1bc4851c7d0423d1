//! # trainer
//!
//! The command-line program of alexnet-burn: train AlexNet (Krizhevsky, Sutskever and Hinton,
//! ["ImageNet Classification with Deep Convolutional Neural
//! Networks"](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html),
//! NIPS 2012) with burn-train, evaluate saved models, and benchmark backends.
//!
//! `cargo run --release -p trainer` trains on the built-in synthetic dataset on the CPU.
//! Errors are printed once, here, with their causes; usage errors exit with code 2, other
//! failures with 1.

mod bench;
mod cli;
mod config;
mod data;
mod eval;
mod loader;
mod logging;
mod plot;
mod predict;
mod renderer;
mod schedule;
mod train;

use std::process::ExitCode;

use anyhow::Result;
use burn::tensor::Device;
use clap::Parser;

use crate::cli::{Cli, Command};

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

/// The backend name of a device from [`device`] (`flex`, `ndarray`, `cuda`, ...).
pub fn backend_name(device: &Device) -> String {
    let debug = format!("{device:?}").to_ascii_lowercase();
    alexnet_device::Backend::ALL
        .iter()
        .map(|b| b.name())
        .find(|name| debug.contains(name) || (*name == "tch" && debug.contains("libtorch")))
        .unwrap_or("unknown")
        .to_owned()
}

#[allow(unsafe_code)]
fn main() -> ExitCode {
    // Before any thread exists, so Burn's CPU worker threads inherit it: without it, a CPU run
    // slows down as it converges and its values sink into the subnormal range.
    // SAFETY: nothing in the trainer needs subnormal results (it is training and inference
    // arithmetic, where PyTorch sets the same mode); see `flush_denormals`'s `# Safety`.
    unsafe { alexnet_device::flush_denormals() };
    logging::init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        None => train::run(&cli.train),
        Some(Command::Eval(args)) => eval::run(&args),
        Some(Command::Predict(args)) => predict::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
