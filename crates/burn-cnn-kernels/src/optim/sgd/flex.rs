//! The fused SGD step on flex: one pass over each parameter's elements, in place.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::Step;
use crate::flex_slices::{OPTIM_CHUNK, contiguous, elements, elements_mut, flex_primitive};

/// Whether the fused step can run on tensors of a flex device: all of them f32.
pub(super) fn applies<const D: usize>(
    param: &Tensor<D>,
    grad: &Tensor<D>,
    velocity: Option<&Tensor<D>>,
) -> bool {
    [Some(param), Some(grad), velocity]
        .into_iter()
        .flatten()
        .all(|t| t.dtype() == DType::F32)
}

/// The step of `param` with `grad` (and the momentum buffer `velocity` when `momentum`) as one
/// fused pass, for tensors on flex that [`applies`] accepts.
pub(super) fn step<const D: usize>(
    param: Tensor<D>,
    grad: Tensor<D>,
    velocity: Option<Tensor<D>>,
    step: Step,
    momentum: bool,
) -> (Tensor<D>, Option<Tensor<D>>) {
    let shape = param.shape();
    let param = contiguous(flex_primitive(param));
    let grad = contiguous(flex_primitive(grad));
    let velocity = match (momentum, velocity) {
        (false, _) => None,
        (true, Some(v)) => Some(contiguous(flex_primitive(v))),
        // The first step overwrites the buffer; it only has to exist.
        (true, None) => Some(Flex::float_from_data(
            TensorData::new(vec![0.0f32; shape.num_elements()], shape),
            &Default::default(),
        )),
    };
    let (param, velocity) = fused(param, grad, velocity, step);
    (
        Tensor::from_primitive::<Flex>(param),
        velocity.map(Tensor::from_primitive::<Flex>),
    )
}

/// The update of contiguous f32 tensors. The parameter is written in place when nothing else
/// holds its storage; otherwise the result goes into the gradient's storage, which the step
/// consumes, so that no buffer is allocated either way.
fn fused(
    mut param: FloatTensor<Flex>,
    mut grad: FloatTensor<Flex>,
    mut velocity: Option<FloatTensor<Flex>>,
    step: Step,
) -> (FloatTensor<Flex>, Option<FloatTensor<Flex>>) {
    let in_place = param.is_unique();
    let (out, input) = if in_place {
        (elements_mut(&mut param), elements(&grad))
    } else {
        (elements_mut(&mut grad), elements(&param))
    };
    // `out` holds the parameter (in place) or the gradient (otherwise); `input` the other one.
    let split = |o: f32, i: f32| if in_place { (o, i) } else { (i, o) };
    match velocity.as_mut().map(elements_mut) {
        Some(v) => out
            .par_chunks_mut(OPTIM_CHUNK)
            .zip(input.par_chunks(OPTIM_CHUNK))
            .zip(v.par_chunks_mut(OPTIM_CHUNK))
            .for_each(|((out, input), v)| {
                for ((o, &i), v) in out.iter_mut().zip(input).zip(v) {
                    let (p, g) = split(*o, i);
                    *o = step.element(p, g, v);
                }
            }),
        None => out
            .par_chunks_mut(OPTIM_CHUNK)
            .zip(input.par_chunks(OPTIM_CHUNK))
            .for_each(|(out, input)| {
                for (o, &i) in out.iter_mut().zip(input) {
                    let (p, g) = split(*o, i);
                    *o = step.element_plain(p, g);
                }
            }),
    }
    (if in_place { param } else { grad }, velocity)
}
