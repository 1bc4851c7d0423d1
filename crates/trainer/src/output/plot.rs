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
    // Whole epochs on the x axis, so its labels read 1, 2, 3 (never 1.5).
    let last = rows.iter().map(|r| r.epoch).max().unwrap_or(1).max(2);
    let first = rows.iter().map(|r| r.epoch).min().unwrap_or(1);
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
        let points: Vec<(usize, f64)> = rows
            .iter()
            .filter_map(|r| Some((r.epoch, value(r))).filter(|(_, v)| v.is_finite()))
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

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use plotters_backend::{BackendColor, BackendCoord, BackendTextStyle, DrawingErrorKind};

    use super::*;

    /// A backend that keeps the texts drawn on it, with their positions, and draws nothing.
    struct Texts(Rc<RefCell<Vec<(String, BackendCoord)>>>);

    type Drawn = Result<(), DrawingErrorKind<std::io::Error>>;

    impl DrawingBackend for Texts {
        type ErrorType = std::io::Error;

        fn get_size(&self) -> (u32, u32) {
            (550, 420)
        }

        fn ensure_prepared(&mut self) -> Drawn {
            Ok(())
        }

        fn present(&mut self) -> Drawn {
            Ok(())
        }

        fn draw_pixel(&mut self, _: BackendCoord, _: BackendColor) -> Drawn {
            Ok(())
        }

        fn draw_text<S: BackendTextStyle>(
            &mut self,
            text: &str,
            _: &S,
            pos: BackendCoord,
        ) -> Drawn {
            self.0.borrow_mut().push((text.to_owned(), pos));
            Ok(())
        }
    }

    /// The labels of the epoch axis of a panel of `epochs`: the numbers drawn lowest, left to
    /// right.
    fn epoch_labels(epochs: usize) -> Vec<String> {
        crate::figures::register_font();
        let rows: Vec<EpochRow> = (1..=epochs)
            .map(|epoch| EpochRow {
                epoch,
                train_loss: 1.0 / epoch as f64,
                ..EpochRow::default()
            })
            .collect();
        let texts = Rc::new(RefCell::new(Vec::new()));
        let area = Texts(Rc::clone(&texts)).into_drawing_area();
        let curves: [Curve; 1] = [("train", |r| r.train_loss, BLUE)];
        panel(
            &area,
            "loss",
            1.0,
            &curves,
            SeriesLabelPosition::UpperRight,
            &rows,
        )
        .expect("drawn");
        let texts = texts.borrow();
        let numbers: Vec<&(String, BackendCoord)> = texts
            .iter()
            .filter(|(text, _)| text.parse::<f64>().is_ok())
            .collect();
        let bottom = numbers.iter().map(|(_, (_, y))| *y).max().expect("labels");
        let mut axis: Vec<&(String, BackendCoord)> = numbers
            .into_iter()
            .filter(|(_, (_, y))| *y == bottom)
            .collect();
        axis.sort_by_key(|(_, (x, _))| *x);
        axis.into_iter().map(|(text, _)| text.clone()).collect()
    }

    #[test]
    fn the_epoch_axis_labels_whole_epochs() {
        assert_eq!(epoch_labels(4), ["1", "2", "3", "4"]);
        assert_eq!(epoch_labels(1), ["1", "2"]);
        let long = epoch_labels(90);
        assert!(long.len() >= 3, "{long:?}");
        assert!(
            long.iter().all(|l| l.parse::<usize>().is_ok()),
            "not whole epochs: {long:?}"
        );
    }
}
