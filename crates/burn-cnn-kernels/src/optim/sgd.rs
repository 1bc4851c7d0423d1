//! SGD with PyTorch's semantics (`torch.optim.SGD`): momentum, dampening, Nesterov momentum and L2
//! weight decay, as a Burn [`Optimizer`].
//!
//! On flex devices each parameter is updated in one fused pass that reads the gradient once and
//! allocates nothing after the first step: the parameter and its momentum buffer are written in
//! place when nothing else holds them (the parameter otherwise goes to the gradient's buffer).
//! On LibTorch (the `tch` feature) the step is PyTorch's own in-place operations, as
//! `torch.optim.SGD` runs them. Other backends run the same arithmetic as tensor operations.
//! The state (the momentum buffers) is saved and loaded with the rest of a `ModuleOptimizer`'s
//! record, under the names Burn's own SGD uses, so the checkpoints of either resume with the
//! other.
//!
//! ```no_run
//! use burn_cnn_kernels::optim::SgdConfig;
//!
//! // The paper's optimiser: lr 0.01 (passed to each step), momentum 0.9, weight decay 5e-4.
//! let mut optim = SgdConfig::new()
//!     .with_momentum(0.9)
//!     .with_weight_decay(5e-4)
//!     .init()
//!     .expect("a valid configuration");
//! ```

#[cfg(feature = "flex")]
mod flex;
#[cfg(feature = "tch")]
mod tch;

use burn::optim::{
    LearningRate, ModuleOptimizer, Optimizer, RecordState, StateSink, StateSource, join_path,
};
use burn::tensor::{Device, Tensor};

/// The hyper-parameters of [`Sgd`], with `torch.optim.SGD`'s names and defaults (all zero, no
/// Nesterov). The learning rate is not part of it: it comes with each step, from the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SgdConfig {
    /// Momentum factor (0: plain SGD).
    pub momentum: f64,
    /// Dampening of the gradient in the momentum buffer.
    pub dampening: f64,
    /// Nesterov momentum (needs momentum > 0 and no dampening).
    pub nesterov: bool,
    /// L2 penalty: `weight_decay * param` is added to the gradient.
    pub weight_decay: f64,
}

/// An [`SgdConfig`] that `torch.optim.SGD` would refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SgdConfigError {
    /// A value is negative or not finite.
    #[error("SGD {name} must be a finite number >= 0, not {value}")]
    OutOfRange {
        /// The hyper-parameter.
        name: &'static str,
        /// Its value.
        value: f64,
    },
    /// Nesterov momentum without momentum, or with dampening.
    #[error("Nesterov momentum requires a momentum > 0 and zero dampening")]
    Nesterov,
}

impl SgdConfig {
    /// Plain SGD: no momentum, no dampening, no weight decay.
    pub fn new() -> Self {
        Self::default()
    }

    /// With momentum `momentum`.
    pub fn with_momentum(self, momentum: f64) -> Self {
        Self { momentum, ..self }
    }

    /// With dampening `dampening`.
    pub fn with_dampening(self, dampening: f64) -> Self {
        Self { dampening, ..self }
    }

    /// With or without Nesterov momentum.
    pub fn with_nesterov(self, nesterov: bool) -> Self {
        Self { nesterov, ..self }
    }

    /// With L2 weight decay `weight_decay`.
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        Self {
            weight_decay,
            ..self
        }
    }

    /// Checks the values as `torch.optim.SGD` does.
    pub fn validate(&self) -> Result<(), SgdConfigError> {
        for (name, value) in [
            ("momentum", self.momentum),
            ("dampening", self.dampening),
            ("weight decay", self.weight_decay),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SgdConfigError::OutOfRange { name, value });
            }
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(SgdConfigError::Nesterov);
        }
        Ok(())
    }

    /// The optimiser, checked.
    pub fn build(&self) -> Result<Sgd, SgdConfigError> {
        self.validate()?;
        Ok(Sgd { config: *self })
    }

    /// The optimiser for a whole module, as Burn's optimiser configurations return it.
    pub fn init(&self) -> Result<ModuleOptimizer, SgdConfigError> {
        Ok(ModuleOptimizer::from(self.build()?))
    }
}

/// SGD with PyTorch's semantics; see the [module](self) documentation.
#[derive(Debug, Clone)]
pub struct Sgd {
    config: SgdConfig,
}

