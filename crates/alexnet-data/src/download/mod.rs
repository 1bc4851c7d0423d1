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

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use md5::Md5;
use sha2::{Digest, Sha256};

/// How a downloaded file is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum<'a> {
    /// The full MD5, lowercase hex (what torchvision lists for its datasets).
    Md5(&'a str),
    /// A prefix of the SHA-256, lowercase hex (torchvision weight files carry one in their name).
    Sha256Prefix(&'a str),
}

impl Checksum<'_> {
    fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Md5(_) => "md5",
            Checksum::Sha256Prefix(_) => "sha256",
        }
    }

    fn expected(&self) -> &str {
        match self {
            Checksum::Md5(hex) | Checksum::Sha256Prefix(hex) => hex,
        }
    }

    /// Hashes the file at `path`; returns the lowercase hex digest.
    pub fn digest(&self, path: &Path) -> io::Result<String> {
        let mut file = File::open(path)?;
        let mut buf = vec![0u8; 1 << 20];
        match self {
            Checksum::Md5(_) => hash_with::<Md5>(&mut file, &mut buf),
            Checksum::Sha256Prefix(_) => hash_with::<Sha256>(&mut file, &mut buf),
        }
    }

    /// Whether a digest from [`Checksum::digest`] satisfies this checksum.
    pub fn matches(&self, digest: &str) -> bool {
        match self {
            Checksum::Md5(hex) => digest.eq_ignore_ascii_case(hex),
            Checksum::Sha256Prefix(prefix) => {
                !prefix.is_empty()
                    && digest.len() >= prefix.len()
                    && digest[..prefix.len()].eq_ignore_ascii_case(prefix)
            }
        }
    }
}

