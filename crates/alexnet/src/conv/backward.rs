//! The convolution on `Autodiff<B>`: `B`'s forward pass, and a backward pass that takes the
//! input and weight gradients from [`ConvGrads`].

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend};
use burn::tensor::ops::ConvOptions;

use super::{AlexNetConv, ConvGrads};

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
        #[derive(Debug)]
        struct ConvBackward;

        impl<B: Backend + ConvGrads> Backward<B, 3> for ConvBackward {
            /// The forward pass's input, weight and bias, and its options.
            type State = (
                FloatTensor<B>,
                FloatTensor<B>,
                FloatTensor<B>,
                ConvOptions<2>,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight, node_bias] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, bias, options) = ops.state;

                if let Some(node) = node_x {
                    let dx = B::conv2d_input_grad(
                        x.clone(),
                        weight.clone(),
                        grad.clone(),
                        options.clone(),
                    );
                    grads.register::<B>(node.id, dx);
                }
                if let Some(node) = node_weight {
                    let dw = B::conv2d_weight_grad(x.clone(), weight, grad.clone(), options);
                    grads.register::<B>(node.id, dw);
                }
                if let Some(node) = node_bias {
                    grads.register::<B>(node.id, B::conv2d_bias_backward(x, bias, grad));
                }
            }
        }

        match ConvBackward
            .prepare::<C>([x.node(), weight.node(), bias.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (x, weight, bias) = (
                    x.primitive().clone(),
                    weight.primitive().clone(),
                    bias.primitive().clone(),
                );
                let output =
                    B::alexnet_conv2d(x.clone(), weight.clone(), bias.clone(), options.clone());
                prep.finish((x, weight, bias, options), output)
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
