//! Every message of `trainer` that advises a command is followed here, as printed, and the
//! advice works: a run stopped by a non-finite loss (with and without a checkpoint), a finished
//! run, a refused resume, a run directory that holds a run, `--resume` without a run,
//! `--dataset folder` without `--data-dir`, `--pretrained` with another variant (training and
//! `predict`), `--freeze-features` without weights, a dataset that is not there (`--download`),
//! and a weights file that does not say which variant it holds (`--arch`).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{csv_epochs, stderr, train, trainer};

/// A tiny standard AlexNet on 64 synthetic images, one epoch of SGD.
const TINY: &[&str] = &[
    "--device",
    "flex",
    "--width",
    "0.25",
    "--image-size",
    "67",
    "--synthetic-train",
    "64",
    "--synthetic-val",
    "32",
    "--opt",
    "sgd",
    "--epochs",
    "1",
];

/// Batches of 32 at a constant rate, without warm-up.
const CONSTANT: &[&str] = &[
    "-b",
    "32",
    "--lr-scheduler",
    "constant",
    "--warmup-epochs",
    "0",
];

/// The flags `message` advises after `marker`, up to the end of its line (or a closing
/// parenthesis).
fn advised(message: &str, marker: &str) -> Vec<String> {
    let start = message
        .find(marker)
        .unwrap_or_else(|| panic!("no `{marker}` in {message}"));
    let rest = &message[start + marker.len()..];
    let end = rest.find(['\n', ')']).unwrap_or(rest.len());
    rest[..end].split_whitespace().map(str::to_owned).collect()
}

fn run_in(cwd: &Path, args: &[String]) -> Output {
    trainer(cwd).args(args).output().expect("runs")
}

/// Runs `command` (a `trainer`); asserts a usage error (exit code 2) whose message says `says`,
/// and returns the message.
fn refused(command: &mut std::process::Command, says: &str) -> String {
    let out = command.output().expect("runs");
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(says), "no `{says}` in {err}");
    err
}

/// Runs `command` (a `trainer` run that diverges); asserts that its message says each of `says`.
fn stopped(command: &mut std::process::Command, says: &[&str]) -> Output {
    let out = command.output().expect("runs");
    let err = stderr(&out);
    for needle in says {
        assert!(err.contains(needle), "no `{needle}` in {err}");
    }
    out
}

/// A `TORCH_HOME` under `dir` whose hub cache holds torchvision's AlexNet file name with the
/// predict fixture (torchvision's layout at 1/16 width) in it; returns the folder and the file.
fn torch_hub_stand_in(dir: &Path) -> (PathBuf, PathBuf) {
    let torch_home = dir.join("torch");
    let checkpoints = torch_home.join("hub/checkpoints");
    std::fs::create_dir_all(&checkpoints).expect("mkdir");
    let hub_file = checkpoints.join("alexnet-owt-7be5be79.pth");
    let fixture =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/predict/model.pth");
    std::fs::copy(&fixture, &hub_file).expect("copy");
    (torch_home, hub_file)
}

/// The learning rates `metrics.csv` lists, by epoch.
fn csv_lrs(run: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(run.join("metrics.csv")).expect("metrics.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "lr")
        .expect("an lr column");
    lines
        .map(|l| l.split(',').nth(col).expect("lr").parse().expect("number"))
        .collect()
}

/// Follows the non-finite-loss advice (`--resume --output-dir RUN --lr LR/10`) until the run
/// finishes; each advised command must be accepted. Returns the last learning rate.
fn follow_nan_advice(cwd: &Path, first: Output) -> f64 {
    let mut out = first;
    for _ in 0..20 {
        let err = stderr(&out);
        if out.status.success() {
            return 0.0;
        }
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains("the training loss became"), "{err}");
        let args = advised(&err, "with a lower learning rate: ");
        assert_eq!(args[..2], ["--resume", "--output-dir"], "{err}");
        let lr: f64 = args.last().expect("an lr").parse().expect("a number");
        out = run_in(cwd, &args);
        if out.status.success() {
            return lr;
        }
    }
    panic!("still diverging: {}", stderr(&out));
}

