//! The resolved training configuration (a run's `config.json`): defaults, then `--preset`,
//! then `--config FILE`, then the flags, merged key by key and validated before any work starts.

use std::path::{Path, PathBuf};

use alexnet::AlexNetConfig;
use alexnet_data::{AugmentConfig, AugmentPreset, ColorJitter};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::cli::{Arch, DatasetKind, Init, Opt, Preset, Scheduler, TrainArgs};
use crate::usage;

/// Everything a training run depends on. Serialised to `runs/<name>/config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Dataset source.
    pub dataset: DatasetKind,
    /// Dataset root (none for synthetic).
    pub data_dir: Option<PathBuf>,
    /// Download cifar10/imagenette into `data_dir` when missing.
    pub download: bool,
    /// ImageNet flat-val labels file.
    pub val_labels: Option<PathBuf>,
    /// Imagenette noisy-label percentage.
    pub imagenette_noise: u8,
    /// Synthetic training images.
    pub synthetic_train: usize,
    /// Synthetic validation images.
    pub synthetic_val: usize,
    /// Model variant.
    pub arch: Arch,
    /// Input side.
    pub image_size: usize,
    /// Head size (none: the dataset's class count).
    pub num_classes: Option<usize>,
    /// Width factor of every layer.
    pub width: f64,
    /// Dropout of fc6/fc7 (none: the variant's 0.5).
    pub dropout: Option<f64>,
    /// Weight initialisation (none: the variant's own).
    pub init: Option<Init>,
    /// Epochs to train.
    pub epochs: usize,
    /// Images per batch.
    pub batch_size: usize,
    /// Decode/augment threads (none: all cores).
    pub workers: Option<usize>,
    /// Optimiser.
    pub opt: Opt,
    /// Initial learning rate.
    pub lr: f64,
    /// SGD momentum.
    pub momentum: f64,
    /// Weight decay.
    pub wd: f64,
    /// Schedule.
    pub lr_scheduler: Scheduler,
    /// `step`: epochs per step.
    pub lr_step_size: usize,
    /// `step`: factor per step.
    pub lr_gamma: f64,
    /// Linear warm-up epochs.
    pub warmup_epochs: usize,
    /// `plateau`: epochs without improvement before dividing by 10.
    pub plateau_patience: usize,
    /// Augmentation preset.
    pub aug: AugmentPreset,
    /// Flip probability override.
    pub hflip: Option<f64>,
    /// Colour-jitter strength override.
    pub color_jitter: Option<f32>,
    /// PCA-lighting std override.
    pub pca_lighting: Option<f32>,
    /// Initial weights.
    pub weights: Option<PathBuf>,
    /// Initialise from torchvision's ImageNet weights.
    #[serde(default)]
    pub pretrained: bool,
    /// Train only the classifier.
    #[serde(default)]
    pub freeze_features: bool,
    /// Seed.
    pub seed: u64,
    /// Device spec (none: `BURN_DEVICE` or the default).
    pub device: Option<String>,
    /// Cap on consecutive undecodable images.
    pub max_consecutive_failures: usize,
    /// Class names in label order (filled in from the dataset when a run starts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl Default for TrainConfig {
    /// The out-of-the-box run: see the README's "Why these defaults".
    fn default() -> Self {
        Self {
            dataset: DatasetKind::Synthetic,
            data_dir: None,
            download: false,
            val_labels: None,
            imagenette_noise: 0,
            synthetic_train: 12_000,
            synthetic_val: 1_000,
            arch: Arch::Standard,
            image_size: 67,
            num_classes: None,
            width: 0.5,
            dropout: Some(0.2),
            init: Some(Init::Kaiming),
            epochs: 9,
            batch_size: 128,
            workers: None,
            opt: Opt::Adamw,
            lr: 2e-3,
            momentum: 0.9,
            wd: 1e-4,
            lr_scheduler: Scheduler::Cosine,
            lr_step_size: 30,
            lr_gamma: 0.1,
            warmup_epochs: 1,
            plateau_patience: 2,
            aug: AugmentPreset::Eval,
            hflip: None,
            color_jitter: None,
            pca_lighting: None,
            weights: None,
            pretrained: false,
            freeze_features: false,
            seed: 0,
            device: None,
            max_consecutive_failures: alexnet_data::loader::DEFAULT_MAX_CONSECUTIVE_FAILURES,
            classes: Vec::new(),
        }
    }
}

