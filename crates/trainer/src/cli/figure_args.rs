//! The flags that choose a model (shared by `predict`, `filters`, `neighbours` and `export`),
//! and the flags of the figure subcommands and of `export`.

use std::path::PathBuf;

use clap::Args;

use super::values::Arch;

/// Where a subcommand takes its model from: `--pretrained`, `--weights FILE` or `--run DIR`.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// torchvision's ImageNet weights (IMAGENET1K_V1), from the cache or downloaded.
    #[arg(long, conflicts_with_all = ["weights", "run"])]
    pub pretrained: bool,
    /// A weights file: with --arch, a file of that variant (e.g. torchvision's
    /// alexnet-owt-7be5be79.pth); without, a model from `trainer train` with its config.json
    /// beside it.
    #[arg(long, value_name = "FILE", conflicts_with = "run")]
    pub weights: Option<PathBuf>,
    /// A run directory of `trainer train` (its model.bpk, config.json and class names).
    #[arg(long, value_name = "DIR")]
    pub run: Option<PathBuf>,
    /// Variant of a --weights file that does not come from `trainer train`.
    #[arg(long, value_enum)]
    pub arch: Option<Arch>,
    /// Classes of the head of a --weights file given with --arch (default 1000, ImageNet's names).
    #[arg(long, value_name = "N")]
    pub num_classes: Option<usize>,
    /// Width factor of a --weights file given with --arch (as `train --width`).
    #[arg(long, value_name = "FACTOR")]
    pub width: Option<f64>,
}

/// `trainer filters`.
#[derive(Debug, Args)]
pub struct FiltersArgs {
    /// Where the model comes from.
    #[command(flatten)]
    pub model: ModelArgs,
    /// The PNG file to write.
    #[arg(short = 'o', long, value_name = "FILE.png")]
    pub output: PathBuf,
}

/// `trainer neighbours`.
#[derive(Debug, Args)]
pub struct NeighboursArgs {
    /// Where the model comes from.
    #[command(flatten)]
    pub model: ModelArgs,
    /// The images to search: every image file under this directory, subdirectories included.
    #[arg(long, value_name = "DIR")]
    pub gallery: PathBuf,
    /// The images whose neighbours to find.
    #[arg(long, value_name = "IMAGE", required = true, num_args = 1..)]
    pub query: Vec<PathBuf>,
    /// Neighbours per query.
    #[arg(short = 'k', default_value_t = 6)]
    pub k: usize,
    /// Draw the queries and their neighbours as rows in this PNG file.
    #[arg(short = 'o', long, value_name = "FILE.png")]
    pub output: Option<PathBuf>,
    /// Images per forward pass.
    #[arg(short = 'b', long, default_value_t = 32)]
    pub batch_size: usize,
    /// Device (as for train).
    #[arg(long)]
    pub device: Option<String>,
    /// Print one JSON array (an object per query) instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `trainer export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Where the model comes from.
    #[command(flatten)]
    pub model: ModelArgs,
    /// The ONNX file to write.
    #[arg(short = 'o', long, value_name = "FILE.onnx")]
    pub output: PathBuf,
    /// End the graph with a softmax (output `probabilities`) instead of the logits.
    #[arg(long)]
    pub softmax: bool,
    /// The input side the graph is written for (default: the model's, 227 or 224).
    #[arg(long, value_name = "PIXELS")]
    pub image_size: Option<usize>,
}
