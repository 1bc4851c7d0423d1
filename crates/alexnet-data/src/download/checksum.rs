//! Checking a downloaded file: MD5 (torchvision's dataset lists) or a SHA-256 prefix
//! (torchvision's weight file names).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

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
    pub(super) fn algorithm(&self) -> &'static str {
        match self {
            Checksum::Md5(_) => "md5",
            Checksum::Sha256Prefix(_) => "sha256",
        }
    }

    pub(super) fn expected(&self) -> &str {
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
