//! `trainer eval`: top-1 / top-5 of a saved model on a dataset split, with the eval transform
//! (resize, centre crop) or the paper's ten-crop averaging of softmax outputs.

use std::path::{Path, PathBuf};

use alexnet::{AlexNet, WeightsInfo};
use alexnet_data::loader::BatchLoader;
use alexnet_data::{AugmentConfig, ImageDataset};
use anyhow::{Context, Result};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::EvalArgs;
use crate::cli::usage;
use crate::config::{TrainConfig, dataset_name, load_run_config};
use crate::scoring;
use crate::train::data;

mod classes;

/// What `eval` prints (`--json`: as one object).
#[derive(Debug, Serialize)]
pub struct EvalReport {
    /// Top-1 accuracy, a fraction.
    pub top1: f64,
    /// Top-5 accuracy (top-k with k = min(5, classes)), a fraction.
    pub top5: f64,
    /// Images evaluated.
    pub images: usize,
    /// Images skipped because they could not be decoded.
    pub skipped: usize,
    /// Images whose output row held a NaN or an infinity (each counted as a miss).
    pub non_finite: usize,
    /// Whether the ten-crop average was used.
    pub ten_crop: bool,
    /// The model file.
    pub model: PathBuf,
    /// The split evaluated (`val` or `train`).
    pub split: &'static str,
}

/// Runs `trainer eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    let (model_path, config_path) = model_files(args)?;
    let config = run_config(args, &config_path, &model_path)?;
    let (train, val, classes) = data::open(&config)?;
    check_classes(&model_path, &config.classes, &classes)?;
    crate::device::configure_gpu(None);
    let device = crate::device::select(args.device.as_deref())?;
    let num_classes = config.model.num_classes.unwrap_or(classes.len());
    let (set, split) = if args.train_split {
        (train, "train")
    } else {
        (val, "val")
    };
    let model: AlexNet = config
        .model_config(num_classes)
        .init(&device)
        .load_weights(&model_path)
        .map_err(|e| usage(e.to_string()))?;
    log::info!(
        "evaluating {} on the {split} split of {} ({} images{})",
        model_path.display(),
        dataset_name(config.data.dataset),
        set.len(),
        if args.ten_crop {
            ", ten crops each"
        } else {
            ""
        }
    );
    let loader = BatchLoader::new(set, config.eval_augment(), config.seed)
        .with_max_consecutive_failures(config.data.max_consecutive_failures);
    let (tally, crop_skips) = score(args, &model, &loader, &device, num_classes)?;
    if tally.images == 0 {
        return Err(anyhow::anyhow!(
            "no image of the {split} split could be decoded"
        ));
    }
    let report = EvalReport {
        top1: tally.top1 as f64 / tally.images as f64,
        top5: tally.topk as f64 / tally.images as f64,
        images: tally.images,
        skipped: loader.skipped_count() + crop_skips,
        non_finite: tally.non_finite,
        ten_crop: args.ten_crop,
        model: model_path,
        split,
    };
    print_report(&report, 5.min(num_classes), args.json)
}

/// The `config.json` of the run that wrote `weights`: the one beside it, or for a checkpoint in a
/// run's `checkpoint/` folder, the run's.
fn run_config_of(weights: &Path) -> PathBuf {
    let dir = weights.parent().unwrap_or(Path::new("."));
    let beside = dir.join("config.json");
    match dir.parent() {
        Some(run) if !beside.is_file() && dir.file_name() == Some("checkpoint".as_ref()) => {
            run.join("config.json")
        }
        _ => beside,
    }
}

/// The model file and the `config.json` of the run that wrote it.
fn model_files(args: &EvalArgs) -> Result<(PathBuf, PathBuf)> {
    let (model_path, config_path) = match (&args.run, &args.weights) {
        (_, Some(weights)) => (weights.clone(), run_config_of(weights)),
        (Some(run), None) => (run.join("model.bpk"), run.join("config.json")),
        (None, None) => return Err(usage("eval needs --run DIR or --weights FILE")),
    };
    if !model_path.is_file() {
        return Err(usage(format!(
            "{}: no such model file",
            model_path.display()
        )));
    }
    Ok((model_path, config_path))
}

