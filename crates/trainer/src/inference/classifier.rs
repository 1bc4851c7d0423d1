//! The model of `predict`, `filters` and `neighbours`, with its class names and eval transform,
//! and its top-k classes of images ([`Classifier::predict`]).
//!
//! Where the model comes from:
//! - `--pretrained`: torchvision's `IMAGENET1K_V1` file from the cache (downloaded and checked
//!   when missing), ImageNet class names and torchvision's eval transform;
//! - `--weights FILE`: a file that says what it holds (written by `trainer train` or
//!   `AlexNet::save_weights`, with the class names when it has them; or a torchvision state
//!   dict, recognised by its shapes), ImageNet class names when the head has 1000 outputs;
//! - `--weights FILE --arch A`: a file of that variant without metadata;
//! - `--run DIR`: the run's `model.bpk` (read as `--weights`).

use std::path::{Path, PathBuf};

use alexnet::pretrained::{AlexNetWeights, imagenet_classes};
use alexnet::{AlexNet, AlexNetConfig, WeightsInfo};
use alexnet_data::rng::Rng;
use alexnet_data::{AugmentConfig, DecodeError};
use anyhow::{Context, Result};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use image::RgbImage;
use rayon::prelude::*;

use super::results::{Class, Prediction};
use crate::cli::usage;
use crate::cli::{Arch, ModelArgs};
use crate::config::load_run_config;
use crate::scoring;

/// A loaded model with what it needs around it.
pub struct Classifier {
    /// The network, on its device.
    pub model: AlexNet,
    /// Class names in output order.
    pub classes: Vec<String>,
    /// Preprocessing.
    pub transform: AugmentConfig,
}

/// Where a subcommand takes its model from.
enum Source {
    /// torchvision's published weights.
    Pretrained(AlexNetWeights),
    /// A file whose metadata (or torchvision shapes) says what it holds.
    File(PathBuf),
    /// A file of a variant named on the command line.
    FileOf(PathBuf, AlexNetConfig),
}

impl Source {
    fn from_args(args: &ModelArgs, command: &str) -> Result<Self> {
        if args.pretrained {
            if args.arch.is_some_and(|a| a != Arch::Torchvision) {
                return Err(usage(
                    "--pretrained weights are torchvision's AlexNet (--arch torchvision)",
                ));
            }
            return Ok(Self::Pretrained(AlexNetWeights::DEFAULT));
        }
        let file = match (&args.weights, &args.run) {
            (Some(file), _) => file.clone(),
            (None, Some(run)) => run.join("model.bpk"),
            (None, None) => {
                return Err(usage(format!(
                    "{command} needs --pretrained, --weights FILE or --run DIR"
                )));
            }
        };
        if !file.is_file() {
            return Err(usage(format!("{}: no such weights file", file.display())));
        }
        let Some(arch) = args.arch else {
            return Ok(Self::File(file));
        };
        let mut config = arch.config();
        if let Some(n) = args.num_classes {
            config = config.with_num_classes(n);
        }
        if let Some(w) = args.width.filter(|&w| w != 1.0) {
            config = config.with_width(w);
        }
        Ok(Self::FileOf(file, config))
    }
}

/// Builds the classifier `args` describe, on `device`; `command` names the subcommand in the
/// usage error when no model is given.
pub fn load(args: &ModelArgs, command: &str, device: &Device) -> Result<Classifier> {
    let load = |config: &AlexNetConfig, path: &Path| {
        config
            .init(device)
            .load_weights(path)
            .map_err(|e| usage(e.to_string()))
    };
    match Source::from_args(args, command)? {
        Source::Pretrained(weights) => {
            let path = weights.path()?;
            let t = weights.transforms();
            Ok(Classifier {
                model: load(&weights.config(), &path)?,
                classes: weights.categories().iter().map(|c| c.to_string()).collect(),
                transform: AugmentConfig::eval_with(t.resize_size, t.crop_size),
            })
        }
        Source::File(path) => {
            let (config, classes) = describe(&path)?;
            Ok(Classifier::new(load(&config, &path)?, classes))
        }
        Source::FileOf(path, config) => Ok(Classifier::new(load(&config, &path)?, None)),
    }
}

/// The configuration and class names of a weights file: its own metadata, or (for a run's file
/// written before weight files carried it) the `config.json` of the run beside it.
fn describe(path: &Path) -> Result<(AlexNetConfig, Option<Vec<String>>)> {
    let run_config = path.with_file_name("config.json");
    match WeightsInfo::read(path) {
        Ok(info) => Ok((info.config, info.classes)),
        Err(alexnet::WeightsError::Unrecognised { .. }) if run_config.is_file() => {
            let run = load_run_config(&run_config).map_err(|e| usage(format!("{e:#}")))?;
            let num_classes = run.model.num_classes.unwrap_or(run.classes.len());
            if num_classes == 0 {
                return Err(usage(format!(
                    "{}: the run config names no classes",
                    run_config.display()
                )));
            }
            let classes = (run.classes.len() == num_classes).then_some(run.classes.clone());
            Ok((run.model_config(num_classes), classes))
        }
        Err(alexnet::WeightsError::Unrecognised { reason, .. }) => Err(usage(format!(
            "{}: the file does not say which AlexNet it holds ({reason}); pass --arch (with \
             --num-classes and --width if they differ from the variant's)",
            path.display()
        ))),
        Err(e) => Err(usage(e.to_string())),
    }
}