fn hash_with<H: Digest>(file: &mut File, buf: &mut [u8]) -> io::Result<String> {
    let mut hasher = H::new();
    loop {
        let n = file.read(buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

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

/// Makes `dir/<file_name>` a verified copy of `remote` and returns its path.
///
/// A file already there with the right checksum is used as is. Otherwise the file is downloaded
/// to `<file_name>.part` (continuing a `.part` left by an interrupted run when the server
/// supports ranges, starting over when it does not), resumed up to [`RESUME_ATTEMPTS`] times if
/// the connection drops, hashed, and renamed into place. A wrong checksum deletes the download.
pub fn fetch(remote: &Remote<'_>, dir: &Path) -> Result<PathBuf, DownloadError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let dest = dir.join(remote.file_name);
    if dest.is_file() {
        let digest = remote.checksum.digest(&dest).map_err(io_err(&dest))?;
        if remote.checksum.matches(&digest) {
            log::info!("using {} (checksum ok)", dest.display());
            return Ok(dest);
        }
        log::warn!(
            "{} does not match its checksum; downloading it again",
            dest.display()
        );
    }
    let part = dir.join(format!("{}.part", remote.file_name));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(60)))
        .timeout_per_read(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut attempt = 0;
    loop {
        match transfer(&agent, remote.url, dir, &part) {
            Ok(()) => break,
            Err(DownloadError::Interrupted {
                received, source, ..
            }) if attempt < RESUME_ATTEMPTS => {
                attempt += 1;
                log::warn!(
                    "download of {} stopped after {received} bytes ({source}); resuming ({attempt}/{RESUME_ATTEMPTS})",
                    remote.url
                );
            }
            Err(e) => return Err(e),
        }
    }
    let digest = remote.checksum.digest(&part).map_err(io_err(&part))?;
    if !remote.checksum.matches(&digest) {
        fs::remove_file(&part).map_err(io_err(&part))?;
        return Err(DownloadError::ChecksumMismatch {
            url: remote.url.to_owned(),
            algorithm: remote.checksum.algorithm(),
            expected: remote.checksum.expected().to_owned(),
            actual: digest,
        });
    }
    fs::rename(&part, &dest).map_err(io_err(&dest))?;
    log::info!("downloaded {} to {}", remote.url, dest.display());
    Ok(dest)
}

/// One HTTP request that appends to (status 206) or rewrites (status 200) `part`.
fn transfer(agent: &ureq::Agent, url: &str, dir: &Path, part: &Path) -> Result<(), DownloadError> {
    let have = fs::metadata(part).map(|m| m.len()).unwrap_or(0);
    let mut request = agent.get(url);
    if have > 0 {
        request = request.header("Range", format!("bytes={have}-"));
    }
    let mut response = request.call().map_err(|source| DownloadError::Request {
        url: url.to_owned(),
        dir: dir.to_path_buf(),
        source: Box::new(source),
    })?;
    let status = response.status().as_u16();
    let resumes = status == 206
        && response
            .headers()
            .get("content-range")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with(&format!("bytes {have}-")));
    let (mut file, start) = match status {
        206 if resumes => (
            OpenOptions::new()
                .append(true)
                .open(part)
                .map_err(io_err(part))?,
            have,
        ),
        200 => (File::create(part).map_err(io_err(part))?, 0),
        // The .part is complete or stale (the file changed on the server): start over.
        206 | 416 if have > 0 => {
            fs::remove_file(part).map_err(io_err(part))?;
            return transfer(agent, url, dir, part);
        }
        _ => {
            return Err(DownloadError::Status {
                url: url.to_owned(),
                status,
            });
        }
    };
    let total = response.body().content_length().map(|len| len + start);
    let bar = ProgressBar::new(total.unwrap_or(0)).with_position(start);
    if total.is_some() {
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    }
    bar.set_message(
        Path::new(part)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    if start > 0 {
        log::info!("resuming {url} at byte {start}");
    }
    let mut reader = response.body_mut().as_reader();
    let mut buf = vec![0u8; 1 << 16];
    let mut received = start;
    let outcome = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => {
                if let Err(e) = file.write_all(&buf[..n]) {
                    bar.abandon();
                    return Err(io_err(part)(e));
                }
                received += n as u64;
                bar.set_position(received);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    bar.finish_and_clear();
    file.sync_all().map_err(io_err(part))?;
    let outcome = outcome.and_then(|()| match total {
        Some(total) if received < total => Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("connection closed at {received} of {total} bytes"),
        )),
        _ => Ok(()),
    });
    outcome.map_err(|source| DownloadError::Interrupted {
        url: url.to_owned(),
        part: part.to_path_buf(),
        received,
        source,
    })
}

/// Extracts the `.tar.gz` at `archive` into `dest`, refusing (before anything is written) any
/// entry with an absolute path or a `..` component, and any link or special file.
pub fn extract_tar_gz(archive: &Path, dest: &Path) -> Result<(), DownloadError> {
    let bad = |source: io::Error| DownloadError::BadArchive {
        archive: archive.to_path_buf(),
        source,
    };
    // First pass: check every entry, so a hostile archive leaves nothing behind.
    let open = || -> Result<tar::Archive<flate2::read::GzDecoder<File>>, DownloadError> {
        let file = File::open(archive).map_err(io_err(archive))?;
        Ok(tar::Archive::new(flate2::read::GzDecoder::new(file)))
    };
    let mut reader = open()?;
    for entry in reader.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        safe_relative_path(archive, &entry)?;
    }
    fs::create_dir_all(dest).map_err(io_err(dest))?;
    let mut reader = open()?;
    for entry in reader.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let Some(relative) = safe_relative_path(archive, &entry)? else {
            continue;
        };
        let target = dest.join(&relative);
        if entry.header().entry_type().is_dir() {
            fs::create_dir_all(&target).map_err(io_err(&target))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent).map_err(io_err(parent))?;
        }
        entry.unpack(&target).map_err(bad)?;
    }
    Ok(())
}

/// The entry's path if it is a file or folder inside the target (`None` for metadata entries
/// such as pax headers and for the archive's `./` root); an error for anything else.
fn safe_relative_path<R: Read>(
    archive: &Path,
    entry: &tar::Entry<'_, R>,
) -> Result<Option<PathBuf>, DownloadError> {
    let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
    let kind = entry.header().entry_type();
    if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
        return Ok(None);
    }
    let path = PathBuf::from(&raw);
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(DownloadError::UnsafeEntry {
                    archive: archive.to_path_buf(),
                    entry: raw,
                });
            }
        }
    }
    if !(kind.is_file() || kind.is_dir() || kind == tar::EntryType::Continuous) {
        return Err(DownloadError::UnsupportedEntry {
            archive: archive.to_path_buf(),
            entry: raw,
            kind: format!("{kind:?}").to_lowercase(),
        });
    }
    Ok((!relative.as_os_str().is_empty()).then_some(relative))
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
