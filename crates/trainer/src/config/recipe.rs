//! The defaults that depend on the kind of data a run trains on, in one table ([`RECIPES`]).
//!
//! The built-in synthetic set draws new images every epoch, so a network never sees one twice:
//! its recipe needs no augmentation and, for the default run's model, no dropout. Photos repeat
//! every epoch and a network overfits them: their recipe is torchvision's random-resized crop
//! and flip (the paper's crops under `--preset paper`) and the variant's dropout. Flags and
//! `--config` keys win over both; `--help` and docs/training.md are generated from and checked
//! against this table.

use alexnet_data::AugmentPreset;

use crate::cli::{Arch, DatasetKind, Preset};

/// The kinds of data that have a recipe of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKind {
    /// The built-in synthetic shapes, drawn anew every epoch.
    Synthetic,
    /// Images from files: a folder, ImageNet, CIFAR-10, Imagenette.
    Photos,
}

impl DataKind {
    /// The kind `dataset` belongs to.
    pub fn of(dataset: DatasetKind) -> Self {
        match dataset {
            DatasetKind::Synthetic => DataKind::Synthetic,
            DatasetKind::Folder
            | DatasetKind::Imagenet
            | DatasetKind::Cifar10
            | DatasetKind::Imagenette => DataKind::Photos,
        }
    }

    /// The `--dataset` values of this kind, as users type them.
    #[cfg(test)]
    pub fn datasets(self) -> &'static str {
        match self {
            DataKind::Synthetic => "synthetic",
            DataKind::Photos => "folder, imagenet, cifar10, imagenette",
        }
    }
}

/// One kind of data's training defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recipe {
    /// The data it is for.
    pub data: DataKind,
    /// The training augmentation (`--preset paper` sets the paper's instead).
    pub aug: AugmentPreset,
    /// Smallest area fraction of the random-resized crop when the augmentation has one
    /// (`None`: torchvision's 0.08).
    pub crop_scale: Option<f64>,
    /// Dropout of fc6/fc7 with the standard variant; `None`: the variant's own (0.5). Another
    /// variant (`--arch`, `--pretrained`) always gets its own.
    pub standard_dropout: Option<f64>,
}

/// The photo recipe's smallest crop: half the image (torchvision's 8 % is meant for ImageNet's 90
/// epochs; docs/training.md has the comparison).
const PHOTO_CROP_SCALE: f64 = 0.5;

/// The recipe of each kind of data.
pub static RECIPES: [Recipe; 2] = [
    Recipe {
        data: DataKind::Synthetic,
        aug: AugmentPreset::Eval,
        crop_scale: None,
        standard_dropout: Some(0.0),
    },
    Recipe {
        data: DataKind::Photos,
        aug: AugmentPreset::Torchvision,
        crop_scale: Some(PHOTO_CROP_SCALE),
        standard_dropout: None,
    },
];

impl Recipe {
    /// The recipe of `dataset`'s kind.
    pub fn of(dataset: DatasetKind) -> &'static Recipe {
        let kind = DataKind::of(dataset);
        RECIPES
            .iter()
            .find(|r| r.data == kind)
            .unwrap_or(&RECIPES[0])
    }

    /// The training augmentation under `preset`.
    pub fn aug(&self, preset: Option<Preset>) -> AugmentPreset {
        match preset {
            Some(Preset::Paper) => AugmentPreset::Paper,
            None => self.aug,
        }
    }

    /// The random-resized crop's smallest area fraction under augmentation `aug` (`None`: the
    /// preset's, or no such crop).
    pub fn crop_scale(&self, aug: AugmentPreset) -> Option<f64> {
        match aug {
            AugmentPreset::Torchvision => self.crop_scale,
            AugmentPreset::Paper | AugmentPreset::Eval => None,
        }
    }

    /// The dropout of fc6/fc7 for variant `arch`.
    pub fn dropout(&self, arch: Arch) -> f64 {
        match (arch, self.standard_dropout) {
            (Arch::Standard, Some(p)) => p,
            _ => arch.config().dropout,
        }
    }

    /// The `--aug` default as `--help` and the docs state it.
    fn aug_text(&self) -> String {
        format!("{} (paper with --preset paper)", aug_name(self.aug))
    }

    /// The `--crop-scale` default as `--help` and the docs state it.
    fn crop_scale_text(&self) -> String {
        match self.crop_scale {
            Some(min) => format!("{min} (with --aug torchvision)"),
            None => "torchvision's 0.08 (with --aug torchvision)".to_owned(),
        }
    }

    /// The `--dropout` default as `--help` and the docs state it.
    fn dropout_text(&self) -> String {
        match self.standard_dropout {
            Some(p) => format!("{p} (another --arch or --pretrained: the variant's 0.5)"),
            None => "the variant's (0.5)".to_owned(),
        }
    }
}

