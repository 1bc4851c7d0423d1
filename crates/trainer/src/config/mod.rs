//! The resolved training configuration (a run's `config.json`): defaults, then `--preset`,
//! then `--config FILE`, then the flags, merged key by key and validated before any work starts.

mod groups;
pub mod help;
pub mod recipe;

use std::collections::BTreeSet;
use std::path::Path;

use alexnet::AlexNetConfig;
use alexnet_data::{AugmentConfig, AugmentPreset};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use self::groups::{
    AugmentSettings, DataConfig, ModelConfig, OptimConfig, ScheduleConfig, dataset_name,
};
use self::recipe::{DataKind, Recipe};
use crate::cli::usage;
use crate::cli::{Arch, Opt, Precision, Preset, Scheduler, TrainArgs};

/// Everything a training run depends on, in groups that each check themselves. Serialised to
/// `runs/<name>/config.json` as one flat object (the groups' keys side by side).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The dataset and its batching.
    #[serde(flatten)]
    pub data: DataConfig,
    /// The network and its starting weights.
    #[serde(flatten)]
    pub model: ModelConfig,
    /// The optimiser.
    #[serde(flatten)]
    pub optim: OptimConfig,
    /// Epochs and the learning-rate schedule.
    #[serde(flatten)]
    pub schedule: ScheduleConfig,
    /// The training augmentation.
    #[serde(flatten)]
    pub augment: AugmentSettings,
    /// Seed.
    pub seed: u64,
    /// Device spec (none: `BURN_DEVICE` or the default).
    pub device: Option<String>,
    /// Data-parallel devices (empty: the one `device`); `cuda:all` is written out GPU by GPU.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    /// Images per step over all `devices` (`batch_size` per device); written for the reader,
    /// recomputed when the run starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_batch_size: Option<usize>,
    /// Float precision (absent: fp32).
    #[serde(default, skip_serializing_if = "is_fp32")]
    pub precision: Precision,
    /// GPU autotune level: minimal, balanced, extensive or full (none: cubecl's own setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autotune_level: Option<String>,
    /// Class names in label order (filled in from the dataset when a run starts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<String>,
}

impl TrainConfig {
    /// Krizhevsky et al. 2012: paper2012 at 227 px, SGD lr 0.01 momentum 0.9 (dampening 0) wd
    /// 5e-4, batch 128, lr / 10 on plateau, paper augmentation, 90 epochs.
    pub fn paper() -> Self {
        let default = Self::default();
        Self {
            data: DataConfig {
                synthetic_train: 50_000,
                synthetic_val: 5_000,
                batch_size: 128,
                ..default.data
            },
            model: ModelConfig {
                arch: Arch::Paper2012,
                image_size: 227,
                width: 1.0,
                dropout: None,
                init: None,
                ..default.model
            },
            optim: OptimConfig {
                opt: Opt::Sgd,
                lr: 0.01,
                momentum: 0.9,
                wd: 5e-4,
            },
            schedule: ScheduleConfig {
                epochs: 90,
                lr_scheduler: Scheduler::Plateau,
                warmup_epochs: 0,
                ..default.schedule
            },
            augment: AugmentSettings {
                aug: AugmentPreset::Paper,
                ..default.augment
            },
            ..default
        }
    }

