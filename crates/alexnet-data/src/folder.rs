//! ImageFolder datasets, as torchvision's `ImageFolder` reads them: `root/<class>/<image>`, with
//! classes the sorted sub-folder names. Unlike Burn's own `ImageFolderDataset`, an empty class
//! folder keeps its index (with a warning), so labels never shift silently, and a file that
//! cannot be decoded is a [`SampleError`] to skip rather than a panic.

use std::path::{Path, PathBuf};

use crate::dataset::{ImageDataset, Sample, SampleError, decode_listed};

/// Image file extensions indexed (compared case-insensitively). The content decides the
/// decoder; the extension only decides what is indexed.
pub const IMAGE_EXTENSIONS: [&str; 8] = ["jpg", "jpeg", "png", "bmp", "webp", "gif", "tif", "tiff"];

/// A folder that cannot be used as a dataset.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// The root does not exist or is not a directory.
    #[error("{}: no such data directory", .0.display())]
    Missing(PathBuf),
    /// The root has no class sub-folders.
    #[error("{}: no class folders found (expected <root>/<class>/<image>)", .0.display())]
    NoClasses(PathBuf),
    /// No class folder holds an image.
    #[error("{}: no images found in any class folder (extensions: jpg, jpeg, png, bmp, webp, gif, tif, tiff)", .0.display())]
    NoImages(PathBuf),
    /// Reading a directory failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

/// An indexed ImageFolder: the files are listed once, decoded on [`get`](ImageDataset::get).
#[derive(Debug, Clone)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    items: Vec<(PathBuf, usize)>,
    empty_classes: Vec<String>,
}

impl ImageFolder {
    /// Indexes `root/<class>/*`.
    pub fn new(root: impl AsRef<Path>) -> Result<Self, FolderError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(FolderError::Missing(root));
        }
        let mut classes: Vec<String> = read_dir(&root)?
            .into_iter()
            .filter(|p| p.is_dir())
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .filter(|name| !name.starts_with('.'))
            .collect();
        classes.sort();
        if classes.is_empty() {
            return Err(FolderError::NoClasses(root));
        }
        let folder = Self::with_classes(&root, &classes)?;
        for class in &folder.empty_classes {
            let label = folder
                .classes
                .iter()
                .position(|c| c == class)
                .unwrap_or_default();
            log::warn!(
                "{}: class folder `{class}` has no images; it keeps label {label}",
                root.display()
            );
        }
        Ok(folder)
    }

    /// The train and val splits of `root/{train,val}/<class>/*`. The val split uses the train
    /// split's classes, so labels agree even if a class is missing from val.
    pub fn splits(root: impl AsRef<Path>) -> Result<(Self, Self), FolderError> {
        let root = root.as_ref();
        let train = Self::new(root.join("train"))?;
        let val = Self::with_classes(root.join("val"), train.classes())?;
        Ok((train, val))
    }

    /// Indexes `root/<class>/*` for the given classes (e.g. the train split's), so that labels
    /// agree with another split. A class folder missing here keeps its label with no items; a
    /// folder that is not one of `classes` is ignored with a warning.
    pub fn with_classes(root: impl AsRef<Path>, classes: &[String]) -> Result<Self, FolderError> {
        let root = root.as_ref().to_path_buf();
        if !root.is_dir() {
            return Err(FolderError::Missing(root));
        }
        for dir in read_dir(&root)?.into_iter().filter(|p| p.is_dir()) {
            let name = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !name.starts_with('.') && !classes.contains(&name) {
                log::warn!(
                    "{}: folder `{name}` is not a known class; ignored",
                    root.display()
                );
            }
        }
        let mut items = Vec::new();
        let mut empty_classes = Vec::new();
        for (label, class) in classes.iter().enumerate() {
            let dir = root.join(class);
            let files = if dir.is_dir() {
                list_images(&dir)?
            } else {
                Vec::new()
            };
            if files.is_empty() {
                empty_classes.push(class.clone());
            }
            items.extend(files.into_iter().map(|f| (f, label)));
        }
        if items.is_empty() {
            return Err(FolderError::NoImages(root));
        }
        Ok(Self {
            root,
            classes: classes.to_vec(),
            items,
            empty_classes,
        })
    }

    /// A dataset of already-labelled files (e.g. a flat ImageNet val folder and its labels file).
    pub(crate) fn from_labelled(
        root: PathBuf,
        classes: Vec<String>,
        items: Vec<(PathBuf, usize)>,
    ) -> Self {
        let empty_classes = (0..classes.len())
            .filter(|&label| !items.iter().any(|&(_, l)| l == label))
            .map(|label| classes[label].clone())
            .collect();
        Self {
            root,
            classes,
            items,
            empty_classes,
        }
    }

    /// The folder this split was indexed from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The indexed files and their labels.
    pub fn items(&self) -> &[(PathBuf, usize)] {
        &self.items
    }

    /// Class folders that hold no image (they keep their label).
    pub fn empty_classes(&self) -> &[String] {
        &self.empty_classes
    }
}

impl ImageDataset for ImageFolder {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn get(&self, index: usize) -> Result<Sample, SampleError> {
        decode_listed(&self.items, index)
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }
}

/// The image files directly in `dir`, sorted.
fn list_images(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let mut files: Vec<PathBuf> = read_dir(dir)?
        .into_iter()
        .filter(|p| p.is_file() && has_image_extension(p))
        .collect();
    files.sort();
    Ok(files)
}

/// Whether `path` ends in one of [`IMAGE_EXTENSIONS`] (any case).
pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

fn read_dir(dir: &Path) -> Result<Vec<PathBuf>, FolderError> {
    let io = |source| FolderError::Io {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|e| e.path()).map_err(io))
        .collect()
}
