//! Fine-tune AlexNet on an ImageFolder (`DIR/train/<class>/*`, `DIR/val/<class>/*`) with the
//! library crates and a hand-written Burn loop (the `trainer` binary does the same with
//! `--weights FILE --freeze-features` and burn-train):
//!
//! 1. build the torchvision variant with one output per class folder;
//! 2. load every layer of a torchvision-layout weights file but its head
//!    ([`AlexNet::load_backbone`]), so fc8 starts fresh;
//! 3. freeze conv1-conv5 and train fc6-fc8 with `torch.optim.SGD`'s SGD ([`alexnet::optim`]:
//!    lr 0.01, momentum 0.9, no dampening) at torchvision's eval preprocessing plus horizontal
//!    flips, in a new seeded order each epoch, printing the val accuracy per epoch.
//!
//! ```sh
//! cargo run --release -p finetune -- alexnet-owt-7be5be79.pth DIR [EPOCHS]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use alexnet::optim::SgdConfig;
use alexnet::{AlexNet, AlexNetWeights};
use alexnet_data::loader::BatchLoader;
use alexnet_data::rng::epoch_order;
use alexnet_data::{AugmentConfig, ImageDataset, ImageFolder};
use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::GradientsParams;
use burn::tensor::Device;

const BATCH: usize = 32;
const LR: f64 = 0.01;
const SEED: u64 = 0;

fn run(weights: PathBuf, root: PathBuf, epochs: usize) -> Result<(), String> {
    let (train, val) = ImageFolder::splits(&root).map_err(|e| e.to_string())?;
    let classes = train.classes().len();
    let device = Device::flex().autodiff();

    // Steps 1 and 2: a new head for our classes on top of the pretrained layers.
    let config = AlexNetWeights::ImageNet1kV1
        .config()
        .with_num_classes(classes);
    let mut model: AlexNet = config
        .init(&device)
        .load_backbone(&weights)
        .map_err(|e| e.to_string())?;
    // Step 3: only fc6-fc8 learn.
    model.conv1 = model.conv1.no_grad();
    model.conv2 = model.conv2.no_grad();
    model.conv3 = model.conv3.no_grad();
    model.conv4 = model.conv4.no_grad();
    model.conv5 = model.conv5.no_grad();
    println!(
        "{classes} classes, {} train / {} val images; training fc6-fc8 of {}",
        train.len(),
        val.len(),
        weights.display()
    );

    let t = AlexNetWeights::ImageNet1kV1.transforms();
    let eval = AugmentConfig::eval_with(t.resize_size, t.crop_size);
    let mut augment = eval.clone();
    augment.hflip = 0.5;
    let train = BatchLoader::new(train, augment, SEED);
    let val = BatchLoader::new(val, eval, SEED);
    // torch.optim.SGD(lr=0.01, momentum=0.9): no dampening (Burn's own SGD dampens by 0.1).
    let mut optim = SgdConfig::new()
        .with_momentum(0.9)
        .init()
        .map_err(|e| e.to_string())?;
    let loss_fn = CrossEntropyLossConfig::new().init(&device);

    for epoch in 1..=epochs {
        let order = epoch_order(train.dataset().len(), SEED, epoch as u64);
        let mut seen = 0;
        let mut total = 0.0;
        for chunk in order.chunks(BATCH) {
            let batch = train.load(epoch as u64, chunk).map_err(|e| e.to_string())?;
            if batch.is_empty() {
                continue;
            }
            let (x, y) = batch.to_tensors(&device);
            let logits = model.forward(x); // [N, classes]
            let loss = loss_fn.forward(logits, y); // [1]
            total += loss.clone().into_scalar::<f32>() as f64 * batch.len() as f64;
            seen += batch.len();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(LR, model, grads);
        }
        let (correct, count) = validate(&model, &val)?;
        println!(
            "epoch {epoch}: train loss {:.4}, val top-1 {:.1}% ({correct}/{count})",
            total / seen.max(1) as f64,
            100.0 * correct as f64 / count.max(1) as f64
        );
    }
    Ok(())
}

/// Top-1 hits and images of `val`, without autodiff and without dropout.
fn validate(model: &AlexNet, val: &BatchLoader<ImageFolder>) -> Result<(usize, usize), String> {
    let valid = model.valid();
    let plain = Device::flex();
    let (mut correct, mut count) = (0, 0);
    let indices: Vec<usize> = (0..val.dataset().len()).collect();
    for chunk in indices.chunks(BATCH) {
        let batch = val.load(0, chunk).map_err(|e| e.to_string())?;
        if batch.is_empty() {
            continue;
        }
        let (x, _) = batch.to_tensors(&plain);
        let predicted = valid.forward(x).argmax(1); // [N, 1]
        let predicted: Vec<i64> = predicted.into_data().iter::<i64>().collect();
        correct += predicted
            .iter()
            .zip(&batch.labels)
            .filter(|(p, l)| **p as usize == **l)
            .count();
        count += batch.len();
    }
    Ok((correct, count))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (weights, root, epochs) = match args.as_slice() {
        [w, d] => (w, d, 3),
        [w, d, e] => match e.parse() {
            Ok(e) => (w, d, e),
            Err(_) => {
                eprintln!("EPOCHS must be a number, got `{e}`");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!(
                "usage: finetune WEIGHTS DIR [EPOCHS]  (DIR/train/<class>/*, DIR/val/<class>/*)"
            );
            return ExitCode::from(2);
        }
    };
    match run(PathBuf::from(weights), PathBuf::from(root), epochs) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