/// Refuses a dataset whose classes are not the model's: the class names the model file
/// records, else those of its run's `config.json`.
fn check_classes(model_path: &Path, run_classes: &[String], dataset: &[String]) -> Result<()> {
    let recorded = WeightsInfo::read(model_path)
        .ok()
        .and_then(|info| info.classes);
    let model = recorded.as_deref().unwrap_or(run_classes);
    if model.is_empty() {
        log::warn!(
            "{} records no class names: the dataset's labels are taken as its output indices",
            model_path.display()
        );
        return Ok(());
    }
    match classes::first_difference(model, dataset) {
        None => Ok(()),
        Some(difference) => Err(usage(format!(
            "the dataset's classes are not the model's: {difference}; evaluate {} on data with \
             the classes it was trained on, in the same order",
            model_path.display()
        ))),
    }
}

/// The configuration of the run that wrote the model, with `eval`'s dataset overrides.
fn run_config(args: &EvalArgs, config_path: &Path, model_path: &Path) -> Result<TrainConfig> {
    let mut config: TrainConfig = load_run_config(config_path).map_err(|e| {
        usage(format!(
            "{e:#}; eval needs the config.json of the run that wrote {}",
            model_path.display()
        ))
    })?;
    if let Some(dataset) = args.dataset {
        config.data.dataset = dataset;
    }
    if let Some(dir) = &args.data_dir {
        config.data.data_dir = Some(dir.clone());
    }
    config.data.download = false;
    Ok(config)
}

/// Scores every image of the loader's dataset, in batches; also returns how many images the
/// ten-crop path skipped as undecodable.
fn score(
    args: &EvalArgs,
    model: &AlexNet,
    loader: &BatchLoader<data::SharedDataset>,
    device: &Device,
    num_classes: usize,
) -> Result<(Tally, usize)> {
    let k = 5.min(num_classes);
    let transform = loader.augment().clone();
    let mut tally = Tally::default();
    let mut crop_skips = 0;
    let indices: Vec<usize> = (0..loader.dataset().len()).collect();
    for chunk in indices.chunks(args.batch_size.max(1)) {
        let (probs, labels) = if args.ten_crop {
            let (probs, labels) =
                ten_crop_probs(model, loader, &transform, chunk, device, num_classes)?;
            crop_skips += chunk.len() - labels.len();
            (probs, labels)
        } else {
            let batch = loader.load(0, chunk)?;
            if batch.is_empty() {
                continue;
            }
            let (x, _) = batch.to_tensors(device);
            let logits = model.forward(x); // [N, classes]
            (host(logits)?, batch.labels)
        };
        for (row, &label) in probs.chunks(num_classes).zip(&labels) {
            tally.add(row, label, k);
        }
    }
    Ok((tally, crop_skips))
}

/// Prints the report as text, or as one JSON object.
fn print_report(report: &EvalReport, k: usize, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!(
            "top-1 {:.2}%  top-{k} {:.2}%  ({} images{}, {} skipped, {} non-finite)",
            report.top1 * 100.0,
            report.top5 * 100.0,
            report.images,
            if report.ten_crop { ", ten-crop" } else { "" },
            report.skipped,
            report.non_finite
        );
    }
    Ok(())
}

/// Hits counted over the rows of a model's output.
#[derive(Debug, Default, PartialEq)]
struct Tally {
    images: usize,
    top1: usize,
    topk: usize,
    non_finite: usize,
}

