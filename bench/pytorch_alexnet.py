#!/usr/bin/env python3
"""PyTorch counterpart of `trainer bench`: the same AlexNet variants, the same synthetic input and
the same timing rule, so that `bench/compare.sh` can print Burn/PyTorch ratios.

* input: one random batch created once on the device (normal(0, 1)), labels i % classes;
* train step: forward, cross-entropy, backward, and the update of `--opt sgd` (lr 0.01, momentum
  0.9, dampening 0, weight decay 5e-4: the paper's) or `--opt adamw` (the default run's: lr 2e-3,
  eps 1e-5 as Burn's, weight decay 1e-4), each phase timed on its own (forward_ms, backward_ms,
  step_ms: medians);
* `--width` scales every layer's channels and hidden units as `trainer bench --width`;
* infer: forward under `torch.inference_mode()` with the model in eval mode;
* `--runtime onnxruntime` (infer only): the same model exported to ONNX and run by ONNX Runtime
  on the CPU with `--threads` intra-op threads;
* `--warmup` untimed iterations (the first one's time is reported as first_step_ms), then the
  median of `--iters` timed iterations. On the CPU the clock is read after the step returns
  (`--threads` threads, 2 by default like the CI machine); on CUDA the device is synchronised
  before every clock read (and CUDA events bracket the iteration).

Prints a table, or with `--json` one object per line with the fields of `trainer bench --json`:
backend, arch, mode, batch, image_size, images_per_sec, median_ms, forward_ms, backward_ms,
step_ms, first_step_ms, peak_rss_mb.

    python3 bench/pytorch_alexnet.py --device cpu --arch standard -b 16 --image-size 227
"""

import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
from torch import nn


class AlexNet(nn.Module):
    """The project's `standard` and `paper2012` variants (same layers as crates/alexnet)."""

    def __init__(self, widths, pad1, groups, lrn, classes, hidden=4096):
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
        self.fc6 = nn.Linear(c5 * 36, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.fc8 = nn.Linear(hidden, classes)

    def forward(self, x):
        x = self.pool(self.lrn(torch.relu(self.conv1(x))))
        x = self.pool(self.lrn(torch.relu(self.conv2(x))))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = self.pool(torch.relu(self.conv5(x)))
        x = torch.flatten(self.avgpool(x), 1)
        x = torch.relu(self.fc6(self.dropout(x)))
        x = torch.relu(self.fc7(self.dropout(x)))
        return self.fc8(x)


def build(arch, classes, width=1.0):
    def scaled(groups):
        # crates/alexnet's `with_width`: channels rounded to a multiple of the groups.
        def rounded(x):  # half away from zero, as Rust's f64::round
            return max(1, math.floor(x + 0.5))

        widths = [rounded(c * width / groups) * groups for c in (96, 256, 384, 384, 256)]
        return widths, rounded(4096 * width)

    if arch == "standard":
        widths, hidden = scaled(1)
        return AlexNet(widths, 0, 1, False, classes, hidden)
    if arch == "paper2012":
        widths, hidden = scaled(2)
        return AlexNet(widths, 0, 2, True, classes, hidden)
    if arch == "torchvision":
        import torchvision

        return torchvision.models.alexnet(num_classes=classes)
    raise SystemExit(f"unknown --arch {arch}")


def peak_rss_mb():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def onnx_session(model, images, threads, onnx_file=None):
    """A function running `model` on `images` through ONNX Runtime: PyTorch's export of it (once,
    in memory), or `onnx_file` (`trainer export`'s file, input `images`) when given."""
    import io

    import onnxruntime as ort

    if onnx_file is None:
        buffer = io.BytesIO()
        torch.onnx.export(model, (images,), buffer, input_names=["images"],
                          output_names=["logits"], dynamo=False)
        source = buffer.getvalue()
    else:
        source = onnx_file
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])
    feed = {"images": images.numpy()}
    return lambda: session.run(None, feed)


