//! ILSVRC-2012 (ImageNet-1k) layouts: `train/<wnid>/*.JPEG`, and `val/` either in the same
//! class folders or flat with a labels file. Labels files are read in the two forms in use:
//! `<file> <label>` lines (label an index or a wnid) and CSV `<file>,<wnid> ...` (Kaggle's
//! `LOC_val_solution.csv`, whose first column is the image id without extension).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::dataset::ImageDataset;
use crate::folder::{FolderError, ImageFolder};

/// A problem with an ImageNet directory or labels file.
#[derive(Debug, thiserror::Error)]
pub enum ImageNetError {
    /// The folder layout is unusable.
    #[error(transparent)]
    Folder(#[from] FolderError),
    /// The labels file cannot be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The labels file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A line of the labels file is malformed or names an unknown class.
    #[error("{}:{line}: {reason}", path.display())]
    BadLine {
        /// The labels file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A flat val folder without a labels file.
    #[error("{}: val images are not in class folders and no labels file was given", .0.display())]
    NoLabels(PathBuf),
}

/// Reads a labels file for the images of the flat folder `dir`, with `classes` (sorted wnids)
/// giving the indices. Lines naming a file that is not in `dir` are an error, so a wrong labels file is caught
/// before training.
pub fn labelled_files(
    dir: &Path,
    labels: &Path,
    classes: &[String],
) -> Result<ImageFolder, ImageNetError> {
    let text = std::fs::read_to_string(labels).map_err(|source| ImageNetError::Io {
        path: labels.to_path_buf(),
        source,
    })?;
    let index: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();
    let mut items = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let bad = |reason: String| ImageNetError::BadLine {
            path: labels.to_path_buf(),
            line: n + 1,
            reason,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, label) = match line.split_once(',') {
            Some((name, rest)) => (name.trim(), rest.split_whitespace().next().unwrap_or("")),
            None => {
                let mut parts = line.split_whitespace();
                (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
            }
        };
        if n == 0
            && label.parse::<usize>().is_err()
            && !index.contains_key(label)
            && line.contains(',')
        {
            continue; // a CSV header such as `ImageId,PredictionString`
        }
        let label = match label.parse::<usize>() {
            Ok(i) if i < classes.len() => i,
            Ok(i) => {
                return Err(bad(format!(
                    "label {i} is not below the {} classes",
                    classes.len()
                )));
            }
            Err(_) => *index
                .get(label)
                .ok_or_else(|| bad(format!("unknown class `{label}`")))?,
        };
        let mut path = dir.join(name);
        if !path.is_file() {
            path = dir.join(format!("{name}.JPEG"));
        }
        if !path.is_file() {
            return Err(bad(format!("no image `{name}` in {}", dir.display())));
        }
        items.push((path, label));
    }
    Ok(ImageFolder::from_labelled(
        dir.to_path_buf(),
        classes.to_vec(),
        items,
    ))
}

/// Opens `root/train` and `root/val` (in class folders, or flat with a labels file), both
/// labelled by the train classes. A flat `val/` needs `labels` (default
/// `root/val_labels.txt`, then `root/LOC_val_solution.csv`).
pub fn open(
    root: &Path,
    labels: Option<&Path>,
) -> Result<(ImageFolder, ImageFolder), ImageNetError> {
    let train = ImageFolder::new(root.join("train"))?;
    let val_dir = root.join("val");
    let has_class_folders = std::fs::read_dir(&val_dir)
        .map_err(|source| ImageNetError::Io {
            path: val_dir.clone(),
            source,
        })?
        .filter_map(Result::ok)
        .any(|e| e.path().is_dir());
    if has_class_folders {
        let val = ImageFolder::with_classes(&val_dir, train.classes())?;
        return Ok((train, val));
    }
    let labels = match labels {
        Some(path) => path.to_path_buf(),
        None => ["val_labels.txt", "LOC_val_solution.csv"]
            .iter()
            .map(|name| root.join(name))
            .find(|p| p.is_file())
            .ok_or_else(|| ImageNetError::NoLabels(val_dir.clone()))?,
    };
    let val = labelled_files(&val_dir, &labels, train.classes())?;
    Ok((train, val))
}
