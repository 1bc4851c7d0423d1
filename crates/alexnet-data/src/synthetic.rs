//! A built-in, procedurally generated dataset: no files, no network, deterministic from a seed.
//!
//! Ten classes of shapes and textures (disk, square, triangle, cross, ring, star, L, two bars,
//! striped square, checkered disk), each drawn with a random position, scale, rotation and
//! colour over a random gradient background with clutter (line segments and blobs in other
//! colours) and pixel noise, so that no single pixel or colour gives the class away. Items are
//! rendered on demand: `get(i)` of a split is a pure function of (seed, split, i), and with
//! [`SyntheticConfig::fresh_each_epoch`] the training split's item `i` in epoch `e` is a pure
//! function of (seed, e, i), a new image every epoch.

use image::{Rgb, RgbImage};
use serde::{Deserialize, Serialize};

use crate::dataset::{ImageDataset, Sample, SampleError};
use crate::rng::Rng;

/// Class names of the synthetic dataset, in label order.
pub const SYNTHETIC_CLASSES: [&str; 10] = [
    "disk",
    "square",
    "triangle",
    "cross",
    "ring",
    "star",
    "ell",
    "two-bars",
    "striped-square",
    "checkered-disk",
];

/// Which part of the synthetic dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training images.
    Train,
    /// Validation images (drawn from a different random stream).
    Val,
}

/// Size and seed of the synthetic dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticConfig {
    /// Side length of the square images, 32 to 256.
    pub image_size: u32,
    /// Number of training images.
    pub train_len: usize,
    /// Number of validation images.
    pub val_len: usize,
    /// Seed of everything random.
    pub seed: u64,
    /// Draw new training images every epoch ([`ImageDataset::get_in_epoch`]): epoch 1 sees
    /// `get`'s images, each later epoch as many others. Validation images never change.
    #[serde(default)]
    pub fresh_each_epoch: bool,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            image_size: 96,
            train_len: 5000,
            val_len: 1000,
            seed: 0,
            fresh_each_epoch: false,
        }
    }
}

/// One split of the synthetic dataset.
#[derive(Debug, Clone)]
pub struct SyntheticDataset {
    config: SyntheticConfig,
    split: Split,
    classes: Vec<String>,
}

/// An invalid synthetic-dataset configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("synthetic image size {0} is outside 32..=256")]
pub struct BadImageSize(pub u32);

impl SyntheticDataset {
    /// The `split` part of the dataset described by `config`.
    pub fn new(config: SyntheticConfig, split: Split) -> Result<Self, BadImageSize> {
        if !(32..=256).contains(&config.image_size) {
            return Err(BadImageSize(config.image_size));
        }
        Ok(Self {
            config,
            split,
            classes: SYNTHETIC_CLASSES.iter().map(|c| c.to_string()).collect(),
        })
    }

    /// The configuration the dataset was built from.
    pub fn config(&self) -> &SyntheticConfig {
        &self.config
    }

    /// The label of item `index`: classes are balanced and interleaved.
    pub fn label(&self, index: usize) -> usize {
        index % SYNTHETIC_CLASSES.len()
    }

    /// Renders item `index` (as epoch 1 sees it).
    pub fn render(&self, index: usize) -> RgbImage {
        self.render_in_epoch(index, 1)
    }

    /// Renders item `index` as training epoch `epoch` sees it: with
    /// [`fresh_each_epoch`](SyntheticConfig::fresh_each_epoch), a training item of epoch 2 on
    /// comes from a random stream of its own.
    pub fn render_in_epoch(&self, index: usize, epoch: u64) -> RgbImage {
        // Streams 1 and 2 are epoch 1's training images and the validation images.
        let stream = match self.split {
            Split::Train if self.config.fresh_each_epoch && epoch > 1 => 2 + epoch,
            Split::Train => 1,
            Split::Val => 2,
        };
        let mut rng = Rng::for_item(self.config.seed, stream, index as u64);
        draw(self.label(index), self.config.image_size, &mut rng)
    }
}

impl ImageDataset for SyntheticDataset {
    fn len(&self) -> usize {
        match self.split {
            Split::Train => self.config.train_len,
            Split::Val => self.config.val_len,
        }
    }

    fn get(&self, index: usize) -> Result<Sample, SampleError> {
        self.get_in_epoch(index, 1)
    }

    fn get_in_epoch(&self, index: usize, epoch: u64) -> Result<Sample, SampleError> {
        if index >= self.len() {
            return Err(SampleError::out_of_range(index, self.len()));
        }
        Ok(Sample {
            image: self.render_in_epoch(index, epoch),
            label: self.label(index),
        })
    }

    fn classes(&self) -> &[String] {
        &self.classes
    }
}

/// A colour with components in [0, 1].
type Colour = [f64; 3];

fn hsv(h: f64, s: f64, v: f64) -> Colour {
    let h = h.rem_euclid(1.0) * 6.0;
    let c = v * s;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r + m, g + m, b + m]
}

