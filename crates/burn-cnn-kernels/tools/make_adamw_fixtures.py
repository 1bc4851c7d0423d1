#!/usr/bin/env python3
"""Golden parameters for the AdamW test (tests/adamw.rs): torch.optim.AdamW over 20 steps.

The parameters, gradients and learning rates of tools/make_sgd_fixtures.py (a burn `Linear(5,
6)`'s weight [5, 6] and bias [6], seeded normal values, a warm-up then a decay), and for each
configuration the parameters after every step. A second case reaches more than two of the fused
kernel's parallel chunks (2^16 elements each, in src/optim/adamw/flex.rs), with the integer
formulas of the SGD fixtures' large case, three steps, sampled at the same indices.

    python3 crates/burn-cnn-kernels/tools/make_adamw_fixtures.py   # torch 2.9.0, safetensors

Writes tests/fixtures/adamw.safetensors (about 30 KB): "<config>/weight", "<config>/bias"
[20, ...] and "large/<config>"; the test takes the inputs from sgd.safetensors.
"""

import pathlib

import torch
from safetensors.torch import save_file

from make_sgd_fixtures import (LARGE_STEPS, STEPS, large_input, sampled_indices)

CONFIGS = {
    # name: (beta_1, beta_2, epsilon, weight_decay)
    "default-run": (0.9, 0.999, 1e-5, 1e-4),
    "strong-decay": (0.8, 0.99, 1e-8, 0.05),
}


def step_all(params, grads, lr, config):
    beta_1, beta_2, eps, wd = config
    opt = torch.optim.AdamW(params, lr=0.0, betas=(beta_1, beta_2), eps=eps, weight_decay=wd)
    history = [[] for _ in params]
    for s, rate in enumerate(lr):
        for group in opt.param_groups:
            group["lr"] = float(rate)
        for p, g in zip(params, grads):
            p.grad = g[s].clone()
        opt.step()
        for h, p in zip(history, params):
            h.append(p.detach().clone())
    return [torch.stack(h) for h in history]


def main():
    # The inputs of make_sgd_fixtures.py, drawn in the same order from the same seed.
    g = torch.Generator().manual_seed(2012)
    weight0 = torch.randn(5, 6, generator=g)
    bias0 = torch.randn(6, generator=g)
    grad_weight = torch.randn(STEPS, 5, 6, generator=g)
    grad_bias = torch.randn(STEPS, 6, generator=g)
    lr = [0.05 * min(1.0, (s + 1) / 5) * 0.9 ** s for s in range(STEPS)]
    lr = torch.tensor(lr).tolist()
    out = {}
    index = sampled_indices()
    large_lr = [0.05, 0.04, 0.03]
    large_grads = torch.stack([large_input(101 * (s + 1)) for s in range(LARGE_STEPS)])
    for name, config in CONFIGS.items():
        w = weight0.clone().requires_grad_()
        b = bias0.clone().requires_grad_()
        ws, bs = step_all([w, b], [grad_weight, grad_bias], lr, config)
        out[f"{name}/weight"] = ws
        out[f"{name}/bias"] = bs
        p = large_input(0).requires_grad_()
        (ps,) = step_all([p], [large_grads], large_lr, config)
        out[f"large/{name}"] = ps[-1][index]
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "adamw.safetensors"
    save_file({k: v.contiguous() for k, v in out.items()}, str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
