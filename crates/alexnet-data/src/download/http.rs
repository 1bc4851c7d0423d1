//! HTTP(S) downloads into a directory: a `.part` file resumed with `Range` requests, a progress
//! bar, and the checksum before the rename into place.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::{DownloadError, RESUME_ATTEMPTS, Remote, io_err};

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
    if start > 0 {
        log::info!("resuming {url} at byte {start}");
    }
    let bar = progress_bar(part, start, total);
    let mut reader = response.body_mut().as_reader();
    let (outcome, received) = copy(&mut reader, &mut file, part, &bar, start)?;
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

/// A progress bar named after `part`'s file, at `start` of `total` bytes (a spinner-like bar
/// when the size is unknown).
fn progress_bar(part: &Path, start: u64, total: Option<u64>) -> ProgressBar {
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
        part.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
    );
    bar
}

/// Copies `reader` to `file` (which already holds `start` bytes) until the end or a read error;
/// returns how the transfer ended and the bytes the file holds. A write error is an error.
fn copy(
    reader: &mut impl Read,
    file: &mut File,
    part: &Path,
    bar: &ProgressBar,
    start: u64,
) -> Result<(io::Result<()>, u64), DownloadError> {
    let mut buf = vec![0u8; 1 << 16];
    let mut received = start;
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok((Ok(()), received)),
            Ok(n) => {
                if let Err(e) = file.write_all(&buf[..n]) {
                    bar.abandon();
                    return Err(io_err(part)(e));
                }
                received += n as u64;
                bar.set_position(received);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Ok((Err(e), received)),
        }
    }
}
