//! conv1's kernels as a grid of RGB tiles, the 2012 paper's Figure 3: each kernel scaled to
//! [0, 1] on its own (its three colour planes together), enlarged with nearest-neighbour, 16 to a
//! row. A model with grouped convolutions (paper2012: the two GPUs) shows its kernels in as many
//! blocks, one above the other.

use alexnet::AlexNet;
use anyhow::{Result, anyhow, bail, ensure};
use burn::tensor::TensorData;
use image::{Rgb, RgbImage};

use super::Canvas;

/// Screen pixels per kernel weight (an 11x11 kernel becomes a 44x44 tile).
pub const SCALE: u32 = 4;
/// White pixels between tiles and around them.
pub const GAP: u32 = 2;
/// White pixels between the blocks of two groups.
pub const GROUP_GAP: u32 = 12;
/// Tiles per row.
pub const COLUMNS: usize = 16;

/// conv1's weights, `[count, 3, height, width]`, and the groups to draw them in.
pub struct Kernels {
    values: Vec<f32>,
    count: usize,
    height: usize,
    width: usize,
    groups: usize,
}

impl Kernels {
    /// The kernels of `model`'s conv1, in the groups of its grouped convolutions.
    pub fn of(model: &AlexNet) -> Result<Self> {
        Self::from_data(model.conv1.weight.val().into_data(), model.config.groups)
    }

    /// Kernels from conv1's weight, `[count, 3, height, width]`, in `groups` blocks.
    pub fn from_data(weight: TensorData, groups: usize) -> Result<Self> {
        let dims: Vec<usize> = weight.shape().to_vec();
        let &[count, channels, height, width] = dims.as_slice() else {
            bail!("conv1's weight has shape {dims:?}, not [out, 3, height, width]");
        };
        ensure!(
            channels == 3,
            "conv1 has {channels} input channels, not the 3 of an RGB kernel"
        );
        let values = weight
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| anyhow!("cannot read conv1's weight: {e:?}"))?;
        Ok(Self::new(values, count, height, width, groups))
    }

    /// `count` kernels of `3 * height * width` `values`, in `groups` blocks when they divide
    /// evenly (else one).
    fn new(values: Vec<f32>, count: usize, height: usize, width: usize, groups: usize) -> Self {
        let groups = groups.max(1);
        Self {
            values,
            count,
            height,
            width,
            groups: if count.is_multiple_of(groups) {
                groups
            } else {
                1
            },
        }
    }

    /// Tiles per row and rows per group: [`COLUMNS`], or the largest count from 8 to 16 that
    /// fills every row (24 kernels: 2 rows of 12), or as many as there are up to 16.
    fn grid(&self) -> (usize, usize) {
        let per_group = (self.count / self.groups).max(1);
        let columns = (8..=COLUMNS)
            .rev()
            .find(|&c| per_group.is_multiple_of(c))
            .unwrap_or(per_group.min(COLUMNS));
        (columns, per_group.div_ceil(columns))
    }

    /// The tile size in pixels (width, height).
    fn tile(&self) -> (u32, u32) {
        (self.width as u32 * SCALE, self.height as u32 * SCALE)
    }

    /// How many kernels there are.
    pub fn count(&self) -> usize {
        self.count
    }

    /// The blocks they are drawn in.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The picture's width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        let (columns, rows) = self.grid();
        let (tw, th) = self.tile();
        let block = rows as u32 * (th + GAP) + GAP;
        let groups = self.groups as u32;
        (
            columns as u32 * (tw + GAP) + GAP,
            groups * block + (groups - 1) * GROUP_GAP,
        )
    }

    /// Kernel `k` as an enlarged RGB tile, scaled from its own minimum (black) to its maximum.
    fn kernel_tile(&self, k: usize) -> RgbImage {
        let plane = self.height * self.width;
        let kernel = &self.values[k * 3 * plane..(k + 1) * 3 * plane];
        let min = kernel.iter().copied().fold(f32::INFINITY, f32::min);
        let max = kernel.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let range = max - min;
        let level = |v: f32| -> u8 {
            if range > 0.0 && range.is_finite() {
                ((v - min) / range * 255.0).round().clamp(0.0, 255.0) as u8
            } else {
                128
            }
        };
        let (tw, th) = self.tile();
        RgbImage::from_fn(tw, th, |x, y| {
            let i = (y / SCALE) as usize * self.width + (x / SCALE) as usize;
            Rgb([kernel[i], kernel[plane + i], kernel[2 * plane + i]].map(level))
        })
    }

    /// The grid of every kernel.
    pub fn draw(&self) -> Canvas {
        let (width, height) = self.size();
        let mut canvas = Canvas::new(width, height);
        let (columns, rows) = self.grid();
        let (tw, th) = self.tile();
        let per_group = self.count / self.groups;
        let block = rows as u32 * (th + GAP) + GAP + GROUP_GAP;
        for k in 0..self.count {
            let (group, i) = (k / per_group, k % per_group);
            let x = GAP + (i % columns) as u32 * (tw + GAP);
            let y = group as u32 * block + GAP + (i / columns) as u32 * (th + GAP);
            canvas.put(x, y, &self.kernel_tile(k));
        }
        canvas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kernels(values: Vec<f32>, count: usize, groups: usize) -> Kernels {
        Kernels::new(values, count, 2, 2, groups)
    }

    #[test]
    fn each_kernel_spans_black_to_white_on_its_own() {
        // Two 2x2 kernels of very different scales; the second is constant.
        let mut values: Vec<f32> = (0..12).map(|i| i as f32 * 0.01).collect();
        values.extend([5.0; 12]);
        let k = kernels(values, 2, 1);
        let tile = k.kernel_tile(0);
        assert_eq!(tile.dimensions(), (2 * SCALE, 2 * SCALE));
        // Red plane first: value 0 at (0, 0) is the minimum; blue's last value is the maximum.
        assert_eq!(tile.get_pixel(0, 0).0, [0, 93, 185]);
        assert_eq!(tile.get_pixel(SCALE, SCALE).0, [70, 162, 255]);
        // Nearest-neighbour: a weight fills a SCALE x SCALE block.
        assert_eq!(tile.get_pixel(SCALE - 1, SCALE - 1), tile.get_pixel(0, 0));
        assert_eq!(k.kernel_tile(1).get_pixel(0, 0).0, [128; 3]);
    }

    #[test]
    fn groups_are_stacked_blocks() {
        let k = kernels(vec![0.0; 96 * 12], 96, 2);
        let (tw, th) = (2 * SCALE, 2 * SCALE);
        let block = 3 * (th + GAP) + GAP;
        assert_eq!(k.size(), (16 * (tw + GAP) + GAP, 2 * block + GROUP_GAP));
        let k = kernels(vec![0.0; 5 * 12], 5, 2);
        assert_eq!(
            k.size(),
            (5 * (tw + GAP) + GAP, th + 2 * GAP),
            "5 kernels: one group"
        );
        let k = kernels(vec![0.0; 48 * 12], 48, 2);
        assert_eq!(k.grid(), (12, 2), "24 per group: full rows of 12");
        let k = kernels(vec![0.0; 17 * 12], 17, 1);
        assert_eq!(k.grid(), (16, 2), "17: no divisor from 8 to 16");
    }
}
