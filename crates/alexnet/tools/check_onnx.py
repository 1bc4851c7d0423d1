#!/usr/bin/env python3
"""Checks an ONNX file written by `AlexNet::save_onnx` / `trainer export` with ONNX's own tools.

- `onnx.checker.check_model(full_check=True)`: the schema, every node against its operator's
  definition at the file's opset, and shape inference;
- the interface: one input `images` [N, 3, H, W] and one output `logits` or `probabilities`
  [N, classes], N symbolic; the metadata (`alexnet.config`, `alexnet.classes`, `preprocessing`);
- ONNX Runtime (CPU) loads it and runs batch 1 and batch 3 from the same file, with finite
  outputs of the right shape, and batch 3's first row equal to batch 1's;
- with IMAGE arguments: classifies them (the eval transform in PIL: shorter side resized to
  256/224 of the input side with antialiased bilinear resampling, centre crop, ImageNet
  mean/std) and prints the top-k per image; with `--expect FILE`, the JSON of
  `trainer predict --json` on the same images and model, it fails unless every image's top-k
  classes are the same, in the same order, and each probability within `--tolerance` (default
  0.01) of predict's. PIL's resize and the trainer's agree to 1/255 per pixel, not exactly, so
  two classes whose probabilities lie within the tolerance of each other may trade places: such
  a near tie is reported, not failed. (`crates/trainer/tests/export.rs` feeds both sides the
  same pixels and requires the same order.)

    python3 -m pip install onnx onnxruntime pillow numpy
    cargo run --release -p trainer -- export --run runs/NAME -o model.onnx
    cargo run --release -p trainer -- predict --run runs/NAME --json datasets/samples/*.jpg > p.json
    python3 crates/alexnet/tools/check_onnx.py model.onnx datasets/samples/*.jpg --expect p.json

Exits 1 on the first failed check.
"""

import argparse
import json
import sys

import numpy as np
import onnx
import onnxruntime as ort
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def dims(value_info):
    return [d.dim_param or d.dim_value for d in value_info.type.tensor_type.shape.dim]


def check_interface(model):
    graph = model.graph
    if len(graph.input) != 1 or graph.input[0].name != "images":
        fail(f"inputs {[i.name for i in graph.input]}, expected ['images']")
    if len(graph.output) != 1 or graph.output[0].name not in ("logits", "probabilities"):
        fail(f"outputs {[o.name for o in graph.output]}, expected logits or probabilities")
    shape_in, shape_out = dims(graph.input[0]), dims(graph.output[0])
    if len(shape_in) != 4 or shape_in[1] != 3 or not isinstance(shape_in[0], str):
        fail(f"input shape {shape_in}, expected [N, 3, H, W] with a symbolic N")
    if len(shape_out) != 2 or shape_out[0] != shape_in[0]:
        fail(f"output shape {shape_out}, expected [{shape_in[0]}, classes]")
    meta = {p.key: p.value for p in model.metadata_props}
    if "alexnet.config" not in meta:
        fail(f"no alexnet.config in the metadata (keys: {sorted(meta)})")
    config = json.loads(meta["alexnet.config"])
    classes = json.loads(meta["alexnet.classes"]) if "alexnet.classes" in meta else None
    if config["num_classes"] != shape_out[1]:
        fail(f"config says {config['num_classes']} classes, the output has {shape_out[1]}")
    if classes is not None and len(classes) != shape_out[1]:
        fail(f"{len(classes)} class names for {shape_out[1]} outputs")
    print(f"interface: images {shape_in} -> {graph.output[0].name} {shape_out}, opset "
          f"{model.opset_import[0].version}, IR {model.ir_version}, "
          f"{len(graph.node)} nodes, {len(graph.initializer)} initializers")
    return shape_in[2], shape_in[3], classes


