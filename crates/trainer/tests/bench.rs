//! `trainer bench` end to end: the `--json` lines carry every documented field with plausible
//! values for both modes, and bad settings are usage errors (exit 2) before any work starts.
//! Timings themselves are not asserted (that is what the benchmark is for).

use std::process::{Command, Output};

use serde_json::Value;

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_trainer"))
        .arg("bench")
        .args(args)
        .env_remove("BURN_DEVICE")
        .output()
        .expect("trainer runs")
}

#[test]
fn json_has_one_line_per_mode_with_every_field() {
    let out = bench(&[
        "--device",
        "flex",
        "--width",
        "0.125",
        "--image-size",
        "67",
        "-b",
        "3",
        "--num-classes",
        "5",
        "--warmup",
        "1",
        "--iters",
        "2",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON object"))
        .collect();
    assert_eq!(rows.len(), 2, "{stdout}");
    for (row, mode) in rows.iter().zip(["infer", "train"]) {
        assert_eq!(row["backend"], "flex");
        assert_eq!(row["arch"], "standard");
        assert_eq!(row["mode"], mode);
        assert_eq!(row["batch"], 3);
        assert_eq!(row["image_size"], 67);
        assert_eq!(row["width"], 0.125);
        assert_eq!(row["precision"], "fp32");
        let ms = row["median_ms"].as_f64().expect("median_ms");
        let ips = row["images_per_sec"].as_f64().expect("images_per_sec");
        assert!(
            ms > 0.0 && (ips - 3.0 / (ms / 1e3)).abs() < 1e-6 * ips,
            "{row}"
        );
        assert!(row["first_step_ms"].as_f64().expect("first_step_ms") > 0.0);
        if cfg!(target_os = "linux") {
            assert!(row["peak_rss_mb"].as_f64().expect("peak_rss_mb") > 1.0);
        }
    }
}

#[test]
fn bad_settings_are_usage_errors() {
    for (args, needle) in [
        (&["--iters", "0"][..], "--iters"),
        (&["--width", "0"][..], "--width"),
        (&["--image-size", "40"][..], "--image-size 40"),
        (&["--device", "nosuch"][..], "nosuch"),
    ] {
        let out = bench(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{args:?}: {stderr}");
    }
}
