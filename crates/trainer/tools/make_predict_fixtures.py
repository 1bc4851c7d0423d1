#!/usr/bin/env python3
"""Fixtures for `trainer predict`'s PyTorch parity test (tests/predict.rs).

Writes tests/fixtures/predict/:
- model.pth: a torchvision-structured AlexNet (torchvision's module tree and state-dict keys) at
  1/16 width (channels 4, 12, 24, 16, 16; hidden 256; 10 classes) with seeded He-normal weights,
  i.e. what `trainer predict --arch torchvision --width 0.0625 --num-classes 10` builds;
- square.png: a 256x256 crop of datasets/samples/astronaut.jpg (the resize to 256 is the
  identity, so only the centre crop and the normalisation act);
- wide.png: a 400x300 crop of datasets/samples/coffee.jpg (resized to 341x256 with
  antialiased bilinear resampling first);
- expected.json: per image, PyTorch's softmax over the 10 classes after torchvision's eval
  transform for AlexNet_Weights.IMAGENET1K_V1 (Resize(256), CenterCrop(224), ToTensor,
  Normalize(ImageNet mean, std)) on the PIL image, and the top-5 indices.

    python3 crates/trainer/tools/make_predict_fixtures.py   # torch 2.9.0, torchvision 0.24.0
"""

import json
import pathlib

import torch
import torchvision
from PIL import Image
from torch import nn
from torchvision import transforms as T

ROOT = pathlib.Path(__file__).resolve().parents[3]
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "predict"
WIDTHS = [4, 12, 24, 16, 16]
HIDDEN = 256
CLASSES = 10


def model():
    c1, c2, c3, c4, c5 = WIDTHS
    net = nn.Module()
    net.features = nn.Sequential(
        nn.Conv2d(3, c1, kernel_size=11, stride=4, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c1, c2, kernel_size=5, padding=2),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(c2, c3, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(c3, c4, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(c4, c5, kernel_size=3, padding=1),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
    )
    net.avgpool = nn.AdaptiveAvgPool2d((6, 6))
    net.classifier = nn.Sequential(
        nn.Dropout(p=0.5),
        nn.Linear(c5 * 36, HIDDEN),
        nn.ReLU(inplace=True),
        nn.Dropout(p=0.5),
        nn.Linear(HIDDEN, HIDDEN),
        nn.ReLU(inplace=True),
        nn.Linear(HIDDEN, CLASSES),
    )
    net.forward = lambda x: net.classifier(torch.flatten(net.avgpool(net.features(x)), 1))
    return net


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(7)
    net = model()
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.normal_(m.bias, std=0.1)
    # A gentler head keeps the softmax away from one-hot, so probabilities are compared where
    # they are sensitive to the input.
    with torch.no_grad():
        net.classifier[6].weight.mul_(0.3)
    net.eval()
    torch.save({k: v.contiguous() for k, v in net.state_dict().items()}, OUT / "model.pth")

    samples = ROOT / "datasets" / "samples"
    square = Image.open(samples / "astronaut.jpg").convert("RGB").crop((128, 40, 384, 296))
    wide = Image.open(samples / "coffee.jpg").convert("RGB").crop((100, 50, 500, 350))
    assert square.size == (256, 256) and wide.size == (400, 300)
    square.save(OUT / "square.png")
    wide.save(OUT / "wide.png")

    weights = torchvision.models.AlexNet_Weights.IMAGENET1K_V1
    t = weights.transforms()
    transform = T.Compose(
        [
            T.Resize(t.resize_size, interpolation=t.interpolation, antialias=t.antialias),
            T.CenterCrop(t.crop_size),
            T.ToTensor(),
            T.Normalize(t.mean, t.std),
        ]
    )
    expected = {}
    with torch.no_grad():
        for name in ["square.png", "wide.png"]:
            x = transform(Image.open(OUT / name).convert("RGB")).unsqueeze(0)
            probs = torch.softmax(net(x), dim=1)[0]
            expected[name] = {
                "probs": [float(p) for p in probs],
                "top5": [int(i) for i in probs.topk(5).indices],
            }
            print(name, [round(float(p), 4) for p in probs])
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
