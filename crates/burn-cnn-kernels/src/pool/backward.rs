//! Max pooling on `Autodiff<B>`: `B`'s tracked forward pass, and a backward pass that takes the
//! input gradient from [`PoolGrads`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};
use burn::tensor::ops::MaxPoolOptions;

use super::{AlexNetPool, PoolGrads};

#[derive(Debug)]
struct PoolBackward;

impl<B: Backend + PoolGrads> Backward<B, 1> for PoolBackward {
    type State = B::Saved;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [node] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        if let Some(node) = node {
            grads.register::<B>(node.id, B::max_pool2d_grad(ops.state, grad));
        }
    }
}

impl<B, C> AlexNetPool for Autodiff<B, C>
where
    B: Backend + AlexNetPool + PoolGrads,
    C: CheckpointStrategy,
{
    fn alexnet_max_pool2d(x: FloatTensor<Self>, options: MaxPoolOptions<2>) -> FloatTensor<Self> {
        match PoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (output, saved) = B::max_pool2d_tracked(x.into_primitive(), options);
                prep.finish(saved, output)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::alexnet_max_pool2d(x.into_primitive(), options))
            }
        }
    }
}
