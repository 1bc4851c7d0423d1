#!/usr/bin/env python3
"""Small image files in the forms real datasets contain, for crates/alexnet-data/tests/decode.rs.

Every image is 24x16 (wider than tall), red on the left half and blue on the right half, so a
test can check the conversion to RGB and the EXIF orientation from a few pixels.

Usage: pip install pillow numpy && python3 crates/alexnet-data/tools/make_image_fixtures.py
"""

import io
import pathlib

import numpy

from PIL import Image

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def base():
    img = Image.new("RGB", (24, 16), (220, 20, 20))
    img.paste((20, 20, 220), (12, 0, 24, 16))
    return img


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    img = base()
    img.save(OUT / "rgb.jpg", quality=95)
    img.save(OUT / "rgb.png")
    # ImageNet's trap: a PNG named .JPEG.
    img.save(OUT / "png_named.JPEG", format="PNG")
    img.convert("CMYK").save(OUT / "cmyk.jpg", quality=95)
    img.convert("L").save(OUT / "grey.png")
    img.convert("L").save(OUT / "grey.jpg", quality=95)
    rgba = img.convert("RGBA")
    rgba.putalpha(128)
    rgba.save(OUT / "rgba.png")
    img.convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(OUT / "palette.png")
    # 16-bit greyscale on the full 16-bit range (PIL's convert("I;16") would keep 8-bit values).
    grey16 = (numpy.asarray(img.convert("L"), dtype=numpy.uint16) * 257).astype("<u2")
    Image.frombytes("I;16", img.size, grey16.tobytes()).save(OUT / "grey16.png")
    img.save(OUT / "rgb.bmp")
    img.save(OUT / "rgb.gif")
    img.save(OUT / "rgb.webp", lossless=True)
    img.save(OUT / "rgb.tif")
    # EXIF orientation 6 (rotate 90 degrees clockwise to view): stored 24x16, shown 16x24.
    exif = Image.Exif()
    exif[0x0112] = 6
    img.save(OUT / "exif_rotate90.jpg", quality=95, exif=exif)
    # A JPEG cut in the middle of its scan data.
    buf = io.BytesIO()
    base().resize((96, 64)).save(buf, format="JPEG", quality=95)
    data = buf.getvalue()
    (OUT / "truncated.jpg").write_bytes(data[: len(data) * 2 // 3])
    (OUT / "not_an_image.jpg").write_bytes(b"<html>404 Not Found</html>\n")
    (OUT / "empty.png").write_bytes(b"")


if __name__ == "__main__":
    main()
