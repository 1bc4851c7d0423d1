//! Downloads of dataset archives (CIFAR-10, Imagenette) and other files: HTTP(S) into a
//! directory with a progress bar, resumed with a `Range` request after an interruption, checked
//! against a checksum before it is renamed into place, and extracted by a tar reader that refuses
//! any entry that would land outside the target folder.
//!
//! Layout on disk, for `prepare(&CIFAR10, root)`:
//! - `root/cifar-10-binary.tar.gz.part` while downloading (kept after an interruption so the next
//!   run resumes; removed when its checksum is wrong);
//! - `root/cifar-10-binary.tar.gz` once complete and verified (kept, as torchvision does);
//! - `root/.cifar-10-batches-bin.extracting/` during extraction, renamed to
//!   `root/cifar-10-batches-bin/` when every entry is out: the dataset folder appears whole or not
//!   at all.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

mod checksum;
mod extract;
mod http;

pub use checksum::Checksum;
pub use extract::extract_tar_gz;
pub use http::fetch;

/// A file on a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remote<'a> {
    /// `http://` or `https://` URL.
    pub url: &'a str,
    /// The name it gets in the download directory.
    pub file_name: &'a str,
    /// What the complete file must hash to.
    pub checksum: Checksum<'a>,
}

/// A `.tar.gz` archive that extracts to one folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Archive<'a> {
    /// Where to get it.
    pub remote: Remote<'a>,
    /// The top-level folder the archive contains (the dataset's root once extracted).
    pub folder: &'a str,
}

/// CIFAR-10, binary version (Krizhevsky, 2009): 163 MB, extracts to `cifar-10-batches-bin/`.
pub const CIFAR10: Archive<'static> = Archive {
    remote: Remote {
        url: "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        file_name: "cifar-10-binary.tar.gz",
        checksum: Checksum::Md5("c32a1d4ab5d03f1284b67883e8d87530"),
    },
    folder: "cifar-10-batches-bin",
};

/// Imagenette v2, 160 px shorter side (fast.ai): 94 MB, extracts to `imagenette2-160/`.
pub const IMAGENETTE_160: Archive<'static> = Archive {
    remote: Remote {
        url: "https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz",
        file_name: "imagenette2-160.tgz",
        checksum: Checksum::Md5("e793b78cc4c9e9a4ccc0c1155377a412"),
    },
    folder: "imagenette2-160",
};

/// How many times an interrupted transfer is resumed within one [`fetch`] before giving up.
pub const RESUME_ATTEMPTS: usize = 3;

/// Why a download or an extraction failed. Every variant names the URL or file.
#[derive(Debug, thiserror::Error)]
pub enum DownloadError {
    /// The request could not be made (DNS, connection refused, TLS, timeout before a response).
    #[error(
        "cannot download {url}: {source} (no network? download it by hand into {dir} instead)",
        dir = dir.display()
    )]
    Request {
        /// The URL.
        url: String,
        /// The directory the file was meant for.
        dir: PathBuf,
        /// The HTTP client's error.
        #[source]
        source: Box<ureq::Error>,
    },
    /// The server answered with an error status.
    #[error("cannot download {url}: the server answered HTTP {status}")]
    Status {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },
    /// The transfer stopped before the end, [`RESUME_ATTEMPTS`] times in a row.
    #[error(
        "download of {url} stopped after {received} bytes: {source}; the partial file {} is kept, run again to resume",
        part.display()
    )]
    Interrupted {
        /// The URL.
        url: String,
        /// The partial file.
        part: PathBuf,
        /// Bytes in the partial file.
        received: u64,
        /// What stopped it.
        #[source]
        source: io::Error,
    },
    /// The complete file does not hash to the expected value; it has been deleted.
    #[error(
        "{url}: {algorithm} checksum mismatch (expected {expected}, got {actual}); the download was deleted, run again to fetch it again"
    )]
    ChecksumMismatch {
        /// The URL.
        url: String,
        /// `md5` or `sha256`.
        algorithm: &'static str,
        /// The expected hex digest (or prefix).
        expected: String,
        /// The digest of what was received.
        actual: String,
    },
    /// A local file operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The archive is not a readable `.tar.gz`.
    #[error("{}: not a readable .tar.gz archive: {source}", archive.display())]
    BadArchive {
        /// The archive.
        archive: PathBuf,
        /// The decompression or tar error.
        #[source]
        source: io::Error,
    },
    /// An entry's path is absolute or climbs out with `..`: nothing of the archive is kept.
    #[error(
        "refusing to extract {}: entry `{entry}` would be written outside the target folder",
        archive.display()
    )]
    UnsafeEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as stored.
        entry: String,
    },
    /// An entry is a link, device or other special file (dataset archives hold files and folders).
    #[error("refusing to extract {}: entry `{entry}` is a {kind}, not a file or folder", archive.display())]
    UnsupportedEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry's path as stored.
        entry: String,
        /// What it is.
        kind: String,
    },
    /// The archive extracted, but not to the expected top-level folder.
    #[error("{}: expected the archive to contain the folder `{folder}`", archive.display())]
    MissingFolder {
        /// The archive.
        archive: PathBuf,
        /// The folder it should contain.
        folder: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> DownloadError + '_ {
    move |source| DownloadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where downloads go when the user names no directory: `$ALEXNET_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/alexnet-burn`, else `~/.cache/alexnet-burn`, else `.cache/alexnet-burn`.
pub fn cache_dir() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var("ALEXNET_CACHE_DIR") {
        return PathBuf::from(dir);
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    base.join("alexnet-burn")
}

/// Makes `root/<archive.folder>` exist: returns it at once when it does, otherwise downloads
/// the archive into `root` (see [`fetch`]), extracts it into a hidden temporary folder and renames
/// the dataset folder into place.
pub fn prepare(archive: &Archive<'_>, root: &Path) -> Result<PathBuf, DownloadError> {
    let target = root.join(archive.folder);
    if target.is_dir() {
        return Ok(target);
    }
    let file = fetch(&archive.remote, root)?;
    let staging = root.join(format!(".{}.extracting", archive.folder));
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io_err(&staging))?;
    }
    log::info!("extracting {} into {}", file.display(), root.display());
    let extracted = extract_tar_gz(&file, &staging).and_then(|()| {
        let inner = staging.join(archive.folder);
        if inner.is_dir() {
            fs::rename(&inner, &target).map_err(io_err(&target))
        } else {
            Err(DownloadError::MissingFolder {
                archive: file.clone(),
                folder: archive.folder.to_owned(),
            })
        }
    });
    let cleaned = fs::remove_dir_all(&staging).map_err(io_err(&staging));
    extracted?;
    cleaned?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_compare_case_insensitively_and_by_prefix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("abc");
        fs::write(&path, b"abc").expect("write");
        let md5 = Checksum::Md5("900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            md5.digest(&path).expect("hash"),
            "900150983cd24fb0d6963f7d28e17f72"
        );
        assert!(md5.matches("900150983CD24FB0D6963F7D28E17F72"));
        let sha = Checksum::Sha256Prefix("ba7816bf");
        let digest = sha.digest(&path).expect("hash");
        assert!(digest.starts_with("ba7816bf8f01cfea") && sha.matches(&digest));
        assert!(!Checksum::Sha256Prefix("ba7816bg").matches(&digest));
        assert!(!Checksum::Sha256Prefix("").matches(&digest));
    }
}
