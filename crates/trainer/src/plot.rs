//! `metrics.png`: loss and accuracy per epoch (plotters, bitmap backend, a bundled ASCII subset
//! of DejaVu Sans so no system fonts are needed).

use std::path::Path;
use std::sync::Once;

use plotters::prelude::*;

use crate::metrics::EpochRow;

static FONT: &[u8] = include_bytes!("../assets/DejaVuSans-ascii.ttf");
static REGISTER: Once = Once::new();

/// Draws the loss (train, val) and accuracy (train top-1, val top-1, val top-5) curves.
pub fn draw(path: &Path, rows: &[EpochRow]) -> Result<(), Box<dyn std::error::Error>> {
    REGISTER.call_once(|| {
        if plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            log::warn!("the bundled plot font did not load");
        }
    });
    if rows.is_empty() {
        return Ok(());
    }
    let tmp = path.with_extension("tmp.png");
    {
        let root = BitMapBackend::new(&tmp, (1100, 420)).into_drawing_area();
        root.fill(&WHITE)?;
        let (left, right) = root.split_horizontally(550);
        let last = rows.iter().map(|r| r.epoch).max().unwrap_or(1).max(2) as f64;
        let first = rows.iter().map(|r| r.epoch).min().unwrap_or(1) as f64;
        let finite = |v: f64| v.is_finite().then_some(v);
        let max_loss = rows
            .iter()
            .flat_map(|r| [finite(r.train_loss), finite(r.val_loss)])
            .flatten()
            .fold(0.1f64, f64::max);

        let mut loss = ChartBuilder::on(&left)
            .caption("loss", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(first..last, 0.0..max_loss * 1.05)?;
        loss.configure_mesh()
            .x_desc("epoch")
            .label_style(("sans-serif", 13))
            .draw()?;
        let series = |f: fn(&EpochRow) -> f64| -> Vec<(f64, f64)> {
            rows.iter()
                .filter_map(|r| finite(f(r)).map(|v| (r.epoch as f64, v)))
                .collect()
        };
        for (name, f, colour) in [
            (
                "train",
                (|r: &EpochRow| r.train_loss) as fn(&EpochRow) -> f64,
                BLUE,
            ),
            ("val", |r: &EpochRow| r.val_loss, RED),
        ] {
            let points = series(f);
            loss.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour));
            loss.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )?;
        }
        loss.configure_series_labels()
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;

        let mut acc = ChartBuilder::on(&right)
            .caption("accuracy", ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(first..last, 0.0..1.0)?;
        acc.configure_mesh()
            .x_desc("epoch")
            .label_style(("sans-serif", 13))
            .draw()?;
        let green = RGBColor(0, 140, 60);
        for (name, f, colour) in [
            (
                "train top-1",
                (|r: &EpochRow| r.train_top1) as fn(&EpochRow) -> f64,
                BLUE,
            ),
            ("val top-1", |r: &EpochRow| r.val_top1, RED),
            ("val top-5", |r: &EpochRow| r.val_top5, green),
        ] {
            let points = series(f);
            acc.draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
                .label(name)
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour));
            acc.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 3, colour.filled())),
            )?;
        }
        acc.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
        root.present()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}
