//! What a training run writes as it goes: the rows of `metrics.csv`, the progress it prints (and
//! Burn's TUI on a terminal), the `metrics.png` plot, and the log lines (stderr, or `train.log`
//! while the TUI owns the terminal).

pub mod logging;
pub mod metrics;
mod plot;
pub mod renderer;
pub mod terminal;
