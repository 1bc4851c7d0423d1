//! The command line: the flags of `trainer [train]` and of the `eval`, `bench`, `predict`,
//! `filters`, `neighbours` and `export` subcommands (names follow torchvision's classification reference
//! and timm's `train.py`), and the usage error with the exit codes errors end the program with.

use std::path::PathBuf;

pub mod error;
mod figure_args;
mod train_args;
mod values;

use clap::{Args, Parser, Subcommand};

pub use self::error::{report, usage};
pub use self::figure_args::{ExportArgs, FiltersArgs, ModelArgs, NeighboursArgs};
pub use self::train_args::TrainArgs;
pub use self::values::{
    Arch, BenchMode, DatasetKind, Init, Opt, Precision, Preset, Scheduler, SyntheticDraw,
    autotune_level,
};

/// Train, evaluate and benchmark AlexNet (Krizhevsky et al., 2012) with Burn.
#[derive(Debug, Parser)]
#[command(
    name = "trainer",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to do (default: train).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of `train` when no subcommand is given.
    #[command(flatten)]
    pub train: TrainArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a model (the default).
    Train(Box<TrainArgs>),
    /// Top-1/top-5 accuracy of a saved model on a dataset split.
    Eval(EvalArgs),
    /// Images/s of inference and training steps on synthetic input.
    Bench(BenchArgs),
    /// Top-5 classes of images with torchvision's pretrained weights or a trained model.
    Predict(PredictArgs),
    /// Draw conv1's kernels as a grid of RGB tiles (the 2012 paper's Figure 3).
    Filters(FiltersArgs),
    /// The gallery images whose fc7 features lie nearest to each query's (the paper's Figure 4).
    Neighbours(NeighboursArgs),
    /// Write a model as an ONNX file for ONNX Runtime, TensorRT, OpenVINO and other runtimes.
    Export(ExportArgs),
}

/// `trainer eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// A run directory (uses its config.json and model.bpk).
    #[arg(long, value_name = "DIR", required_unless_present = "weights")]
    pub run: Option<PathBuf>,
    /// A model file (.bpk, .safetensors, .pth); its config.json is looked for beside it.
    #[arg(long, value_name = "FILE")]
    pub weights: Option<PathBuf>,
    /// Dataset (default: the run's).
    #[arg(long, value_enum)]
    pub dataset: Option<DatasetKind>,
    /// Dataset root (default: the run's); its classes must be the model's, in the same order.
    #[arg(long, env = "ALEXNET_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Evaluate on the training split instead of val.
    #[arg(long)]
    pub train_split: bool,
    /// Average the softmax of the paper's ten crops (corners, centre, and their mirrors).
    #[arg(long)]
    pub ten_crop: bool,
    /// Images per batch.
    #[arg(short = 'b', long, default_value_t = 64)]
    pub batch_size: usize,
    /// Device (as for train).
    #[arg(long)]
    pub device: Option<String>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `trainer predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// Images to classify (JPEG, PNG, ...).
    #[arg(value_name = "IMAGE", required = true)]
    pub images: Vec<PathBuf>,
    /// Where the model comes from.
    #[command(flatten)]
    pub model: ModelArgs,
    /// How many classes to list per image.
    #[arg(long = "topk", default_value_t = 5)]
    pub top_k: usize,
    /// Images per forward pass.
    #[arg(short = 'b', long, default_value_t = 16)]
    pub batch_size: usize,
    /// Device (as for train).
    #[arg(long)]
    pub device: Option<String>,
    /// One JSON array (an object per image) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Also draw a contact sheet: each image with its top classes and probability bars.
    #[arg(long, value_name = "FILE.png")]
    pub sheet: Option<PathBuf>,
}

/// `trainer bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Device (as for train).
    #[arg(long)]
    pub device: Option<String>,
    /// Model variant.
    #[arg(long, value_enum, default_value = "standard")]
    pub arch: Arch,
    /// Images per batch.
    #[arg(short = 'b', long, default_value_t = 16)]
    pub batch_size: usize,
    /// Input side in pixels.
    #[arg(long, default_value_t = 227)]
    pub image_size: usize,
    /// Classes of the head.
    #[arg(long, default_value_t = 1000)]
    pub num_classes: usize,
    /// Scale every layer's width (channels and hidden units) by this factor, as `train --width`.
    #[arg(long, default_value_t = 1.0)]
    pub width: f64,
    /// infer, train or both.
    #[arg(long, value_enum, default_value = "both")]
    pub mode: BenchMode,
    /// Untimed iterations first.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Timed iterations (the median is reported).
    #[arg(long, default_value_t = 10)]
    pub iters: usize,
    /// Float precision: fp32, bf16 or f16 (every tensor), mixed (f32 parameters, bf16
    /// convolutions and matrix products).
    #[arg(long, value_enum, default_value = "fp32")]
    pub precision: Precision,
    /// The training step's optimiser: sgd (the paper's: lr 0.01, momentum 0.9, wd 5e-4) or
    /// adamw (the default run's: lr 2e-3, wd 1e-4).
    #[arg(long, value_enum, default_value = "sgd")]
    pub opt: Opt,
    /// GPU autotune level: minimal, balanced, extensive or full (default: CUBECL_AUTOTUNE_LEVEL,
    /// cubecl.toml, or balanced).
    #[arg(long, value_parser = autotune_level)]
    pub autotune_level: Option<String>,
    /// One JSON object per line instead of a table.
    #[arg(long)]
    pub json: bool,
}
