//! The fused AdamW step on flex: one pass over each parameter's elements and both moments, in
//! place.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::optim::{AdamWState, AdaptiveMomentumState};
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::Step;
use crate::flex_slices::{OPTIM_CHUNK, contiguous, elements, elements_mut, flex_primitive};

/// Whether the fused step can run: the parameter, its gradient and the moments all f32, and no
/// AMSGrad maximum in the state (Burn's AdamW with `amsgrad` wrote it; this step has none).
pub(super) fn applies<const D: usize>(
    param: &Tensor<D>,
    grad: &Tensor<D>,
    state: Option<&AdamWState<D>>,
) -> bool {
    let moments = state.map(|s| &s.momentum);
    if moments.is_some_and(|m| m.max_moment_2.is_some()) {
        return false;
    }
    [
        Some(param),
        Some(grad),
        moments.map(|m| &m.moment_1),
        moments.map(|m| &m.moment_2),
    ]
    .into_iter()
    .flatten()
    .all(|t| t.dtype() == DType::F32)
}

/// The step of `param` with `grad` and the moments (none before the first step) as one fused
/// pass; returns the parameter and the two moments.
pub(super) fn step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    moments: Option<AdaptiveMomentumState<D>>,
    step: Step,
) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
    let shape = param.shape();
    let zeros = || {
        Flex::float_from_data(
            TensorData::new(vec![0.0f32; shape.num_elements()], shape.clone()),
            &Default::default(),
        )
    };
    let (m, v) = match moments {
        Some(s) => (
            contiguous(flex_primitive(s.moment_1)),
            contiguous(flex_primitive(s.moment_2)),
        ),
        None => (zeros(), zeros()),
    };
    let param = contiguous(flex_primitive(param));
    let grad = contiguous(flex_primitive(grad));
    let (param, m, v) = fused(param, grad, m, v, step);
    let tensor = Tensor::from_primitive::<Flex>;
    (tensor(param), tensor(m), tensor(v))
}

/// The update of contiguous f32 tensors. The parameter is written in place when nothing else
/// holds its storage, otherwise into the gradient's storage (which the step consumes); the
/// moments are written in place (copied first if shared).
fn fused(
    mut param: FloatTensor<Flex>,
    mut grad: FloatTensor<Flex>,
    mut m: FloatTensor<Flex>,
    mut v: FloatTensor<Flex>,
    step: Step,
) -> (FloatTensor<Flex>, FloatTensor<Flex>, FloatTensor<Flex>) {
    let in_place = param.is_unique();
    let (out, input) = if in_place {
        (elements_mut(&mut param), elements(&grad))
    } else {
        (elements_mut(&mut grad), elements(&param))
    };
    // `out` holds the parameter (in place) or the gradient (otherwise); `input` the other one.
    let split = |o: f32, i: f32| if in_place { (o, i) } else { (i, o) };
    out.par_chunks_mut(OPTIM_CHUNK)
        .zip(input.par_chunks(OPTIM_CHUNK))
        .zip(elements_mut(&mut m).par_chunks_mut(OPTIM_CHUNK))
        .zip(elements_mut(&mut v).par_chunks_mut(OPTIM_CHUNK))
        .for_each(|(((out, input), m), v)| {
            for (((o, &i), m), v) in out.iter_mut().zip(input).zip(m).zip(v) {
                let (p, g) = split(*o, i);
                *o = step.element(p, g, m, v);
            }
        });
    (if in_place { param } else { grad }, m, v)
}
