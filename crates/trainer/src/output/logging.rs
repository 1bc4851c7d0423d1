//! A small `log` backend: lines on stderr, or, while Burn's full-screen TUI owns the terminal,
//! into the run's `train.log` so they do not tear the display. `RUST_LOG` sets the level
//! (`error`, `warn`, `info`, `debug`, `trace`); other crates log at `warn` and above.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

use log::{Level, LevelFilter, Log, Metadata, Record};

struct Logger {
    level: LevelFilter,
    file: Mutex<Option<File>>,
}

static LOGGER: std::sync::OnceLock<Logger> = std::sync::OnceLock::new();

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let ours = ["trainer", "alexnet"]
            .iter()
            .any(|p| metadata.target().starts_with(p));
        metadata.level()
            <= if ours {
                self.level
            } else {
                LevelFilter::Warn.min(self.level)
            }
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = match record.level() {
            Level::Info => format!("{}\n", record.args()),
            level => format!("{}: {}\n", level.as_str().to_lowercase(), record.args()),
        };
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        match file.as_mut() {
            Some(f) => {
                let _ = f.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().write_all(line.as_bytes());
            }
        }
    }

    fn flush(&self) {}
}

/// Installs the logger (once).
pub fn init() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::Info);
    let logger = LOGGER.get_or_init(|| Logger {
        level,
        file: Mutex::new(None),
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level.max(LevelFilter::Warn));
    }
}

/// Sends log lines to `path` (appending) instead of stderr, or back to stderr with `None`.
pub fn redirect(path: Option<&Path>) {
    if let Some(logger) = LOGGER.get() {
        let file = path.and_then(|p| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .ok()
        });
        *logger.file.lock().unwrap_or_else(|p| p.into_inner()) = file;
    }
}
