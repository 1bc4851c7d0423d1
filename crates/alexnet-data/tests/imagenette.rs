//! Imagenette on a tree the test builds: clean labels from the folders, noisy labels from
//! `noisy_imagenette.csv`, and errors for unknown noise levels and bad CSVs.

use std::fs;
use std::path::Path;

use alexnet_data::ImageDataset;
use alexnet_data::imagenette::{ImagenetteError, class_name, open};

fn put(root: &Path, rel: &str) {
    let bytes = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rgb.jpg"))
        .expect("fixture");
    let path = root.join(rel);
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    fs::write(path, bytes).expect("write");
}

const CSV: &str =
    "path,noisy_labels_0,noisy_labels_1,noisy_labels_5,noisy_labels_25,noisy_labels_50,is_valid
train/n01440764/a.JPEG,n01440764,n01440764,n01440764,n03888605,n03888605,False
train/n03888605/b.JPEG,n03888605,n03888605,n03888605,n03888605,n01440764,False
val/n01440764/c.JPEG,n01440764,n01440764,n01440764,n01440764,n01440764,True
";

fn tree(csv: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for rel in [
        "train/n01440764/a.JPEG",
        "train/n03888605/b.JPEG",
        "val/n01440764/c.JPEG",
        "val/n03888605/d.JPEG",
    ] {
        put(dir.path(), rel);
    }
    fs::write(dir.path().join("noisy_imagenette.csv"), csv).expect("csv");
    dir
}

fn labels(set: &impl ImageDataset) -> Vec<usize> {
    (0..set.len())
        .map(|i| set.get(i).expect("decodes").label)
        .collect()
}

#[test]
fn clean_and_noisy_labels() {
    let dir = tree(CSV);
    let (train, val) = open(dir.path(), 0).expect("clean");
    assert_eq!(train.classes(), ["n01440764", "n03888605"]);
    assert_eq!(labels(&train), [0, 1]);
    assert_eq!(labels(&val), [0, 1]);
    assert_eq!(class_name(&train.classes()[1]), Some("parachute"));
    // 25%: a.JPEG is relabelled parachute; 50%: both flipped; val is never relabelled
    let (train, val) = open(dir.path(), 25).expect("noisy 25");
    assert_eq!(labels(&train), [1, 1]);
    assert_eq!(labels(&val), [0, 1]);
    let (train, _) = open(dir.path(), 50).expect("noisy 50");
    assert_eq!(labels(&train), [1, 0]);
}

#[test]
fn bad_noise_levels_and_csvs_are_errors() {
    let dir = tree(CSV);
    let err = open(dir.path(), 10).expect_err("no 10% column");
    assert!(matches!(err, ImagenetteError::BadNoise(10)), "{err}");

    let dir = tree("path,noisy_labels_5,is_valid\ntrain/n01440764/a.JPEG,n01440764,False\n");
    let err = open(dir.path(), 1).expect_err("missing column");
    assert!(err.to_string().contains("noisy_labels_1"), "{err}");
    let err = open(dir.path(), 5).expect_err("b.JPEG has no row");
    assert!(err.to_string().contains("train/n03888605/b.JPEG"), "{err}");

    let dir = tree(&CSV.replace("n03888605,n01440764,False", "n09999999,n01440764,False"));
    let err = open(dir.path(), 25).expect_err("unknown class");
    assert!(
        err.to_string().contains("line 3") && err.to_string().contains("n09999999"),
        "{err}"
    );

    let dir = tree(CSV);
    fs::remove_file(dir.path().join("noisy_imagenette.csv")).expect("rm");
    let err = open(dir.path(), 5).expect_err("no csv");
    assert!(err.to_string().contains("noisy_imagenette.csv"), "{err}");
    assert!(open(dir.path(), 0).is_ok(), "clean labels need no csv");
}
