//! Downloads and extraction against a local HTTP server on 127.0.0.1 that serves archives built
//! here (nothing reaches the internet). The server can cut a transfer short, ignore `Range`, or
//! answer 404, and logs the `Range` header of every request.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

use alexnet_data::ImageDataset;
use alexnet_data::cifar::Cifar10;
use alexnet_data::download::{
    Archive, Checksum, DownloadError, RESUME_ATTEMPTS, Remote, extract_tar_gz, fetch, prepare,
};

/// How the server treats a path.
#[derive(Clone, Copy)]
enum Behaviour {
    /// Honour `Range`.
    Normal,
    /// Send half the body of the first request (announcing all of it), then behave normally.
    CutOnce,
    /// Always send half the body.
    CutAlways,
    /// Ignore `Range`: always 200 with the whole body.
    NoRange,
}

/// (path, Range header) of every request, in order.
type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

struct Server {
    base: String,
    log: RequestLog,
}

fn serve(files: Vec<(&'static str, Vec<u8>, Behaviour)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let log = Arc::new(Mutex::new(Vec::new()));
    let server_log = Arc::clone(&log);
    std::thread::spawn(move || {
        let mut cut_done = std::collections::HashSet::new();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Some((path, range)) = read_request(&stream) else {
                continue;
            };
            server_log
                .lock()
                .expect("log")
                .push((path.clone(), range.clone()));
            let file = files.iter().find(|(p, _, _)| *p == path);
            respond(stream, file, range, &mut cut_done);
        }
    });
    Server { base, log }
}

fn read_request(stream: &TcpStream) -> Option<(String, Option<String>)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut range = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_owned());
        }
    }
    Some((path, range))
}

fn respond(
    mut stream: TcpStream,
    file: Option<&(&'static str, Vec<u8>, Behaviour)>,
    range: Option<String>,
    cut_done: &mut std::collections::HashSet<&'static str>,
) {
    let Some(&(path, ref body, behaviour)) = file else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let start = match (behaviour, range) {
        (Behaviour::NoRange, _) | (_, None) => 0,
        (_, Some(r)) => r
            .trim_start_matches("bytes=")
            .trim_end_matches('-')
            .parse::<usize>()
            .unwrap_or(0),
    };
    let rest = &body[start.min(body.len())..];
    let head = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
            rest.len(),
            body.len() - 1,
            body.len()
        )
    } else {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nAccept-Ranges: bytes\r\nConnection: close\r\n\r\n",
            rest.len()
        )
    };
    let cut = match behaviour {
        Behaviour::CutAlways => true,
        Behaviour::CutOnce => cut_done.insert(path),
        _ => false,
    };
    let sent = if cut { &rest[..rest.len() / 2] } else { rest };
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(sent);
    let _ = stream.flush();
}

/// A `.tar.gz` of a CIFAR-10 binary folder with one record per batch (label = batch number).
fn cifar_archive() -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut add = |name: &str, data: &[u8]| {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, name, data)
            .expect("append");
    };
    let names = [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ];
    for (label, name) in names.iter().enumerate() {
        let mut record = vec![label as u8];
        record.extend((0..3072).map(|i| (i % 251) as u8));
        add(&format!("cifar-10-batches-bin/{name}"), &record);
    }
    add(
        "cifar-10-batches-bin/batches.meta.txt",
        b"airplane\nautomobile\n",
    );
    builder.into_inner().expect("tar").finish().expect("gzip")
}

fn md5_of(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("f");
    std::fs::write(&path, bytes).expect("write");
    Checksum::Md5("").digest(&path).expect("hash")
}

