//! # trainer
//!
//! The command-line program of alexnet-burn: train AlexNet (Krizhevsky, Sutskever and Hinton,
//! ["ImageNet Classification with Deep Convolutional Neural
//! Networks"](https://papers.nips.cc/paper/2012/hash/c399862d3b9d6b76c8436e924a68c45b-Abstract.html),
//! NIPS 2012) with burn-train, evaluate saved models, benchmark backends, and draw the paper's
//! figures (conv1's kernels, top-5 sheets, fc7 nearest neighbours) for any model.
//!
//! `cargo run --release -p trainer` trains on the built-in synthetic dataset on the CPU.
//! Errors are printed once, here, with their causes; usage errors exit with code 2, other
//! failures with 1.

mod cli;
mod commands;
mod config;
mod device;
mod figures;
mod inference;
mod output;
mod scoring;
mod train;

use std::process::ExitCode;

use crate::cli::Command;

#[allow(unsafe_code)]
fn main() -> ExitCode {
    // Before any thread exists, so Burn's CPU worker threads inherit it: without it, a CPU run
    // slows down as it converges and its values sink into the subnormal range.
    // SAFETY: nothing in the trainer needs subnormal results (it is training and inference
    // arithmetic, where PyTorch sets the same mode); see `flush_denormals`'s `# Safety`.
    unsafe { alexnet_device::flush_denormals() };
    // Also before any thread exists, so that every thread inherits it: a worker that wakes takes
    // its core back at once from a lower-priority process (see `request_short_slice`).
    alexnet_device::request_short_slice();
    // Before anything uses rayon: Burn's CPU workers, one per CPU, each on its own CPU, so that
    // a woken worker never waits behind its sibling while another process holds a free core.
    let pinned = alexnet_device::start_pinned_workers();
    output::logging::init();
    match pinned {
        Ok(n) => log::debug!("{n} CPU compute threads pinned"),
        Err(err) => log::debug!("CPU compute threads not pinned: {err}"),
    }
    let cli = config::help::parse_cli();
    let result = match cli.command {
        Some(Command::Bench(args)) => commands::bench::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        None => train::run(&cli.train),
        Some(Command::Eval(args)) => commands::eval::run(&args),
        Some(Command::Predict(args)) => commands::predict::run(&args),
        Some(Command::Filters(args)) => commands::filters::run(&args),
        Some(Command::Neighbours(args)) => commands::neighbours::run(&args),
        Some(Command::Export(args)) => commands::export::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => ExitCode::from(cli::report(&err) as u8),
    }
}
