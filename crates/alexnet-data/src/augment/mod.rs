//! Augmentation as a staged pipeline, like timm's transform factory: geometric (resize the
//! shorter side, crop, flip) -> photometric (colour jitter, PCA lighting) -> final (f32 CHW,
//! normalised). A stage runs only when its option is on. Every random choice comes from
//! [`Rng::for_item`]`(seed, epoch, index)`, so an epoch is reproducible whatever the thread count.
//!
//! Resizing uses `fast_image_resize` (convolution, bilinear filter with antialiasing on
//! downscaling, as PIL and torchvision's `antialias=True`); a resize and the crop that follows
//! it are done as one resampling of the crop's source region.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::rng::Rng;

mod geometry;
mod photometric;

use geometry::{centre_offset, random_resized_region, resample, resample_box, resized_dims};
pub use photometric::{IMAGENET_EIGVAL, IMAGENET_EIGVEC};
use photometric::{color_jitter, pca_lighting, to_unit};

/// ImageNet channel means on [0, 1] pixels (torchvision's normalisation).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations on [0, 1] pixels.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];
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
pub enum AugmentPreset {
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

impl AugmentPreset {
    /// Every preset with its name, in the order they are listed to users.
    pub const ALL: [(&'static str, AugmentPreset); 3] = [
        ("paper", AugmentPreset::Paper),
        ("torchvision", AugmentPreset::Torchvision),
        ("eval", AugmentPreset::Eval),
    ];

    /// The name `FromStr` and serde accept.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, p)| *p == self)
            .map_or("eval", |(n, _)| n)
    }
}

impl std::fmt::Display for AugmentPreset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An augmentation preset name that is not one of [`AugmentPreset::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown augmentation preset `{0}` (expected one of: paper, torchvision, eval or none)")]
pub struct UnknownAugmentPreset(pub String);

impl std::str::FromStr for AugmentPreset {
    type Err = UnknownAugmentPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("none") {
            return Ok(AugmentPreset::Eval);
        }
        Self::ALL
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|(_, p)| *p)
            .ok_or_else(|| UnknownAugmentPreset(s.to_owned()))
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
    pub fn preset(preset: AugmentPreset, size: u32) -> Self {
        match preset {
            AugmentPreset::Paper => Self::paper(size),
            AugmentPreset::Torchvision => Self::torchvision(size),
            AugmentPreset::Eval => Self::eval(size),
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
        for (name, preset) in AugmentPreset::ALL {
            assert_eq!(name.parse::<AugmentPreset>().expect("known"), preset);
            assert_eq!(
                name.to_uppercase().parse::<AugmentPreset>().expect("known"),
                preset
            );
            assert_eq!(preset.to_string(), name);
            let json = serde_json::to_string(&preset).expect("serialises");
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<AugmentPreset>(&json).expect("parses"),
                preset
            );
        }
        let err = "cutmix".parse::<AugmentPreset>().expect_err("unknown");
        assert!(err.to_string().contains("`cutmix`") && err.to_string().contains("paper"));
        assert_eq!(
            "none".parse::<AugmentPreset>().expect("alias"),
            AugmentPreset::Eval
        );
        assert_eq!(
            serde_json::from_str::<AugmentPreset>("\"none\"").expect("alias"),
            AugmentPreset::Eval
        );
        assert_eq!(
            AugmentConfig::preset(AugmentPreset::Paper, 64),
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
