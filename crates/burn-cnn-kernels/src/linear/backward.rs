//! The layer on `Autodiff<B>`: `B`'s forward pass, and a backward pass that takes the gradients
//! from [`LinearGrads`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};

use super::{AlexNetLinear, LinearGrads};

/// The backward step of one layer: the gradients wanted at the forward pass (for `[x, weight,
/// bias]`), as the convolution's.
#[derive(Debug)]
struct LinearBackward {
    wants: [bool; 3],
}

impl<B: Backend + LinearGrads> Backward<B, 3> for LinearBackward {
    /// The forward pass's input and weight.
    type State = (FloatTensor<B>, FloatTensor<B>);

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let (x, weight) = ops.state;
        let computed = B::linear_grads(x, weight, grad, self.wants);
        for (node, grad) in ops.parents.into_iter().zip(computed) {
            if let (Some(node), Some(grad)) = (node, grad) {
                grads.register::<B>(node.id, grad);
            }
        }
    }
}

impl<B, C> AlexNetLinear for Autodiff<B, C>
where
    B: Backend + AlexNetLinear + LinearGrads,
    C: CheckpointStrategy,
{
    fn alexnet_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let wants = [x.is_tracked(), weight.is_tracked(), bias.is_tracked()];
        match (LinearBackward { wants })
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight) = (x.primitive().clone(), weight.primitive().clone());
                let output = B::alexnet_linear(x.clone(), weight.clone(), bias.into_primitive());
                prep.finish((x, weight), output)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::alexnet_linear(
                x.into_primitive(),
                weight.into_primitive(),
                bias.into_primitive(),
            )),
        }
    }
}