/// What users type for an augmentation preset (`eval` is the same as `none`).
fn aug_name(aug: AugmentPreset) -> &'static str {
    match aug {
        AugmentPreset::Eval => "none",
        other => other.name(),
    }
}

/// The recipe-dependent default of a flag (by its `config.json` key) for `--help`, e.g.
/// `synthetic: none; photos: torchvision`; `None` for a key no recipe sets.
pub fn help_default(key: &str) -> Option<String> {
    let text: fn(&Recipe) -> String = match key {
        "aug" => Recipe::aug_text,
        "crop_scale" => Recipe::crop_scale_text,
        "dropout" => Recipe::dropout_text,
        _ => return None,
    };
    let rows: Vec<String> = RECIPES
        .iter()
        .map(|r| format!("{}: {}", kind_name(r.data), text(r)))
        .collect();
    Some(rows.join("; "))
}

/// The kind's name in `--help` and the docs' table.
fn kind_name(kind: DataKind) -> &'static str {
    match kind {
        DataKind::Synthetic => "synthetic",
        DataKind::Photos => "photos",
    }
}

/// The table of recipes as docs/training.md gives it (Markdown).
#[cfg(test)]
pub fn markdown_table() -> String {
    let mut table = String::from(
        "| data | `--dataset` | `--aug` | `--crop-scale` | `--dropout` | training images |\n|---|---|---|---|---|---|\n",
    );
    for r in &RECIPES {
        let images = match r.data {
            DataKind::Synthetic => "new ones every epoch (`--synthetic-draw fresh`)",
            DataKind::Photos => "the same files every epoch",
        };
        table.push_str(&format!(
            "| {} | {} | {} | {} | {} | {images} |\n",
            kind_name(r.data),
            r.data.datasets(),
            r.aug_text(),
            r.crop_scale_text(),
            r.dropout_text(),
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_get_a_random_augmentation_and_the_variants_dropout() {
        for dataset in [
            DatasetKind::Folder,
            DatasetKind::Imagenet,
            DatasetKind::Cifar10,
            DatasetKind::Imagenette,
        ] {
            let recipe = Recipe::of(dataset);
            assert_eq!(recipe.aug(None), AugmentPreset::Torchvision);
            assert_eq!(recipe.aug(Some(Preset::Paper)), AugmentPreset::Paper);
            assert_eq!(
                recipe.crop_scale(AugmentPreset::Torchvision),
                Some(PHOTO_CROP_SCALE)
            );
            assert_eq!(recipe.crop_scale(AugmentPreset::Paper), None);
            for arch in [Arch::Standard, Arch::Torchvision, Arch::Paper2012] {
                assert_eq!(recipe.dropout(arch), 0.5);
            }
        }
    }

    #[test]
    fn the_synthetic_set_trains_the_standard_model_without_augmentation_or_dropout() {
        let recipe = Recipe::of(DatasetKind::Synthetic);
        assert_eq!(recipe.aug(None), AugmentPreset::Eval);
        assert_eq!(recipe.dropout(Arch::Standard), 0.0);
        assert_eq!(recipe.dropout(Arch::Torchvision), 0.5);
        assert_eq!(recipe.dropout(Arch::Paper2012), 0.5);
    }

    #[test]
    fn docs_training_md_holds_the_recipe_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/training.md");
        let docs = std::fs::read_to_string(path).expect("docs/training.md");
        let table = markdown_table();
        assert!(
            docs.contains(&table),
            "docs/training.md must hold the recipe table as the trainer defines it:\n{table}"
        );
    }
}