impl TrainConfig {
    /// Krizhevsky et al. 2012: paper2012 at 227 px, SGD lr 0.01 momentum 0.9 (dampening 0) wd
    /// 5e-4, batch 128, lr / 10 on plateau, paper augmentation, 90 epochs.
    pub fn paper() -> Self {
        Self {
            arch: Arch::Paper2012,
            image_size: 227,
            width: 1.0,
            dropout: None,
            init: None,
            warmup_epochs: 0,
            synthetic_train: 50_000,
            synthetic_val: 5_000,
            epochs: 90,
            batch_size: 128,
            opt: Opt::Sgd,
            lr: 0.01,
            momentum: 0.9,
            wd: 5e-4,
            lr_scheduler: Scheduler::Plateau,
            aug: AugmentPreset::Paper,
            ..Self::default()
        }
    }

    /// `base` (defaults, or a resumed run's saved config) with `--preset`, `--config` and the
    /// flags applied, in that order, then validated.
    pub fn resolve(args: &TrainArgs, base: Option<TrainConfig>) -> Result<Self> {
        let mut base = match (base, args.preset) {
            (Some(saved), _) => saved,
            (None, Some(Preset::Paper)) => Self::paper(),
            (None, None) => Self::default(),
        };
        if args.pretrained {
            // The network torchvision's weights fit, at its input size; file and flags still win.
            base.arch = Arch::Torchvision;
            base.width = 1.0;
            base.image_size = 224;
        }
        let base_arch = base.arch;
        let mut value = serde_json::to_value(&base)?;
        // Keys the user set, in the config file or as flags.
        let mut chosen = serde_json::Map::new();
        if let Some(path) = &args.config {
            let text = std::fs::read_to_string(path)
                .map_err(|e| usage(format!("cannot read config file {}: {e}", path.display())))?;
            let file: Value = serde_json::from_str(&text)
                .map_err(|e| usage(format!("config file {}: {e}", path.display())))?;
            if !file.is_object() {
                return Err(usage(format!(
                    "config file {}: expected a JSON object",
                    path.display()
                )));
            }
            if let Value::Object(keys) = &file {
                chosen.extend(keys.clone());
            }
            merge(&mut value, file);
            let config: Self = serde_json::from_value(value.clone())
                .map_err(|e| usage(format!("config file {}: {e}", path.display())))?;
            value = serde_json::to_value(config)?;
        }
        let flags = serde_json::to_value(args)?;
        if let Value::Object(keys) = &flags {
            chosen.extend(keys.clone());
        }
        merge(&mut value, flags);
        let mut config: Self =
            serde_json::from_value(value).map_err(|e| usage(format!("bad configuration: {e}")))?;
        // The reduced width and input size of the default run belong to its standard variant:
        // asking for another variant gets that variant's own (torchvision's AlexNet at 224 px
        // and full width, which is what its weights files fit), unless those are set too.
        if config.arch != base_arch {
            if !chosen.contains_key("width") {
                config.width = 1.0;
            }
            if !chosen.contains_key("image_size") {
                config.image_size = config.arch.native_image_size();
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Checks every value that does not need the data; a problem is a usage error.
    pub fn validate(&self) -> Result<()> {
        self.validate_model()?;
        self.validate_optimisation()?;
        self.validate_augmentation()?;
        self.validate_data()?;
        self.validate_weights()
    }

    /// Input size, width and class count.
    fn validate_model(&self) -> Result<()> {
        let min = self
            .model_config(self.num_classes.unwrap_or(2))
            .min_input_size();
        first_failure([
            (
                self.image_size >= min,
                format!(
                    "--image-size {} is too small for the {} variant (minimum {min} px)",
                    self.image_size,
                    self.arch.name()
                ),
            ),
            (
                self.image_size <= 1024,
                format!("--image-size {} is larger than 1024 px", self.image_size),
            ),
            (
                self.width > 0.0 && self.width <= 4.0,
                format!("--width {} must be in (0, 4]", self.width),
            ),
            (
                self.num_classes != Some(0),
                "--num-classes must be at least 1".into(),
            ),
        ])
    }

    /// Epochs, batches, workers, the optimiser and the schedule.
    fn validate_optimisation(&self) -> Result<()> {
        first_failure([
            (self.epochs >= 1, "--epochs must be at least 1".into()),
            (
                self.batch_size >= 1,
                "--batch-size must be at least 1".into(),
            ),
            (
                self.workers != Some(0),
                "--workers must be at least 1".into(),
            ),
            (
                self.lr.is_finite() && self.lr > 0.0,
                format!("--lr {} must be a positive number", self.lr),
            ),
            (
                (0.0..1.0).contains(&self.momentum),
                format!("--momentum {} must be in [0, 1)", self.momentum),
            ),
            (
                self.wd.is_finite() && self.wd >= 0.0,
                format!("--wd {} must be >= 0", self.wd),
            ),
            (
                self.lr_gamma > 0.0 && self.lr_gamma <= 1.0,
                format!("--lr-gamma {} must be in (0, 1]", self.lr_gamma),
            ),
            (
                self.lr_step_size >= 1,
                "--lr-step-size must be at least 1".into(),
            ),
        ])
    }

    /// The augmentation overrides.
    fn validate_augmentation(&self) -> Result<()> {
        first_failure([
            (
                self.color_jitter.is_none_or(|s| (0.0..=1.0).contains(&s)),
                "--color-jitter must be in [0, 1]".into(),
            ),
            (
                self.pca_lighting.is_none_or(|s| s.is_finite() && s >= 0.0),
                "--pca-lighting must be >= 0".into(),
            ),
        ])
    }

    /// The synthetic split sizes, or a data directory that exists (unless downloading).
    fn validate_data(&self) -> Result<()> {
        if self.dataset == DatasetKind::Synthetic {
            return first_failure([(
                self.synthetic_train > 0 && self.synthetic_val > 0,
                "--synthetic-train and --synthetic-val must be at least 1".into(),
            )]);
        }
        let Some(dir) = &self.data_dir else {
            return Err(usage(format!(
                "--dataset {} needs --data-dir (or ALEXNET_DATA_DIR)",
                dataset_name(self.dataset)
            )));
        };
        check_data_dir(dir, self.download)
    }

    /// `--weights`, `--pretrained` and `--freeze-features`.
    fn validate_weights(&self) -> Result<()> {
        first_failure([
            (
                !self.pretrained || self.arch == Arch::Torchvision,
                format!(
                    "--pretrained loads torchvision's AlexNet: add --arch torchvision (not {})",
                    self.arch.name()
                ),
            ),
            (
                !self.freeze_features || self.weights.is_some() || self.pretrained,
                "--freeze-features needs --weights or --pretrained (frozen random convolutions would not learn)".into(),
            ),
            (
                self.weights.as_ref().is_none_or(|w| w.is_file()),
                format!(
                    "--weights {}: no such file",
                    self.weights.as_deref().unwrap_or(Path::new("")).display()
                ),
            ),
        ])
    }

    /// The model for `num_classes` classes.
    pub fn model_config(&self, num_classes: usize) -> AlexNetConfig {
        let mut config = self
            .arch
            .config()
            .with_num_classes(num_classes)
            .with_image_size(self.image_size);
        if self.width != 1.0 {
            config = config.with_width(self.width);
        }
        if let Some(p) = self.dropout {
            config = config.with_dropout(p);
        }
        if let Some(init) = self.init {
            config = config.with_init(init.into());
        }
        config
    }

    /// The training augmentation: the preset with the flag overrides.
    pub fn train_augment(&self) -> AugmentConfig {
        let mut aug = AugmentConfig::preset(self.aug, self.image_size as u32);
        if let Some(p) = self.hflip {
            aug.hflip = p;
        }
        if let Some(s) = self.color_jitter {
            aug.color_jitter = (s > 0.0).then_some(ColorJitter {
                brightness: s,
                contrast: s,
                saturation: s,
            });
        }
        if let Some(std) = self.pca_lighting {
            aug.pca_lighting = std;
        }
        aug
    }

    /// The evaluation transform for this input size.
    pub fn eval_augment(&self) -> AugmentConfig {
        AugmentConfig::eval(self.image_size as u32)
    }
}

/// The message of the first check that fails, as a usage error.
fn first_failure<const N: usize>(checks: [(bool, String); N]) -> Result<()> {
    match checks.into_iter().find(|(ok, _)| !ok) {
        Some((_, message)) => Err(usage(message)),
        None => Ok(()),
    }
}

/// The name users type for a dataset.
pub fn dataset_name(kind: DatasetKind) -> &'static str {
    match kind {
        DatasetKind::Synthetic => "synthetic",
        DatasetKind::Folder => "folder",
        DatasetKind::Imagenet => "imagenet",
        DatasetKind::Cifar10 => "cifar10",
        DatasetKind::Imagenette => "imagenette",
    }
}

/// A data dir must exist and hold something, unless it is about to be downloaded into.
fn check_data_dir(dir: &Path, download: bool) -> Result<()> {
    if download {
        return Ok(());
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| {
        usage(format!(
            "--data-dir {}: {e} (pass --download to fetch cifar10 or imagenette)",
            dir.display()
        ))
    })?;
    if entries.next().is_none() {
        return Err(usage(format!(
            "--data-dir {} is empty (pass --download to fetch cifar10 or imagenette)",
            dir.display()
        )));
    }
    Ok(())
}

/// Overwrites `base`'s keys with `over`'s (objects only; `over` is a flat object here).
fn merge(base: &mut Value, over: Value) {
    if let (Value::Object(base), Value::Object(over)) = (base, over) {
        for (key, value) in over {
            base.insert(key, value);
        }
    }
}

/// Reads a run's `config.json`.
pub fn load_run_config(path: &Path) -> Result<TrainConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a run config", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(argv: &[&str]) -> TrainArgs {
        let mut full = vec!["trainer"];
        full.extend_from_slice(argv);
        crate::cli::Cli::try_parse_from(full).expect("parses").train
    }

