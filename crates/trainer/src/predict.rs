//! `trainer predict`: the top-k classes of images, with torchvision's pretrained weights or with a
//! model trained here (see [`classifier`](crate::classifier) for where the model comes from),
//! as text, JSON, and a contact sheet.

use std::path::PathBuf;

use anyhow::{Context, Result};
use burn::tensor::Device;
use burn::tensor::activation::softmax;
use rayon::prelude::*;

use crate::classifier::{Classifier, load, values};
use crate::cli::PredictArgs;
use crate::cli::usage;
use crate::report::{Class, Prediction};

impl Classifier {
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
            let probs = if ok.is_empty() {
                Vec::new()
            } else {
                let x = self.batch(ok, device); // [N, 3, S, S]
                values(softmax(self.model.forward(x), 1))? // [N, classes]
            };
            let mut rows = probs.chunks(self.classes.len());
            for (path, pixels) in chunk.iter().zip(pixels) {
                let image = path.to_string_lossy().into_owned();
                out.push(match pixels {
                    Ok(_) => Prediction {
                        image,
                        top_k: self.top_k(rows.next().context("one output row per image")?, top_k),
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
    crate::device::configure_gpu(None);
    let device = crate::device::select(args.device.as_deref())?;
    let classifier = load(&args.model, "predict", &device)?;
    let k = args.top_k.min(classifier.classes.len());
    let predictions = classifier.predict(&args.images, args.batch_size, k, &device)?;
    let failed = predictions.iter().filter(|p| p.error.is_some()).count();
    if args.json {
        println!("{}", serde_json::to_string(&predictions)?);
    } else {
        print_text(&predictions);
    }
    if let Some(sheet) = &args.sheet {
        crate::figures::sheet::write(sheet, &predictions, k)
            .with_context(|| format!("cannot write {}", sheet.display()))?;
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} images could not be classified",
            predictions.len()
        );
    }
    Ok(())
}

/// Each image's classes as lines of text.
fn print_text(predictions: &[Prediction]) {
    for p in predictions {
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
