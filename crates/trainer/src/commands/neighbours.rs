//! `trainer neighbours`: for each query image, the gallery images whose fc7 features (eval
//! transform, dropout off) lie nearest by Euclidean distance, as in the 2012 paper's Figure 4.
//!
//! The gallery is read in batches and only each query's `k` best so far are kept, so memory
//! does not grow with the gallery. A gallery file that cannot be read is skipped, counted and
//! listed; a query that cannot be read is an error that names it. A gallery file that is one of
//! the queries (the same file) gets that query's features, so it is found at distance 0.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use alexnet_data::folder::{IMAGE_EXTENSIONS, has_image_extension};
use anyhow::{Context, Result};
use burn::tensor::Device;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::cli::NeighboursArgs;
use crate::cli::usage;
use crate::inference::results::{Match, Neighbour};
use crate::inference::{Classifier, load, values};

/// Runs `trainer neighbours`.
pub fn run(args: &NeighboursArgs) -> Result<()> {
    if args.k == 0 {
        return Err(usage("-k must be at least 1"));
    }
    let gallery = gallery_files(&args.gallery)?;
    crate::device::configure_gpu(None);
    let device = crate::device::select(args.device.as_deref())?;
    let classifier = load(&args.model, "neighbours", &device)?;
    let batch = args.batch_size.max(1);
    let queries = query_features(&classifier, &args.query, batch, &device)?;
    let k = args.k.min(gallery.len());
    let (nearest, skipped) = scan(&classifier, &gallery, &queries, (k, batch), &device)?;
    report_skipped(&skipped, gallery.len());
    let matches: Vec<Match> = args
        .query
        .iter()
        .zip(nearest)
        .map(|(query, list)| Match {
            query: query.to_string_lossy().into_owned(),
            neighbours: list
                .into_iter()
                .map(|(distance, i)| Neighbour {
                    image: gallery[i].to_string_lossy().into_owned(),
                    distance,
                })
                .collect(),
        })
        .collect();
    if args.json {
        println!("{}", serde_json::to_string(&matches)?);
    } else {
        print_text(&matches);
    }
    if let Some(output) = &args.output {
        let found = matches
            .iter()
            .map(|m| m.neighbours.len())
            .max()
            .unwrap_or(0);
        crate::figures::neighbour_rows::write(output, &matches, found)
            .with_context(|| format!("cannot write {}", output.display()))?;
    }
    Ok(())
}

/// Every image file under `dir` (by extension, subdirectories included), sorted by path.
fn gallery_files(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(usage(format!(
            "--gallery {}: no such directory",
            dir.display()
        )));
    }
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
            let path = entry.path();
            // Not through links to folders, which could lead round in a circle.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            } else if has_image_extension(&path) {
                files.push(path);
            }
        }
    }
    if files.is_empty() {
        return Err(usage(format!(
            "--gallery {}: no image files ({}) in it",
            dir.display(),
            IMAGE_EXTENSIONS.join(", ")
        )));
    }
    files.sort();
    Ok(files)
}

/// A query's canonical path and its fc7 features.
struct Query {
    file: Option<PathBuf>,
    features: Vec<f32>,
}

/// The fc7 features of every query (in batches of `batch`), or an error naming the first that
/// cannot be read.
fn query_features(
    classifier: &Classifier,
    paths: &[PathBuf],
    batch: usize,
    device: &Device,
) -> Result<Vec<Query>> {
    let pixels: Vec<_> = paths.par_iter().map(|path| classifier.read(path)).collect();
    let pixels = paths
        .iter()
        .zip(pixels)
        .map(|(path, p)| p.map_err(|e| usage(format!("query {}: {e}", path.display()))))
        .collect::<Result<Vec<_>>>()?;
    let mut queries = Vec::with_capacity(paths.len());
    for (paths, pixels) in paths.chunks(batch).zip(pixels.chunks(batch)) {
        let features = fc7(classifier, pixels.iter(), device)?;
        let dim = features.len() / paths.len();
        for (path, row) in paths.iter().zip(features.chunks(dim)) {
            queries.push(Query {
                file: std::fs::canonicalize(path).ok(),
                features: row.to_vec(),
            });
        }
    }
    Ok(queries)
}

/// fc7's activations of a batch of transformed images, row after row.
fn fc7<'a>(
    classifier: &Classifier,
    pixels: impl IntoIterator<Item = &'a Vec<f32>>,
    device: &Device,
) -> Result<Vec<f32>> {
    let x = classifier.batch(pixels, device); // [N, 3, S, S]
    values(classifier.model.forward_fc7(x)) // [N, hidden]
}

/// Each query's nearest gallery images as (distance, gallery index), and the gallery files that
/// could not be read, with why.
type Scan = (Vec<Vec<(f64, usize)>>, Vec<(PathBuf, String)>);

