#!/usr/bin/env python3
"""Golden parameters for the SGD test (tests/sgd.rs): torch.optim.SGD over 20 steps.

Two parameters shaped like a burn `Linear(5, 6)` (weight [5, 6], bias [6]) start from seeded
normal values; each step gets seeded normal gradients and its own learning rate (a warm-up then
a decay, as a schedule would give). For each configuration the parameters after every step are
recorded, so the Rust test can compare step by step.

    python3 crates/burn-cnn-kernels/tools/make_sgd_fixtures.py   # torch 2.9.0, safetensors

A second, large case reaches more than two of the fused kernel's parallel chunks (2^16
elements each, in src/optim/sgd/flex.rs): a parameter of LARGE elements whose starting values and
gradients are integer formulas that Rust computes bit for bit the same (see `large_input`), three
steps, and the parameter after the last step at SAMPLED indices (every 31st element and those
around each chunk boundary), which keeps the file small.

Writes tests/fixtures/sgd.safetensors (about 140 KB): "weight0", "bias0", "grad_weight"
[20, 5, 6], "grad_bias" [20, 6], "lr" [20], and "<config>/weight", "<config>/bias" [20, ...];
"large/index" (the sampled indices, as f32), "large/param0" and "large/grad<step>" at them
(to check the formulas), "large/lr" [3], and "large/<config>" for "paper" and "plain".
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


CHUNK = 1 << 16
LARGE = 2 * CHUNK + 1234
LARGE_STEPS = 3
LARGE_CONFIGS = ["paper", "plain"]


def large_input(salt):
    """Element i: ((i * 7919 + salt) % 2003) / 1000 - 1 in f32 (exact integers, one rounding)."""
    i = torch.arange(LARGE, dtype=torch.int64)
    return ((i * 7919 + salt) % 2003).to(torch.float32) / 1000.0 - 1.0


def sampled_indices():
    """Every 31st index, the 4 on each side of every chunk boundary, and the last."""
    index = set(range(0, LARGE, 31)) | {LARGE - 1}
    for boundary in range(CHUNK, LARGE, CHUNK):
        index |= set(range(boundary - 4, boundary + 4))
    return torch.tensor(sorted(index), dtype=torch.int64)


def large_case():
    """The large case's tensors (see the module documentation)."""
    index = sampled_indices()
    lr = [0.05, 0.04, 0.03]
    grads = [large_input(101 * (s + 1)) for s in range(LARGE_STEPS)]
    out = {
        "large/index": index.to(torch.float32),
        "large/param0": large_input(0)[index],
        "large/lr": torch.tensor(lr),
    }
    for s, grad in enumerate(grads):
        out[f"large/grad{s}"] = grad[index]
    for name in LARGE_CONFIGS:
        momentum, dampening, nesterov, wd = CONFIGS[name]
        p = large_input(0).requires_grad_()
        opt = torch.optim.SGD(
            [p], lr=0.0, momentum=momentum, dampening=dampening, nesterov=nesterov,
            weight_decay=wd,
        )
        for s in range(LARGE_STEPS):
            opt.param_groups[0]["lr"] = lr[s]
            p.grad = grads[s].clone()
            opt.step()
        out[f"large/{name}"] = p.detach()[index]
    return out


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
    out.update(large_case())
    path = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sgd.safetensors"
    save_file({k: v.contiguous() for k, v in out.items()}, str(path))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
