//! Extracting a `.tar.gz` with a reader that refuses any entry that would land outside the
//! target folder.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use super::{DownloadError, io_err};

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
