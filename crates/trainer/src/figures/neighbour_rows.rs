//! `neighbours -o`: each query in a row, followed by its nearest gallery images with their
//! distances (the right half of the 2012 paper's Figure 4).

use std::collections::HashMap;
use std::path::Path;

use anyhow::Result;
use image::RgbImage;
use rayon::prelude::*;

use super::{Canvas, caption, thumbnail};
use crate::inference::results::Match;

/// The side of a thumbnail.
pub const THUMB: u32 = 112;
/// Space between thumbnails and around them.
pub const PAD: u32 = 6;
/// The height of the caption under a thumbnail.
pub const CAPTION: u32 = 16;
/// The extra space between a query and its neighbours (a grey rule runs down its middle).
pub const QUERY_GAP: u32 = 18;

/// The picture's width and height for `queries` rows of `k` neighbours.
pub fn size(queries: usize, k: usize) -> (u32, u32) {
    (
        PAD + THUMB + QUERY_GAP + k as u32 * (THUMB + PAD),
        queries as u32 * (THUMB + CAPTION + PAD) + PAD,
    )
}

/// Draws `matches` (up to `k` neighbours each) into the PNG file `path`.
pub fn write(path: &Path, matches: &[Match], k: usize) -> Result<()> {
    let (width, height) = size(matches.len(), k);
    let mut canvas = Canvas::new(width, height);
    let mut files: Vec<&str> = matches
        .iter()
        .flat_map(|m| std::iter::once(&m.query).chain(m.neighbours.iter().map(|n| &n.image)))
        .map(String::as_str)
        .collect();
    files.sort_unstable();
    files.dedup();
    let thumbs: HashMap<&str, Option<RgbImage>> = files
        .into_par_iter()
        .map(|f| {
            let image = alexnet_data::decode_file(Path::new(f)).ok();
            (f, image.map(|i| thumbnail(&i, THUMB)))
        })
        .collect();
    let rule = PAD + THUMB + QUERY_GAP / 2 - 1;
    canvas.fill(rule, 0, 2, height, [170; 3]);
    for (row, m) in matches.iter().enumerate() {
        let y = PAD + row as u32 * (THUMB + CAPTION + PAD);
        let name = caption(&m.query);
        tile(&mut canvas, (PAD, y), thumbs.get(m.query.as_str()), &name)?;
        for (i, n) in m.neighbours.iter().enumerate() {
            let x = PAD + THUMB + QUERY_GAP + i as u32 * (THUMB + PAD);
            let caption = format!("{:.3}", n.distance);
            tile(&mut canvas, (x, y), thumbs.get(n.image.as_str()), &caption)?;
        }
    }
    canvas.save(path)
}

/// A thumbnail (grey when the file cannot be read now) with `caption` under it.
fn tile(
    canvas: &mut Canvas,
    (x, y): (u32, u32),
    thumb: Option<&Option<RgbImage>>,
    caption: &str,
) -> Result<()> {
    match thumb.and_then(Option::as_ref) {
        Some(thumb) => canvas.put(x, y, thumb),
        None => canvas.fill(x, y, THUMB, THUMB, [200; 3]),
    }
    canvas.text(x, y + THUMB + 2, 12, caption, THUMB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_query() {
        assert_eq!(size(1, 6), (844, 140));
        assert_eq!(
            size(3, 2),
            (PAD + THUMB + QUERY_GAP + 2 * 118, 3 * 134 + PAD)
        );
    }
}