#[test]
fn a_run_stopped_by_a_non_finite_loss_goes_on_with_the_advised_lower_learning_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Diverging in epoch 1: no checkpoint, so the advised resume starts again from epoch 1 with
    // the lower rate.
    let run = dir.path().join("early");
    let out = stopped(
        trainer(dir.path())
            .args([TINY, CONSTANT].concat())
            .args(["--lr", "1e12", "--output-dir"])
            .arg(&run),
        &["no checkpoint was written"],
    );
    // A plain rerun in the directory says how to start it again, and that works too.
    refused(
        trainer(dir.path())
            .args([TINY, CONSTANT].concat())
            .args(["--lr", "0.01", "--output-dir"])
            .arg(&run),
        "pass --resume to start it again",
    );
    let lr = follow_nan_advice(dir.path(), out);
    assert_eq!(csv_epochs(&run), [1]);
    assert_eq!(csv_lrs(&run), [lr]);

    // Diverging in epoch 2, after epoch 1's checkpoint: the advice goes on from epoch 2.
    let run = dir.path().join("late");
    train(
        dir.path(),
        &run,
        &[TINY, CONSTANT, &["--lr", "0.01"]].concat(),
    );
    let out = stopped(
        trainer(dir.path())
            .args(["--resume", "--epochs", "2", "--lr", "1e12", "--output-dir"])
            .arg(&run),
        &["checkpoint is epoch 1", "to go on from epoch 2"],
    );
    let lr = follow_nan_advice(dir.path(), out);
    assert_eq!(csv_epochs(&run), [1, 2]);
    assert_eq!(csv_lrs(&run), [0.01, lr]);
}

#[test]
fn a_finished_cosine_run_trains_on_with_the_advised_larger_epochs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let cosine = [TINY, &["-b", "32", "--lr", "0.01", "--warmup-epochs", "0"]].concat();
    train(dir.path(), &run, &cosine);
    let out = trainer(dir.path())
        .args(["--resume", "--output-dir"])
        .arg(&run)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    let args = advised(&stderr(&out), "resume it with a larger --epochs (");
    assert_eq!(args[args.len() - 2], "--epochs");
    let out = run_in(dir.path(), &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(csv_epochs(&run), [1, 2]);
    // The cosine is stretched over two epochs: the second starts at its middle, not at 0.
    let lrs = csv_lrs(&run);
    assert!(lrs[1] > 0.001 && lrs[1] < lrs[0], "{lrs:?}");
}

#[test]
fn a_refused_resume_names_a_weights_file_a_new_run_starts_from() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let flags = [TINY, &["--lr", "0.01", "--lr-scheduler", "constant"]].concat();
    train(dir.path(), &run, &[&flags[..], &["-b", "32"]].concat());
    // Finished (model.bpk), then as after a kill (only the checkpoint).
    for (case, file) in [
        ("finished", "model.bpk"),
        ("killed", "checkpoint/model-1.bpk"),
    ] {
        if case == "killed" {
            std::fs::remove_file(run.join("model.bpk")).expect("rm");
        }
        let err = refused(
            trainer(dir.path())
                .args(["--resume", "-b", "16", "--output-dir"])
                .arg(&run),
            "--resume cannot change",
        );
        let args = advised(&err, "another --output-dir (");
        let weights = args.iter().skip_while(|a| *a != "--weights").nth(1);
        let weights = PathBuf::from(weights.expect("advises --weights"));
        assert_eq!(weights, run.join(file), "{case}");
        let new = dir.path().join(format!("new-{case}"));
        let mut args: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
        args.extend(["-b", "16", "--weights"].map(String::from));
        args.push(weights.to_string_lossy().into_owned());
        args.extend([
            "--output-dir".to_owned(),
            new.to_string_lossy().into_owned(),
        ]);
        let out = run_in(dir.path(), &args);
        assert!(out.status.success(), "{case}: {}", stderr(&out));
    }
}

#[test]
fn a_directory_holding_a_run_and_resume_without_a_run_advise_what_works() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("run");
    let flags = [TINY, CONSTANT, &["--lr", "0.01"]].concat();
    train(dir.path(), &run, &flags);
    refused(
        trainer(dir.path())
            .args(&flags)
            .arg("--output-dir")
            .arg(&run),
        "pass --resume to continue it",
    );
    let out = trainer(dir.path())
        .args(&flags)
        .args(["--resume", "--output-dir"])
        .arg(&run)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
    // No runs/ in the working directory: `--resume` asks for --output-dir, which works.
    refused(trainer(dir.path()).arg("--resume"), "pass --output-dir DIR");
    let out = trainer(dir.path())
        .args(["--resume", "--output-dir"])
        .arg(&run)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `root/{train,val}/{dark,light}/*.png`: two classes of four plain images per split.