impl Classifier {
    /// `model` with its eval transform (from its configured input size) and class names: the
    /// given ones, else ImageNet's for a 1000-class head, else `class i`.
    pub fn new(model: AlexNet, classes: Option<Vec<String>>) -> Self {
        let n = model.num_classes();
        let classes = classes.filter(|c| c.len() == n).unwrap_or_else(|| {
            if n == 1000 {
                imagenet_classes().iter().map(|c| c.to_string()).collect()
            } else {
                (0..n).map(|i| format!("class {i}")).collect()
            }
        });
        let transform = AugmentConfig::eval(model.config.image_size as u32);
        Self {
            model,
            classes,
            transform,
        }
    }

    /// `image` through the eval transform: `3 * S * S` normalised values (S: the crop side).
    pub fn pixels(&self, image: &RgbImage) -> Vec<f32> {
        // The eval transform draws nothing from the generator.
        self.transform.apply(image, &mut Rng::for_item(0, 0, 0))
    }

    /// The image file at `path`, decoded and through the eval transform.
    pub fn read(&self, path: &Path) -> Result<Vec<f32>, DecodeError> {
        Ok(self.pixels(&alexnet_data::decode_file(path)?))
    }

    /// `images` (each from [`pixels`](Self::pixels)) as one batch on `device`.
    pub fn batch<'a>(
        &self,
        images: impl IntoIterator<Item = &'a Vec<f32>>,
        device: &Device,
    ) -> Tensor<4> {
        let s = self.transform.crop.size() as usize;
        let values: Vec<f32> = images.into_iter().flatten().copied().collect();
        let n = values.len() / (3 * s * s);
        Tensor::from_data(TensorData::new(values, [n, 3, s, s]), device) // [N, 3, S, S]
    }

    /// Classifies `images` (decoded in parallel, run in batches of `batch_size`); an image that
    /// cannot be read gets an error entry instead of classes.
    pub fn predict(
        &self,
        images: &[PathBuf],
        batch_size: usize,
        top_k: usize,
        device: &Device,
    ) -> Result<Vec<Prediction>> {
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(batch_size.max(1)) {
            let pixels: Vec<Result<Vec<f32>, String>> = chunk
                .par_iter()
                .map(|path| self.read(path).map_err(|e| e.to_string()))
                .collect();
            let ok: Vec<&Vec<f32>> = pixels.iter().filter_map(|p| p.as_ref().ok()).collect();
            let (logits, probs) = if ok.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                let x = self.batch(ok, device); // [N, 3, S, S]
                let logits = self.model.forward(x); // [N, classes]
                (values(logits.clone())?, values(softmax(logits, 1))?)
            };
            let n = self.classes.len();
            let mut rows = logits.chunks(n).zip(probs.chunks(n));
            for (path, pixels) in chunk.iter().zip(pixels) {
                let image = path.to_string_lossy().into_owned();
                let ranked = match pixels {
                    Ok(_) => {
                        let (logits, probs) = rows.next().context("one output row per image")?;
                        ranked(&self.classes, logits, probs, top_k)
                    }
                    Err(error) => Err(error),
                };
                out.push(match ranked {
                    Ok(top_k) => Prediction {
                        image,
                        top_k,
                        error: None,
                    },
                    Err(error) => Prediction {
                        image,
                        top_k: Vec::new(),
                        error: Some(error),
                    },
                });
            }
        }
        Ok(out)
    }
}

/// The `k` first classes of an output row (its logits, which [`scoring::top_k`] ranks, and their
/// softmax probabilities), or why there are none.
fn ranked(
    classes: &[String],
    logits: &[f32],
    probs: &[f32],
    k: usize,
) -> Result<Vec<Class>, String> {
    let top = scoring::top_k(logits, k)
        .ok_or_else(|| "the model's output holds a NaN or an infinity".to_owned())?;
    Ok(top
        .into_iter()
        .map(|i| Class {
            index: i,
            label: classes[i].clone(),
            prob: probs[i],
        })
        .collect())
}

/// A tensor's values as f32, whatever its float type.
pub fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))
        .context("cannot read the model's output")
}

#[cfg(test)]
mod tests {
    use super::ranked;
    use crate::scoring::fixture::{ROWS, TOP2};

    #[test]
    fn predict_ranks_the_shared_rows_as_the_rule_says() {
        let classes: Vec<String> = (0..4).map(|i| format!("c{i}")).collect();
        for (row, want) in ROWS.iter().zip(TOP2) {
            let got = ranked(&classes, row, &[0.25; 4], 2);
            let got = got
                .ok()
                .map(|top| top.iter().map(|c| c.index).collect::<Vec<_>>());
            assert_eq!(got, want.map(Vec::from), "{row:?}");
        }
    }
}
