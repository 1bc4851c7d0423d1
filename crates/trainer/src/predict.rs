//! `trainer predict`: the top-k classes of images, with torchvision's pretrained weights or with a
//! model trained here.
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
use alexnet_data::AugmentConfig;
use alexnet_data::rng::Rng;
use anyhow::{Context, Result};
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};
use rayon::prelude::*;
use serde::Serialize;

use crate::cli::{Arch, PredictArgs};
use crate::config::load_run_config;
use crate::usage;

/// One class of a prediction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Class {
    /// Output index.
    pub index: usize,
    /// Class name.
    pub label: String,
    /// Softmax probability.
    pub prob: f32,
}

/// The prediction for one image (`--json` prints an array of these).
#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    /// The path as given on the command line.
    pub image: String,
    /// The most probable classes, most probable first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub top_k: Vec<Class>,
    /// Why the image could not be classified (it is then left out of the ranking).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A loaded model with what it needs around it.
pub struct Classifier {
    /// The network, on its device.
    pub model: AlexNet,
    /// Class names in output order.
    pub classes: Vec<String>,
    /// Preprocessing.
    pub transform: AugmentConfig,
}

/// Where `trainer predict` takes its model from.
enum Source {
    /// torchvision's published weights.
    Pretrained(AlexNetWeights),
    /// A file whose metadata (or torchvision shapes) says what it holds.
    File(PathBuf),
    /// A file of a variant named on the command line.
    FileOf(PathBuf, AlexNetConfig),
}

impl Source {
    fn from_args(args: &PredictArgs) -> Result<Self> {
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
                return Err(usage(
                    "predict needs --pretrained, --weights FILE or --run DIR",
                ));
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

/// Builds the classifier `args` describe, on `device`.
pub fn load(args: &PredictArgs, device: &Device) -> Result<Classifier> {
    let load = |config: &AlexNetConfig, path: &Path| {
        config
            .init(device)
            .load_weights(path)
            .map_err(|e| usage(e.to_string()))
    };
    match Source::from_args(args)? {
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
        let s = self.transform.crop.size() as usize;
        for chunk in images.chunks(batch_size.max(1)) {
            let pixels: Vec<Result<Vec<f32>, String>> = chunk
                .par_iter()
                .map(|path| {
                    let image = alexnet_data::decode_file(path).map_err(|e| e.to_string())?;
                    // The eval transform draws nothing from the generator.
                    Ok(self.transform.apply(&image, &mut Rng::for_item(0, 0, 0)))
                })
                .collect();
            let ok: Vec<f32> = pixels
                .iter()
                .filter_map(|p| p.as_ref().ok())
                .flatten()
                .copied()
                .collect();
            let n = ok.len() / (3 * s * s);
            let probs = if n > 0 {
                let x = Tensor::<4>::from_data(TensorData::new(ok, [n, 3, s, s]), device);
                let p = softmax(self.model.forward(x), 1); // [N, classes]
                p.into_data()
                    .try_into_vec::<f32>()
                    .map_err(|e| anyhow::anyhow!("{e:?}"))
                    .context("cannot read the model's output")?
            } else {
                Vec::new()
            };
            let classes = self.classes.len();
            let mut rows = probs.chunks(classes);
            for (path, pixels) in chunk.iter().zip(pixels) {
                let image = path.to_string_lossy().into_owned();
                match pixels {
                    Ok(_) => {
                        let row = rows.next().context("one output row per image")?;
                        out.push(Prediction {
                            image,
                            top_k: self.top_k(row, top_k),
                            error: None,
                        });
                    }
                    Err(error) => out.push(Prediction {
                        image,
                        top_k: Vec::new(),
                        error: Some(error),
                    }),
                }
            }
        }
        Ok(out)
    }

    fn top_k(&self, row: &[f32], k: usize) -> Vec<Class> {
        let mut order: Vec<usize> = (0..row.len()).collect();
        // Highest probability first; ties by index, like torch.topk on CPU.
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
        order
            .into_iter()
            .take(k)
            .map(|i| Class {
                index: i,
                label: self.classes[i].clone(),
                prob: row[i],
            })
            .collect()
    }
}

/// Runs `trainer predict`.
pub fn run(args: &PredictArgs) -> Result<()> {
    if args.images.is_empty() {
        return Err(usage("predict needs at least one image"));
    }
    if args.top_k == 0 {
        return Err(usage("--topk must be at least 1"));
    }
    crate::configure_gpu(None);
    let device = crate::device(args.device.as_deref())?;
    let classifier = load(args, &device)?;
    let k = args.top_k.min(classifier.classes.len());
    let predictions = classifier.predict(&args.images, args.batch_size, k, &device)?;
    let failed = predictions.iter().filter(|p| p.error.is_some()).count();
    if args.json {
        println!("{}", serde_json::to_string(&predictions)?);
    } else {
        for p in &predictions {
            match &p.error {
                Some(error) => println!("{}: cannot classify: {error}", p.image),
                None => {
                    println!("{}", p.image);
                    for c in &p.top_k {
                        println!("  {:>6.2}%  {:>4}  {}", c.prob * 100.0, c.index, c.label);
                    }
                }
            }
        }
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} images could not be classified",
            predictions.len()
        );
    }
    Ok(())
}
