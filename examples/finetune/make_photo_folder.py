#!/usr/bin/env python3
"""A tiny ImageFolder for trying `finetune` offline: random crops of the four sample photos in
datasets/samples (one class per photo), 16 per class for train and 4 for val.

    python3 examples/finetune/make_photo_folder.py /tmp/photos   # Pillow
"""

import pathlib
import random
import sys

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]


def main():
    out = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "photos")
    rng = random.Random(0)
    for photo in sorted((ROOT / "datasets" / "samples").glob("*.jpg")):
        image = Image.open(photo).convert("RGB")
        w, h = image.size
        for split, count in [("train", 16), ("val", 4)]:
            folder = out / split / photo.stem
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                side = rng.randint(min(w, h) // 2, min(w, h))
                x, y = rng.randint(0, w - side), rng.randint(0, h - side)
                image.crop((x, y, x + side, y + side)).save(folder / f"{i:02}.png")
    print(f"wrote {out}/train and {out}/val (4 classes)")


if __name__ == "__main__":
    main()
