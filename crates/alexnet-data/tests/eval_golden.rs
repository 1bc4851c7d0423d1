//! The eval transform against torchvision's on the same pixels (goldens from
//! `tools/make_eval_golden.py`: PIL `Resize` with antialiasing, then `CenterCrop`).
//! Tolerance: 1/255 per value, one 8-bit level.

use std::path::PathBuf;

use alexnet_data::{AugmentConfig, decode_file, rng::Rng};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn check(case: &str, resize: u32, crop: u32) {
    let input = decode_file(&fixture(&format!("eval_{case}_input.png"))).expect("input decodes");
    let golden = decode_file(&fixture(&format!("eval_{case}_r{resize}_c{crop}.png")))
        .expect("golden decodes");
    let mut config = AugmentConfig::eval(crop);
    assert_eq!(config.resize, Some(resize));
    config.mean = [0.0; 3];
    config.std = [1.0; 3];
    let ours = config.apply(&input, &mut Rng::for_item(0, 0, 0));
    let n = (crop * crop) as usize;
    let mut worst = 0.0f32;
    for (i, px) in golden.pixels().enumerate() {
        for c in 0..3 {
            let diff = (ours[c * n + i] - f32::from(px[c]) / 255.0).abs();
            worst = worst.max(diff);
        }
    }
    println!(
        "{case}: max |ours - torchvision| = {:.2}/255",
        worst * 255.0
    );
    assert!(
        worst <= 1.0 / 255.0 + 1e-6,
        "{case}: {:.2}/255",
        worst * 255.0
    );
}

#[test]
fn imagenet_eval_transform_matches_torchvision() {
    check("chelsea", 256, 224);
}

#[test]
fn odd_margin_is_rounded_half_to_even_like_torchvision() {
    check("coffee_small", 73, 64);
}

#[test]
fn upscaling_matches_torchvision() {
    check("coffee_tiny", 73, 64);
}
