//! Replacing a file atomically: the new content goes to a temporary file beside the target,
//! which is synced to disk and renamed over the target, and the directory is synced too (on
//! Unix), so after a crash or a failed write the target holds either its old content or the
//! complete new one, never part of it. On an error the temporary file is removed and the target
//! is left as it was: every error comes before the rename. Once the rename is done the write has
//! succeeded; the directory sync after it is best effort (a file system that cannot sync a
//! directory, or fails to, still holds the complete new file, and only a power loss could undo
//! the rename).
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! let path = dir.path().join("metrics.csv");
//! alexnet::atomic::write(&path, "epoch,loss\n1,2.3\n")?;
//! assert_eq!(std::fs::read_to_string(&path)?, "epoch,loss\n1,2.3\n");
//! # Ok(())
//! # }
//! ```

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Replaces `path` with `contents`, atomically (see the [module](self) docs).
pub fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    write_with(path, |tmp| {
        let mut file = File::create(tmp)?;
        file.write_all(contents.as_ref())
    })
}

/// Replaces `path` with the file `write` creates at the path it is given, atomically (see the
/// [module](self) docs). That temporary path is in `path`'s directory and ends with `path`'s
/// extension, so writers that pick a format by extension (an image encoder) pick the right one.
/// Errors that are not I/O errors can be returned as [`io::Error::other`].
pub fn write_with(
    path: impl AsRef<Path>,
    write: impl FnOnce(&Path) -> io::Result<()>,
) -> io::Result<()> {
    let path = path.as_ref();
    let tmp = temp_path(path);
    let result = write(&tmp).and_then(|()| persist(&tmp, path));
    if result.is_err() {
        // The write may have failed before creating it.
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// A fresh sibling of `path` for the new content: hidden, unique in this process, same extension
/// (`.metrics.tmp-4242-0.png` for `metrics.png`).
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    path.with_file_name(format!(".{stem}.tmp-{}-{n}{ext}", std::process::id()))
}

/// Syncs `tmp` to disk, renames it over `path` and syncs the directory, so the rename itself
/// survives a crash. An error is returned only before the rename, while `path` still holds its
/// old content.
fn persist(tmp: &Path, path: &Path) -> io::Result<()> {
    OpenOptions::new().write(true).open(tmp)?.sync_all()?;
    fs::rename(tmp, path)?;
    // The new content is in place and complete: reporting a failure now would say the write
    // failed when the file has changed.
    let _ = sync_dir(path);
    Ok(())
}

/// Syncs the directory holding `path` (Unix; other platforms cannot open a directory).
#[cfg(unix)]
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match File::open(dir)?.sync_all() {
        // Some file systems cannot sync a directory; the rename is done all the same.
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_dir(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .expect("readable")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_content_is_replaced_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("metrics.csv");
        write(&path, "old\n").expect("first write");
        write(&path, "new\n").expect("second write");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new\n");
        assert_eq!(names(dir.path()), ["metrics.csv"]);
    }

    #[test]
    fn a_reader_of_the_old_file_keeps_the_whole_old_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("metrics.csv");
        write(&path, "old content\n").expect("first write");
        let mut old = File::open(&path).expect("open");
        write(&path, "new\n").expect("second write");
        let mut seen = String::new();
        io::Read::read_to_string(&mut old, &mut seen).expect("read");
        assert_eq!(seen, "old content\n", "the old file was changed in place");
    }

    #[test]
    fn a_failed_write_leaves_the_file_untouched_and_removes_the_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("model.bpk");
        write(&path, "complete").expect("first write");
        let err = write_with(&path, |tmp| {
            fs::write(tmp, "part")?;
            Err(io::Error::other("disk full"))
        })
        .expect_err("the writer failed");
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read_to_string(&path).expect("read"), "complete");
        assert_eq!(names(dir.path()), ["model.bpk"]);
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A non-empty directory cannot be replaced by a file.
        let path = dir.path().join("metrics.png");
        fs::create_dir(&path).expect("mkdir");
        fs::write(path.join("keep"), "x").expect("write");
        write(&path, "png").expect_err("cannot replace a directory");
        assert_eq!(names(dir.path()), ["metrics.png"]);
        assert_eq!(names(&path), ["keep"]);
    }

    #[test]
    fn the_temporary_file_is_a_sibling_with_the_same_extension() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("metrics.png");
        write_with(&path, |tmp| {
            assert_eq!(tmp.parent(), Some(dir.path()));
            assert_eq!(tmp.extension().and_then(|e| e.to_str()), Some("png"));
            assert_ne!(tmp, path.as_path());
            fs::write(tmp, "png")
        })
        .expect("written");
        assert_eq!(fs::read_to_string(&path).expect("read"), "png");
    }
}
