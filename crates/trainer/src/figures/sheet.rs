//! `predict --sheet`: a contact sheet, each image with its most probable classes as
//! probability bars (the left half of the 2012 paper's Figure 4), four images to a row.

use std::path::Path;

use anyhow::Result;
use image::RgbImage;
use rayon::prelude::*;

use super::{Canvas, caption, thumbnail};
use crate::inference::results::Prediction;

/// Images per row.
pub const COLUMNS: usize = 4;
/// A cell's width in pixels.
pub const CELL_WIDTH: u32 = 240;
/// The side of an image's square thumbnail.
pub const THUMB: u32 = 160;
/// Space around a cell's content.
pub const PAD: u32 = 8;
/// The height of the name line and of each class's bar.
pub const LINE: u32 = 18;

/// A cell's height for `k` classes.
fn cell_height(k: usize) -> u32 {
    PAD + THUMB + LINE + k as u32 * LINE + PAD
}

/// The sheet's width and height for `images` images of `k` classes each.
pub fn size(images: usize, k: usize) -> (u32, u32) {
    let columns = images.clamp(1, COLUMNS);
    let rows = images.max(1).div_ceil(columns);
    (columns as u32 * CELL_WIDTH, rows as u32 * cell_height(k))
}

/// Draws `predictions` (`k` classes each) into the PNG file `path`; an image that could not be
/// classified gets a grey tile saying why.
pub fn write(path: &Path, predictions: &[Prediction], k: usize) -> Result<()> {
    let (width, height) = size(predictions.len(), k);
    let mut canvas = Canvas::new(width, height);
    let thumbs: Vec<Option<RgbImage>> = predictions
        .par_iter()
        .map(|p| {
            let image = p
                .error
                .is_none()
                .then(|| alexnet_data::decode_file(Path::new(&p.image)));
            image.and_then(|i| i.ok()).map(|i| thumbnail(&i, THUMB))
        })
        .collect();
    for (i, (p, thumb)) in predictions.iter().zip(thumbs).enumerate() {
        let x = (i % COLUMNS) as u32 * CELL_WIDTH;
        let y = (i / COLUMNS) as u32 * cell_height(k);
        cell(&mut canvas, (x, y), p, thumb.as_ref())?;
    }
    canvas.save(path)
}

/// One image's cell with its top left corner at `origin`.
fn cell(
    canvas: &mut Canvas,
    (x, y): (u32, u32),
    p: &Prediction,
    thumb: Option<&RgbImage>,
) -> Result<()> {
    let inner = CELL_WIDTH - 2 * PAD;
    let tx = x + (CELL_WIDTH - THUMB) / 2;
    match thumb {
        Some(thumb) => canvas.put(tx, y + PAD, thumb),
        None => {
            canvas.fill(tx, y + PAD, THUMB, THUMB, [200; 3]);
            let why = p.error.as_deref().unwrap_or("cannot read");
            canvas.text(tx + 4, y + PAD + THUMB / 2 - 6, 12, why, THUMB - 8)?;
        }
    }
    canvas.text(x + PAD, y + PAD + THUMB + 3, 13, &caption(&p.image), inner)?;
    for (j, class) in p.top_k.iter().enumerate() {
        let by = y + PAD + THUMB + LINE * (j as u32 + 1) + 2;
        canvas.fill(x + PAD, by, inner, LINE - 3, [236; 3]);
        let filled = (class.prob.clamp(0.0, 1.0) * inner as f32).round() as u32;
        let colour = if j == 0 {
            [110, 160, 215]
        } else {
            [175, 200, 230]
        };
        canvas.fill(x + PAD, by, filled, LINE - 3, colour);
        let label = format!("{:5.1}%  {}", class.prob * 100.0, class.label);
        canvas.text(x + PAD + 3, by + 1, 12, &label, inner - 6)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_four() {
        let cell = PAD + THUMB + LINE + 5 * LINE + PAD;
        assert_eq!(size(3, 5), (3 * CELL_WIDTH, cell));
        assert_eq!(size(4, 5), (4 * CELL_WIDTH, cell));
        assert_eq!(size(5, 5), (4 * CELL_WIDTH, 2 * cell));
        assert_eq!(size(1, 1).1, PAD + THUMB + 2 * LINE + PAD);
    }
}