    /// `base` (defaults, or a resumed run's saved config) with `--preset`, `--config` and the
    /// flags applied, in that order, then the defaults that depend on the data and the variant
    /// ([`Recipe`]) resolved, then validated.
    pub fn resolve(args: &TrainArgs, base: Option<TrainConfig>) -> Result<Self> {
        let resumed = base.is_some();
        let mut base = match (base, args.preset) {
            (Some(saved), _) => saved,
            (None, Some(Preset::Paper)) => Self::paper(),
            (None, None) => Self::default(),
        };
        if args.model.pretrained {
            // The network torchvision's weights fit, at its input size; file and flags still win.
            base.model.arch = Arch::Torchvision;
            base.model.width = 1.0;
            base.model.image_size = 224;
        }
        let (base_arch, base_data) = (base.model.arch, DataKind::of(base.data.dataset));
        let mut value = serde_json::to_value(&base)?;
        // Keys the user set, in the config file or as flags.
        let mut chosen = serde_json::Map::new();
        if let Some(path) = &args.config {
            let file = read_config_file(path)?;
            chosen.extend(file.clone());
            merge(&mut value, file);
            let config = Self::from_json(value)
                .map_err(|e| usage(format!("config file {}: {e}", path.display())))?;
            value = serde_json::to_value(config)?;
        }
        let flags = serde_json::to_value(args)?;
        if let Value::Object(keys) = &flags {
            chosen.extend(keys.clone());
        }
        merge(&mut value, flags);
        let mut config =
            Self::from_json(value).map_err(|e| usage(format!("bad configuration: {e}")))?;
        let arch_changed = config.model.arch != base_arch || args.model.pretrained;
        let data_changed = DataKind::of(config.data.dataset) != base_data;
        // A new run resolves every default it was not given; a resumed one keeps its saved
        // values unless its variant or its kind of data changed.
        if !resumed || arch_changed || data_changed {
            config.apply_recipe(&chosen, args.preset, config.model.arch != base_arch);
        }
        config.validate()?;
        Ok(config)
    }

    /// Sets the keys the user did not choose that depend on the variant and the data: another
    /// variant than the base's (`new_variant`) is built at its own width and input size (the
    /// default run's reduced ones belong to the standard variant; torchvision's weights files
    /// fit torchvision's AlexNet at 224 px and full width), and the augmentation and dropout
    /// come from the data's [`Recipe`].
    fn apply_recipe(
        &mut self,
        chosen: &serde_json::Map<String, Value>,
        preset: Option<Preset>,
        new_variant: bool,
    ) {
        let model = &mut self.model;
        if new_variant {
            if !chosen.contains_key("width") {
                model.width = 1.0;
            }
            if !chosen.contains_key("image_size") {
                model.image_size = model.arch.native_image_size();
            }
        }
        let recipe = Recipe::of(self.data.dataset);
        if !chosen.contains_key("dropout") {
            model.dropout = Some(recipe.dropout(model.arch));
        }
        if !chosen.contains_key("aug") {
            self.augment.aug = recipe.aug(preset);
        }
        if !chosen.contains_key("crop_scale") {
            self.augment.crop_scale = recipe.crop_scale(self.augment.aug);
        }
    }

    /// A configuration from its flat JSON object; a key that no group knows is an error.
    pub fn from_json(value: Value) -> Result<Self, String> {
        let Value::Object(keys) = &value else {
            return Err("expected a JSON object".into());
        };
        let known = Self::keys();
        if let Some(unknown) = keys.keys().find(|k| !known.contains(k.as_str())) {
            return Err(format!("unknown key `{unknown}`"));
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    /// Every key of `config.json`.
    fn keys() -> BTreeSet<String> {
        let mut keys: BTreeSet<String> = match serde_json::to_value(Self::default()) {
            Ok(Value::Object(keys)) => keys.into_iter().map(|(k, _)| k).collect(),
            _ => BTreeSet::new(),
        };
        let optional = [
            "classes",
            "devices",
            "global_batch_size",
            "precision",
            "autotune_level",
        ];
        keys.extend(optional.map(String::from));
        keys
    }

    /// Checks every value that does not need the data; a problem is a usage error.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        self.data.validate()?;
        self.optim.validate()?;
        self.schedule.validate()?;
        if let Some(level) = &self.autotune_level {
            crate::cli::autotune_level(level)
                .map_err(|e| usage(format!("--autotune-level: {e}")))?;
        }
        self.augment.validate()
    }

    /// The model for `num_classes` classes.
    pub fn model_config(&self, num_classes: usize) -> AlexNetConfig {
        self.model.build(num_classes)
    }

    /// The training augmentation: the preset with the flag overrides.
    pub fn train_augment(&self) -> AugmentConfig {
        self.augment.build(self.model.image_size)
    }

    /// The evaluation transform for this input size.
    pub fn eval_augment(&self) -> AugmentConfig {
        AugmentConfig::eval(self.model.image_size as u32)
    }
}

/// Whether a precision is the default one (left out of `config.json`, as in older runs).
fn is_fp32(precision: &Precision) -> bool {
    *precision == Precision::Fp32
}

/// The JSON object of a `--config` file.
fn read_config_file(path: &Path) -> Result<serde_json::Map<String, Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| usage(format!("cannot read config file {}: {e}", path.display())))?;
    match serde_json::from_str(&text) {
        Ok(Value::Object(keys)) => Ok(keys),
        Ok(_) => Err(usage(format!(
            "config file {}: expected a JSON object",
            path.display()
        ))),
        Err(e) => Err(usage(format!("config file {}: {e}", path.display()))),
    }
}

