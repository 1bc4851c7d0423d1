//! `trainer predict`: the top-k classes of images, with torchvision's pretrained weights or with a
//! model trained here (see [`load`] for where the model comes from), as text, JSON, and a
//! contact sheet.

use anyhow::{Context, Result};

use crate::cli::PredictArgs;
use crate::cli::usage;
use crate::inference::load;
use crate::inference::results::Prediction;

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
