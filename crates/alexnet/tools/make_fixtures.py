#!/usr/bin/env python3
"""Golden values for the `alexnet` crate's PyTorch parity tests.

Builds each AlexNet variant in PyTorch at reduced width (every layer of the real network, LRN and
grouped convolutions included, but few channels so the fixtures stay small), with seeded weights,
and writes to crates/alexnet/tests/fixtures/:

  inputs.safetensors          input_a [1,3,227,227] (native size, adaptive pool is the identity)
                              input_b [2,3,99,131]  (small, non-square: the pool upsamples)
                              input_c [1,3,259,291] (large: overlapping adaptive windows)
  <variant>.pth               the state dict, torch.save (zip) format
  <variant>.safetensors       the same state dict as safetensors
  <variant>_expected.safetensors
                              logits_a, logits_b, logits_c, features_a (after the adaptive pool)
                              and fc7_a (after fc7's ReLU, torchvision's classifier[:6]),
                              all in eval mode (dropout off)
  torchvision_shapes.json     key -> shape of the real torchvision.models.alexnet() state dict
                              (checks full-size weight compatibility without a 233 MB file)

The widths here must match `fixture_config` in tests/pytorch_parity.rs.

Usage: pip install torch==2.9.0 torchvision==0.24.0 safetensors && python3 crates/alexnet/tools/make_fixtures.py
"""

import json
import pathlib

import torch
from torch import nn
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
NUM_CLASSES = 10
HIDDEN = 32

# variant -> (conv widths, conv1 padding, groups of conv2/4/5, LRN after conv1/conv2, input scale)
VARIANTS = {
    # paper2012 sees inputs on the paper's pixel scale (0-255 minus the mean), where LRN's
    # window sum matters next to k=2.
    "standard": ([8, 16, 24, 24, 16], 0, 1, False, 1.0),
    "paper2012": ([8, 16, 24, 24, 16], 0, 2, True, 50.0),
    "torchvision": ([8, 12, 24, 16, 16], 2, 1, False, 1.0),
}


class AlexNetReference(nn.Module):
    """AlexNet with parameter names equal to the Rust crate's (conv1..conv5, fc6..fc8)."""

    def __init__(self, widths, pad1, groups, lrn):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.conv1 = nn.Conv2d(3, c1, 11, stride=4, padding=pad1)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2, groups=groups)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.conv4 = nn.Conv2d(c3, c4, 3, padding=1, groups=groups)
        self.conv5 = nn.Conv2d(c4, c5, 3, padding=1, groups=groups)
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0) if lrn else nn.Identity()
        self.pool = nn.MaxPool2d(3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.dropout = nn.Dropout(0.5)
        self.fc6 = nn.Linear(c5 * 36, HIDDEN)
        self.fc7 = nn.Linear(HIDDEN, HIDDEN)
        self.fc8 = nn.Linear(HIDDEN, NUM_CLASSES)

    def features(self, x):
        x = self.pool(self.lrn(torch.relu(self.conv1(x))))
        x = self.pool(self.lrn(torch.relu(self.conv2(x))))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = self.pool(torch.relu(self.conv5(x)))
        return self.avgpool(x)

    def fc7_output(self, x):
        x = torch.flatten(self.features(x), 1)
        x = torch.relu(self.fc6(self.dropout(x)))
        return torch.relu(self.fc7(self.dropout(x)))

    def forward(self, x):
        return self.fc8(self.fc7_output(x))


class TorchvisionReference(nn.Module):
    """torchvision.models.alexnet's exact module tree (so the state-dict keys are torchvision's),
    with configurable widths."""

    def __init__(self, widths, pad1):
        super().__init__()
        c1, c2, c3, c4, c5 = widths
        self.features = nn.Sequential(
            nn.Conv2d(3, c1, kernel_size=11, stride=4, padding=pad1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c1, c2, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c2, c3, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c3, c4, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c4, c5, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Dropout(p=0.5),
            nn.Linear(c5 * 6 * 6, HIDDEN),
            nn.ReLU(inplace=True),
            nn.Dropout(p=0.5),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(inplace=True),
            nn.Linear(HIDDEN, NUM_CLASSES),
        )

    def forward(self, x):
        x = torch.flatten(self.avgpool(self.features(x)), 1)
        return self.classifier(x)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(2012)
    inputs = {
        "input_a": torch.randn(1, 3, 227, 227),
        "input_b": torch.randn(2, 3, 99, 131),
        "input_c": torch.randn(1, 3, 259, 291),
    }
    save_file(inputs, OUT / "inputs.safetensors")

    for seed, (name, (widths, pad1, groups, lrn, scale)) in enumerate(VARIANTS.items()):
        torch.manual_seed(100 + seed)
        if name == "torchvision":
            model = TorchvisionReference(widths, pad1)
            features = lambda m, x: m.avgpool(m.features(x))  # noqa: E731
            fc7 = lambda m, x: m.classifier[:6](torch.flatten(features(m, x), 1))  # noqa: E731
        else:
            model = AlexNetReference(widths, pad1, groups, lrn)
            features = lambda m, x: m.features(x)  # noqa: E731
            fc7 = lambda m, x: m.fc7_output(x)  # noqa: E731
        # He-normal weights keep activations at unit scale through all eight layers, so the
        # logits depend on the input (PyTorch's default init shrinks them towards the biases).
        for module in model.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.normal_(module.bias, std=0.1)
        model.eval()
        state = {k: v.contiguous() for k, v in model.state_dict().items()}
        torch.save(state, OUT / f"{name}.pth")
        save_file(state, OUT / f"{name}.safetensors")
        with torch.no_grad():
            expected = {
                f"logits_{k[-1]}": model(x * scale).contiguous() for k, x in inputs.items()
            }
            expected["features_a"] = features(model, inputs["input_a"] * scale).contiguous()
            expected["fc7_a"] = fc7(model, inputs["input_a"] * scale).contiguous()
        save_file(expected, OUT / f"{name}_expected.safetensors")
        print(name, sum(p.numel() for p in model.parameters()), "parameters")

    import torchvision

    full = torchvision.models.alexnet(weights=None)
    shapes = {k: list(v.shape) for k, v in full.state_dict().items()}
    (OUT / "torchvision_shapes.json").write_text(json.dumps(shapes, indent=1) + "\n")


if __name__ == "__main__":
    main()
