//! ImageFolder indexing on trees the test builds: sorted classes, case-insensitive extensions,
//! empty classes keeping their index, bad files as skippable errors, and clear errors for
//! unusable roots.

use std::fs;
use std::path::Path;

use alexnet_data::{FolderError, ImageDataset, ImageFolder};

fn fixture(name: &str) -> Vec<u8> {
    fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name),
    )
    .expect("fixture")
}

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

#[test]
fn classes_are_sorted_folders_and_empty_ones_keep_their_index() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "zebra/a.JPG", &fixture("rgb.jpg"));
    put(root, "apple/b.png", &fixture("rgb.png"));
    put(root, "apple/c.Jpeg", &fixture("rgb.jpg"));
    put(root, "apple/notes.txt", b"not an image");
    fs::create_dir_all(root.join("mango")).expect("mkdir");
    let ds = ImageFolder::new(root).expect("valid folder");
    assert_eq!(ds.classes(), ["apple", "mango", "zebra"]);
    assert_eq!(ds.empty_classes(), ["mango"]);
    assert_eq!(ds.len(), 3);
    let labels: Vec<usize> = ds.items().iter().map(|(_, l)| *l).collect();
    assert_eq!(labels, [0, 0, 2]);
    assert_eq!(ds.get(2).expect("decodes").label, 2);
}

#[test]
fn a_bad_file_is_an_error_naming_it_and_the_rest_decode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "cat/good.jpg", &fixture("rgb.jpg"));
    put(root, "cat/trunc.jpg", &fixture("truncated.jpg"));
    put(root, "dog/fake.JPEG", &fixture("png_named.JPEG"));
    let ds = ImageFolder::new(root).expect("valid folder");
    let results: Vec<_> = (0..ds.len()).map(|i| ds.get(i)).collect();
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 2);
    let err = results
        .into_iter()
        .find_map(Result::err)
        .expect("one bad file");
    assert!(
        err.to_string().contains("trunc.jpg") && err.to_string().contains("truncated"),
        "{err}"
    );
}

#[test]
fn train_val_splits_share_the_train_classes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    put(root, "train/a/1.png", &fixture("rgb.png"));
    put(root, "train/b/1.png", &fixture("rgb.png"));
    put(root, "val/b/1.png", &fixture("rgb.png"));
    let (train, val) = ImageFolder::splits(root).expect("valid splits");
    assert_eq!(train.classes(), val.classes());
    assert_eq!(val.len(), 1);
    assert_eq!(val.get(0).expect("decodes").label, 1);
}

#[test]
fn unusable_roots_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = ImageFolder::new(dir.path().join("nope")).expect_err("missing");
    assert!(matches!(missing, FolderError::Missing(_)));
    assert!(missing.to_string().contains("no such data directory"));
    assert!(matches!(
        ImageFolder::new(dir.path()).expect_err("empty"),
        FolderError::NoClasses(_)
    ));
    fs::create_dir_all(dir.path().join("a")).expect("mkdir");
    assert!(matches!(
        ImageFolder::new(dir.path()).expect_err("no images"),
        FolderError::NoImages(_)
    ));
}