/// Whether the unit-scale local point (x, y) is inside shape `class`, and which of its two
/// colours it takes (for the textured classes).
fn shape(class: usize, x: f64, y: f64) -> Option<bool> {
    let r = (x * x + y * y).sqrt();
    let box_ = x.abs().max(y.abs());
    let inside = match class {
        0 => r <= 1.0,
        1 => box_ <= 0.8,
        2 => {
            let s = 3f64.sqrt() / 2.0;
            -y <= 0.5 && (s * x + 0.5 * y) <= 0.5 && (-s * x + 0.5 * y) <= 0.5
        }
        3 => (x.abs() <= 0.28 && y.abs() <= 0.95) || (y.abs() <= 0.28 && x.abs() <= 0.95),
        4 => (0.55..=1.0).contains(&r),
        5 => r <= 0.35 + 0.65 * (2.5 * y.atan2(x)).cos().abs().powi(3),
        6 => {
            ((-0.85..=-0.35).contains(&x) && y.abs() <= 0.85)
                || ((0.35..=0.85).contains(&y) && x.abs() <= 0.85)
        }
        7 => x.abs() <= 0.9 && ((y - 0.45).abs() <= 0.22 || (y + 0.45).abs() <= 0.22),
        8 => box_ <= 0.8,
        9 => r <= 1.0,
        _ => false,
    };
    if !inside {
        return None;
    }
    let second = match class {
        8 => (x / 0.2).floor().rem_euclid(2.0) == 1.0,
        9 => ((x / 0.35).floor() + (y / 0.35).floor()).rem_euclid(2.0) == 1.0,
        _ => false,
    };
    Some(second)
}