def check_runtime(session, height, width):
    rng = np.random.default_rng(0)
    three = rng.standard_normal((3, 3, height, width), dtype=np.float32)
    one = session.run(None, {"images": three[:1]})[0]
    many = session.run(None, {"images": three})[0]
    if one.shape[0] != 1 or many.shape[0] != 3 or not np.isfinite(many).all():
        fail(f"ONNX Runtime gave shapes {one.shape} and {many.shape}")
    gap = float(np.abs(one[0] - many[0]).max() / max(np.abs(one).max(), 1e-6))
    if gap > 1e-4:
        fail(f"batch 1 and batch 3 differ by {gap:.2e} relative")
    print(f"onnxruntime {ort.__version__}: batch 1 and 3 run, outputs {many.shape}, "
          f"batch-1 vs batch-3 row 0: {gap:.1e} relative")


def eval_transform(path, height, width):
    side = min(height, width)
    resize = 256 if side == 227 else round(side * 256 / 224)
    image = Image.open(path).convert("RGB")
    w, h = image.size
    size = (resize, max(resize, int(h * resize / w))) if w <= h else (max(resize, int(w * resize / h)), resize)
    image = image.resize(size, Image.BILINEAR)
    left = int(round((size[0] - width) / 2.0))
    top = int(round((size[1] - height) / 2.0))
    image = image.crop((left, top, left + width, top + height))
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    return ((pixels - MEAN) / STD).transpose(2, 0, 1)


def classify(session, output_name, images, height, width, classes, k):
    batch = np.stack([eval_transform(p, height, width) for p in images])
    out = session.run(None, {"images": batch})[0]
    if output_name == "logits":
        out = np.exp(out - out.max(axis=1, keepdims=True))
        out /= out.sum(axis=1, keepdims=True)
    results = []
    for path, probs in zip(images, out):
        top = np.argsort(-probs, kind="stable")[:k]
        results.append({"image": path, "probs": probs, "top_k": [
            {"index": int(i), "label": classes[i] if classes else f"class {i}",
             "prob": float(probs[i])} for i in top]})
    return results


def compare(results, expected_path, tolerance):
    expected = {p["image"]: p for p in json.load(open(expected_path))}
    worst, ties = 0.0, []
    for r in results:
        e = expected.get(r["image"])
        if e is None:
            fail(f"{r['image']} is not in {expected_path}")
        probs = r["probs"]
        ours = [c["index"] for c in r["top_k"]]
        theirs = [c["index"] for c in e["top_k"]][:len(ours)]
        worst = max(worst, max(abs(float(probs[c["index"]]) - c["prob"]) for c in e["top_k"]))
        for rank, (a, b) in enumerate(zip(ours, theirs)):
            if a == b:
                continue
            gap = abs(float(probs[a]) - float(probs[b]))
            if gap > tolerance:
                fail(f"{r['image']}: ONNX Runtime top-k {ours}, trainer predict {theirs}")
            ties.append(f"{r['image']} rank {rank + 1}: {a} and {b} within {gap:.1e}")
    if worst > tolerance:
        fail(f"a probability differs from trainer predict's by {worst:.1e}")
    print(f"top-{len(results[0]['top_k'])} of {len(results)} images as in {expected_path}, "
          f"probabilities within {worst:.1e} of predict's"
          + (f"; near ties in another order: {'; '.join(ties)}" if ties else ""))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("model", help="the .onnx file")
    p.add_argument("images", nargs="*", help="images to classify")
    p.add_argument("--expect", help="`trainer predict --json` output for the same images")
    p.add_argument("--topk", type=int, default=5)
    p.add_argument("--tolerance", type=float, default=0.01,
                   help="largest probability difference to trainer predict's (default 0.01)")
    args = p.parse_args()

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)
    print(f"onnx {onnx.__version__}: check_model(full_check=True) passed")
    height, width, classes = check_interface(model)
    session = ort.InferenceSession(args.model, providers=["CPUExecutionProvider"])
    check_runtime(session, height, width)
    if args.images:
        results = classify(session, model.graph.output[0].name, args.images, height, width,
                           classes, args.topk)
        for r in results:
            print(r["image"])
            for c in r["top_k"]:
                print(f"  {c['prob'] * 100:6.2f}%  {c['index']:4}  {c['label']}")
        if args.expect:
            compare(results, args.expect, args.tolerance)
    elif args.expect:
        p.error("--expect needs the images")


if __name__ == "__main__":
    main()
