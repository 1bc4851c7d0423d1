//! The fused SGD step on flex: one pass over each parameter's elements, in place.

use burn::backend::Flex;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use super::Step;
use crate::flex_slices::{contiguous, elements, elements_mut};

/// Elements per parallel task: large enough that a task's overhead is noise next to its
/// memory traffic, small enough that fc6's 38 M elements keep both cores busy.
const CHUNK: usize = 1 << 16;

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
    let param = contiguous(primitive(param));
    let grad = contiguous(primitive(grad));
    let velocity = match (momentum, velocity) {
        (false, _) => None,
        (true, Some(v)) => Some(contiguous(primitive(v))),
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

/// The flex primitive of a tensor on flex ([`applies`] checked the device).
fn primitive<const D: usize>(tensor: Tensor<D>) -> FloatTensor<Flex> {
    tensor
        .try_into_primitive::<Flex>()
        .expect("the device was checked to be flex")
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
            .par_chunks_mut(CHUNK)
            .zip(input.par_chunks(CHUNK))
            .zip(v.par_chunks_mut(CHUNK))
            .for_each(|((out, input), v)| {
                for ((o, &i), v) in out.iter_mut().zip(input).zip(v) {
                    let (p, g) = split(*o, i);
                    *o = step.element(p, g, v);
                }
            }),
        None => out
            .par_chunks_mut(CHUNK)
            .zip(input.par_chunks(CHUNK))
            .for_each(|(out, input)| {
                for (o, &i) in out.iter_mut().zip(input) {
                    let (p, g) = split(*o, i);
                    *o = step.element_plain(p, g);
                }
            }),
    }
    (if in_place { param } else { grad }, velocity)
}
