//! The geometric stage: sizes after a resize, crop offsets, and one-pass resampling of a crop's
//! source region with `fast_image_resize` (bilinear, antialiased when downscaling).

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;

use crate::rng::Rng;

/// Dimensions after resizing the shorter side to `resize` (aspect ratio kept, as torchvision's
/// `Resize(int)`), or the original ones.
pub(super) fn resized_dims((w, h): (u32, u32), resize: Option<u32>) -> (u32, u32) {
    match resize {
        None => (w, h),
        Some(s) if w <= h => (
            s,
            ((f64::from(h) * f64::from(s) / f64::from(w)) as u32).max(s),
        ),
        Some(s) => (
            ((f64::from(w) * f64::from(s) / f64::from(h)) as u32).max(s),
            s,
        ),
    }
}

/// torchvision's `center_crop` offset into a `w` x `h` image: `int(round((w - size) / 2))`,
/// with Python's rounding of halves to even, so the crop starts on a whole pixel.
pub(super) fn centre_offset((w, h): (u32, u32), size: u32) -> (f64, f64) {
    let half = |d: u32| (f64::from(d.saturating_sub(size)) / 2.0).round_ties_even();
    (half(w), half(h))
}

/// The `size` x `size` square at `offset` of `image` resized to `dims`, resampled in one pass
/// from the matching source region. An image smaller than the crop is stretched to fit.
pub(super) fn resample(
    image: &RgbImage,
    dims: (u32, u32),
    offset: (f64, f64),
    size: u32,
) -> RgbImage {
    let sx = f64::from(image.width()) / f64::from(dims.0);
    let sy = f64::from(image.height()) / f64::from(dims.1);
    let cw = f64::from(size.min(dims.0)) * sx;
    let ch = f64::from(size.min(dims.1)) * sy;
    resample_box(image, (offset.0 * sx, offset.1 * sy, cw, ch), (size, size))
}

/// Resamples the source region `(left, top, width, height)` of `image` to `out` pixels.
pub(super) fn resample_box(
    image: &RgbImage,
    region: (f64, f64, f64, f64),
    out: (u32, u32),
) -> RgbImage {
    let (w, h) = image.dimensions();
    // Scale factors can push the far edge a rounding error past the image: clamp the region.
    let (wf, hf) = (f64::from(w), f64::from(h));
    let left = region.0.clamp(0.0, wf);
    let top = region.1.clamp(0.0, hf);
    let region = (
        left,
        top,
        region.2.min(wf - left).max(0.0),
        region.3.min(hf - top).max(0.0),
    );
    let src = ImageRef::new(w, h, image.as_raw(), PixelType::U8x3)
        .expect("an RgbImage buffer is width * height * 3 bytes");
    let mut dst = Image::new(out.0, out.1, PixelType::U8x3);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .crop(region.0, region.1, region.2, region.3);
    Resizer::new()
        .resize(&src, &mut dst, &options)
        .expect("source and destination are both U8x3");
    RgbImage::from_raw(out.0, out.1, dst.into_vec())
        .expect("destination is out.0 * out.1 * 3 bytes")
}

/// torchvision's `RandomResizedCrop.get_params`: ten tries at a region of random area and
/// aspect ratio, then a centre crop with the ratio clamped into range.
pub(super) fn random_resized_region(
    (w, h): (u32, u32),
    scale: [f64; 2],
    ratio: [f64; 2],
    rng: &mut Rng,
) -> (f64, f64, f64, f64) {
    let (wf, hf) = (f64::from(w), f64::from(h));
    let area = wf * hf;
    let log_ratio = [ratio[0].ln(), ratio[1].ln()];
    for _ in 0..10 {
        let target = area * rng.range(scale[0], scale[1]);
        let aspect = rng.range(log_ratio[0], log_ratio[1]).exp();
        let cw = (target * aspect).sqrt().round();
        let ch = (target / aspect).sqrt().round();
        if cw > 0.0 && ch > 0.0 && cw <= wf && ch <= hf {
            let top = rng.below((hf - ch) as usize + 1) as f64;
            let left = rng.below((wf - cw) as usize + 1) as f64;
            return (left, top, cw, ch);
        }
    }
    let in_ratio = wf / hf;
    let (cw, ch) = if in_ratio < ratio[0] {
        (wf, (wf / ratio[0]).round())
    } else if in_ratio > ratio[1] {
        ((hf * ratio[1]).round(), hf)
    } else {
        (wf, hf)
    };
    ((wf - cw) / 2.0, (hf - ch) / 2.0, cw, ch)
}
