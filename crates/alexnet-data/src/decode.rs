//! Decoding image files into RGB8, by content rather than by extension.
//!
//! What users' datasets contain, and what happens to it here:
//! - the format is sniffed from the first bytes (ImageNet has a PNG named `.JPEG`);
//! - greyscale, grey+alpha, RGBA, 16-bit, palette and CMYK images become 8-bit RGB (alpha is
//!   dropped, as PIL's `convert("RGB")` does);
//! - the EXIF orientation is applied, so pixels are upright as a viewer shows them;
//! - a truncated JPEG is an error: the `image` crate would decode it silently and fill the
//!   missing rows with grey, so the entropy-coded data must end with an end-of-image marker;
//! - anything else the decoder rejects is a [`DecodeError`] naming the reason.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, RgbImage};

/// Largest image accepted, in pixels (a decompression bomb guard): 2^28, about 16k x 16k.
pub const MAX_PIXELS: u64 = 1 << 28;

/// Why a file could not be turned into an RGB image.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The file could not be read.
    #[error("cannot read file: {0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not an image format this crate decodes.
    #[error("not a supported image (jpeg, png, bmp, webp, gif, tiff)")]
    UnknownFormat,
    /// The file is empty.
    #[error("empty file")]
    Empty,
    /// A JPEG whose data stops before the end-of-image marker.
    #[error("truncated JPEG (no end-of-image marker after the last scan)")]
    TruncatedJpeg,
    /// The image is larger than [`MAX_PIXELS`] or has a zero side.
    #[error("unusable size {width}x{height}")]
    BadSize {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The decoder rejected the data.
    #[error("{format:?} decoder: {message}")]
    Decoder {
        /// The sniffed format.
        format: ImageFormat,
        /// The decoder's message.
        message: String,
    },
}

/// Reads and decodes the image file at `path` (see [`decode_bytes`]).
pub fn decode_file(path: &Path) -> Result<RgbImage, DecodeError> {
    decode_bytes(&std::fs::read(path)?)
}

/// Decodes an encoded image into upright 8-bit RGB.
pub fn decode_bytes(bytes: &[u8]) -> Result<RgbImage, DecodeError> {
    if bytes.is_empty() {
        return Err(DecodeError::Empty);
    }
    let format = image::guess_format(bytes).map_err(|_| DecodeError::UnknownFormat)?;
    if !matches!(
        format,
        ImageFormat::Jpeg
            | ImageFormat::Png
            | ImageFormat::Bmp
            | ImageFormat::WebP
            | ImageFormat::Gif
            | ImageFormat::Tiff
    ) {
        return Err(DecodeError::UnknownFormat);
    }
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(DecodeError::TruncatedJpeg);
    }
    let decoder_error = |e: image::ImageError| DecodeError::Decoder {
        format,
        message: e.to_string(),
    };
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format);
    let mut decoder = reader.into_decoder().map_err(decoder_error)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(DecodeError::BadSize { width, height });
    }
    let orientation = decoder.orientation().map_err(decoder_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(decoder_error)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}

/// Whether a JPEG stream ends properly: the last end-of-image marker (`FF D9`) comes after the
/// last start-of-scan marker (`FF DA`). Inside entropy-coded data every `FF` byte is followed by
/// `00` or a restart marker, so neither marker can appear there by accident; an embedded EXIF
/// thumbnail has its own scan and EOI, but both come before the main image's scan.
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| {
        bytes
            .windows(2)
            .rposition(|w| w[0] == 0xFF && w[1] == marker)
    };
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpeg_completeness_looks_for_eoi_after_the_last_scan() {
        assert!(jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9
        ]));
        assert!(jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 0xFF, 0xD9, 0, 0
        ]));
        assert!(!jpeg_is_complete(&[0xFF, 0xD8, 0xFF, 0xDA, 1, 2, 3]));
        // a thumbnail's EOI before the main scan does not count
        assert!(!jpeg_is_complete(&[
            0xFF, 0xD8, 0xFF, 0xD9, 0xFF, 0xDA, 1, 2
        ]));
    }

    #[test]
    fn empty_and_unknown_bytes_are_errors() {
        assert!(matches!(decode_bytes(&[]), Err(DecodeError::Empty)));
        assert!(matches!(
            decode_bytes(b"hello, world"),
            Err(DecodeError::UnknownFormat)
        ));
    }
}
