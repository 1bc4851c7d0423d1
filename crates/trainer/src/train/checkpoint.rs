//! The model checkpointer of a training run: Burn's file checkpointer (`checkpoint/model-N.bpk`),
//! each file written with the model's metadata (as the final `model.bpk`, so `eval` and
//! `predict --weights` read a checkpoint as they read the final model), and `filters.png`
//! redrawn from every model it saves, so the picture follows the epochs as `metrics.png` does.

use std::path::{Path, PathBuf};

use alexnet::AlexNetConfig;
use anyhow::{Context, anyhow};
use burn::store::burn_pack::{Reader, Writer};
use burn::store::{BurnpackStore, ModuleRecord, ModuleStore, RecordError, bridge};
use burn::train::checkpoint::{Checkpointer, CheckpointerError, FileCheckpointer};

use crate::figures::kernels::Kernels;

/// Saves, restores and deletes model checkpoints as [`FileCheckpointer`] does, and draws conv1's
/// kernels of each saved model into `filters.png`.
pub struct ModelCheckpointer {
    files: FileCheckpointer,
    dir: PathBuf,
    groups: usize,
    filters: PathBuf,
    metadata: Vec<(&'static str, String)>,
}

impl ModelCheckpointer {
    /// Checkpoints of a model of `config` with `classes` in `run_dir/checkpoint`, the picture in
    /// `run_dir/filters.png`, drawn in the model's convolution groups.
    pub fn new(run_dir: &Path, config: &AlexNetConfig, classes: &[String]) -> Self {
        let dir = run_dir.join("checkpoint");
        Self {
            files: FileCheckpointer::new(&dir, "model"),
            dir,
            groups: config.groups,
            filters: run_dir.join("filters.png"),
            metadata: alexnet::weights::metadata_entries(config, Some(classes)),
        }
    }

    /// Writes `record` as the checkpoint of `epoch`, with the model's metadata, atomically.
    fn write(&self, epoch: usize, record: ModuleRecord) -> Result<(), CheckpointerError> {
        let tensors = Reader::from_bytes(record.into_bytes().map_err(CheckpointerError::Record)?)
            .and_then(Reader::into_tensors)
            .map_err(|e| CheckpointerError::Record(RecordError::from(e)))?;
        let writer = self
            .metadata
            .iter()
            .fold(Writer::new(tensors), |w, (key, value)| {
                w.with_metadata(key, value)
            })
            .auto_extension(false)
            .overwrite(true);
        let path = self.dir.join(format!("model-{epoch}.bpk"));
        alexnet::atomic::write_with(&path, |tmp| {
            writer
                .write_to_file_in_place(tmp)
                .map_err(std::io::Error::other)
        })
        .map_err(CheckpointerError::IOError)
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
        self.write(epoch, record)?;
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
