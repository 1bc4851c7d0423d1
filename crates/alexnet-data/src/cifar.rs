//! CIFAR-10 in its binary form: `cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin`, records
//! of 3073 bytes (label, then 1024 red, 1024 green, 1024 blue bytes of a row-major 32x32 image).
//! The files are read whole (180 MB for the five training batches).

use std::path::{Path, PathBuf};

use image::RgbImage;

use crate::dataset::{ImageDataset, Sample, SampleError};

/// Bytes per record.
pub const RECORD_BYTES: usize = 1 + 3 * 32 * 32;

/// The ten CIFAR-10 classes, in label order.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// A problem with the CIFAR-10 files.
#[derive(Debug, thiserror::Error)]
pub enum CifarError {
    /// A batch file is missing or unreadable.
    #[error("{}: {source} (expected the cifar-10-batches-bin folder of the binary version)", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A batch file's size is not a whole number of records, or a label is not 0-9.
    #[error("{}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// The training (`data_batch_1..5`) or test (`test_batch`) split.
#[derive(Debug, Clone)]
pub struct Cifar10 {
    records: Vec<u8>,
    classes: Vec<String>,
}

impl Cifar10 {
    /// Reads the training split from `dir` (`cifar-10-batches-bin`).
    pub fn train(dir: &Path) -> Result<Self, CifarError> {
        let files: Vec<PathBuf> = (1..=5)
            .map(|i| dir.join(format!("data_batch_{i}.bin")))
            .collect();
        Self::from_files(&files)
    }

    /// Reads the test split from `dir`.
    pub fn test(dir: &Path) -> Result<Self, CifarError> {
        Self::from_files(&[dir.join("test_batch.bin")])
    }

    /// Reads and validates the given batch files.
    pub fn from_files(files: &[PathBuf]) -> Result<Self, CifarError> {
        let mut records = Vec::new();
        for path in files {
            let bytes = std::fs::read(path).map_err(|source| CifarError::Io {
                path: path.clone(),
                source,
            })?;
            let corrupt = |reason: String| CifarError::Corrupt {
                path: path.clone(),
                reason,
            };
            if bytes.is_empty() || bytes.len() % RECORD_BYTES != 0 {
                return Err(corrupt(format!(
                    "{} bytes is not a whole number of {RECORD_BYTES}-byte records (truncated download?)",
                    bytes.len()
                )));
            }
            if let Some((i, record)) = bytes
                .chunks_exact(RECORD_BYTES)
                .enumerate()
                .find(|(_, r)| r[0] > 9)
            {
                return Err(corrupt(format!("record {i} has label {}", record[0])));
            }
            records.extend_from_slice(&bytes);
        }
        Ok(Self {
            records,
            classes: CIFAR10_CLASSES.iter().map(|c| c.to_string()).collect(),
        })
    }
}

impl ImageDataset for Cifar10 {
    fn len(&self) -> usize {
        self.records.len() / RECORD_BYTES
    }

    fn get(&self, index: usize) -> Result<Sample, SampleError> {
        let record = self
            .records
            .chunks_exact(RECORD_BYTES)
            .nth(index)
            .ok_or_else(|| SampleError::out_of_range(index, self.len()))?;
        let planes = &record[1..];
        let image = RgbImage::from_fn(32, 32, |x, y| {
            let i = (y * 32 + x) as usize;
            image::Rgb([planes[i], planes[1024 + i], planes[2048 + i]])
        });
        Ok(Sample {
            image,
            label: usize::from(record[0]),
        })
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(label: u8, r: u8, g: u8, b: u8) -> Vec<u8> {
        let mut rec = vec![label];
        rec.extend(std::iter::repeat_n(r, 1024));
        rec.extend(std::iter::repeat_n(g, 1024));
        rec.extend(std::iter::repeat_n(b, 1024));
        rec
    }

    #[test]
    fn records_decode_to_labelled_planar_images() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = record(3, 10, 20, 30);
        let mut second = record(9, 200, 100, 0);
        second[1 + 5 * 32 + 7] = 255; // red of pixel (7, 5)
        bytes.extend(second);
        std::fs::write(dir.path().join("test_batch.bin"), &bytes).expect("write");
        let test = Cifar10::test(dir.path()).expect("valid");
        assert_eq!(test.len(), 2);
        let a = test.get(0).expect("item");
        assert_eq!((a.label, a.image.get_pixel(0, 0).0), (3, [10, 20, 30]));
        let b = test.get(1).expect("item");
        assert_eq!(b.label, 9);
        assert_eq!(b.image.get_pixel(7, 5).0, [255, 100, 0]);
        assert_eq!(test.classes()[9], "truck");
        assert!(test.get(2).is_err());
    }

    #[test]
    fn truncated_or_mislabelled_files_and_missing_batches_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut bytes = record(1, 0, 0, 0);
        bytes.pop();
        std::fs::write(dir.path().join("test_batch.bin"), &bytes).expect("write");
        let err = Cifar10::test(dir.path()).expect_err("truncated");
        assert!(err.to_string().contains("whole number"), "{err}");
        std::fs::write(dir.path().join("test_batch.bin"), record(12, 0, 0, 0)).expect("write");
        assert!(
            Cifar10::test(dir.path())
                .expect_err("bad label")
                .to_string()
                .contains("label 12")
        );
        assert!(matches!(
            Cifar10::train(dir.path()),
            Err(CifarError::Io { .. })
        ));
    }
}