def run(args, mode):
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    dtype = {"fp32": None, "bf16": torch.bfloat16, "f16": torch.float16}[args.precision]
    torch.manual_seed(0)
    model = build(args.arch, args.num_classes, args.width).to(device)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    images = torch.randn(args.batch_size, 3, args.image_size, args.image_size, device=device)
    images = images.contiguous(memory_format=fmt)
    targets = torch.arange(args.batch_size, device=device) % args.num_classes
    autocast = (
        torch.autocast(device_type=device.type, dtype=dtype)
        if dtype is not None
        else torch.autocast(device_type=device.type, enabled=False)
    )

    if mode == "train":
        model.train()
        if args.opt == "adamw":
            optim = torch.optim.AdamW(model.parameters(), lr=2e-3, eps=1e-5, weight_decay=1e-4)
        else:
            optim = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        loss_fn = nn.CrossEntropyLoss()

        def forward():
            with autocast:
                return loss_fn(model(images), targets)

        def backward(loss):
            optim.zero_grad(set_to_none=True)
            loss.backward()

        phases = [forward, backward, lambda _: optim.step()]
    elif args.runtime == "onnxruntime":
        infer = onnx_session(model.eval(), images, args.threads, args.onnx_file)
        phases = [infer]
    else:
        model.eval()

        def infer():
            with torch.inference_mode(), autocast:
                return model(images)

        phases = [infer]

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    def iteration():
        """Per-phase milliseconds of one iteration (each phase ends with a device sync)."""
        value, ms = None, []
        for i, phase in enumerate(phases):
            start = time.perf_counter()
            value = phase() if i == 0 else phase(value)
            sync()
            ms.append((time.perf_counter() - start) * 1e3)
        return ms

    first_ms = None
    for i in range(args.warmup):
        ms = iteration()
        if i == 0:
            first_ms = sum(ms)
    runs = [iteration() for _ in range(args.iters)]
    times = [sum(ms) for ms in runs]
    phase_ms = [statistics.median(ms[k] for ms in runs) for k in range(len(phases))]
    median_ms = statistics.median(times)
    backend = "pytorch-" + device.type
    if args.runtime == "onnxruntime":
        backend = "onnxruntime-burn" if args.onnx_file else "onnxruntime-cpu"
    if args.precision != "fp32":
        backend += "-" + args.precision
    if args.channels_last:
        backend += "-cl"
    return {
        "backend": backend,
        "arch": args.arch,
        "mode": mode,
        "batch": args.batch_size,
        "image_size": args.image_size,
        "width": args.width,
        "opt": args.opt if mode == "train" else None,
        "images_per_sec": args.batch_size * 1e3 / median_ms,
        "median_ms": median_ms,
        "forward_ms": phase_ms[0],
        "backward_ms": phase_ms[1] if mode == "train" else None,
        "step_ms": phase_ms[2] if mode == "train" else None,
        "first_step_ms": first_ms,
        "peak_rss_mb": peak_rss_mb(),
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--arch", default="standard", choices=["standard", "paper2012", "torchvision"])
    p.add_argument("-b", "--batch-size", type=int, default=16)
    p.add_argument("--image-size", type=int, default=227)
    p.add_argument("--num-classes", type=int, default=1000)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--opt", default="sgd", choices=["sgd", "adamw"])
    p.add_argument("--mode", default="both", choices=["infer", "train", "both"])
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=10)
    p.add_argument("--threads", type=int, default=2, help="CPU threads (torch.set_num_threads)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "f16"])
    p.add_argument("--channels-last", action="store_true")
    p.add_argument("--runtime", default="torch", choices=["torch", "onnxruntime"],
                   help="onnxruntime: inference through ONNX Runtime (CPU, --mode infer)")
    p.add_argument("--onnx-file", metavar="FILE",
                   help="with --runtime onnxruntime: run this file (`trainer export`'s) instead "
                        "of PyTorch's export of the same model")
    p.add_argument("--save-weights", metavar="FILE",
                   help="write the model's state dict (seed 0) to FILE as .pth and exit")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    if args.width != 1.0 and args.arch == "torchvision":
        p.error("--width applies to standard and paper2012")
    if args.warmup < 1 or args.iters < 1:
        p.error("--warmup and --iters must be at least 1")
    if args.onnx_file and args.runtime != "onnxruntime":
        p.error("--onnx-file needs --runtime onnxruntime")
    if args.runtime == "onnxruntime" and (args.mode != "infer" or args.device != "cpu"):
        p.error("--runtime onnxruntime runs inference on the CPU: add --mode infer")
    if args.save_weights:
        torch.manual_seed(0)
        torch.save(build(args.arch, args.num_classes, args.width).state_dict(), args.save_weights)
        return
    torch.set_num_threads(args.threads)
    if args.device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    modes = ["infer", "train"] if args.mode == "both" else [args.mode]
    rows = [run(args, m) for m in modes]
    if args.json:
        for r in rows:
            print(json.dumps(r))
        return
    print(f"{'backend':<16} {'arch':<11} {'mode':<6} {'batch':>5} {'size':>5} {'images/s':>10} "
          f"{'median ms':>10} {'first ms':>9} {'peak MiB':>9}")
    for r in rows:
        print(f"{r['backend']:<16} {r['arch']:<11} {r['mode']:<6} {r['batch']:>5} {r['image_size']:>5} "
              f"{r['images_per_sec']:>10.2f} {r['median_ms']:>10.1f} {r['first_step_ms']:>9.0f} "
              f"{r['peak_rss_mb']:>9.0f}")


if __name__ == "__main__":
    sys.exit(main())
