//! AdamW with the semantics of `torch.optim.AdamW` and of Burn's `AdamW` (the same arithmetic:
//! decoupled weight decay, bias-corrected moments, epsilon added to the corrected second
//! moment's square root), as a Burn [`Optimizer`].
//!
//! On flex devices each parameter is updated in one fused pass that reads the gradient once and
//! writes the parameter and both moments in place (the parameter otherwise goes to the
//! gradient's buffer), where Burn's `AdamW` runs some fifteen tensor operations, each a pass
//! over memory with a fresh buffer. Other backends run Burn's own `AdamW`. The state is Burn's
//! [`AdamWState`], so the checkpoints of either resume with the other.
//!
//! ```no_run
//! use burn_cnn_kernels::optim::AdamWConfig;
//!
//! // Burn's defaults (betas 0.9 and 0.999, epsilon 1e-5) with weight decay 1e-4.
//! let mut optim = AdamWConfig::new()
//!     .with_weight_decay(1e-4)
//!     .init()
//!     .expect("a valid configuration");
//! ```

#[cfg(feature = "flex")]
mod flex;

use burn::optim::{AdamWState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::tensor::{Device, Tensor};

/// The hyper-parameters of [`AdamW`], with Burn's `AdamWConfig` defaults (betas 0.9 and 0.999,
/// epsilon 1e-5, weight decay 1e-4; `torch.optim.AdamW` defaults to epsilon 1e-8 and weight
/// decay 1e-2). The learning rate comes with each step, from the schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// Decay of the first moment (the gradient's running mean).
    pub beta_1: f64,
    /// Decay of the second moment (the squared gradient's running mean).
    pub beta_2: f64,
    /// Added to the corrected second moment's square root.
    pub epsilon: f64,
    /// Decoupled weight decay: each step multiplies the parameter by `1 - lr * weight_decay`.
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-5,
            weight_decay: 1e-4,
        }
    }
}

/// An [`AdamWConfig`] that `torch.optim.AdamW` would refuse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AdamWConfigError {
    /// A value is outside its range (betas in [0, 1), epsilon and weight decay finite and >= 0).
    #[error("AdamW {name} must be {range}, not {value}")]
    OutOfRange {
        /// The hyper-parameter.
        name: &'static str,
        /// Its allowed range, in words.
        range: &'static str,
        /// Its value.
        value: f64,
    },
}

impl AdamWConfig {
    /// Burn's defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// With the moments' decays `beta_1` and `beta_2`.
    pub fn with_betas(self, beta_1: f64, beta_2: f64) -> Self {
        Self {
            beta_1,
            beta_2,
            ..self
        }
    }

    /// With `epsilon`.
    pub fn with_epsilon(self, epsilon: f64) -> Self {
        Self { epsilon, ..self }
    }

    /// With decoupled weight decay `weight_decay`.
    pub fn with_weight_decay(self, weight_decay: f64) -> Self {
        Self {
            weight_decay,
            ..self
        }
    }

    /// Checks the values as `torch.optim.AdamW` does.
    pub fn validate(&self) -> Result<(), AdamWConfigError> {
        let beta = |v: f64| (0.0..1.0).contains(&v);
        let non_negative = |v: f64| v.is_finite() && v >= 0.0;
        for (name, value, ok, range) in [
            ("beta_1", self.beta_1, beta(self.beta_1), "in [0, 1)"),
            ("beta_2", self.beta_2, beta(self.beta_2), "in [0, 1)"),
            (
                "epsilon",
                self.epsilon,
                non_negative(self.epsilon),
                "finite and >= 0",
            ),
            (
                "weight decay",
                self.weight_decay,
                non_negative(self.weight_decay),
                "finite and >= 0",
            ),
        ] {
            if !ok {
                return Err(AdamWConfigError::OutOfRange { name, range, value });
            }
        }
        Ok(())
    }

    /// The optimiser, checked.
    pub fn build(&self) -> Result<AdamW, AdamWConfigError> {
        self.validate()?;
        let burn = burn::optim::AdamWConfig::new()
            .with_beta_1(self.beta_1 as f32)
            .with_beta_2(self.beta_2 as f32)
            .with_epsilon(self.epsilon as f32)
            .with_weight_decay(self.weight_decay as f32)
            .build();
        Ok(AdamW {
            config: *self,
            burn,
        })
    }

    /// The optimiser for a whole module, as Burn's optimiser configurations return it.
    pub fn init(&self) -> Result<ModuleOptimizer, AdamWConfigError> {
        Ok(ModuleOptimizer::from(self.build()?))
    }
}

/// AdamW; see the [module](self) documentation.
#[derive(Clone)]
pub struct AdamW {
    config: AdamWConfig,
    /// Burn's own AdamW with the same values, for the backends the fused step does not cover.
    burn: burn::optim::AdamW,
}

impl std::fmt::Debug for AdamW {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdamW")
            .field("config", &self.config)
            .finish()
    }
}

/// The values of one step of one parameter, as the kernel uses them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Step {
    pub beta_1: f32,
    pub beta_2: f32,
    pub epsilon: f32,
    /// `1 - beta_1^t` and `1 - beta_2^t` at this step `t` (1-based).
    pub correction_1: f32,
    pub correction_2: f32,
    /// What the parameter is multiplied by before the update: `1 - lr * weight_decay`.
    pub decay: f32,
    pub lr: f32,
}

impl Step {
    /// The values of step `time` (1-based) at learning rate `lr`, in Burn's arithmetic.
    fn new(config: &AdamWConfig, lr: LearningRate, time: usize) -> Self {
        let (beta_1, beta_2) = (config.beta_1 as f32, config.beta_2 as f32);
        let t = i32::try_from(time).unwrap_or(i32::MAX);
        Self {
            beta_1,
            beta_2,
            epsilon: config.epsilon as f32,
            correction_1: 1.0 - beta_1.powi(t),
            correction_2: 1.0 - beta_2.powi(t),
            decay: (1.0 - lr * (config.weight_decay as f32) as f64) as f32,
            lr: lr as f32,
        }
    }

    /// The new parameter value of one element, updating its moments `m` and `v`, in the order
    /// of Burn's tensor operations.
    #[inline(always)]
    pub fn element(&self, param: f32, grad: f32, m: &mut f32, v: &mut f32) -> f32 {
        *m = *m * self.beta_1 + grad * (1.0 - self.beta_1);
        *v = *v * self.beta_2 + grad * grad * (1.0 - self.beta_2);
        let m_hat = *m / self.correction_1;
        let v_hat = *v / self.correction_2;
        param * self.decay - m_hat / (v_hat.sqrt() + self.epsilon) * self.lr
    }
}

impl Optimizer for AdamW {
    type State<const D: usize> = AdamWState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        #[cfg(feature = "flex")]
        if matches!(
            crate::kernel_backend(&tensor.device()),
            Some(crate::KernelBackend::Flex)
        ) && flex::applies(&tensor, &grad, state.as_ref())
        {
            let moments = state.map(|s| s.momentum);
            let time = moments.as_ref().map_or(1, |m| m.time + 1);
            let step = Step::new(&self.config, lr, time);
            let (param, moment_1, moment_2) = flex::step(tensor, grad, moments, step);
            let momentum = AdaptiveMomentumState {
                time,
                moment_1,
                moment_2,
                max_moment_2: None,
            };
            return (param, Some(AdamWState { momentum }));
        }
        self.burn.step(lr, tensor, grad, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <burn::optim::AdamW as Optimizer>::to_device(state, device)
    }
}
