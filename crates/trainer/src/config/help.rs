//! `trainer --help` with every training flag's default, read from the configuration's defaults
//! and the recipe table, so the help cannot drift from what a run resolves.

use clap::{Command, CommandFactory, FromArgMatches};
use serde_json::Value;

use super::TrainConfig;
use super::recipe;
use crate::cli::Cli;

/// Parses the command line, with `--help` showing the defaults ([`with_defaults`]).
pub fn parse_cli() -> Cli {
    let matches = with_defaults(Cli::command()).get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

/// `command` (the trainer's) with `[default: ...]` after the help of each flag of `train`, at
/// the top level and under the `train` subcommand.
pub fn with_defaults(command: Command) -> Command {
    decorate(command.mut_subcommand("train", decorate))
}

/// Appends each flag's default to its help.
fn decorate(mut command: Command) -> Command {
    let ids: Vec<String> = command
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        let Some(default) = default_text(&id) else {
            continue;
        };
        command = command.mut_arg(id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            if help.contains("default") {
                return arg;
            }
            arg.help(format!("{help} [default: {default}]"))
        });
    }
    command
}

/// The default of the flag whose `config.json` key is `key`, as `--help` states it; `None` for
/// a flag without a value (a switch) or with no default value.
pub fn default_text(key: &str) -> Option<String> {
    if let Some(text) = recipe::help_default(key) {
        return Some(text);
    }
    let defaults = serde_json::to_value(TrainConfig::default()).ok()?;
    let text = match defaults.get(key)? {
        Value::Null | Value::Bool(_) => return None,
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Some(match key {
        "width" => format!("{text} (another --arch or --pretrained: 1)"),
        "image_size" => {
            format!("{text} (another --arch or --pretrained: the variant's 227 or 224)")
        }
        _ => text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Text with every run of whitespace as one space (clap may wrap long help lines).
    fn flat(text: &str) -> String {
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn help_shows_the_default_of_every_training_flag_that_has_one() {
        let mut command = with_defaults(Cli::command());
        let help = flat(&command.render_help().to_string());
        let mut train = command
            .find_subcommand_mut("train")
            .expect("a train subcommand")
            .clone();
        let train_help = flat(&train.render_help().to_string());
        let mut shown = 0;
        for arg in Cli::command().get_arguments() {
            let id = arg.get_id().to_string();
            let own = arg.get_help().map(ToString::to_string).unwrap_or_default();
            if own.contains("default") {
                // The flag's own help states its default (`--init`, `--workers`).
                continue;
            }
            if let Some(default) = default_text(&id) {
                let needle = flat(&format!("[default: {default}]"));
                assert!(help.contains(&needle), "--help lacks {needle}:\n{help}");
                assert!(train_help.contains(&needle), "train --help lacks {needle}");
                shown += 1;
            }
        }
        assert!(shown >= 20, "only {shown} defaults shown");
        // The recipe-dependent ones come from the recipe table, for each kind of data.
        for key in ["aug", "dropout"] {
            let text = recipe::help_default(key).expect("a recipe default");
            assert!(
                text.contains("synthetic: ") && text.contains("photos: "),
                "{text}"
            );
            assert!(help.contains(&flat(&text)), "{text}");
        }
        assert!(help.contains("[default: 128]"), "batch size");
        assert!(help.contains("[default: adamw]"), "optimiser");
    }
}
