//! Imagenette (fast.ai, <https://github.com/fastai/imagenette>): ten easy ImageNet classes in
//! `imagenette2-160/{train,val}/<wnid>/*.JPEG` (9,469 train and 3,925 val images, shorter side
//! 160 px), and optionally the noisy-label training sets of `noisy_imagenette.csv`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dataset::ImageDataset;
use crate::folder::{FolderError, ImageFolder};

/// The ten classes as (WordNet id, name), in label order (sorted wnids).
pub const CLASSES: [(&str, &str); 10] = [
    ("n01440764", "tench"),
    ("n02102040", "English springer"),
    ("n02979186", "cassette player"),
    ("n03000684", "chain saw"),
    ("n03028079", "church"),
    ("n03394916", "French horn"),
    ("n03417042", "garbage truck"),
    ("n03425413", "gas pump"),
    ("n03445777", "golf ball"),
    ("n03888605", "parachute"),
];

/// The percentages of flipped training labels `noisy_imagenette.csv` offers.
pub const NOISE_LEVELS: [u8; 5] = [0, 1, 5, 25, 50];

/// The human-readable name of an Imagenette wnid.
pub fn class_name(wnid: &str) -> Option<&'static str> {
    CLASSES.iter().find(|(w, _)| *w == wnid).map(|(_, n)| *n)
}

/// A problem with an Imagenette folder or its noisy-labels CSV.
#[derive(Debug, thiserror::Error)]
pub enum ImagenetteError {
    /// The folder layout is unusable.
    #[error(transparent)]
    Folder(#[from] FolderError),
    /// A noise level the CSV does not have.
    #[error("label noise {0}% is not one of Imagenette's levels 0, 1, 5, 25, 50")]
    BadNoise(u8),
    /// The CSV cannot be read.
    #[error("{}: {source} (noisy labels need the noisy_imagenette.csv that ships with imagenette2)", path.display())]
    Io {
        /// The CSV.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The CSV is malformed, names an unknown class, or misses a training image.
    #[error("{}: {reason}", path.display())]
    BadCsv {
        /// The CSV.
        path: PathBuf,
        /// What is wrong (with the line number where there is one).
        reason: String,
    },
}

/// Opens `root/train` and `root/val` (`root` is the `imagenette2-160` folder), both labelled by
/// the train classes. `noise_percent` > 0 relabels the training images with the
/// `noisy_labels_<noise>` column of `root/noisy_imagenette.csv`; validation labels stay clean.
pub fn open(root: &Path, noise_percent: u8) -> Result<(ImageFolder, ImageFolder), ImagenetteError> {
    if !NOISE_LEVELS.contains(&noise_percent) {
        return Err(ImagenetteError::BadNoise(noise_percent));
    }
    let (train, val) = ImageFolder::splits(root)?;
    if noise_percent == 0 {
        return Ok((train, val));
    }
    let csv = root.join("noisy_imagenette.csv");
    let noisy = read_noisy_labels(&csv, noise_percent, train.classes())?;
    let train_root = train.root().to_path_buf();
    let items = train
        .items()
        .iter()
        .map(|(path, _)| {
            let key = path
                .strip_prefix(root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            noisy
                .get(&key)
                .map(|&label| (path.clone(), label))
                .ok_or_else(|| ImagenetteError::BadCsv {
                    path: csv.clone(),
                    reason: format!("no row for training image `{key}`"),
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let classes = train.classes().to_vec();
    Ok((ImageFolder::from_labelled(train_root, classes, items), val))
}

/// Maps each training row's path (`train/<wnid>/<file>`) to the label in the chosen column.
fn read_noisy_labels(
    csv: &Path,
    noise_percent: u8,
    classes: &[String],
) -> Result<HashMap<String, usize>, ImagenetteError> {
    let text = std::fs::read_to_string(csv).map_err(|source| ImagenetteError::Io {
        path: csv.to_path_buf(),
        source,
    })?;
    let bad = |reason: String| ImagenetteError::BadCsv {
        path: csv.to_path_buf(),
        reason,
    };
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let column_name = format!("noisy_labels_{noise_percent}");
    let find = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or_else(|| bad(format!("header has no `{name}` column")))
    };
    let (path_col, label_col, valid_col) = (find("path")?, find(&column_name)?, find("is_valid")?);
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut labels = HashMap::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let field = |col: usize| {
            fields
                .get(col)
                .copied()
                .ok_or_else(|| bad(format!("line {}: expected {} fields", n + 1, header.len())))
        };
        if field(valid_col)?.eq_ignore_ascii_case("true") {
            continue;
        }
        let wnid = field(label_col)?;
        let label = *index
            .get(wnid)
            .ok_or_else(|| bad(format!("line {}: unknown class `{wnid}`", n + 1)))?;
        labels.insert(field(path_col)?.to_owned(), label);
    }
    Ok(labels)
}
