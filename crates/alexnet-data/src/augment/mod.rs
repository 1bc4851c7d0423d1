//! Augmentation as a staged pipeline, like timm's transform factory: geometric (resize the
//! shorter side, crop, flip) -> photometric (colour jitter, PCA lighting) -> final (f32 CHW,
//! normalised). A stage runs only when its option is on. Every random choice comes from
//! [`Rng::for_item`]`(seed, epoch, index)`, so an epoch is reproducible whatever the thread count.
//!
//! Resizing uses `fast_image_resize` (convolution, bilinear filter with antialiasing on
//! downscaling, as PIL and torchvision's `antialias=True`); a resize and the crop that follows
//! it are done as one resampling of the crop's source region.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// ImageNet channel means on [0, 1] pixels (torchvision's normalisation).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations on [0, 1] pixels.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
/// Eigenvalues of the ImageNet RGB covariance (the paper's PCA lighting, on [0, 1] pixels).
pub const IMAGENET_EIGVAL: [f32; 3] = [0.2175, 0.0188, 0.0045];
/// Eigenvectors (rows) of the ImageNet RGB covariance.
pub const IMAGENET_EIGVEC: [[f32; 3]; 3] = [
    [-0.5675, 0.7192, 0.4009],
    [-0.5808, -0.0045, -0.8140],
    [-0.5836, -0.6948, 0.4203],
];

/// How the final `size` x `size` square is cut from the (resized) image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Crop {
    /// The centre square (evaluation).
    Center {
        /// Output side.
        size: u32,
    },
    /// A uniformly placed square (the paper's training crops).
    Random {
        /// Output side.
        size: u32,
    },
    /// torchvision's `RandomResizedCrop`: a region of random area fraction and aspect ratio,
    /// resized to the output square.
    RandomResized {
        /// Output side.
        size: u32,
        /// Range of the region's area as a fraction of the image (torchvision: 0.08 to 1).
        scale: [f64; 2],
        /// Range of the region's aspect ratio (torchvision: 3/4 to 4/3).
        ratio: [f64; 2],
    },
}

impl Crop {
    /// Output side length.
    pub fn size(&self) -> u32 {
        match *self {
            Crop::Center { size } | Crop::Random { size } | Crop::RandomResized { size, .. } => {
                size
            }
        }
    }
}

/// torchvision's `ColorJitter` strengths (each factor is drawn from `[1 - s, 1 + s]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColorJitter {
    /// Brightness strength.
    pub brightness: f32,
    /// Contrast strength.
    pub contrast: f32,
    /// Saturation strength.
    pub saturation: f32,
}

/// The whole pipeline's configuration (serde: saved with a run's config).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AugmentConfig {
    /// Resize the shorter side to this many pixels before cropping (`None`: crop the original).
    pub resize: Option<u32>,
    /// The crop that gives the output square.
    pub crop: Crop,
    /// Probability of a horizontal flip.
    pub hflip: f64,
    /// Colour jitter, or none.
    pub color_jitter: Option<ColorJitter>,
    /// Standard deviation of the paper's PCA lighting noise (0: off; the paper uses 0.1).
    pub pca_lighting: f32,
    /// Per-channel mean subtracted at the end.
    pub mean: [f32; 3],
    /// Per-channel standard deviation divided by at the end.
    pub std: [f32; 3],
}

/// A named augmentation recipe, as the trainer's `--aug` flag and a run's `config.json` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// [`AugmentConfig::paper`].
    Paper,
    /// [`AugmentConfig::torchvision`].
    Torchvision,
    /// [`AugmentConfig::eval`]: no augmentation, the deterministic resize, centre crop and
    /// normalisation (as torchvision users get by passing the eval transform to a train set).
    /// `none` is accepted as another name for it.
    #[serde(alias = "none")]
    Eval,
}

impl Preset {
    /// Every preset with its name, in the order they are listed to users.
    pub const ALL: [(&'static str, Preset); 3] = [
        ("paper", Preset::Paper),
        ("torchvision", Preset::Torchvision),
        ("eval", Preset::Eval),
    ];

    /// The name `FromStr` and serde accept.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("eval", |(n, _)| n)
    }
}

