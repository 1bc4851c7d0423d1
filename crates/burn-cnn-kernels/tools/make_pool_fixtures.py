#!/usr/bin/env python3
"""Golden max-pool gradients with tied windows for tests/pool.rs: PyTorch's first-index rule.

After a ReLU many windows hold several equal maxima (all zeros, often). PyTorch routes a window's
gradient to the first of its maxima in row-major order; these cases check that the project's
kernel does the same. Each case is AlexNet's pool (3x3, stride 2: overlapping windows) over a
seeded input of ReLU'd half-integers (many zeros and many equal positive values), one plane all
zeros, and a seeded output gradient.

    python3 crates/burn-cnn-kernels/tools/make_pool_fixtures.py   # torch 2.9.0, safetensors

Writes tests/fixtures/pool_ties.safetensors (about 40 KB): for each case "<case>/x" [N, C, H, W],
"<case>/dy" [N, C, H_out, W_out], and PyTorch's "<case>/y" and "<case>/dx".
"""

import pathlib

import torch
from safetensors.torch import save_file

CASES = {
    # name: input shape [N, C, H, W]
    "13x13": (2, 3, 13, 13),
    "27x27": (1, 4, 27, 27),
}


def main():
    g = torch.Generator().manual_seed(2012)
    out = {}
    for name, shape in CASES.items():
        x = torch.relu(torch.round(torch.randn(shape, generator=g) * 2) / 2)
        x[0, 1] = 0.0  # a plane after a dead ReLU: every window tied
        x = x.requires_grad_()
        y = torch.nn.functional.max_pool2d(x, kernel_size=3, stride=2)
        dy = torch.randn(y.shape, generator=g)
        (dx,) = torch.autograd.grad(y, x, dy)
        out[f"{name}/x"] = x.detach()
        out[f"{name}/dy"] = dy
        out[f"{name}/y"] = y.detach()
        out[f"{name}/dx"] = dx
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "pool_ties.safetensors"
    save_file({k: v.contiguous() for k, v in out.items()}, str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
