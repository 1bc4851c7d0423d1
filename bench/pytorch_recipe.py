#!/usr/bin/env python3
"""The trainer's default recipe written in PyTorch, trained on an image folder: what
`bench/compare-recipe.sh` runs against `trainer --dataset folder` on the same folder.

The recipe (`trainer`'s defaults, docs/training.md#the-default-run):

* model: the `standard` AlexNet (crates/alexnet) at width 0.5 (channels 48/128/192/192/128, 2048
  hidden units), 67 px input, He-normal weights (fan-in, ReLU gain), zero biases, dropout 0.5
  before fc6 and fc7 (`--dropout`, the photo recipe's);
* data: `DIR/train/<class>/*` and `DIR/val/<class>/*` (val takes train's classes); training
  images through the photo recipe's augmentation (docs/training.md#a-recipe-per-kind-of-data):
  `RandomResizedCrop(67, scale=(0.5, 1))` (`--crop-scale`) and a horizontal flip; validation
  images resized (shorter side 77 px, bilinear with antialiasing) and centre-cropped to 67 px;
  both scaled to 0..1 and normalised with ImageNet's mean and std. `--aug none --dropout 0` is
  the synthetic recipe (the eval transform for training too, no dropout). A seeded shuffle of
  the training split every epoch, batch 128, the last short batch kept;
* optimiser: AdamW (lr 2e-3, betas 0.9/0.999, eps 1e-5 as Burn's, weight decay 1e-4 on every
  parameter), the learning rate set every step: linear warm-up from lr/10 over the first two epochs,
  then a cosine to 0 at the end of the last epoch;
* validation after every epoch (model in eval mode, `torch.inference_mode()`).

Each epoch prints one line; the last line is a JSON object: epochs, train_seconds and
val_seconds (per epoch), train_images_per_sec, val_images_per_sec, val_top1, val_top5,
val_loss, train_loss, seconds (the whole run, data loading included).

    python3 bench/pytorch_recipe.py --data-dir DIR --epochs 4 --threads 2
"""

import argparse
import json
import math
import sys
import time

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