fn two_class_folder(root: &Path) {
    for split in ["train", "val"] {
        for (label, class) in ["dark", "light"].into_iter().enumerate() {
            let dir = root.join(split).join(class);
            std::fs::create_dir_all(&dir).expect("mkdir");
            for i in 0..4u8 {
                let shade = label as u8 * 200 + i * 10;
                image::RgbImage::from_pixel(40, 40, image::Rgb([shade; 3]))
                    .save(dir.join(format!("{i}.png")))
                    .expect("png");
            }
        }
    }
}

#[test]
fn data_usage_errors_advise_flags_that_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("photos");
    two_class_folder(&data);
    let folder = [TINY, &["--lr", "0.01", "-b", "4", "--dataset", "folder"]].concat();
    refused(trainer(dir.path()).args(&folder), "needs --data-dir");
    let run = dir.path().join("run");
    let with_dir = [
        folder.clone(),
        vec!["--data-dir", data.to_str().expect("utf-8")],
    ]
    .concat();
    train(dir.path(), &run, &with_dir);
    // An empty folder is not offered a download (only cifar10 and imagenette have one), and
    // --download is refused for a folder.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("mkdir");
    let err = refused(
        trainer(dir.path())
            .args(&folder)
            .arg("--data-dir")
            .arg(&empty),
        "is empty",
    );
    assert!(!err.contains("--download"), "{err}");
    refused(
        trainer(dir.path()).args(&with_dir).arg("--download"),
        "--download fetches cifar10 or imagenette",
    );
}

#[test]
fn weights_usage_errors_advise_flags_that_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = [TINY, CONSTANT, &["--lr", "0.01"]].concat();
    // --freeze-features needs weights: a trained model's file works.
    refused(
        trainer(dir.path()).args(&base).arg("--freeze-features"),
        "needs --weights or --pretrained",
    );
    let first = dir.path().join("first");
    train(dir.path(), &first, &base);
    let model = first.join("model.bpk");
    let frozen = [
        base.clone(),
        vec![
            "--freeze-features",
            "--weights",
            model.to_str().expect("utf-8"),
        ],
    ]
    .concat();
    train(dir.path(), &dir.path().join("frozen"), &frozen);

    // --pretrained with the standard variant: --arch torchvision (or no --arch) works, here with
    // torch hub's cache holding a torchvision-layout file at 1/16 width.
    let (torch_home, _) = torch_hub_stand_in(dir.path());
    let model_flags = ["--width", "0.25", "--image-size", "67"];
    let base: Vec<&str> = base
        .chunks(2)
        .filter(|pair| !model_flags.chunks(2).any(|m| m == *pair))
        .flatten()
        .copied()
        .collect();
    let pretrained = |arch: &[&str], run: &str| {
        trainer(dir.path())
            .args(&base)
            .args(["--pretrained", "--width", "0.0625", "--image-size", "67"])
            .args(arch)
            .arg("--output-dir")
            .arg(dir.path().join(run))
            .env("TORCH_HOME", &torch_home)
            .env("ALEXNET_CACHE_DIR", dir.path().join("cache"))
            .output()
            .expect("runs")
    };
    let out = pretrained(&["--arch", "standard"], "standard");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("pass --arch torchvision or leave --arch out"),
        "{}",
        stderr(&out)
    );
    for (arch, run) in [(&["--arch", "torchvision"][..], "tv"), (&[][..], "implied")] {
        let out = pretrained(arch, run);
        assert!(out.status.success(), "{arch:?}: {}", stderr(&out));
    }
}

/// A stand-in for an HTTP proxy on loopback: records the first request line of each connection
/// and closes it, so a download fails at once, without a network, after saying what it fetched.
struct RecordingProxy {
    url: String,
    requests: std::sync::mpsc::Receiver<String>,
}

impl RecordingProxy {
    fn start() -> Self {
        use std::io::{BufRead, BufReader};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (tx, requests) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut line = String::new();
                let _ = BufReader::new(&stream).read_line(&mut line);
                if tx.send(line.trim_end().to_owned()).is_err() {
                    return;
                }
            }
        });
        Self { url, requests }
    }

    /// The request lines received so far.
    fn received(&self) -> Vec<String> {
        self.requests.try_iter().collect()
    }
}

