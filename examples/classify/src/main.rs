//! Classify images with AlexNet on the CPU, using the `alexnet` and `alexnet-data` crates directly
//! (what `trainer predict` does, in one page):
//!
//! ```sh
//! # torchvision's ImageNet weights (download alexnet-owt-7be5be79.pth first)
//! cargo run --release -p classify -- alexnet-owt-7be5be79.pth datasets/samples/*.jpg
//! # a model written by `trainer train` (its config.json says the variant and the classes)
//! cargo run --release -p classify -- runs/my-run/model.bpk some-image.png
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alexnet::pretrained::EvalTransform;
use alexnet::{AlexNet, AlexNetConfig, AlexNetWeights};
use alexnet_data::AugmentConfig;
use alexnet_data::augment::eval_resize;
use alexnet_data::rng::Rng;
use burn::tensor::activation::softmax;
use burn::tensor::{Device, Tensor, TensorData};

/// The network, its class names and its preprocessing.
struct Model {
    net: AlexNet,
    classes: Vec<String>,
    transform: AugmentConfig,
}

/// torchvision's file (a `.pth`), or a run's model with its `config.json` beside it.
fn load(weights: &Path, device: &Device) -> Result<Model, String> {
    let config_json = weights.with_file_name("config.json");
    let (config, classes, t) = if config_json.is_file() {
        // A run of `trainer train`: variant, width, input size and class names from its config.
        let text = std::fs::read_to_string(&config_json).map_err(|e| e.to_string())?;
        let run: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let classes: Vec<String> = run["classes"]
            .as_array()
            .ok_or("config.json has no class names")?
            .iter()
            .filter_map(|c| c.as_str().map(str::to_owned))
            .collect();
        let mut config = match run["arch"].as_str() {
            Some("paper2012") => AlexNetConfig::paper2012(),
            Some("torchvision") => AlexNetConfig::torchvision(),
            _ => AlexNetConfig::standard(),
        }
        .with_num_classes(classes.len());
        if let Some(w) = run["width"].as_f64().filter(|&w| w != 1.0) {
            config = config.with_width(w);
        }
        let size = run["image_size"].as_u64().unwrap_or(227) as u32;
        let t = EvalTransform {
            resize_size: eval_resize(size),
            crop_size: size,
            ..AlexNetWeights::DEFAULT.transforms()
        };
        (config, classes, t)
    } else {
        // torchvision's ImageNet weights: the torchvision variant, ImageNet names and transform.
        let w = AlexNetWeights::ImageNet1kV1;
        let classes = w.categories().iter().map(|c| c.to_string()).collect();
        (w.config(), classes, w.transforms())
    };
    let net = config
        .init(device)
        .load_weights(weights)
        .map_err(|e| e.to_string())?;
    let mut transform = AugmentConfig::eval(t.crop_size);
    transform.resize = Some(t.resize_size);
    transform.mean = t.mean;
    transform.std = t.std;
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
