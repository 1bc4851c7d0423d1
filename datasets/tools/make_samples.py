#!/usr/bin/env python3
"""Rebuilds datasets/samples/ from the scikit-image 0.26.0 wheel on PyPI.

The photos are public domain or CC0 (see datasets/NOTICES.md). PNG originals are re-encoded as
JPEG (quality 92, 4:2:0, the way camera and dataset photos are stored); rocket.jpg is copied as is.

Usage: pip install pillow && python3 datasets/tools/make_samples.py
"""

import pathlib
import subprocess
import sys
import tempfile
import zipfile

from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent.parent / "samples"
WHEEL_VERSION = "0.26.0"
PHOTOS = ["chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg"]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
             "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64",
             f"scikit-image=={WHEEL_VERSION}", "-d", tmp],
            check=True,
        )
        wheel = next(pathlib.Path(tmp).glob("scikit_image-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            for name in PHOTOS:
                data = zf.read(f"skimage/data/{name}")
                src = pathlib.Path(tmp) / name
                src.write_bytes(data)
                stem = pathlib.Path(name).stem
                if name.endswith(".jpg"):
                    (OUT / name).write_bytes(data)
                else:
                    Image.open(src).convert("RGB").save(OUT / f"{stem}.jpg", quality=92)
                print(OUT / f"{stem}.jpg")


if __name__ == "__main__":
    main()
