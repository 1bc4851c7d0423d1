#!/usr/bin/env python3
"""Golden gradients for the cross-backend parity test (tests/backend_parity.rs).

Loads the reduced-width fixture models written by make_fixtures.py (tests/fixtures/<variant>.pth),
feeds them input_b (2x3x99x131, times the variant's input scale) with labels [3, 7], and records
PyTorch's logits, the mean cross-entropy loss and the gradient of that loss with respect to every
parameter, under the Rust crate's parameter names (conv1.weight ... fc8.bias). Dropout is off
(eval mode), as in the Rust test, which builds the models with dropout 0.

    python3 crates/alexnet/tools/make_grad_fixtures.py   # torch 2.9.0, torchvision 0.24.0

Writes tests/fixtures/grads.safetensors (keys "<variant>/logits", "<variant>/loss",
"<variant>/<param>"), about 0.5 MB.
"""

import pathlib
import sys

import torch
from safetensors.torch import load_file, save_file
from torch import nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import make_fixtures as mf  # noqa: E402

LABELS = [3, 7]

# torchvision's module tree -> the Rust crate's layer names.
TORCHVISION_NAMES = {
    "features.0": "conv1",
    "features.3": "conv2",
    "features.6": "conv3",
    "features.8": "conv4",
    "features.10": "conv5",
    "classifier.1": "fc6",
    "classifier.4": "fc7",
    "classifier.6": "fc8",
}


def main():
    inputs = load_file(mf.OUT / "inputs.safetensors")
    out = {}
    for name, (widths, pad1, groups, lrn, scale) in mf.VARIANTS.items():
        if name == "torchvision":
            model = mf.TorchvisionReference(widths, pad1)
        else:
            model = mf.AlexNetReference(widths, pad1, groups, lrn)
        model.load_state_dict(torch.load(mf.OUT / f"{name}.pth", weights_only=True))
        model.eval()  # no dropout
        x = inputs["input_b"] * scale
        logits = model(x)
        loss = nn.functional.cross_entropy(logits, torch.tensor(LABELS))
        loss.backward()
        out[f"{name}/logits"] = logits.detach().contiguous()
        out[f"{name}/loss"] = loss.detach().reshape(1)
        for key, param in model.named_parameters():
            layer, kind = key.rsplit(".", 1)
            layer = TORCHVISION_NAMES.get(layer, layer)
            out[f"{name}/{layer}.{kind}"] = param.grad.detach().contiguous()
        print(name, f"loss {loss.item():.6f}")
    save_file(out, mf.OUT / "grads.safetensors")


if __name__ == "__main__":
    main()