/// Draws one image of `class` at `size` x `size`.
fn draw(class: usize, size: u32, rng: &mut Rng) -> RgbImage {
    // Background: a gradient between two colours of one brightness band; the shape gets the
    // other band so it always stands out, whatever the hues.
    let dark_background = rng.chance(0.5);
    let (bg_v, fg_v) = if dark_background {
        (rng.range(0.15, 0.45), rng.range(0.7, 1.0))
    } else {
        (rng.range(0.6, 0.9), rng.range(0.1, 0.4))
    };
    let bg_a = hsv(rng.uniform(), rng.range(0.1, 0.6), bg_v);
    let bg_b = hsv(rng.uniform(), rng.range(0.1, 0.6), bg_v);
    let gradient_angle = rng.range(0.0, std::f64::consts::TAU);
    let fg_hue = rng.uniform();
    let fg = hsv(fg_hue, rng.range(0.4, 1.0), fg_v);
    let fg2 = hsv(
        fg_hue + rng.range(0.3, 0.7),
        rng.range(0.4, 1.0),
        (fg_v + bg_v) / 2.0,
    );

    let radius = rng.range(0.2, 0.34);
    let cx = rng.range(radius, 1.0 - radius);
    let cy = rng.range(radius, 1.0 - radius);
    let angle = rng.range(0.0, std::f64::consts::TAU);
    let (sin, cos) = angle.sin_cos();

    // Clutter: thin segments and small blobs in random colours, behind the shape.
    let clutter: Vec<(f64, f64, f64, f64, f64, Colour)> = (0..rng.below(6) + 3)
        .map(|_| {
            let x0 = rng.uniform();
            let y0 = rng.uniform();
            let len = rng.range(0.05, 0.3);
            let dir = rng.range(0.0, std::f64::consts::TAU);
            let width = rng.range(0.008, 0.025);
            let colour = hsv(rng.uniform(), rng.range(0.2, 1.0), rng.range(0.2, 1.0));
            (
                x0,
                y0,
                x0 + len * dir.cos(),
                y0 + len * dir.sin(),
                width,
                colour,
            )
        })
        .collect();
    let noise = rng.range(0.01, 0.05);

    let scale = 1.0 / f64::from(size);
    let (gsin, gcos) = gradient_angle.sin_cos();
    RgbImage::from_fn(size, size, |px, py| {
        let u = (f64::from(px) + 0.5) * scale;
        let v = (f64::from(py) + 0.5) * scale;
        let t = ((u - 0.5) * gcos + (v - 0.5) * gsin + 0.71) / 1.42;
        let mut colour: Colour = std::array::from_fn(|c| bg_a[c] * (1.0 - t) + bg_b[c] * t);
        for &(x0, y0, x1, y1, width, c) in &clutter {
            if segment_distance(u, v, x0, y0, x1, y1) <= width {
                colour = c;
            }
        }
        let dx = u - cx;
        let dy = v - cy;
        let lx = (dx * cos + dy * sin) / radius;
        let ly = (-dx * sin + dy * cos) / radius;
        if let Some(second) = shape(class, lx, ly) {
            colour = if second { fg2 } else { fg };
        }
        // Cheap per-pixel hash noise, deterministic per image.
        let h = (u64::from(px) * 0x9E37_79B9 + u64::from(py) * 0x85EB_CA6B) ^ (noise.to_bits());
        let jitter = ((h.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f64 / (1u64 << 24) as f64
            - 0.5)
            * 2.0
            * noise;
        Rgb(colour.map(|c| ((c + jitter).clamp(0.0, 1.0) * 255.0).round() as u8))
    })
}

fn segment_distance(px: f64, py: f64, x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    let (dx, dy) = (x1 - x0, y1 - y0);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((px - x0) * dx + (py - y0) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (qx, qy) = (x0 + t * dx - px, y0 + t * dy - py);
    (qx * qx + qy * qy).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dataset(split: Split, size: u32) -> SyntheticDataset {
        let config = SyntheticConfig {
            image_size: size,
            train_len: 100,
            val_len: 50,
            seed: 3,
            fresh_each_epoch: false,
        };
        SyntheticDataset::new(config, split).expect("valid size")
    }

    fn fresh(split: Split) -> SyntheticDataset {
        let config = SyntheticConfig {
            fresh_each_epoch: true,
            ..dataset(split, 64).config
        };
        SyntheticDataset::new(config, split).expect("valid size")
    }

    fn image(dataset: &SyntheticDataset, index: usize, epoch: u64) -> RgbImage {
        dataset.get_in_epoch(index, epoch).expect("in range").image
    }

    #[test]
    fn fresh_training_items_change_every_epoch_and_keep_their_label() {
        let train = fresh(Split::Train);
        assert_eq!(image(&train, 5, 1), train.render(5));
        assert_ne!(image(&train, 5, 2), image(&train, 5, 1));
        assert_ne!(image(&train, 5, 3), image(&train, 5, 2));
        assert_eq!(image(&train, 5, 2), image(&train, 5, 2));
        assert_eq!(train.get_in_epoch(5, 2).expect("in range").label, 5);
        // No epoch's draws are another split's or another epoch's.
        assert_ne!(image(&train, 5, 2), dataset(Split::Val, 64).render(5));
    }

    #[test]
    fn validation_and_fixed_training_items_are_the_same_every_epoch() {
        let val = fresh(Split::Val);
        assert_eq!(image(&val, 5, 2), image(&val, 5, 1));
        let fixed = dataset(Split::Train, 64);
        assert_eq!(image(&fixed, 5, 2), image(&fixed, 5, 1));
    }

    #[test]
    fn items_are_deterministic_and_splits_differ() {
        let train = dataset(Split::Train, 64);
        let val = dataset(Split::Val, 64);
        assert_eq!(train.render(5), train.render(5));
        assert_ne!(train.render(5), val.render(5));
        assert_ne!(train.render(5), train.render(15)); // same class, other draw
        assert_eq!(train.len(), 100);
        assert_eq!(val.len(), 50);
    }

    #[test]
    fn every_size_from_32_to_256_renders_and_others_are_rejected() {
        for size in [32, 67, 227, 256] {
            let item = dataset(Split::Train, size).get(3).expect("in range");
            assert_eq!(item.image.dimensions(), (size, size));
            assert_eq!(item.label, 3);
        }
        assert!(
            SyntheticDataset::new(
                SyntheticConfig {
                    image_size: 31,
                    ..Default::default()
                },
                Split::Train
            )
            .is_err()
        );
        assert!(
            SyntheticDataset::new(
                SyntheticConfig {
                    image_size: 257,
                    ..Default::default()
                },
                Split::Train
            )
            .is_err()
        );
        assert!(dataset(Split::Val, 32).get(50).is_err());
    }

    #[test]
    fn classes_are_balanced_and_not_given_away_by_mean_colour() {
        let train = dataset(Split::Train, 48);
        assert_eq!(train.classes().len(), 10);
        let mut counts = [0usize; 10];
        (0..100).for_each(|i| counts[train.label(i)] += 1);
        assert!(counts.iter().all(|&c| c == 10));
        // The mean colour of an image does not separate two classes: across draws of the same
        // class it varies more than between the class means.
        let mean = |img: &RgbImage| {
            let n = f64::from(img.width() * img.height());
            img.pixels()
                .map(|p| f64::from(p[0]) + f64::from(p[1]) + f64::from(p[2]))
                .sum::<f64>()
                / (3.0 * n)
        };
        let class_means: Vec<Vec<f64>> = (0..2)
            .map(|c| (0..10).map(|k| mean(&train.render(c + 10 * k))).collect())
            .collect();
        let spread = |v: &[f64]| {
            v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
        };
        assert!(spread(&class_means[0]) > 20.0, "{:?}", class_means[0]);
    }

    #[test]
    fn shapes_are_distinct_at_unit_scale() {
        // Sample each class's mask on a grid: no two classes have the same mask.
        let masks: Vec<Vec<Option<bool>>> = (0..10)
            .map(|c| {
                (0..41 * 41)
                    .map(|i| {
                        shape(
                            c,
                            (i % 41) as f64 / 20.0 - 1.0,
                            (i / 41) as f64 / 20.0 - 1.0,
                        )
                    })
                    .collect()
            })
            .collect();
        for a in 0..10 {
            for b in a + 1..10 {
                assert_ne!(masks[a], masks[b], "classes {a} and {b}");
            }
        }
    }
}
