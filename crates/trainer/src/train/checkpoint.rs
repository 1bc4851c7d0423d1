//! The model checkpointer of a training run: Burn's file checkpointer (`checkpoint/model-N.bpk`),
//! and `filters.png` redrawn from every model it saves, so the picture follows the epochs as
//! `metrics.png` does.

use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use burn::store::{BurnpackStore, ModuleRecord, ModuleStore, bridge};
use burn::train::checkpoint::{Checkpointer, CheckpointerError, FileCheckpointer};

use crate::figures::kernels::Kernels;

/// Saves, restores and deletes model checkpoints as [`FileCheckpointer`] does, and draws conv1's
/// kernels of each saved model into `filters.png`.
pub struct ModelCheckpointer {
    files: FileCheckpointer,
    dir: PathBuf,
    groups: usize,
    filters: PathBuf,
}

impl ModelCheckpointer {
    /// Checkpoints in `run_dir/checkpoint`, the picture in `run_dir/filters.png`, drawn in
    /// `groups` blocks (the model's convolution groups).
    pub fn new(run_dir: &Path, groups: usize) -> Self {
        let dir = run_dir.join("checkpoint");
        Self {
            files: FileCheckpointer::new(&dir, "model"),
            dir,
            groups,
            filters: run_dir.join("filters.png"),
        }
    }

    /// Draws conv1 of the checkpoint of `epoch`, read back from its file.
    fn draw(&self, epoch: usize) -> anyhow::Result<()> {
        let path = self.dir.join(format!("model-{epoch}.bpk"));
        let mut store = BurnpackStore::from_file(&path);
        let weight = store
            .get_tensor("conv1.weight")
            .map_err(|e| anyhow!("{}: {e}", path.display()))?
            .with_context(|| format!("{}: no conv1.weight", path.display()))?;
        let weight = bridge::to_data(weight).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        Kernels::from_data(weight, self.groups)?
            .draw()
            .save(&self.filters)
    }
}

impl Checkpointer<ModuleRecord> for ModelCheckpointer {
    fn save(&self, epoch: usize, record: ModuleRecord) -> Result<(), CheckpointerError> {
        self.files.save(epoch, record)?;
        if let Err(e) = self.draw(epoch) {
            log::warn!("cannot draw {}: {e:#}", self.filters.display());
        }
        Ok(())
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        Checkpointer::<ModuleRecord>::delete(&self.files, epoch)
    }

    fn restore(&self, epoch: usize) -> Result<ModuleRecord, CheckpointerError> {
        self.files.restore(epoch)
    }
}
