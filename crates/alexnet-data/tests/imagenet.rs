//! ImageNet layouts on trees the test builds: wnid train folders, val in folders or flat with a
//! labels file (space-separated index or wnid, or Kaggle's CSV), and errors for bad labels files.

use std::fs;
use std::path::Path;

use alexnet_data::ImageDataset;
use alexnet_data::ImageFolder;
use alexnet_data::imagenet::{ImageNetError, open};

fn put(root: &Path, rel: &str) {
    let bytes = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rgb.jpg"))
        .expect("fixture");
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    put(dir.path(), "train/n01440764/n01440764_1.JPEG");
    put(dir.path(), "train/n15075141/n15075141_1.JPEG");
    put(dir.path(), "val/ILSVRC2012_val_00000001.JPEG");
    put(dir.path(), "val/ILSVRC2012_val_00000002.JPEG");
    dir
}

fn flat_labels(val: ImageFolder) -> Vec<usize> {
    (0..val.len())
        .map(|i| val.get(i).expect("decodes").label)
        .collect()
}

#[test]
fn flat_val_with_index_or_wnid_labels() {
    let dir = tree();
    fs::write(
        dir.path().join("val_labels.txt"),
        "ILSVRC2012_val_00000001.JPEG 1\nILSVRC2012_val_00000002.JPEG n01440764\n",
    )
    .expect("write");
    let (train, val) = open(dir.path(), None).expect("opens");
    assert_eq!(train.classes(), ["n01440764", "n15075141"]);
    assert_eq!(flat_labels(val), [1, 0]);
}

#[test]
fn kaggle_csv_with_header_and_ids_without_extension() {
    let dir = tree();
    fs::write(
        dir.path().join("LOC_val_solution.csv"),
        "ImageId,PredictionString\nILSVRC2012_val_00000002,n15075141 1 2 3 4\nILSVRC2012_val_00000001,n01440764 5 6 7 8\n",
    )
    .expect("write");
    let (_, val) = open(dir.path(), None).expect("opens");
    assert_eq!(flat_labels(val), [1, 0]);
}

#[test]
fn val_in_class_folders_uses_train_classes() {
    let dir = tempfile::tempdir().expect("tempdir");
    put(dir.path(), "train/n01/a.JPEG");
    put(dir.path(), "train/n02/a.JPEG");
    put(dir.path(), "val/n02/b.JPEG");
    let (_, val) = open(dir.path(), None).expect("opens");
    assert_eq!(val.classes(), ["n01", "n02"]);
    assert_eq!(val.empty_classes(), ["n01"]);
    assert_eq!(val.get(0).expect("decodes").label, 1);
}

#[test]
fn bad_labels_files_are_errors_naming_the_line() {
    let dir = tree();
    assert!(matches!(
        open(dir.path(), None),
        Err(ImageNetError::NoLabels(_))
    ));
    let labels = dir.path().join("labels.txt");
    fs::write(
        &labels,
        "ILSVRC2012_val_00000001.JPEG 0\nILSVRC2012_val_00000002.JPEG n99999999\n",
    )
    .expect("write");
    let err = open(dir.path(), Some(&labels)).expect_err("unknown class");
    assert!(
        matches!(err, ImageNetError::BadLine { line: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("n99999999"));
    fs::write(&labels, "missing.JPEG 0\n").expect("write");
    let err = open(dir.path(), Some(&labels)).expect_err("missing file");
    assert!(err.to_string().contains("no image `missing.JPEG`"), "{err}");
    fs::write(&labels, "ILSVRC2012_val_00000001.JPEG 7\n").expect("write");
    let err = open(dir.path(), Some(&labels)).expect_err("label out of range");
    assert!(err.to_string().contains("label 7"), "{err}");
}