/// One parameter's state: its momentum buffer (none without momentum).
#[derive(Debug, Clone)]
pub struct SgdState<const D: usize> {
    /// The momentum buffer, `buf` in PyTorch's documentation.
    pub velocity: Option<Tensor<D>>,
}

/// The values of one step, as the kernels use them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Step {
    pub lr: f32,
    pub momentum: f32,
    pub dampening: f32,
    pub nesterov: bool,
    pub weight_decay: f32,
    /// The first step of this parameter: the momentum buffer starts as the gradient.
    pub first: bool,
}

impl Step {
    /// The new parameter value of one element, updating its momentum buffer `velocity`.
    #[inline(always)]
    pub fn element(&self, param: f32, grad: f32, velocity: &mut f32) -> f32 {
        let d = grad + self.weight_decay * param;
        *velocity = if self.first {
            d
        } else {
            self.momentum * *velocity + (1.0 - self.dampening) * d
        };
        let update = if self.nesterov {
            d + self.momentum * *velocity
        } else {
            *velocity
        };
        param - self.lr * update
    }

    /// The new parameter value of one element without momentum.
    #[inline(always)]
    pub fn element_plain(&self, param: f32, grad: f32) -> f32 {
        param - self.lr * (grad + self.weight_decay * param)
    }
}

impl Optimizer for Sgd {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let c = &self.config;
        let velocity = state.and_then(|s| s.velocity);
        let step = Step {
            lr: lr as f32,
            momentum: c.momentum as f32,
            dampening: c.dampening as f32,
            nesterov: c.nesterov,
            weight_decay: c.weight_decay as f32,
            first: velocity.is_none(),
        };
        let momentum = c.momentum > 0.0;
        let (param, velocity) = dispatch(tensor, grad, velocity, step, momentum);
        (param, Some(SgdState { velocity }))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        SgdState {
            velocity: state.velocity.map(|v| v.to_device(device)),
        }
    }
}

/// The step on the parameter's backend: the fused kernel on flex (f32), PyTorch's in-place
/// operations on LibTorch, tensor operations everywhere else.
fn dispatch<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    velocity: Option<Tensor<D>>,
    step: Step,
    momentum: bool,
) -> (Tensor<D>, Option<Tensor<D>>) {
    #[cfg(feature = "flex")]
    match crate::kernel_backend(&param.device()) {
        Some(crate::KernelBackend::Flex) if flex::applies(&param, &grad, velocity.as_ref()) => {
            return flex::step(param, grad, velocity, step, momentum);
        }
        #[cfg(feature = "tch")]
        Some(crate::KernelBackend::LibTorch) => {
            return tch::step(param, grad, velocity, step, momentum);
        }
        _ => {}
    }
    tensor_step(param, grad, velocity, step, momentum)
}

/// The step as tensor operations, for every backend.
pub(crate) fn tensor_step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    velocity: Option<Tensor<D>>,
    step: Step,
    momentum: bool,
) -> (Tensor<D>, Option<Tensor<D>>) {
    let mut d = grad;
    if step.weight_decay != 0.0 {
        d = d + param.clone().mul_scalar(step.weight_decay);
    }
    if !momentum {
        return (param - d.mul_scalar(step.lr), None);
    }
    let velocity = match velocity {
        Some(v) if !step.first => {
            v.mul_scalar(step.momentum) + d.clone().mul_scalar(1.0 - step.dampening)
        }
        _ => d.clone(),
    };
    let update = if step.nesterov {
        d + velocity.clone().mul_scalar(step.momentum)
    } else {
        velocity.clone()
    };
    (param - update.mul_scalar(step.lr), Some(velocity))
}

/// Saved as Burn's `SgdState` saves its momentum, `<param>.momentum.velocity`.
impl<const D: usize> RecordState for SgdState<D> {
    fn state_flatten(&self, prefix: &str, out: &mut StateSink) {
        if let Some(velocity) = &self.velocity {
            let path = join_path(prefix, "momentum");
            out.push_tensor(&path, "velocity", velocity.clone().into_data());
        }
    }

    fn state_unflatten(prefix: &str, src: &mut StateSource, device: &Device) -> Option<Self> {
        let path = join_path(prefix, "momentum");
        let velocity = src
            .take_tensor(&path, "velocity")
            .map(|data| Tensor::from_data(data, device));
        Some(Self { velocity })
    }
}
