//! Writes the built-in synthetic dataset as PNG files in an image folder,
//! `OUT/{train,val}/<class>/NNNNN.png`, to look at or to use as `--dataset folder`.
//!
//! ```sh
//! cargo run --release -p alexnet-data --example synthetic_folder -- OUT \
//!     [--size 77] [--seed 0] [--train 500] [--val 100]
//! ```
//!
//! With a training run's seed and synthetic image size (its `config.json`: `seed`, and the eval
//! resize of `image_size`, 77 px for 67), the files are that run's images, before augmentation.

use std::path::PathBuf;
use std::process::ExitCode;

use alexnet_data::synthetic::{Split, SyntheticConfig, SyntheticDataset};

struct Args {
    out: PathBuf,
    config: SyntheticConfig,
}

fn parse() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: synthetic_folder OUT [--size N] [--seed N] [--train N] [--val N]")?;
    let mut config = SyntheticConfig {
        image_size: 77,
        train_len: 500,
        val_len: 100,
        seed: 0,
        fresh_each_epoch: false,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let number = |v: &str| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--size" => config.image_size = number(&value)? as u32,
            "--seed" => config.seed = number(&value)?,
            "--train" => config.train_len = number(&value)? as usize,
            "--val" => config.val_len = number(&value)? as usize,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(Args {
        out: PathBuf::from(out),
        config,
    })
}

fn write(args: &Args, split: Split, name: &str, len: usize) -> Result<(), String> {
    let set = SyntheticDataset::new(args.config.clone(), split).map_err(|e| e.to_string())?;
    let classes = alexnet_data::ImageDataset::classes(&set).to_vec();
    for i in 0..len {
        let dir = args.out.join(name).join(&classes[set.label(i)]);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(format!("{i:05}.png"));
        set.render(i)
            .save(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = write(&args, Split::Train, "train", args.config.train_len)
        .and_then(|()| write(&args, Split::Val, "val", args.config.val_len));
    match result {
        Ok(()) => {
            println!("{}", args.out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
