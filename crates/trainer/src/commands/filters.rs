//! `trainer filters`: conv1's kernels of any model drawn as a grid of RGB tiles (the 2012
//! paper's Figure 3, see [`Kernels`]).

use anyhow::{Context, Result};

use crate::cli::FiltersArgs;
use crate::figures::kernels::Kernels;
use crate::inference::load;

/// Runs `trainer filters`: the kernels of the model `args` choose, on the default device.
pub fn run(args: &FiltersArgs) -> Result<()> {
    crate::device::configure_gpu(None);
    let device = crate::device::select(None)?;
    let model = load(&args.model, "filters", &device)?.model;
    let kernels = Kernels::of(&model)?;
    kernels
        .draw()
        .save(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let (width, height) = kernels.size();
    println!(
        "{}: {} conv1 kernels in {} group(s), {width}x{height} pixels",
        args.output.display(),
        kernels.count(),
        kernels.groups()
    );
    Ok(())
}
