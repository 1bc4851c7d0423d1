#!/usr/bin/env python3
"""PyTorch's side of `crates/burn-cnn-kernels/benches/conv_layers.rs`: each of AlexNet's five convolutions
(standard variant, 227 px input) as a forward pass, an input gradient and a weight gradient, and
the im2col matrix multiplication alone, timed the same way (median of --iters runs after one
warm-up; a gradient time is forward + backward with only that tensor requiring a gradient, minus
the forward).

    python3 bench/pytorch_conv_layers.py --batch 16 --iters 5 --threads 2

Set the threads to the machine's cores (CI's machine has 2), as bench/pytorch_alexnet.py does.
"""

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

# name, c_in, c_out, kernel, stride, padding, input size
LAYERS = [
    ("conv1", 3, 96, 11, 4, 0, 227),
    ("conv2", 96, 256, 5, 1, 2, 27),
    ("conv3", 256, 384, 3, 1, 1, 13),
    ("conv4", 384, 384, 3, 1, 1, 13),
    ("conv5", 384, 256, 3, 1, 1, 13),
]


def median_ms(fn, iters):
    fn()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.batch < 1 or args.iters < 1 or args.threads < 1:
        parser.error("--batch, --iters and --threads must be at least 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n = args.batch

    print(f"pytorch {torch.__version__} cpu, {args.threads} threads, batch {n}, "
          f"median of {args.iters}; ms (GFLOP/s)")
    print(f"{'layer':<6} {'GFLOP':>7} | {'conv fwd':>15} {'conv dX':>15} {'conv dW':>15} "
          f"| {'gemm alone':>15}")
    totals = [0.0] * 4
    for name, c_in, c_out, k, s, p, size in LAYERS:
        out = (size + 2 * p - k) // s + 1
        gflop = 2.0 * n * c_out * out * out * c_in * k * k / 1e9
        x = torch.randn(n, c_in, size, size)
        w = torch.randn(c_out, c_in, k, k) * 0.01
        b = torch.zeros(c_out)
        g = torch.randn(n, c_out, out, out)

        def forward():
            with torch.no_grad():
                F.conv2d(x, w, b, stride=s, padding=p)

        def grad_of(which):
            xs = x.clone().requires_grad_(which == "x")
            ws = w.clone().requires_grad_(which == "w")
            wanted = xs if which == "x" else ws

            def step():
                y = F.conv2d(xs, ws, b, stride=s, padding=p)
                (y * g).sum().backward()
                assert wanted.grad.shape == wanted.shape
                wanted.grad = None

            return step

        a = torch.randn(c_out, c_in * k * k)
        cols = torch.randn(c_in * k * k, n * out * out)

        fwd = median_ms(forward, args.iters)
        dx = None if name == "conv1" else max(median_ms(grad_of("x"), args.iters) - fwd, 0.0)
        dw = max(median_ms(grad_of("w"), args.iters) - fwd, 0.0)
        gemm = median_ms(lambda: torch.mm(a, cols), args.iters)
        row = [fwd, dx, dw, gemm]
        for i, t in enumerate(row):
            totals[i] += t or 0.0

        def cell(t):
            return f"{'-':>15}" if t is None else f"{t:>7.1f} ({gflop / (t / 1e3):>5.0f})"

        print(f"{name:<6} {gflop:>7.2f} | {cell(fwd)} {cell(dx)} {cell(dw)} | {cell(gemm)}")
    print(f"{'total':<6} {'':>7} | " + " ".join(f"{t:>7.1f}        " for t in totals[:3])
          + f" | {totals[3]:>7.1f}")


if __name__ == "__main__":
    main()
