//! The GPU runtime's settings (cubecl, under Burn's wgpu, vulkan and cuda backends): the
//! autotune level, and where the persistent autotune cache lives. With that cache (Burn's
//! `persistence` feature, on with the GPU features here) a process starts with the kernel
//! choices an earlier one measured instead of tuning every operation again.
//!
//! cubecl reads its settings once, from the nearest `cubecl.toml` (or `burn.toml`'s `[cubecl]`)
//! and the `CUBECL_*` environment variables; [`configure_gpu_runtime`] takes those and changes
//! two things before the first GPU operation: the autotune level, when the caller names one, and
//! the cache folder, which moves from cubecl's default (`target/environment` of the outermost
//! Cargo workspace above the working directory, deleted by `cargo clean`) to the user's cache
//! folder (`$XDG_CACHE_HOME/cubecl`, or `~/.cache/cubecl`), unless the file sets another than
//! `target`.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// How hard cubecl's autotuner searches (its own levels, `CUBECL_AUTOTUNE_LEVEL`'s values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutotuneLevel {
    /// The fewest candidates.
    Minimal,
    /// cubecl's default.
    Balanced,
    /// More candidates.
    Extensive,
    /// Every candidate.
    Full,
}

impl AutotuneLevel {
    /// The level's name.
    pub fn name(self) -> &'static str {
        match self {
            AutotuneLevel::Minimal => "minimal",
            AutotuneLevel::Balanced => "balanced",
            AutotuneLevel::Extensive => "extensive",
            AutotuneLevel::Full => "full",
        }
    }
}

impl fmt::Display for AutotuneLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for AutotuneLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "minimal" | "0" => Ok(AutotuneLevel::Minimal),
            "balanced" | "1" => Ok(AutotuneLevel::Balanced),
            "extensive" | "2" => Ok(AutotuneLevel::Extensive),
            "full" | "3" => Ok(AutotuneLevel::Full),
            other => Err(format!(
                "unknown autotune level `{other}`: expected minimal, balanced, extensive or full"
            )),
        }
    }
}

/// What the GPU runtime was configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuRuntime {
    /// The autotune level in force.
    pub autotune_level: AutotuneLevel,
    /// The persistent autotune cache's folder (`None`: the cache is off).
    pub cache_dir: Option<PathBuf>,
}

/// Applies `level` (when given) and the cache folder to the GPU runtime; call it before the
/// first GPU operation of the process. `None` when no GPU backend is compiled in, or when the
/// runtime had already read its settings (they cannot change then).
pub fn configure_gpu_runtime(level: Option<AutotuneLevel>) -> Option<GpuRuntime> {
    imp::configure(level)
}

#[cfg(any(feature = "wgpu", feature = "vulkan", feature = "cuda"))]
mod imp {
    use burn::cubecl::config::autotune::AutotuneLevel as Level;
    use burn::cubecl::config::cache::CacheConfig;
    use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

    use super::{AutotuneLevel, GpuRuntime};

    pub fn configure(level: Option<AutotuneLevel>) -> Option<GpuRuntime> {
        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        if let Some(level) = level {
            config.autotune.level = match level {
                AutotuneLevel::Minimal => Level::Minimal,
                AutotuneLevel::Balanced => Level::Balanced,
                AutotuneLevel::Extensive => Level::Extensive,
                AutotuneLevel::Full => Level::Full,
            };
        }
        if matches!(config.environment.path, CacheConfig::Target) {
            config.environment.path = CacheConfig::Global;
        }
        let applied = GpuRuntime {
            autotune_level: match config.autotune.level {
                Level::Minimal => AutotuneLevel::Minimal,
                Level::Balanced => AutotuneLevel::Balanced,
                Level::Extensive => AutotuneLevel::Extensive,
                Level::Full => AutotuneLevel::Full,
            },
            cache_dir: (!config.autotune.disable_cache).then(|| config.environment.path.root()),
        };
        CubeClRuntimeConfig::try_set(config).then_some(applied)
    }
}

#[cfg(not(any(feature = "wgpu", feature = "vulkan", feature = "cuda")))]
mod imp {
    use super::{AutotuneLevel, GpuRuntime};

    pub fn configure(_level: Option<AutotuneLevel>) -> Option<GpuRuntime> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_by_name_and_number() {
        for level in [
            AutotuneLevel::Minimal,
            AutotuneLevel::Balanced,
            AutotuneLevel::Extensive,
            AutotuneLevel::Full,
        ] {
            assert_eq!(level.name().parse(), Ok(level));
        }
        assert_eq!("2".parse(), Ok(AutotuneLevel::Extensive));
        assert!("max".parse::<AutotuneLevel>().is_err());
    }

    /// The settings reach cubecl: its configuration reads back the level and the folder.
    #[cfg(any(feature = "wgpu", feature = "vulkan", feature = "cuda"))]
    #[test]
    fn the_level_and_the_cache_folder_reach_cubecl() {
        use burn::cubecl::config::autotune::AutotuneLevel as Level;
        use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

        let applied = configure_gpu_runtime(Some(AutotuneLevel::Extensive)).expect("first call");
        let config = CubeClRuntimeConfig::get();
        assert!(matches!(config.autotune.level, Level::Extensive));
        assert_eq!(applied.autotune_level, AutotuneLevel::Extensive);
        assert_eq!(applied.cache_dir, Some(config.environment.path.root()));
        let dir = applied.cache_dir.expect("cache on");
        assert!(
            !dir.components().any(|c| c.as_os_str() == "target"),
            "{dir:?}"
        );
        assert_eq!(configure_gpu_runtime(None), None, "settings are read once");
    }
}
