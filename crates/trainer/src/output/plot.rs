//! `metrics.png`: loss and accuracy per epoch (plotters, bitmap backend, the figures' bundled
//! font).

use std::path::Path;

use plotters::prelude::*;

use super::metrics::EpochRow;

/// One curve of a panel: its legend, the value it plots and its colour.
type Curve = (&'static str, fn(&EpochRow) -> f64, RGBColor);

/// Draws the loss (train, val) and accuracy (train top-1, val top-1, val top-5) curves.
pub fn draw(path: &Path, rows: &[EpochRow]) -> Result<(), Box<dyn std::error::Error>> {
    crate::figures::register_font();
    if rows.is_empty() {
        return Ok(());
    }
    alexnet::atomic::write_with(path, |tmp| {
        draw_into(tmp, rows).map_err(|e| std::io::Error::other(e.to_string()))
    })?;
    Ok(())
}

/// Draws the two panels into a new PNG at `path`.
fn draw_into(path: &Path, rows: &[EpochRow]) -> Result<(), Box<dyn std::error::Error>> {
    let root = BitMapBackend::new(path, (1100, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let (left, right) = root.split_horizontally(550);
    let max_loss = rows
        .iter()
        .flat_map(|r| [r.train_loss, r.val_loss])
        .filter(|v| v.is_finite())
        .fold(0.1f64, f64::max);
    let losses: [Curve; 2] = [
        ("train", |r| r.train_loss, BLUE),
        ("val", |r| r.val_loss, RED),
    ];
    let accuracies: [Curve; 3] = [
        ("train top-1", |r| r.train_top1, BLUE),
        ("val top-1", |r| r.val_top1, RED),
        ("val top-5", |r| r.val_top5, RGBColor(0, 140, 60)),
    ];
    let legend = SeriesLabelPosition::MiddleRight;
    panel(&left, "loss", max_loss * 1.05, &losses, legend, rows)?;
    let legend = SeriesLabelPosition::LowerRight;
    panel(&right, "accuracy", 1.0, &accuracies, legend, rows)?;
    root.present()?;
    Ok(())
}

/// One chart: `curves` against the epoch, y from 0 to `y_max`, with a legend at `legend`.
fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    caption: &str,
    y_max: f64,
    curves: &[Curve],
    legend: SeriesLabelPosition,
    rows: &[EpochRow],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    let last = rows.iter().map(|r| r.epoch).max().unwrap_or(1).max(2) as f64;
    let first = rows.iter().map(|r| r.epoch).min().unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(first..last, 0.0..y_max)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .label_style(("sans-serif", 13))
        .draw()?;
    for &(name, value, colour) in curves {
        let points: Vec<(f64, f64)> = rows
            .iter()
            .filter_map(|r| Some((r.epoch as f64, value(r))).filter(|(_, v)| v.is_finite()))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), colour.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .position(legend)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