impl Tally {
    /// Scores one output row against its label with [`scoring::top_k`]; a row holding a NaN or
    /// an infinity is a miss and is counted as non-finite.
    fn add(&mut self, row: &[f32], label: usize, k: usize) {
        self.images += 1;
        let Some(top) = scoring::top_k(row, k) else {
            self.non_finite += 1;
            return;
        };
        self.top1 += usize::from(top.first() == Some(&label));
        self.topk += usize::from(top.contains(&label));
    }
}

/// Mean softmax over the ten crops of each image of `chunk`; undecodable images are skipped.
fn ten_crop_probs(
    model: &AlexNet,
    loader: &BatchLoader<data::SharedDataset>,
    transform: &AugmentConfig,
    chunk: &[usize],
    device: &Device,
    num_classes: usize,
) -> Result<(Vec<f32>, Vec<usize>)> {
    let decoded: Vec<_> = chunk.par_iter().map(|&i| loader.dataset().get(i)).collect();
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    for sample in decoded {
        match sample {
            Ok(sample) => {
                for crop in transform.ten_crop(&sample.image) {
                    pixels.extend(crop);
                }
                labels.push(sample.label);
            }
            Err(err) => log::warn!("skipping {err}"),
        }
    }
    if labels.is_empty() {
        return Ok((Vec::new(), labels));
    }
    let n = labels.len();
    let s = transform.crop.size() as usize;
    let x = Tensor::<4>::from_data(TensorData::new(pixels, [n * 10, 3, s, s]), device);
    let probs = softmax(model.forward(x), 1); // [N*10, classes]
    let mean = probs.reshape([n, 10, num_classes]).mean_dim(1); // [N, 1, classes]
    Ok((host(mean.reshape([n, num_classes]))?, labels))
}

fn host(t: Tensor<2>) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("cannot read the model's output")
}

#[cfg(test)]
mod tests {
    use super::Tally;

    fn score(rows: &[&[f32]], labels: &[usize], k: usize) -> Tally {
        let mut tally = Tally::default();
        for (row, &label) in rows.iter().zip(labels) {
            tally.add(row, label, k);
        }
        tally
    }

    #[test]
    fn tied_classes_go_to_the_lowest_index() {
        // A dead network's all-zero rows predict class 0, as torch.argmax does; top-2 is [0, 1].
        let zeros: &[f32] = &[0.0; 4];
        let tally = score(&[zeros, zeros, zeros], &[0, 1, 3], 2);
        assert_eq!((tally.top1, tally.topk), (1, 2));
    }

    #[test]
    fn the_shared_rows_score_as_the_rule_says() {
        use crate::scoring::fixture::{LABELS, NON_FINITE, ROWS, TOP1_HITS, TOP2_HITS};
        let rows: Vec<&[f32]> = ROWS.iter().map(|r| &r[..]).collect();
        let tally = score(&rows, &LABELS, 2);
        assert_eq!(
            (tally.top1, tally.topk, tally.non_finite),
            (TOP1_HITS, TOP2_HITS, NON_FINITE)
        );
    }

    #[test]
    fn a_nan_row_is_a_miss_and_is_counted() {
        let nan: &[f32] = &[f32::NAN; 3];
        let inf: &[f32] = &[0.1, f32::INFINITY, 0.2];
        let good: &[f32] = &[0.1, 0.7, 0.2];
        let tally = score(&[nan, inf, good], &[0, 1, 1], 3);
        assert_eq!(
            tally,
            Tally {
                images: 3,
                top1: 1,
                topk: 1,
                non_finite: 2
            }
        );
    }

    #[test]
    fn classes_tied_at_zero_fill_the_top_k_by_index() {
        // Ten-crop averages leave many classes at exactly 0.0: those at the lowest indices fill
        // the top 5 first.
        let row: &[f32] = &[0.6, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        assert_eq!(score(&[row], &[5], 5).topk, 0);
        assert_eq!(score(&[row], &[4], 5).topk, 1);
        assert_eq!(score(&[row], &[1], 5).topk, 1);
        assert_eq!(score(&[row], &[0], 5).top1, 1);
    }
}
