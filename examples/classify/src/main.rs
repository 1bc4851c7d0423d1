//! Classify images with AlexNet on the CPU, using the `alexnet` and `alexnet-data` crates directly
//! (what `trainer predict` does, in one page):
//!
//! ```sh
//! # torchvision's ImageNet weights (download alexnet-owt-7be5be79.pth first)
//! cargo run --release -p classify -- alexnet-owt-7be5be79.pth datasets/samples/*.jpg
//! # a model written by `trainer train` (the file says its variant, input size and classes)
//! cargo run --release -p classify -- runs/my-run/model.bpk some-image.png
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alexnet::{AlexNet, WeightsInfo, imagenet_classes};
use alexnet_data::AugmentConfig;
use alexnet_data::rng::Rng;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

/// The network, its class names and its preprocessing.
struct Model {
    net: AlexNet,
    classes: Vec<String>,
    transform: AugmentConfig,
}

/// Any weights file that says what it holds: torchvision's `.pth` (recognised by its shapes) or a
/// model written by `trainer train` or `AlexNet::save_weights` (its variant, input size and
/// class names are in the file).
fn load(weights: &Path, device: &Device) -> Result<Model, String> {
    let info = WeightsInfo::read(weights).map_err(|e| e.to_string())?;
    let net = info
        .config
        .init(device)
        .load_weights(weights)
        .map_err(|e| e.to_string())?;
    let n = info.config.num_classes;
    let classes = match info.classes {
        Some(classes) => classes,
        None if n == 1000 => imagenet_classes().iter().map(|c| c.to_string()).collect(),
        None => (0..n).map(|i| format!("class {i}")).collect(),
    };
    // torchvision's eval preprocessing at the model's input size (256 -> 224 for its weights).
    let transform = AugmentConfig::eval(info.config.image_size as u32);
    Ok(Model {
        net,
        classes,
        transform,
    })
}

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let Some((weights, images)) = args.split_first().filter(|(_, images)| !images.is_empty())
    else {
        eprintln!("usage: classify WEIGHTS IMAGE [IMAGE...]");
        return ExitCode::from(2);
    };
    let device = Device::flex();
    let model = match load(weights, &device) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let size = model.transform.crop.size() as usize;
    let mut failed = false;
    for path in images {
        let image = match alexnet_data::decode_file(path) {
            Ok(image) => image,
            Err(e) => {
                eprintln!("{}: {e}", path.display());
                failed = true;
                continue;
            }
        };
        // The eval transform is deterministic: the generator is never drawn from.
        let pixels = model.transform.apply(&image, &mut Rng::for_item(0, 0, 0));
        let x = Tensor::<4>::from_data(TensorData::new(pixels, [1, 3, size, size]), &device);
        let probs = softmax(model.net.forward(x), 1); // [1, classes]
        let probs: Vec<f32> = probs.into_data().try_to_vec().unwrap_or_default();
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        println!("{}", path.display());
        for &i in order.iter().take(5) {
            println!(
                "  {:>6.2}%  {:>4}  {}",
                probs[i] * 100.0,
                i,
                model.classes[i]
            );
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
