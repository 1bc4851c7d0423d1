//! The photometric stage, on HWC pixels in [0, 1]: conversion from bytes, colour jitter and the
//! paper's PCA lighting.

use image::RgbImage;

use super::ColorJitter;
use crate::rng::Rng;

/// Eigenvalues of the ImageNet RGB covariance (the paper's PCA lighting, on [0, 1] pixels).
pub const IMAGENET_EIGVAL: [f32; 3] = [0.2175, 0.0188, 0.0045];
/// Eigenvectors (rows) of the ImageNet RGB covariance.
pub const IMAGENET_EIGVEC: [[f32; 3]; 3] = [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.8140],
    [-0.5836, -0.6948, 0.4203],
];

/// Bytes to [0, 1] floats, in the same HWC order.
pub(super) fn to_unit(image: &RgbImage) -> Vec<f32> {
    image
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect()
}

/// Brightness, contrast, then saturation, each with a factor from `[1 - s, 1 + s]`, on HWC
/// [0, 1] pixels, clamped to [0, 1] after each step as torchvision does.
pub(super) fn color_jitter(pixels: &mut [f32], jitter: &ColorJitter, rng: &mut Rng) {
    let mut factor = |s: f32| rng.range(f64::from((1.0 - s).max(0.0)), f64::from(1.0 + s)) as f32;
    let grey = |p: &[f32]| 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
    if jitter.brightness > 0.0 {
        let f = factor(jitter.brightness);
        pixels
            .iter_mut()
            .for_each(|v| *v = (*v * f).clamp(0.0, 1.0));
    }
    if jitter.contrast > 0.0 {
        let f = factor(jitter.contrast);
        let mean = pixels.chunks_exact(3).map(grey).sum::<f32>() / (pixels.len() / 3).max(1) as f32;
        pixels
            .iter_mut()
            .for_each(|v| *v = ((*v - mean) * f + mean).clamp(0.0, 1.0));
    }
    if jitter.saturation > 0.0 {
        let f = factor(jitter.saturation);
        for p in pixels.chunks_exact_mut(3) {
            let g = grey(p);
            p.iter_mut()
                .for_each(|v| *v = ((*v - g) * f + g).clamp(0.0, 1.0));
        }
    }
}

/// The paper's PCA lighting: `alpha ~ N(0, std)^3`, add `eigvec * (alpha * eigval)` to every
/// pixel (not clamped, as in the paper and torchvision's reference `Lighting`).
pub(super) fn pca_lighting(pixels: &mut [f32], std: f32, rng: &mut Rng) {
    let alpha: [f32; 3] = std::array::from_fn(|_| rng.normal() as f32 * std);
    let offset: [f32; 3] = std::array::from_fn(|c| {
        (0..3)
            .map(|k| IMAGENET_EIGVEC[c][k] * alpha[k] * IMAGENET_EIGVAL[k])
            .sum()
    });
    for p in pixels.chunks_exact_mut(3) {
        p.iter_mut().zip(offset).for_each(|(v, o)| *v += o);
    }
}
