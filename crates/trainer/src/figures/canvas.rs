//! An RGB picture for the figures: tiles copied in, filled rectangles, and text in the bundled
//! font (an ASCII subset of DejaVu Sans, so no system fonts are needed), saved as PNG.

use std::path::Path;
use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use image::imageops::{self, FilterType};
use image::{ImageFormat, Rgb, RgbImage};
use plotters::prelude::*;

static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans-ascii.ttf");
static REGISTER: Once = Once::new();

/// Makes the bundled font plotters' "sans-serif" (once per process).
pub fn register_font() {
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            log::warn!("the bundled plot font did not load");
        }
    });
}

/// A white picture to draw on.
pub struct Canvas {
    image: RgbImage,
}

impl Canvas {
    /// A white `width` x `height` canvas.
    pub fn new(width: u32, height: u32) -> Self {
        register_font();
        Self {
            image: RgbImage::from_pixel(width, height, Rgb([255, 255, 255])),
        }
    }

    /// Copies `tile` with its top left corner at (`x`, `y`), clipped to the canvas.
    pub fn put(&mut self, x: u32, y: u32, tile: &RgbImage) {
        imageops::replace(&mut self.image, tile, i64::from(x), i64::from(y));
    }

    /// Fills a `width` x `height` rectangle at (`x`, `y`), clipped to the canvas.
    pub fn fill(&mut self, x: u32, y: u32, width: u32, height: u32, colour: [u8; 3]) {
        let (w, h) = self.image.dimensions();
        for yy in y..(y + height).min(h) {
            for xx in x..(x + width).min(w) {
                self.image.put_pixel(xx, yy, Rgb(colour));
            }
        }
    }

    /// Writes `text` in black with its top left corner at (`x`, `y`), `size` pixels high,
    /// shortened with "..." to at most `max_width` pixels.
    pub fn text(&mut self, x: u32, y: u32, size: u32, text: &str, max_width: u32) -> Result<()> {
        let (w, h) = self.image.dimensions();
        let area = BitMapBackend::with_buffer(&mut self.image, (w, h)).into_drawing_area();
        let style = TextStyle::from(("sans-serif", size).into_font()).color(&BLACK);
        let fits = |s: &str| {
            area.estimate_text_size(s, &style)
                .map_or(true, |(tw, _)| tw <= max_width)
        };
        let mut shown = text.to_owned();
        if !fits(&shown) {
            let mut chars: Vec<char> = text.chars().collect();
            while !chars.is_empty() && !fits(&format!("{}...", chars.iter().collect::<String>())) {
                chars.pop();
            }
            shown = format!("{}...", chars.iter().collect::<String>());
        }
        area.draw(&Text::new(shown, (x as i32, y as i32), style))
            .map_err(|e| anyhow!("cannot draw text: {e}"))?;
        area.present().map_err(|e| anyhow!("cannot draw text: {e}"))
    }

    /// Saves the canvas as PNG at `path`, atomically ([`alexnet::atomic`]), so a reader never
    /// sees half a picture.
    pub fn save(&self, path: &Path) -> Result<()> {
        alexnet::atomic::write_with(path, |tmp| {
            self.image
                .save_with_format(tmp, ImageFormat::Png)
                .map_err(std::io::Error::other)
        })
        .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// `image` as a `side` x `side` square: its centre square, scaled to `side`.
pub fn thumbnail(image: &RgbImage, side: u32) -> RgbImage {
    let (w, h) = image.dimensions();
    let m = w.min(h);
    if m == 0 {
        return RgbImage::from_pixel(side, side, Rgb([200, 200, 200]));
    }
    let centre = imageops::crop_imm(image, (w - m) / 2, (h - m) / 2, m, m).to_image();
    imageops::resize(&centre, side, side, FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_save_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        // A non-empty directory where the picture should go: the rename fails.
        let path = dir.path().join("filters.png");
        std::fs::create_dir(&path).expect("mkdir");
        std::fs::write(path.join("keep"), "x").expect("write");
        Canvas::new(4, 4)
            .save(&path)
            .expect_err("cannot replace a directory");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("readable")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["filters.png"]);
    }

    #[test]
    fn a_thumbnail_is_the_centre_square() {
        // A 4 x 40 strip: red at both ends, blue in the middle.
        let strip = RgbImage::from_fn(4, 40, |_, y| {
            Rgb(if (18..22).contains(&y) {
                [0, 0, 255]
            } else {
                [255, 0, 0]
            })
        });
        let thumb = thumbnail(&strip, 16);
        assert_eq!(thumb.dimensions(), (16, 16));
        assert_eq!(thumb.get_pixel(8, 8).0, [0, 0, 255]);
        assert_eq!(thumbnail(&RgbImage::new(0, 5), 8).dimensions(), (8, 8));
    }
}
