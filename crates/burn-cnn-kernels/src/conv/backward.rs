//! The convolution on `Autodiff<B>`: `B`'s tracked forward pass, and a backward pass that takes
//! the gradients from [`ConvGrads`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};
use burn::tensor::ops::ConvOptions;

use super::{AlexNetConv, ConvGrads};

/// The backward step of one convolution: the gradients wanted at the forward pass (for `[x,
/// weight, bias]`).
#[derive(Debug)]
struct ConvBackward {
    wants: [bool; 3],
}

impl<B: Backend + ConvGrads> Backward<B, 3> for ConvBackward {
    type State = B::Saved;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let computed = B::conv2d_grads(ops.state, grad, self.wants);
        for (node, grad) in ops.parents.into_iter().zip(computed) {
            if let (Some(node), Some(grad)) = (node, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B, C> AlexNetConv for Autodiff<B, C>
where
    B: Backend + AlexNetConv + ConvGrads,
    C: CheckpointStrategy,
{
    fn alexnet_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        let wants = [x.is_tracked(), weight.is_tracked(), bias.is_tracked()];
        match (ConvBackward { wants })
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (output, saved) = B::conv2d_tracked(
                    x.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                    options,
                    wants,
                );
                prep.finish(saved, output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::alexnet_conv2d(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
                options,
            )),
        }
    }
}