/// Overwrites `base`'s keys with `over`'s (objects only; `over` is a flat object here).
fn merge(base: &mut Value, over: impl Into<Value>) {
    if let (Value::Object(base), Value::Object(over)) = (base, over.into()) {
        for (key, value) in over {
            base.insert(key, value);
        }
    }
}

/// Reads a run's `config.json`.
pub fn load_run_config(path: &Path) -> Result<TrainConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a run config", path.display()))?;
    TrainConfig::from_json(value)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{} is not a run config", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    use crate::cli::SyntheticDraw;

    fn args(argv: &[&str]) -> TrainArgs {
        let mut full = vec!["trainer"];
        full.extend_from_slice(argv);
        crate::cli::Cli::try_parse_from(full).expect("parses").train
    }

    /// A run's `config.json` as written before the configuration had groups: one flat object,
    /// keys in the old field order.
    const FLAT_CONFIG: &str = r#"{
  "dataset": "folder", "data_dir": "/data/photos", "download": false, "val_labels": null,
  "imagenette_noise": 0, "synthetic_train": 12000, "synthetic_val": 1000, "arch": "torchvision",
  "image_size": 224, "num_classes": 4, "width": 1.0, "dropout": 0.2, "init": "kaiming",
  "epochs": 3, "batch_size": 32, "workers": null, "opt": "sgd", "lr": 0.01, "momentum": 0.9,
  "wd": 0.0005, "lr_scheduler": "step", "lr_step_size": 2, "lr_gamma": 0.5, "warmup_epochs": 0,
  "plateau_patience": 2, "aug": "none", "hflip": 0.25, "color_jitter": null,
  "pca_lighting": 0.1, "weights": "/data/alexnet.pth", "pretrained": false,
  "freeze_features": true, "seed": 7, "device": "flex", "max_consecutive_failures": 100,
  "classes": ["a", "b", "c", "d"]
}"#;

    #[test]
    fn a_flat_config_json_loads_into_the_groups_and_is_written_back_flat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, FLAT_CONFIG).expect("w");
        let config = load_run_config(&path).expect("an existing run's config loads");
        assert_eq!(
            config.data.data_dir.as_deref(),
            Some(Path::new("/data/photos"))
        );
        assert_eq!(
            (config.data.batch_size, config.model.num_classes),
            (32, Some(4))
        );
        assert_eq!(
            (config.model.arch, config.model.freeze_features),
            (Arch::Torchvision, true)
        );
        assert_eq!((config.optim.opt, config.optim.wd), (Opt::Sgd, 5e-4));
        assert_eq!(
            (config.schedule.lr_step_size, config.schedule.lr_gamma),
            (2, 0.5)
        );
        assert_eq!(
            (config.augment.aug, config.augment.hflip),
            (AugmentPreset::Eval, Some(0.25))
        );
        assert_eq!((config.seed, config.classes.len()), (7, 4));
        // Runs saved before `synthetic_draw` existed drew the same images every epoch.
        assert_eq!(config.data.synthetic_draw, SyntheticDraw::Fixed);
        let written = serde_json::to_value(&config).expect("serialises");
        let original: Value = serde_json::from_str(FLAT_CONFIG).expect("json");
        let Value::Object(written) = written else {
            panic!("config.json is an object")
        };
        let keys = |v: &serde_json::Map<String, Value>| v.keys().cloned().collect::<BTreeSet<_>>();
        // Written back with every key, the one added since the file was saved included.
        let mut expected = keys(original.as_object().expect("object"));
        expected.insert("synthetic_draw".to_owned());
        expected.insert("crop_scale".to_owned());
        assert_eq!(keys(&written), expected);
        assert!(
            written.values().all(|v| !v.is_object()),
            "flat: {written:?}"
        );
    }

    #[test]
    fn a_run_config_with_an_unknown_key_names_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config.json");
        std::fs::write(&path, FLAT_CONFIG.replace("\"hflip\"", "\"flip\"")).expect("w");
        let err = load_run_config(&path).expect_err("unknown key");
        assert!(format!("{err:#}").contains("unknown key `flip`"), "{err:#}");
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
        assert_eq!(config.model.arch, Arch::Paper2012);
        assert_eq!(config.schedule.lr_scheduler, Scheduler::Plateau);
        assert_eq!(config.augment.aug, AugmentPreset::Paper);
        assert_eq!((config.optim.momentum, config.optim.wd), (0.9, 5e-4));
        assert_eq!(config.optim.lr, 0.05); // file over preset
        assert_eq!(config.data.batch_size, 16);
        assert_eq!(config.schedule.epochs, 3); // flag over file
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
        assert!(
            err.downcast_ref::<crate::cli::error::UsageError>()
                .is_some()
        );
        assert!(err.to_string().contains("learning_rate"), "{err}");
        std::fs::write(&file, r#"{"autotune_level": "max"}"#).expect("w");
        let err = TrainConfig::resolve(&args(&["--config", &file]), None).expect_err("bad level");
        assert!(err.to_string().contains("--autotune-level"), "{err}");
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
    fn each_kind_of_data_gets_its_recipe_unless_the_user_sets_it() {
        let data = tempfile::tempdir().expect("tempdir");
        std::fs::write(data.path().join("x"), b"").expect("w");
        let dir = data.path().to_string_lossy().into_owned();
        let resolved = |argv: &[&str]| {
            let c = TrainConfig::resolve(&args(argv), None).expect("valid");
            (c.augment.aug, c.model.dropout)
        };
        let (none, tv, paper) = (
            AugmentPreset::Eval,
            AugmentPreset::Torchvision,
            AugmentPreset::Paper,
        );
        // The synthetic set: no augmentation, no dropout for the standard variant; another
        // variant gets its own dropout.
        assert_eq!(resolved(&[]), (none, Some(0.0)));
        assert_eq!(resolved(&["--arch", "torchvision"]), (none, Some(0.5)));
        assert_eq!(resolved(&["--arch", "paper2012"]), (none, Some(0.5)));
        assert_eq!(resolved(&["--pretrained"]), (none, Some(0.5)));
        // Photos: a random augmentation and the variant's dropout, whatever the variant.
        for dataset in ["folder", "imagenet", "cifar10", "imagenette"] {
            let photos = ["--dataset", dataset, "--data-dir", dir.as_str()];
            assert_eq!(resolved(&photos), (tv, Some(0.5)), "{dataset}");
            let torchvision = [&photos[..], &["--arch", "torchvision"]].concat();
            assert_eq!(resolved(&torchvision), (tv, Some(0.5)), "{dataset}");
            let preset = [&photos[..], &["--preset", "paper"]].concat();
            assert_eq!(resolved(&preset), (paper, Some(0.5)), "{dataset}");
            let set = [&photos[..], &["--aug", "none", "--dropout", "0.2"]].concat();
            assert_eq!(resolved(&set), (none, Some(0.2)), "{dataset}");
        }
        // A config file that names the dataset counts as choosing it; its keys win.
        let file = data.path().join("c.json");
        let json = serde_json::json!({"dataset": "folder", "data_dir": dir, "dropout": 0.3});
        std::fs::write(&file, json.to_string()).expect("w");
        let file = file.to_string_lossy().into_owned();
        assert_eq!(resolved(&["--config", &file]), (tv, Some(0.3)));
        // A resumed run keeps the values its config.json recorded (here an older folder run's).
        let mut saved =
            TrainConfig::resolve(&args(&["--dataset", "folder", "--data-dir", &dir]), None)
                .expect("valid");
        saved.model.dropout = Some(0.1);
        saved.augment.aug = none;
        let resumed = TrainConfig::resolve(&args(&["--epochs", "20"]), Some(saved)).expect("valid");
        assert_eq!(
            (resumed.augment.aug, resumed.model.dropout),
            (none, Some(0.1))
        );
    }

    #[test]
    fn another_variant_gets_its_own_width_and_input_size_unless_they_are_set() {
        let size = |argv: &[&str]| {
            let c = TrainConfig::resolve(&args(argv), None).expect("valid");
            (c.model.arch, c.model.width, c.model.image_size)
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
