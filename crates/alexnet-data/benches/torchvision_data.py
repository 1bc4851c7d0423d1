#!/usr/bin/env python3
"""torchvision's PIL pipeline on the same photos as benches/data_path.rs, one core.

Decode (PIL, from bytes in memory) + Resize(256) + RandomCrop(224) + RandomHorizontalFlip +
ToTensor + Normalize: the paper's transform minus PCA lighting (torchvision has none; the Rust
side includes it, so this comparison favours torchvision slightly).

Usage: pip install torch==2.9.0 torchvision==0.24.0 pillow
       python3 crates/alexnet-data/benches/torchvision_data.py
"""

import io
import pathlib
import time

import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms

ROUNDS = 100
SAMPLES = pathlib.Path(__file__).resolve().parents[3] / "datasets" / "samples"


def rate(fn, n):
    fn(0)
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main():
    torch.set_num_threads(1)
    photos = [p.read_bytes() for p in sorted(SAMPLES.glob("*.jpg"))]
    n = ROUNDS * len(photos)
    tf = transforms.Compose([
        transforms.Resize(256),
        transforms.RandomCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ])

    def decode(i):
        return Image.open(io.BytesIO(photos[i % len(photos)])).convert("RGB")

    decoded = [decode(i) for i in range(len(photos))]
    print(f"torchvision {torchvision.__version__}, Pillow {PIL.__version__}, "
          f"{len(photos)} photos x {ROUNDS}, 1 thread")
    print(f"decode only, 1 core:        {rate(decode, n):8.1f} images/s")
    print(f"augment only, 1 core:       {rate(lambda i: tf(decoded[i % len(decoded)]), n):8.1f} images/s")
    print(f"decode + augment, 1 core:   {rate(lambda i: tf(decode(i)), n):8.1f} images/s")


if __name__ == "__main__":
    main()
