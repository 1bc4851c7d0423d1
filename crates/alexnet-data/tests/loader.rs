//! Batching: parallel decode + augment, deterministic batches, skipped files counted and named,
//! a broken dataset stopped by the consecutive-failure cap, tensors of the right shape.

use std::fs;
use std::path::Path;

use alexnet_data::loader::BatchLoader;
use alexnet_data::{AugmentConfig, ImageFolder, Split, SyntheticConfig, SyntheticDataset};

fn synthetic() -> SyntheticDataset {
    let config = SyntheticConfig {
        image_size: 64,
        train_len: 40,
        val_len: 10,
        seed: 1,
        fresh_each_epoch: false,
    };
    SyntheticDataset::new(config, Split::Train).expect("valid")
}

#[test]
fn a_fresh_synthetic_split_loads_new_images_each_epoch() {
    let fresh = SyntheticConfig {
        fresh_each_epoch: true,
        ..synthetic().config().clone()
    };
    let dataset = SyntheticDataset::new(fresh, Split::Train).expect("valid");
    // The eval transform draws nothing: the images differ only if the dataset's do.
    let loader = BatchLoader::new(dataset, AugmentConfig::eval(48), 7);
    let one = loader.load(1, &[3, 1]).expect("loads");
    let two = loader.load(2, &[3, 1]).expect("loads");
    assert_ne!(one.images, two.images);
    assert_eq!(one.labels, two.labels);
    let fixed = BatchLoader::new(synthetic(), AugmentConfig::eval(48), 7);
    assert_eq!(fixed.load(1, &[3, 1]).expect("loads"), one);
    assert_eq!(fixed.load(2, &[3, 1]).expect("loads"), one);
}

#[test]
fn batches_are_deterministic_per_epoch_and_become_tensors() {
    let loader = BatchLoader::new(synthetic(), AugmentConfig::paper(48), 7);
    let a = loader.load(0, &[3, 1, 4, 1, 5]).expect("loads");
    let b = loader.load(0, &[3, 1, 4, 1, 5]).expect("loads");
    let c = loader.load(1, &[3, 1, 4, 1, 5]).expect("loads");
    assert_eq!(a, b);
    assert_ne!(a.images, c.images);
    assert_eq!(a.labels, [3, 1, 4, 1, 5]);
    let device = alexnet_device::parse_device("flex").expect("flex");
    let (images, labels) = a.to_tensors(&device);
    assert_eq!(images.dims(), [5, 3, 48, 48]);
    assert_eq!(labels.dims(), [5]);
    assert_eq!(loader.skipped_count(), 0);
}

fn put(root: &Path, rel: &str, fixture: &str) {
    let bytes = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture),
    )
    .expect("fixture");
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

#[test]
fn bad_files_are_skipped_counted_and_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "a/1.jpg", "rgb.jpg");
    put(root, "a/2.jpg", "truncated.jpg");
    put(root, "b/1.png", "rgba.png");
    put(root, "b/2.jpg", "not_an_image.jpg");
    put(root, "b/3.JPEG", "png_named.JPEG");
    let loader = BatchLoader::new(
        ImageFolder::new(root).expect("folder"),
        AugmentConfig::eval(16),
        0,
    );
    let batch = loader.load(0, &[0, 1, 2, 3, 4]).expect("loads");
    assert_eq!(batch.len(), 3);
    assert_eq!(batch.labels, [0, 1, 1]);
    assert_eq!(loader.skipped_count(), 2);
    let skipped = loader.skipped();
    assert!(skipped[0].path.as_ref().expect("path").ends_with("a/2.jpg"));
    assert!(
        skipped[0].reason.contains("truncated"),
        "{}",
        skipped[0].reason
    );
    assert!(skipped[1].path.as_ref().expect("path").ends_with("b/2.jpg"));
}

#[test]
fn a_run_of_failures_stops_loading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for i in 0..6 {
        put(root, &format!("a/{i}.jpg"), "truncated.jpg");
    }
    let loader = BatchLoader::new(
        ImageFolder::new(root).expect("folder"),
        AugmentConfig::eval(16),
        0,
    )
    .with_max_consecutive_failures(4);
    let err = loader
        .load(0, &[0, 1, 2, 3, 4, 5])
        .expect_err("broken data");
    assert_eq!(err.count, 4);
    assert!(err.to_string().contains("data looks broken"), "{err}");
}

#[test]
fn a_caller_may_count_its_own_run_of_failures_and_peek_without_counting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    for i in 0..3 {
        put(root, &format!("a/{i}.jpg"), "truncated.jpg");
    }
    put(root, "a/3.jpg", "rgb.jpg");
    let loader = BatchLoader::new(
        ImageFolder::new(root).expect("folder"),
        AugmentConfig::eval(16),
        0,
    )
    .with_max_consecutive_failures(3);
    let (mut first, mut second) = (0, 0);
    let batch = loader.load_counting(0, &[0, 1], &mut first).expect("2 < 3");
    assert!(batch.is_empty());
    assert_eq!(loader.load_counting(0, &[2], &mut second), Ok(batch));
    assert_eq!((first, second), (2, 1), "each caller counts its own");
    assert_eq!(loader.peek(0, 0), None);
    let peeked = loader.peek(0, 3).expect("decodes");
    assert_eq!(peeked, loader.load(0, &[3]).expect("decodes"));
    assert_eq!(loader.skipped_count(), 3, "a peek records nothing");
    let err = loader
        .load_counting(0, &[2], &mut first)
        .expect_err("3 in a row");
    assert_eq!(err.count, 3);
}