fn archive<'a>(url: &'a str, md5: &'a str) -> Archive<'a> {
    Archive {
        remote: Remote {
            url,
            file_name: "cifar-10-binary.tar.gz",
            checksum: Checksum::Md5(md5),
        },
        folder: "cifar-10-batches-bin",
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn download_verify_extract_then_reuse() {
    let bytes = cifar_archive();
    let md5 = md5_of(&bytes);
    let server = serve(vec![("/cifar.tgz", bytes, Behaviour::Normal)]);
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/cifar.tgz", server.base);
    let folder = prepare(&archive(&url, &md5), root.path()).expect("prepare");
    assert_eq!(folder, root.path().join("cifar-10-batches-bin"));
    let train = Cifar10::train(&folder).expect("the extracted folder is a CIFAR-10 dataset");
    assert_eq!(train.len(), 5);
    assert_eq!(train.get(4).expect("record").label, 4);
    // archive kept, no .part, no staging folder left
    assert_eq!(
        names(root.path()),
        ["cifar-10-batches-bin", "cifar-10-binary.tar.gz"]
    );
    // a second call finds the folder and makes no request
    prepare(&archive(&url, &md5), root.path()).expect("prepare again");
    assert_eq!(server.log.lock().expect("log").len(), 1);
    // with the folder gone, the verified archive is re-extracted without a download
    std::fs::remove_dir_all(&folder).expect("rm");
    prepare(&archive(&url, &md5), root.path()).expect("re-extract");
    assert_eq!(server.log.lock().expect("log").len(), 1);
}

#[test]
fn wrong_md5_deletes_the_download_and_says_so() {
    let server = serve(vec![("/cifar.tgz", cifar_archive(), Behaviour::Normal)]);
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/cifar.tgz", server.base);
    let wrong = "0123456789abcdef0123456789abcdef";
    let err = prepare(&archive(&url, wrong), root.path()).expect_err("bad checksum");
    assert!(
        matches!(err, DownloadError::ChecksumMismatch { .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("md5") && message.contains(wrong) && message.contains(&url));
    assert!(names(root.path()).is_empty(), "{:?}", names(root.path()));
}

#[test]
fn an_interrupted_transfer_resumes_with_a_range_request() {
    let bytes = cifar_archive();
    let (md5, len) = (md5_of(&bytes), bytes.len());
    let server = serve(vec![("/cifar.tgz", bytes, Behaviour::CutOnce)]);
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/cifar.tgz", server.base);
    let file = fetch(&archive(&url, &md5).remote, root.path()).expect("resumed");
    assert_eq!(std::fs::metadata(&file).expect("file").len(), len as u64);
    let log = server.log.lock().expect("log").clone();
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[0].1, None);
    assert_eq!(log[1].1, Some(format!("bytes={}-", len / 2)));
}

#[test]
fn a_transfer_that_keeps_failing_keeps_its_part_file_for_the_next_run() {
    let bytes = cifar_archive();
    let md5 = md5_of(&bytes);
    let server = serve(vec![("/cifar.tgz", bytes, Behaviour::CutAlways)]);
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/cifar.tgz", server.base);
    let err = fetch(&archive(&url, &md5).remote, root.path()).expect_err("keeps failing");
    let DownloadError::Interrupted { part, received, .. } = &err else {
        panic!("expected Interrupted, got {err}");
    };
    assert!(err.to_string().contains("run again to resume"), "{err}");
    assert_eq!(std::fs::metadata(part).expect("part kept").len(), *received);
    assert_eq!(server.log.lock().expect("log").len(), RESUME_ATTEMPTS + 1);
}

#[test]
fn a_server_without_ranges_restarts_the_file() {
    let bytes = cifar_archive();
    let (md5, len) = (md5_of(&bytes), bytes.len());
    let server = serve(vec![("/cifar.tgz", bytes, Behaviour::NoRange)]);
    let root = tempfile::tempdir().expect("tempdir");
    // a stale partial file from an earlier run
    std::fs::write(
        root.path().join("cifar-10-binary.tar.gz.part"),
        b"stale bytes",
    )
    .expect("w");
    let url = format!("{}/cifar.tgz", server.base);
    let file = fetch(&archive(&url, &md5).remote, root.path()).expect("restarted");
    assert_eq!(std::fs::metadata(&file).expect("file").len(), len as u64);
    assert_eq!(
        server.log.lock().expect("log")[0].1.as_deref(),
        Some("bytes=11-")
    );
}

#[test]
fn http_errors_and_unreachable_servers_name_the_url() {
    let server = serve(vec![]);
    let root = tempfile::tempdir().expect("tempdir");
    let url = format!("{}/missing.tgz", server.base);
    let err = fetch(&archive(&url, "00").remote, root.path()).expect_err("404");
    assert!(
        matches!(err, DownloadError::Status { status: 404, .. }),
        "{err}"
    );
    assert!(err.to_string().contains(&url));
    // a port nobody listens on
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}/x.tgz", closed.local_addr().expect("addr"));
    drop(closed);
    let err = fetch(&archive(&url, "00").remote, root.path()).expect_err("refused");
    assert!(matches!(err, DownloadError::Request { .. }), "{err}");
    assert!(err.to_string().contains("download it by hand"), "{err}");
}

/// A `.tar.gz` with one good file and one entry whose stored name is `name`.
fn hostile_archive(name: &str, kind: tar::EntryType) -> Vec<u8> {
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut good = tar::Header::new_gnu();
    good.set_size(2);
    good.set_mode(0o644);
    good.set_cksum();
    builder
        .append_data(&mut good, "ds/ok.txt", &b"ok"[..])
        .expect("append");
    // Write the name into the header by hand: tar's safe setters refuse `..`.
    let mut evil = tar::Header::new_old();
    evil.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    evil.set_entry_type(kind);
    evil.set_size(if kind.is_file() { 4 } else { 0 });
    evil.set_mode(0o644);
    if kind.is_symlink() {
        evil.set_link_name("/etc/passwd").expect("link name");
    }
    evil.set_cksum();
    let data: &[u8] = if kind.is_file() { b"evil" } else { b"" };
    builder.append(&evil, data).expect("append");
    builder.into_inner().expect("tar").finish().expect("gzip")
}

#[test]
fn archives_escaping_the_target_are_refused_and_write_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("out");
    for (name, kind) in [
        ("ds/../../evil.txt", tar::EntryType::Regular),
        ("/tmp/evil.txt", tar::EntryType::Regular),
        ("ds/link", tar::EntryType::Symlink),
    ] {
        let archive = dir.path().join("evil.tgz");
        std::fs::write(&archive, hostile_archive(name, kind)).expect("write");
        let err = extract_tar_gz(&archive, &dest).expect_err("refused");
        assert!(
            matches!(
                err,
                DownloadError::UnsafeEntry { .. } | DownloadError::UnsupportedEntry { .. }
            ),
            "{name}: {err}"
        );
        assert!(err.to_string().contains(name), "{err}");
        assert!(!dest.exists(), "{name}: nothing may be extracted");
    }
    assert!(!dir.path().join("evil.txt").exists());
}

#[test]
fn a_corrupt_archive_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let archive = dir.path().join("junk.tgz");
    std::fs::write(&archive, b"<html>not a tarball</html>").expect("write");
    let err = extract_tar_gz(&archive, &dir.path().join("out")).expect_err("junk");
    assert!(matches!(err, DownloadError::BadArchive { .. }), "{err}");
    assert!(err.to_string().contains("junk.tgz"), "{err}");
}
