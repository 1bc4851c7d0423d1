//! Every kind of file real datasets contain decodes to upright RGB8, and every kind of bad file
//! is an error with a reason (fixtures: tools/make_image_fixtures.py, 24x16, red left, blue right).

use std::path::PathBuf;

use alexnet_data::{DecodeError, decode_file};
use image::RgbImage;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn decode(name: &str) -> RgbImage {
    decode_file(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Red on the left, blue on the right, within lossy-compression slack.
fn assert_red_blue(name: &str, img: &RgbImage) {
    assert_eq!(img.dimensions(), (24, 16), "{name}");
    let left = img.get_pixel(3, 8);
    let right = img.get_pixel(20, 8);
    assert!(left[0] > 150 && left[2] < 90, "{name}: left pixel {left:?}");
    assert!(
        right[2] > 150 && right[0] < 90,
        "{name}: right pixel {right:?}"
    );
}

#[test]
fn colour_files_of_every_format_decode_to_rgb() {
    for name in [
        "rgb.jpg",
        "rgb.png",
        "rgb.bmp",
        "rgb.gif",
        "rgb.webp",
        "rgb.tif",
        "rgba.png",
        "palette.png",
    ] {
        assert_red_blue(name, &decode(name));
    }
}

#[test]
fn a_png_named_jpeg_is_decoded_by_its_content() {
    assert_red_blue("png_named.JPEG", &decode("png_named.JPEG"));
}

#[test]
fn cmyk_jpeg_becomes_rgb() {
    assert_red_blue("cmyk.jpg", &decode("cmyk.jpg"));
}

#[test]
fn greyscale_and_16_bit_become_grey_rgb() {
    for name in ["grey.png", "grey.jpg", "grey16.png"] {
        let img = decode(name);
        assert_eq!(img.dimensions(), (24, 16), "{name}");
        let left = img.get_pixel(3, 8);
        let right = img.get_pixel(20, 8);
        assert!(left[0] == left[1] && left[1] == left[2], "{name}: {left:?}");
        assert!(
            left[0] > right[0] + 20,
            "{name}: red is brighter than blue in grey: {left:?} {right:?}"
        );
    }
}

#[test]
fn exif_orientation_is_applied() {
    // Stored 24x16 red|blue, orientation 6: viewed rotated 90 degrees clockwise, 16x24 with red on top.
    let img = decode("exif_rotate90.jpg");
    assert_eq!(img.dimensions(), (16, 24));
    let top = img.get_pixel(8, 3);
    let bottom = img.get_pixel(8, 20);
    assert!(top[0] > 150 && top[2] < 90, "top {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 90, "bottom {bottom:?}");
}

#[test]
fn bad_files_are_errors_with_reasons() {
    assert!(matches!(
        decode_file(&fixture("truncated.jpg")),
        Err(DecodeError::TruncatedJpeg)
    ));
    assert!(matches!(
        decode_file(&fixture("not_an_image.jpg")),
        Err(DecodeError::UnknownFormat)
    ));
    assert!(matches!(
        decode_file(&fixture("empty.png")),
        Err(DecodeError::Empty)
    ));
    assert!(matches!(
        decode_file(&fixture("absent.png")),
        Err(DecodeError::Io(_))
    ));
    // A PNG cut short is the decoder's error, not a panic.
    let bytes = std::fs::read(fixture("rgb.png")).expect("fixture");
    let cut = alexnet_data::decode_bytes(&bytes[..bytes.len() - 20]);
    assert!(matches!(cut, Err(DecodeError::Decoder { .. })), "{cut:?}");
}
