//! End to end: the paper's figures — `filters.png` of a training run, `trainer filters`,
//! `trainer predict --sheet` and `trainer neighbours` — on a tiny run and the sample photos.

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{LEARN, TINY_MODEL, stderr, train, trainer};
use serde_json::Value;

/// A finished 2-epoch tiny run (standard variant, 24 conv1 kernels), shared by the tests; it
/// lives in Cargo's temporary folder for integration tests and is replaced on each test run.
fn tiny_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("figures-tiny-run");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let data = [
            "--epochs",
            "2",
            "--synthetic-train",
            "256",
            "--synthetic-val",
            "64",
        ];
        let args = [TINY_MODEL, LEARN, &data].concat();
        train(&dir, &dir.join("run"), &args);
        dir.join("run")
    })
}

/// The repository's sample photos.
fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/samples")
}

fn decode(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

#[test]
fn a_run_draws_its_conv1_kernels_and_filters_redraws_them_from_the_model() {
    let run = tiny_run();
    let drawn = decode(&run.join("filters.png"));
    // 24 kernels of 11x11, 4x enlarged (44 px) with 2 px gaps: 2 full rows of 12.
    assert_eq!(drawn.dimensions(), (12 * 46 + 2, 2 * 46 + 2));
    let out = run.parent().expect("dir").join("filters.png");
    let status = trainer(run)
        .args(["filters", "--run"])
        .arg(run)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(status.status.success(), "{}", stderr(&status));
    // The run's picture is of its last epoch, which is the final model.
    assert!(
        decode(&out) == drawn,
        "filters.png is not the final model's"
    );
    // Kernels are not constant: each is scaled to [0, 1] on its own.
    let tile = image::imageops::crop_imm(&drawn, 2, 2, 44, 44).to_image();
    let levels: Vec<u8> = tile.pixels().flat_map(|p| p.0).collect();
    assert_eq!(levels.iter().min(), Some(&0));
    assert_eq!(levels.iter().max(), Some(&255));
}

#[test]
fn paper2012_kernels_are_drawn_in_two_groups() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let data = [
        "--epochs",
        "1",
        "--synthetic-train",
        "64",
        "--synthetic-val",
        "32",
    ];
    let arch = ["--arch", "paper2012"];
    train(
        dir.path(),
        &run,
        &[TINY_MODEL, LEARN, &data, &arch].concat(),
    );
    // 24 kernels in two groups of 12: one row of 12 each, 12 px between the blocks.
    let block = 46 + 2;
    assert_eq!(
        decode(&run.join("filters.png")).dimensions(),
        (12 * 46 + 2, 2 * block + 12)
    );
    let out = dir.path().join("weights.png");
    let status = trainer(dir.path())
        .args(["filters", "--weights"])
        .arg(run.join("model.bpk"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("runs");
    assert!(status.status.success(), "{}", stderr(&status));
    assert_eq!(decode(&out).dimensions(), (12 * 46 + 2, 2 * block + 12));
}

#[test]
fn filters_without_a_model_is_a_usage_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = trainer(dir.path())
        .args(["filters", "-o", "x.png"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("filters needs --pretrained"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn predict_draws_a_contact_sheet_with_a_cell_per_image() {
    let run = tiny_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let broken = dir.path().join("broken.jpg");
    std::fs::write(&broken, b"not a JPEG").expect("write");
    let sheet = dir.path().join("sheet.png");
    let out = trainer(dir.path())
        .args(["predict", "--run"])
        .arg(run)
        .arg("--sheet")
        .arg(&sheet)
        .args(
            ["astronaut", "chelsea", "coffee", "rocket"]
                .map(|n| samples().join(format!("{n}.jpg"))),
        )
        .arg(&broken)
        .output()
        .expect("runs");
    // The unreadable image fails the command, but the sheet is drawn with it greyed out.
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // 5 images, 4 to a row of 240 px cells; a cell: 8 + 160 (image) + 18 (name) + 5 x 18 + 8.
    let cell = 8 + 160 + 18 + 5 * 18 + 8;
    let image = decode(&sheet);
    assert_eq!(image.dimensions(), (4 * 240, 2 * cell));
    // The broken image's cell shows grey where the thumbnail would be.
    assert_eq!(image.get_pixel(40 + 5, cell + 8 + 5).0, [200; 3]);
    // A photo's cell shows the photo.
    assert_ne!(image.get_pixel(40 + 80, 8 + 80).0, [255; 3]);
}

/// A gallery of the sample photos (two in a subfolder), a broken image and a text file.
fn gallery(dir: &Path) -> PathBuf {
    let gallery = dir.join("gallery");
    std::fs::create_dir_all(gallery.join("more")).expect("mkdir");
    for (name, to) in [
        ("astronaut", "astronaut.jpg"),
        ("chelsea", "chelsea.jpg"),
        ("coffee", "more/coffee.jpg"),
        ("rocket", "more/rocket.jpg"),
    ] {
        std::fs::copy(samples().join(format!("{name}.jpg")), gallery.join(to)).expect("copy");
    }
    std::fs::write(gallery.join("broken.png"), b"\x89PNG truncated").expect("write");
    std::fs::write(gallery.join("notes.txt"), b"not an image").expect("write");
    gallery
}

#[test]
fn neighbours_finds_the_query_itself_first_and_sorts_by_distance() {
    let run = tiny_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let gallery = gallery(dir.path());
    let own = gallery.join("chelsea.jpg");
    let copy = samples().join("rocket.jpg");
    let picture = dir.path().join("neighbours.png");
    let out = trainer(dir.path())
        .args(["neighbours", "--run"])
        .arg(run)
        .arg("--gallery")
        .arg(&gallery)
        .arg("--query")
        .args([&own, &copy])
        .args(["-k", "3", "-b", "2", "--json", "-o"])
        .arg(&picture)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("skipped 1 of 5 gallery files"), "{err}");
    assert!(err.contains("broken.png"), "{err}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let matches = json.as_array().expect("array");
    assert_eq!(matches.len(), 2);
    assert_eq!(matches[0]["query"], own.to_string_lossy().as_ref());
    for m in matches {
        let list = m["neighbours"].as_array().expect("neighbours");
        assert_eq!(list.len(), 3);
        let d: Vec<f64> = list
            .iter()
            .map(|n| n["distance"].as_f64().expect("d"))
            .collect();
        assert!(d.windows(2).all(|w| w[0] <= w[1]), "not sorted: {d:?}");
    }
    let first = &matches[0]["neighbours"][0];
    assert_eq!(first["image"], own.to_string_lossy().as_ref());
    assert_eq!(first["distance"], 0.0);
    // A copy of a gallery photo elsewhere finds that photo, nearly at distance 0.
    let first = &matches[1]["neighbours"][0];
    assert_eq!(
        first["image"],
        gallery.join("more/rocket.jpg").to_string_lossy().as_ref()
    );
    let second = matches[1]["neighbours"][1]["distance"].as_f64().expect("d");
    assert!(first["distance"].as_f64().expect("d") < 1e-3 * second);
    // One row per query: the query, a gap, then 3 neighbours of 112 px.
    assert_eq!(
        decode(&picture).dimensions(),
        (6 + 112 + 18 + 3 * 118, 2 * 134 + 6)
    );
}

#[test]
fn an_unreadable_query_is_an_error_that_names_it() {
    let run = tiny_run();
    let dir = tempfile::tempdir().expect("tempdir");
    let gallery = gallery(dir.path());
    let query = dir.path().join("missing.jpg");
    let out = trainer(dir.path())
        .args(["neighbours", "--run"])
        .arg(run)
        .arg("--gallery")
        .arg(&gallery)
        .arg("--query")
        .arg(&query)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("missing.jpg"), "{}", stderr(&out));
    assert!(out.stdout.is_empty());
}