#[test]
fn a_missing_dataset_advises_download_and_the_advice_fetches_it_into_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let proxy = RecordingProxy::start();
    let cifar = ["--dataset", "cifar10", "--device", "flex", "--epochs", "1"];
    let other = dir.path().join("other");
    std::fs::create_dir(&other).expect("mkdir");
    std::fs::write(other.join("notes.txt"), "not CIFAR-10").expect("write");
    // A data dir that does not exist, and one that holds something else.
    for (data, says) in [
        (dir.path().join("absent"), "(pass --download to fetch it)"),
        (other.clone(), "pass --download to fetch it into"),
    ] {
        let err = refused(
            trainer(dir.path()).args(cifar).arg("--data-dir").arg(&data),
            says,
        );
        assert!(err.contains(&*data.to_string_lossy()), "{err}");
        // The advice, as printed: the same command with --download.
        let out = trainer(dir.path())
            .args(cifar)
            .arg("--data-dir")
            .arg(&data)
            .arg("--download")
            .env("ALL_PROXY", &proxy.url)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .expect("runs");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        let url = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
        assert!(err.contains(&format!("cannot download {url}")), "{err}");
        assert!(err.contains(&*data.to_string_lossy()), "{err}");
        let requests = proxy.received();
        assert!(
            requests
                .iter()
                .any(|r| r.starts_with("CONNECT www.cs.toronto.edu:443")),
            "{requests:?}"
        );
    }
}

/// `file` (safetensors) written again to `out` without its metadata, as PyTorch's
/// `safetensors.torch.save_file` leaves a state dict.
fn without_metadata(file: &Path, out: &Path) {
    let bytes = std::fs::read(file).expect("read");
    let tensors = safetensors::SafeTensors::deserialize(&bytes).expect("safetensors");
    safetensors::serialize_to_file(tensors.tensors(), None, out).expect("write");
}

/// `trainer predict` with `args` on the data crate's fixture image.
fn predict(cwd: &Path, args: &[&str]) -> std::process::Command {
    let image =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../alexnet-data/tests/fixtures/rgb.png");
    let mut command = trainer(cwd);
    command
        .args(["predict", "--device", "flex"])
        .args(args)
        .arg(image);
    command
}

#[test]
fn model_usage_errors_of_predict_advise_flags_that_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A standard model at width 0.25 with 7 classes, saved without what it is.
    let device = alexnet_device::parse_device("flex").expect("flex");
    let model = alexnet::AlexNetConfig::standard()
        .with_width(0.25)
        .with_num_classes(7)
        .init(&device);
    let described = dir.path().join("described.safetensors");
    model.save_weights(&described).expect("save");
    let bare = dir.path().join("bare.safetensors");
    without_metadata(&described, &bare);
    let bare_arg = ["--weights", bare.to_str().expect("utf-8")];
    let err = refused(
        &mut predict(dir.path(), &bare_arg),
        "does not say which AlexNet it holds",
    );
    assert!(
        err.contains("pass --arch (with --num-classes and --width"),
        "{err}"
    );
    let out = predict(dir.path(), &bare_arg)
        .args([
            "--arch",
            "standard",
            "--num-classes",
            "7",
            "--width",
            "0.25",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", stderr(&out));

    // --pretrained with another variant: the advised --arch torchvision (or none) is accepted
    // and loads torch hub's file (here a 1/16-width stand-in, which then does not fit).
    let (torch_home, hub_file) = torch_hub_stand_in(dir.path());
    let pretrained = |arch: &[&str]| {
        predict(dir.path(), &[&["--pretrained"][..], arch].concat())
            .env("TORCH_HOME", &torch_home)
            .env("ALEXNET_CACHE_DIR", dir.path().join("cache"))
            .output()
            .expect("runs")
    };
    let out = pretrained(&["--arch", "standard"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("(--arch torchvision)"), "{err}");
    for arch in [&["--arch", "torchvision"][..], &[]] {
        let out = pretrained(arch);
        let err = stderr(&out);
        assert!(
            err.contains(&*hub_file.to_string_lossy()) && err.contains("has shape"),
            "{arch:?}: {err}"
        );
    }
}
