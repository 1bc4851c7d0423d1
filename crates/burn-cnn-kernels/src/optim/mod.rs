//! Optimisers with PyTorch's semantics whose step is one fused pass per parameter on flex:
//!
//! - [`Sgd`]: `torch.optim.SGD` (momentum, dampening, Nesterov, L2 weight decay); on LibTorch,
//!   PyTorch's in-place operations.
//! - [`AdamW`]: `torch.optim.AdamW` and Burn's `AdamW` (decoupled weight decay, bias-corrected
//!   moments); its state is Burn's `AdamWState`, so the checkpoints of either resume with the
//!   other.
//!
//! Both are Burn [`Optimizer`](burn::optim::Optimizer)s that a `ModuleOptimizer` drives; other
//! backends run the same arithmetic as tensor operations.

mod adamw;
mod sgd;

pub use adamw::{AdamW, AdamWConfig, AdamWConfigError};
pub use sgd::{Sgd, SgdConfig, SgdConfigError, SgdState};
