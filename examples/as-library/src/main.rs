//! What a program that imports the `alexnet` crate writes: build a model on a CPU device, run a
//! forward pass, read the logits. Run with `cargo run --release -p as-library`.

use alexnet::{AlexNet, AlexNetConfig};
use burn::module::Module;
use burn::tensor::{Device, Tensor};

fn main() {
    // Burn's pure-Rust CPU backend, compiled in by the `flex` feature of `burn`.
    let device = Device::flex();
    let model: AlexNet = AlexNetConfig::standard().with_num_classes(10).init(&device);
    println!(
        "standard AlexNet, 10 classes: {} parameters",
        model.num_params()
    );

    let images = Tensor::<4>::random(
        [2, 3, 227, 227],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let logits: Tensor<2> = model.forward(images); // [2, 10]
    let probs = burn::tensor::activation::softmax(logits.clone(), 1);
    let top = probs.argmax(1); // [2, 1]
    println!("logits shape: {:?}", logits.dims());
    println!(
        "predicted classes: {:?}",
        top.into_data().iter::<i64>().collect::<Vec<_>>()
    );
}