impl std::fmt::Display for Preset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An augmentation preset name that is not one of [`Preset::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown augmentation preset `{0}` (expected one of: paper, torchvision, eval or none)")]
pub struct UnknownPreset(pub String);

impl std::str::FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("none") {
            return Ok(Preset::Eval);
        }
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, p)| *p)
            .ok_or_else(|| UnknownPreset(s.to_owned()))
    }
}

/// The shorter side that an evaluation resize uses for an input of `size`: 256 for the paper's
/// 224 and 227 crops, and the same 256/224 ratio for other sizes.
pub fn eval_resize(size: u32) -> u32 {
    if size == 227 {
        256
    } else {
        ((f64::from(size) * 256.0 / 224.0).round()) as u32
    }
}

impl AugmentConfig {
    /// The configuration of `preset` for `size` x `size` outputs.
    pub fn preset(preset: Preset, size: u32) -> Self {
        match preset {
            Preset::Paper => Self::paper(size),
            Preset::Torchvision => Self::torchvision(size),
            Preset::Eval => Self::eval(size),
        }
    }

    /// The paper's training augmentation: shorter side to 256 (scaled for other sizes), random
    /// `size` crops, horizontal flips, PCA lighting with std 0.1.
    pub fn paper(size: u32) -> Self {
        Self {
            resize: Some(eval_resize(size)),
            crop: Crop::Random { size },
            hflip: 0.5,
            color_jitter: None,
            pca_lighting: 0.1,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }

    /// torchvision's classification reference: `RandomResizedCrop(size)` and flips.
    pub fn torchvision(size: u32) -> Self {
        Self {
            resize: None,
            crop: Crop::RandomResized {
                size,
                scale: [0.08, 1.0],
                ratio: [3.0 / 4.0, 4.0 / 3.0],
            },
            hflip: 0.5,
            color_jitter: None,
            pca_lighting: 0.0,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }

    /// Evaluation: shorter side to 256 (scaled), centre crop `size`, nothing random.
    pub fn eval(size: u32) -> Self {
        Self {
            resize: Some(eval_resize(size)),
            crop: Crop::Center { size },
            hflip: 0.0,
            color_jitter: None,
            pca_lighting: 0.0,
            mean: IMAGENET_MEAN,
            std: IMAGENET_STD,
        }
    }

    /// The eval pipeline with an explicit resize, as a weights description (e.g.
    /// `alexnet::pretrained::EvalTransform`) gives it: shorter side to `resize`, centre crop
    /// `crop`, ImageNet's mean and std.
    pub fn eval_with(resize: u32, crop: u32) -> Self {
        Self {
            resize: Some(resize),
            ..Self::eval(crop)
        }
    }

    /// Runs the pipeline on one image; returns `[3, size, size]` values in CHW order.
    pub fn apply(&self, image: &RgbImage, rng: &mut Rng) -> Vec<f32> {
        let mut square = self.geometric(image, rng);
        if self.hflip > 0.0 && rng.chance(self.hflip) {
            image::imageops::flip_horizontal_in_place(&mut square);
        }
        let mut pixels: Vec<f32> = square
            .as_raw()
            .iter()
            .map(|&v| f32::from(v) / 255.0)
            .collect();
        if let Some(jitter) = &self.color_jitter {
            color_jitter(&mut pixels, jitter, rng);
        }
        if self.pca_lighting > 0.0 {
            pca_lighting(&mut pixels, self.pca_lighting, rng);
        }
        self.finish(&pixels)
    }

    /// The paper's ten test crops: the four corners and the centre of the resized image, and
    /// their mirror images, each `[3, size, size]`, normalised, nothing random.
    pub fn ten_crop(&self, image: &RgbImage) -> Vec<Vec<f32>> {
        let size = self.crop.size();
        let (w, h) = resized_dims(image.dimensions(), self.resize);
        let (mx, my) = (w.saturating_sub(size) as f64, h.saturating_sub(size) as f64);
        let offsets = [
            (0.0, 0.0),
            (mx, 0.0),
            (0.0, my),
            (mx, my),
            centre_offset((w, h), size),
        ];
        let mut crops = Vec::with_capacity(10);
        for &(ox, oy) in &offsets {
            let mut square = resample(image, (w, h), (ox, oy), size);
            crops.push(self.finish(&to_unit(&square)));
            image::imageops::flip_horizontal_in_place(&mut square);
            crops.push(self.finish(&to_unit(&square)));
        }
        crops
    }

    fn geometric(&self, image: &RgbImage, rng: &mut Rng) -> RgbImage {
        let size = self.crop.size();
        match &self.crop {
            Crop::Center { .. } => {
                let (w, h) = resized_dims(image.dimensions(), self.resize);
                resample(image, (w, h), centre_offset((w, h), size), size)
            }
            Crop::Random { .. } => {
                let (w, h) = resized_dims(image.dimensions(), self.resize);
                let ox = rng.below(w.saturating_sub(size) as usize + 1) as f64;
                let oy = rng.below(h.saturating_sub(size) as usize + 1) as f64;
                resample(image, (w, h), (ox, oy), size)
            }
            Crop::RandomResized { scale, ratio, .. } => {
                let (w, h) = resized_dims(image.dimensions(), self.resize);
                let resized;
                let source = if (w, h) == image.dimensions() {
                    image
                } else {
                    resized = resample_box(
                        image,
                        (
                            0.0,
                            0.0,
                            f64::from(image.width()),
                            f64::from(image.height()),
                        ),
                        (w, h),
                    );
                    &resized
                };
                let region = random_resized_region((w, h), *scale, *ratio, rng);
                resample_box(source, region, (size, size))
            }
        }
    }

    fn finish(&self, pixels: &[f32]) -> Vec<f32> {
        let n = pixels.len() / 3;
        let mut chw = vec![0.0; pixels.len()];
        for c in 0..3 {
            let (mean, std) = (self.mean[c], self.std[c]);
            for i in 0..n {
                chw[c * n + i] = (pixels[i * 3 + c] - mean) / std;
            }
        }
        chw
    }
}

/// Dimensions after resizing the shorter side to `resize` (aspect ratio kept, as torchvision's
/// `Resize(int)`), or the original ones.
fn resized_dims((w, h): (u32, u32), resize: Option<u32>) -> (u32, u32) {
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
fn centre_offset((w, h): (u32, u32), size: u32) -> (f64, f64) {
    let half = |d: u32| (f64::from(d.saturating_sub(size)) / 2.0).round_ties_even();
    (half(w), half(h))
}

/// The `size` x `size` square at `offset` of `image` resized to `dims`, resampled in one pass
/// from the matching source region. An image smaller than the crop is stretched to fit.
fn resample(image: &RgbImage, dims: (u32, u32), offset: (f64, f64), size: u32) -> RgbImage {
    let sx = f64::from(image.width()) / f64::from(dims.0);
    let sy = f64::from(image.height()) / f64::from(dims.1);
    let cw = f64::from(size.min(dims.0)) * sx;
    let ch = f64::from(size.min(dims.1)) * sy;
    resample_box(image, (offset.0 * sx, offset.1 * sy, cw, ch), (size, size))
}

/// Resamples the source region `(left, top, width, height)` of `image` to `out` pixels.
fn resample_box(image: &RgbImage, region: (f64, f64, f64, f64), out: (u32, u32)) -> RgbImage {
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
fn random_resized_region(
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

fn to_unit(image: &RgbImage) -> Vec<f32> {
    image
        .as_raw()
        .iter()
        .map(|&v| f32::from(v) / 255.0)
        .collect()
}

/// Brightness, contrast, then saturation, each with a factor from `[1 - s, 1 + s]`, on HWC
/// [0, 1] pixels, clamped to [0, 1] after each step as torchvision does.
fn color_jitter(pixels: &mut [f32], jitter: &ColorJitter, rng: &mut Rng) {
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
fn pca_lighting(pixels: &mut [f32], std: f32, rng: &mut Rng) {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 128])
        })
    }

    #[test]
    fn presets_give_the_crop_size_in_chw() {
        let img = gradient(300, 200);
        let mut rng = Rng::for_item(0, 0, 0);
        for config in [
            AugmentConfig::paper(224),
            AugmentConfig::torchvision(224),
            AugmentConfig::eval(224),
        ] {
            assert_eq!(config.apply(&img, &mut rng).len(), 3 * 224 * 224);
        }
        assert_eq!(AugmentConfig::eval(227).resize, Some(256));
        assert_eq!(AugmentConfig::eval(64).resize, Some(73));
    }

    #[test]
    fn same_seed_epoch_index_same_output() {
        let img = gradient(120, 90);
        let config = AugmentConfig::paper(64);
        let a = config.apply(&img, &mut Rng::for_item(1, 2, 3));
        let b = config.apply(&img, &mut Rng::for_item(1, 2, 3));
        let c = config.apply(&img, &mut Rng::for_item(1, 3, 3));
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn eval_is_the_centre_of_the_resized_image() {
        // 512x256 -> shorter side 256 -> 512x256; the centre 224 square spans x in [144, 368).
        let img = gradient(512, 256);
        let mut config = AugmentConfig::eval(224);
        config.mean = [0.0; 3];
        config.std = [1.0; 3];
        let out = config.apply(&img, &mut Rng::for_item(0, 0, 0));
        let red = &out[..224 * 224];
        let first = red[112 * 224];
        let last = red[112 * 224 + 223];
        assert!((first - 144.0 / 512.0).abs() < 0.02, "{first}");
        assert!((last - 367.0 / 512.0).abs() < 0.02, "{last}");
        // eval is deterministic whatever the rng
        assert_eq!(out, config.apply(&img, &mut Rng::for_item(9, 9, 9)));
    }

    #[test]
    fn normalisation_uses_mean_and_std() {
        let img = RgbImage::from_pixel(50, 50, image::Rgb([255, 0, 128]));
        let config = AugmentConfig::eval(32);
        let out = config.apply(&img, &mut Rng::for_item(0, 0, 0));
        let n = 32 * 32;
        assert!((out[0] - (1.0 - 0.485) / 0.229).abs() < 1e-5);
        assert!((out[n] - (0.0 - 0.456) / 0.224).abs() < 1e-5);
        assert!((out[2 * n] - (128.0 / 255.0 - 0.406) / 0.225).abs() < 1e-5);
    }

    #[test]
    fn flips_happen_about_half_the_time_and_mirror_the_image() {
        let img = gradient(64, 64);
        let mut config = AugmentConfig::eval(64);
        config.resize = None;
        config.hflip = 0.5;
        let plain = AugmentConfig {
            hflip: 0.0,
            ..config.clone()
        }
        .apply(&img, &mut Rng::for_item(0, 0, 0));
        let flipped = (0..200)
            .filter(|&i| config.apply(&img, &mut Rng::for_item(0, 0, i)) != plain)
            .count();
        assert!((70..130).contains(&flipped), "{flipped}");
    }

    #[test]
    fn pca_lighting_shifts_every_pixel_by_the_same_colour() {
        let img = gradient(40, 40);
        let mut config = AugmentConfig::eval(32);
        config.resize = Some(32);
        let base = config.apply(&img, &mut Rng::for_item(0, 0, 0));
        config.pca_lighting = 0.1;
        let lit = config.apply(&img, &mut Rng::for_item(0, 0, 0));
        let n = 32 * 32;
        for c in 0..3 {
            let d0 = lit[c * n] - base[c * n];
            assert!((0..n).all(|i| (lit[c * n + i] - base[c * n + i] - d0).abs() < 1e-5));
        }
        assert_ne!(base, lit);
    }

    #[test]
    fn random_resized_regions_stay_inside_and_respect_the_ranges() {
        let mut rng = Rng::for_item(5, 0, 0);
        for _ in 0..500 {
            let (l, t, w, h) =
                random_resized_region((300, 200), [0.08, 1.0], [0.75, 4.0 / 3.0], &mut rng);
            assert!(l >= 0.0 && t >= 0.0 && l + w <= 300.0 && t + h <= 200.0);
            assert!(w * h >= 0.07 * 60000.0);
        }
    }

    #[test]
    fn ten_crop_gives_ten_crops_with_mirrored_pairs() {
        let img = gradient(100, 80);
        let crops = AugmentConfig::eval(64).ten_crop(&img);
        assert_eq!(crops.len(), 10);
        assert!(crops.iter().all(|c| c.len() == 3 * 64 * 64));
        // crop 1 is crop 0 mirrored: first row reversed
        let row0: Vec<f32> = crops[0][..64].to_vec();
        let mut row1: Vec<f32> = crops[1][..64].to_vec();
        row1.reverse();
        assert_eq!(row0, row1);
        assert_ne!(crops[0], crops[2]);
    }

    #[test]
    fn presets_parse_case_insensitively_and_round_trip_through_serde() {
        for (name, preset) in Preset::ALL {
            assert_eq!(name.parse::<Preset>().expect("known"), preset);
            assert_eq!(
                name.to_uppercase().parse::<Preset>().expect("known"),
                preset
            );
            assert_eq!(preset.to_string(), name);
            let json = serde_json::to_string(&preset).expect("serialises");
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<Preset>(&json).expect("parses"),
                preset
            );
        }
        let err = "cutmix".parse::<Preset>().expect_err("unknown");
        assert!(err.to_string().contains("`cutmix`") && err.to_string().contains("paper"));
        assert_eq!("none".parse::<Preset>().expect("alias"), Preset::Eval);
        assert_eq!(
            serde_json::from_str::<Preset>("\"none\"").expect("alias"),
            Preset::Eval
        );
        assert_eq!(
            AugmentConfig::preset(Preset::Paper, 64),
            AugmentConfig::paper(64)
        );
    }

    #[test]
    fn pca_lighting_alphas_have_mean_zero_and_the_configured_std() {
        // Recover alpha from the colour shift: shift = V (alpha * eigval), V orthonormal.
        let n = 4000;
        let mut sums = [0.0f64; 3];
        let mut squares = [0.0f64; 3];
        for i in 0..n {
            let mut pixel = [0.5f32; 3];
            pca_lighting(&mut pixel, 0.1, &mut Rng::for_item(3, 0, i));
            for k in 0..3 {
                let projected: f32 = (0..3)
                    .map(|c| IMAGENET_EIGVEC[c][k] * (pixel[c] - 0.5))
                    .sum();
                let alpha = f64::from(projected / IMAGENET_EIGVAL[k]);
                sums[k] += alpha;
                squares[k] += alpha * alpha;
            }
        }
        for k in 0..3 {
            let mean = sums[k] / n as f64;
            let std = (squares[k] / n as f64 - mean * mean).sqrt();
            assert!(mean.abs() < 0.01, "alpha {k} mean {mean}");
            assert!((std - 0.1).abs() < 0.01, "alpha {k} std {std}");
        }
    }

    #[test]
    fn ten_crop_takes_the_corners_and_the_rounded_centre() {
        // Each pixel encodes its position: R = 2x, G = 3y.
        let img = RgbImage::from_fn(100, 80, |x, y| {
            image::Rgb([(2 * x) as u8, (3 * y) as u8, 0])
        });
        let mut config = AugmentConfig::eval(64);
        config.resize = None;
        config.mean = [0.0; 3];
        config.std = [1.0; 3];
        let crops = config.ten_crop(&img);
        let n = 64 * 64;
        let origin = |crop: &[f32]| {
            let (r, g) = (crop[0] * 255.0, crop[n] * 255.0);
            ((r / 2.0).round() as u32, (g / 3.0).round() as u32)
        };
        // tl, tr, bl, br, centre: margins 36 and 16; centre offsets round(18) and round(8)
        let expected = [(0, 0), (36, 0), (0, 16), (36, 16), (18, 8)];
        for (k, &xy) in expected.iter().enumerate() {
            assert_eq!(origin(&crops[2 * k]), xy, "crop {}", 2 * k);
        }
        // the centre crop is the eval crop
        let eval = config.apply(&img, &mut Rng::for_item(0, 0, 0));
        assert_eq!(crops[8], eval);
    }

    #[test]
    fn a_one_pixel_image_becomes_a_uniform_crop() {
        let img = RgbImage::from_pixel(1, 1, image::Rgb([10, 200, 30]));
        for config in [
            AugmentConfig::paper(32),
            AugmentConfig::torchvision(32),
            AugmentConfig::eval(32),
        ] {
            // Lighting and jitter shift a whole plane at once: each plane stays one value.
            let out = config.apply(&img, &mut Rng::for_item(0, 0, 0));
            assert_eq!(out.len(), 3 * 32 * 32);
            for plane in out.chunks(32 * 32) {
                assert_eq!(spread(plane), 0.0, "a plane of {config:?} varies");
            }
        }
        let eval = AugmentConfig::eval(32);
        let crops = eval.ten_crop(&img);
        assert_eq!(crops.len(), 10);
        for crop in &crops {
            for (c, plane) in crop.chunks(32 * 32).enumerate() {
                let want = ([10.0, 200.0, 30.0][c] / 255.0 - eval.mean[c]) / eval.std[c];
                let worst = plane.iter().fold(0.0f32, |m, v| m.max((v - want).abs()));
                assert!(worst < 1e-5, "channel {c}: off by {worst} from {want}");
            }
        }
    }

    /// max - min of `values`.
    fn spread(values: &[f32]) -> f32 {
        let (lo, hi) = values
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        hi - lo
    }

    #[test]
    fn every_random_crop_of_an_odd_sized_photo_stays_inside() {
        // 451x300 -> 384x256: offsets up to 160 map to a source region ending a rounding
        // error past x = 451; this panicked in fast_image_resize before the clamp.
        let img = gradient(451, 300);
        let config = AugmentConfig::paper(224);
        for i in 0..300 {
            let out = config.apply(&img, &mut Rng::for_item(0, 0, i));
            assert_eq!(out.len(), 3 * 224 * 224);
        }
        assert_eq!(config.ten_crop(&img).len(), 10);
    }
}
