#!/usr/bin/env python3
"""Golden values for the eval preprocessing test (crates/alexnet-data/tests/eval_golden.rs).

For each case, an input PNG (decoded pixels of a sample photo, so JPEG decoders cannot differ)
and torchvision's eval transform of it on PIL (`Resize(r)` with bilinear antialiasing, then
`CenterCrop(s)`), saved as an 8-bit PNG: ToTensor of that is exactly the crop / 255.

Cases: a downscale to 224 (the ImageNet eval transform), a downscale to 64 with an odd margin
(torchvision rounds the centre offset half to even), and an upscale to 64.

Usage: pip install torch==2.9.0 torchvision==0.24.0 pillow
       python3 crates/alexnet-data/tools/make_eval_golden.py
"""

import pathlib

import torchvision
from PIL import Image
from torchvision import transforms

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = ROOT / "crates" / "alexnet-data" / "tests" / "fixtures"

CASES = [
    # name, source sample, source size (None: as is), resize, crop
    ("chelsea", "chelsea.jpg", None, 256, 224),
    ("coffee_small", "coffee.jpg", (150, 100), 73, 64),
    ("coffee_tiny", "coffee.jpg", (50, 40), 73, 64),
]


def main():
    print("torchvision", torchvision.__version__)
    for name, sample, size, resize, crop in CASES:
        img = Image.open(ROOT / "datasets" / "samples" / sample).convert("RGB")
        if size is not None:
            img = img.resize(size, Image.Resampling.BILINEAR)
        img.save(OUT / f"eval_{name}_input.png")
        tf = transforms.Compose([transforms.Resize(resize), transforms.CenterCrop(crop)])
        out = tf(img)
        assert out.size == (crop, crop)
        out.save(OUT / f"eval_{name}_r{resize}_c{crop}.png")
        print(name, img.size, "->", out.size)


if __name__ == "__main__":
    main()