    #[test]
    fn preset_then_file_then_flags() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.json");
        std::fs::write(&file, r#"{"lr": 0.05, "epochs": 7, "batch_size": 16}"#).expect("w");
        let file = file.to_string_lossy().into_owned();
        let config = TrainConfig::resolve(
            &args(&["--preset", "paper", "--config", &file, "--epochs", "3"]),
            None,
        )
        .expect("valid");
        assert_eq!(config.arch, Arch::Paper2012);
        assert_eq!(config.lr_scheduler, Scheduler::Plateau);
        assert_eq!(config.aug, AugmentPreset::Paper);
        assert_eq!((config.momentum, config.wd), (0.9, 5e-4));
        assert_eq!(config.lr, 0.05); // file over preset
        assert_eq!(config.batch_size, 16);
        assert_eq!(config.epochs, 3); // flag over file
        // the resolved config survives a round trip through config.json
        let json = serde_json::to_string(&config).expect("serialises");
        assert_eq!(
            serde_json::from_str::<TrainConfig>(&json).expect("parses"),
            config
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_usage_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.json");
        std::fs::write(&file, r#"{"learning_rate": 0.05}"#).expect("w");
        let file = file.to_string_lossy().into_owned();
        let err = TrainConfig::resolve(&args(&["--config", &file]), None).expect_err("unknown");
        assert!(err.downcast_ref::<crate::UsageError>().is_some());
        assert!(err.to_string().contains("learning_rate"), "{err}");
        for (argv, needle) in [
            (vec!["--momentum", "1.5"], "--momentum"),
            (vec!["--epochs", "0"], "--epochs"),
            (vec!["--width", "0"], "--width"),
        ] {
            let err = TrainConfig::resolve(&args(&argv), None).expect_err("invalid");
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    #[test]
    fn another_variant_gets_its_own_width_and_input_size_unless_they_are_set() {
        let size = |argv: &[&str]| {
            let c = TrainConfig::resolve(&args(argv), None).expect("valid");
            (c.arch, c.width, c.image_size)
        };
        // The default run's reduced model belongs to the standard variant ...
        assert_eq!(size(&[]), (Arch::Standard, 0.5, 67));
        assert_eq!(size(&["--arch", "standard"]), (Arch::Standard, 0.5, 67));
        // ... another variant is built as published, so torchvision's weights files fit it.
        assert_eq!(
            size(&["--arch", "torchvision"]),
            (Arch::Torchvision, 1.0, 224)
        );
        assert_eq!(size(&["--arch", "paper2012"]), (Arch::Paper2012, 1.0, 227));
        assert_eq!(
            size(&[
                "--arch",
                "torchvision",
                "--width",
                "0.25",
                "--image-size",
                "96"
            ]),
            (Arch::Torchvision, 0.25, 96)
        );
        assert_eq!(
            size(&["--arch", "torchvision", "--image-size", "128"]),
            (Arch::Torchvision, 1.0, 128)
        );
        // The same when the variant comes from a config file, whose width wins over the rule.
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.json");
        std::fs::write(&file, r#"{"arch": "torchvision", "width": 0.5}"#).expect("w");
        let file = file.to_string_lossy().into_owned();
        assert_eq!(size(&["--config", &file]), (Arch::Torchvision, 0.5, 224));
        // The paper preset is already its variant as published.
        assert_eq!(size(&["--preset", "paper"]), (Arch::Paper2012, 1.0, 227));
    }
}