class AlexNet(nn.Module):
    """crates/alexnet's `standard` variant, every width scaled by `width`."""

    def __init__(self, classes, width, dropout):
        super().__init__()
        def rounded(x):  # half away from zero, as Rust's f64::round
            return max(1, math.floor(x + 0.5))

        c1, c2, c3, c4, c5 = (rounded(c * width) for c in (96, 256, 384, 384, 256))
        hidden = rounded(4096 * width)
        self.conv1 = nn.Conv2d(3, c1, 11, stride=4)
        self.conv2 = nn.Conv2d(c1, c2, 5, padding=2)
        self.conv3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.conv4 = nn.Conv2d(c3, c4, 3, padding=1)
        self.conv5 = nn.Conv2d(c4, c5, 3, padding=1)
        self.pool = nn.MaxPool2d(3, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.dropout = nn.Dropout(dropout)
        self.fc6 = nn.Linear(c5 * 36, hidden)
        self.fc7 = nn.Linear(hidden, hidden)
        self.fc8 = nn.Linear(hidden, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        x = torch.relu(self.conv4(x))
        x = self.pool(torch.relu(self.conv5(x)))
        x = torch.flatten(self.avgpool(x), 1)
        x = torch.relu(self.fc6(self.dropout(x)))
        x = torch.relu(self.fc7(self.dropout(x)))
        return self.fc8(x)


def loaders(args):
    """The train loader of `args.data_dir` with the training augmentation (`args.aug`) and the
    val loader with the eval transform."""
    resize = 256 if args.image_size == 227 else round(args.image_size * 256 / 224)
    final = [transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
    transform = transforms.Compose([
        transforms.Resize(resize, antialias=True),
        transforms.CenterCrop(args.image_size),
        *final,
    ])
    augment = transforms.Compose([
        transforms.RandomResizedCrop(args.image_size, scale=(args.crop_scale, 1.0),
                                     antialias=True),
        transforms.RandomHorizontalFlip(),
        *final,
    ])
    train_transform = augment if args.aug == "torchvision" else transform
    train = datasets.ImageFolder(f"{args.data_dir}/train", train_transform)
    val = datasets.ImageFolder(f"{args.data_dir}/val", transform)
    if val.classes != train.classes:
        sys.exit(f"val's classes {val.classes} are not train's {train.classes}")
    common = dict(batch_size=args.batch_size, num_workers=args.workers,
                  persistent_workers=args.workers > 0)
    shuffle = torch.Generator().manual_seed(args.seed)
    return (DataLoader(train, shuffle=True, generator=shuffle, **common),
            DataLoader(val, shuffle=False, **common), len(train.classes))


def lr_at(args, step, steps_per_epoch):
    """`trainer`'s schedule: warm-up from lr/10 over `--warmup-epochs`, then cosine to 0."""
    warmup = args.warmup_epochs * steps_per_epoch
    span = max(args.epochs * steps_per_epoch - warmup, 1)
    progress = min(max((step - warmup) / span, 0.0), 1.0)
    base = args.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    return base * (0.1 + 0.9 * step / warmup) if step < warmup else base


def train_epoch(args, model, optim, loader, first_step):
    """One epoch of training; returns (mean loss, images, seconds)."""
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    total, images, step = 0.0, 0, first_step
    start = time.perf_counter()
    for x, y in loader:
        for group in optim.param_groups:
            group["lr"] = lr_at(args, step, len(loader))
        loss = loss_fn(model(x), y)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
        total += loss.item() * len(y)
        images += len(y)
        step += 1
    return total / max(images, 1), images, time.perf_counter() - start


def validate(model, loader, classes):
    """(loss, top-1, top-5, images, seconds) on `loader`."""
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    k = min(5, classes)
    loss, top1, top5, images = 0.0, 0, 0, 0
    start = time.perf_counter()
    with torch.inference_mode():
        for x, y in loader:
            logits = model(x)
            loss += loss_fn(logits, y).item()
            ranked = logits.topk(k, dim=1).indices
            top1 += (ranked[:, 0] == y).sum().item()
            top5 += (ranked == y[:, None]).any(dim=1).sum().item()
            images += len(y)
    n = max(images, 1)
    return loss / n, top1 / n, top5 / n, images, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("-b", "--batch-size", type=int, default=128)
    parser.add_argument("--image-size", type=int, default=67)
    parser.add_argument("--width", type=float, default=0.5)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--aug", choices=["torchvision", "none"], default="torchvision")
    parser.add_argument("--crop-scale", type=float, default=0.5)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--wd", type=float, default=1e-4)
    parser.add_argument("--warmup-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    args = parser.parse_args()

    started = time.perf_counter()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    train, val, classes = loaders(args)
    model = AlexNet(classes, args.width, args.dropout)
    optim = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-5,
                              weight_decay=args.wd)
    epochs = []
    for epoch in range(1, args.epochs + 1):
        train_loss, n_train, t_train = train_epoch(args, model, optim, train,
                                                   (epoch - 1) * len(train))
        val_loss, top1, top5, n_val, t_val = validate(model, val, classes)
        epochs.append(dict(epoch=epoch, train_loss=train_loss, val_loss=val_loss, val_top1=top1,
                           val_top5=top5, train_seconds=t_train, val_seconds=t_val,
                           train_images=n_train, val_images=n_val))
        print(f"epoch {epoch}: train loss {train_loss:.4f} ({n_train / t_train:.1f} img/s), "
              f"val loss {val_loss:.4f} top-1 {top1:.2%} top-5 {top5:.2%} "
              f"({n_val / t_val:.1f} img/s)", file=sys.stderr)
    last = epochs[-1]
    print(json.dumps(dict(
        side="pytorch", torch=torch.__version__, threads=args.threads, workers=args.workers,
        epochs=args.epochs,
        train_seconds=[e["train_seconds"] for e in epochs],
        val_seconds=[e["val_seconds"] for e in epochs],
        train_images_per_sec=sum(e["train_images"] for e in epochs)
        / sum(e["train_seconds"] for e in epochs),
        val_images_per_sec=sum(e["val_images"] for e in epochs)
        / sum(e["val_seconds"] for e in epochs),
        train_loss=last["train_loss"], val_loss=last["val_loss"], val_top1=last["val_top1"],
        val_top5=last["val_top5"], seconds=time.perf_counter() - started)))


if __name__ == "__main__":
    main()