/// Goes through the gallery in batches of `batch`, keeping each query's `k` nearest.
fn scan(
    classifier: &Classifier,
    gallery: &[PathBuf],
    queries: &[Query],
    (k, batch): (usize, usize),
    device: &Device,
) -> Result<Scan> {
    let mut nearest = vec![Vec::new(); queries.len()];
    let mut skipped = Vec::new();
    let bar = progress_bar(gallery.len());
    for (c, chunk) in gallery.chunks(batch).enumerate() {
        let decoded: Vec<Result<Vec<f32>, String>> = chunk
            .par_iter()
            .map(|path| classifier.read(path).map_err(|e| e.to_string()))
            .collect();
        let ok: Vec<(usize, &Vec<f32>)> = decoded
            .iter()
            .enumerate()
            .filter_map(|(i, p)| Some((c * batch + i, p.as_ref().ok()?)))
            .collect();
        for (path, result) in chunk.iter().zip(&decoded) {
            if let Err(why) = result {
                skipped.push((path.clone(), why.clone()));
            }
        }
        if !ok.is_empty() {
            let features = fc7(classifier, ok.iter().map(|(_, p)| *p), device)?;
            let dim = features.len() / ok.len();
            for ((index, _), row) in ok.iter().zip(features.chunks(dim)) {
                let own = same_file(&gallery[*index], queries);
                for (q, query) in queries.iter().enumerate() {
                    let row = own.map_or(row, |o| queries[o].features.as_slice());
                    offer(&mut nearest[q], k, distance(&query.features, row), *index);
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    if skipped.len() == gallery.len() {
        anyhow::bail!(
            "none of the {} gallery files could be read (the first: {}: {})",
            gallery.len(),
            skipped[0].0.display(),
            skipped[0].1
        );
    }
    Ok((nearest, skipped))
}

/// The query that `path` is the same file as, if any.
fn same_file(path: &Path, queries: &[Query]) -> Option<usize> {
    let file = std::fs::canonicalize(path).ok()?;
    queries.iter().position(|q| q.file.as_ref() == Some(&file))
}

/// The Euclidean distance between two feature vectors (summed in f64).
fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Puts gallery image `index` at `distance` into the sorted list `best` if it is among the `k`
/// nearest (ties go to the earlier path; NaN sorts last).
fn offer(best: &mut Vec<(f64, usize)>, k: usize, distance: f64, index: usize) {
    // NaN of either sign after every number (`total_cmp` alone puts a negative NaN first).
    let order = |a: f64, b: f64| a.is_nan().cmp(&b.is_nan()).then(a.total_cmp(&b));
    let before = |&(d, i): &(f64, usize)| order(d, distance).then(i.cmp(&index)) == Ordering::Less;
    let at = best.partition_point(before);
    if at < k {
        best.insert(at, (distance, index));
        best.truncate(k);
    }
}

/// A progress bar over the gallery on standard error (hidden when it is not a terminal).
fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("fc7 features {bar:30} {pos}/{len} images {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// Warns about the gallery files that could not be read, listing them.
fn report_skipped(skipped: &[(PathBuf, String)], total: usize) {
    if skipped.is_empty() {
        return;
    }
    log::warn!(
        "skipped {} of {total} gallery files that could not be read:",
        skipped.len()
    );
    for (path, why) in skipped {
        log::warn!("  {}: {why}", path.display());
    }
}

/// Each query and its neighbours as lines of text.
fn print_text(matches: &[Match]) {
    for m in matches {
        println!("{}", m.query);
        for n in &m.neighbours {
            println!("  {:>10.4}  {}", n.distance, n.image);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offer_keeps_the_k_nearest_in_order() {
        let mut best = Vec::new();
        for (d, i) in [
            (3.0, 0),
            (1.0, 1),
            (2.0, 2),
            (1.0, 3),
            (f64::NAN, 4),
            (0.5, 5),
        ] {
            offer(&mut best, 3, d, i);
        }
        assert_eq!(best, vec![(0.5, 5), (1.0, 1), (1.0, 3)]);
        let mut best = Vec::new();
        offer(&mut best, 2, f64::NAN, 0);
        offer(&mut best, 2, -f64::NAN, 2);
        offer(&mut best, 2, 7.0, 1);
        assert_eq!(best[0], (7.0, 1), "NaN sorts last, whatever its sign");
    }

    #[test]
    fn a_gallery_file_that_is_a_query_is_recognised_by_its_canonical_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a.png"), dir.path().join("b.png"));
        std::fs::write(&a, b"a").expect("write");
        std::fs::write(&b, b"a").expect("write");
        let query = |path: &Path| Query {
            file: std::fs::canonicalize(path).ok(),
            features: vec![1.0],
        };
        let queries = [query(&b), query(&a)];
        // The same file by another spelling of its path is the query; a copy is not.
        assert_eq!(
            same_file(&dir.path().join(".").join("a.png"), &queries),
            Some(1)
        );
        assert_eq!(same_file(&dir.path().join("c.png"), &queries), None);
        assert_eq!(same_file(&b, &queries[1..]), None);
    }

    #[test]
    fn distance_is_euclidean() {
        assert_eq!(distance(&[0.0, 3.0], &[4.0, 0.0]), 5.0);
        assert_eq!(distance(&[1.5; 8], &[1.5; 8]), 0.0);
    }
}
