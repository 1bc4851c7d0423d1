#!/usr/bin/env python3
"""Golden parameters for the SGD test (tests/sgd.rs): torch.optim.SGD over 20 steps.

Two parameters shaped like a burn `Linear(5, 6)` (weight [5, 6], bias [6]) start from seeded
normal values; each step gets seeded normal gradients and its own learning rate (a warm-up then
a decay, as a schedule would give). For each configuration the parameters after every step are
recorded, so the Rust test can compare step by step.

    python3 crates/burn-cnn-kernels/tools/make_sgd_fixtures.py   # torch 2.9.0, safetensors

Writes tests/fixtures/sgd.safetensors (about 40 KB): "weight0", "bias0", "grad_weight"
[20, 5, 6], "grad_bias" [20, 6], "lr" [20], and "<config>/weight", "<config>/bias" [20, ...].
"""

import pathlib

import torch
from safetensors.torch import save_file

STEPS = 20
CONFIGS = {
    # name: (momentum, dampening, nesterov, weight_decay)
    "paper": (0.9, 0.0, False, 5e-4),
    "nesterov": (0.9, 0.0, True, 1e-2),
    "dampening": (0.8, 0.3, False, 0.0),
    "plain": (0.0, 0.0, False, 1e-3),
}


def main():
    g = torch.Generator().manual_seed(2012)
    weight0 = torch.randn(5, 6, generator=g)
    bias0 = torch.randn(6, generator=g)
    grad_weight = torch.randn(STEPS, 5, 6, generator=g)
    grad_bias = torch.randn(STEPS, 6, generator=g)
    lr = torch.tensor([0.05 * min(1.0, (s + 1) / 5) * 0.9 ** s for s in range(STEPS)])
    out = {
        "weight0": weight0,
        "bias0": bias0,
        "grad_weight": grad_weight,
        "grad_bias": grad_bias,
        "lr": lr,
    }
    for name, (momentum, dampening, nesterov, wd) in CONFIGS.items():
        w = weight0.clone().requires_grad_()
        b = bias0.clone().requires_grad_()
        opt = torch.optim.SGD(
            [w, b], lr=0.0, momentum=momentum, dampening=dampening, nesterov=nesterov,
            weight_decay=wd,
        )
        ws, bs = [], []
        for s in range(STEPS):
            for group in opt.param_groups:
                group["lr"] = float(lr[s])
            w.grad = grad_weight[s].clone()
            b.grad = grad_bias[s].clone()
            opt.step()
            ws.append(w.detach().clone())
            bs.append(b.detach().clone())
        out[f"{name}/weight"] = torch.stack(ws)
        out[f"{name}/bias"] = torch.stack(bs)
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sgd.safetensors"
    save_file({k: v.contiguous() for k, v in out.items()}, str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
