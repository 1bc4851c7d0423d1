#!/usr/bin/env python3
"""Rows and table of `bench/compare-recipe.sh`.

    recipe_rows.py burn RUN_DIR DATA_DIR END START   # a trainer run (metrics.csv, summary.json)
    recipe_rows.py pytorch JSON_FILE END START       # bench/pytorch_recipe.py's last line
    recipe_rows.py table RESULTS CPU                 # medians per side, ratios to PyTorch

A row: side, epochs, train_images_per_sec, val_images_per_sec, train_epochs_per_sec,
val_epochs_per_sec (epochs over the summed seconds of that phase), wall_seconds (the process,
start to exit), val_top1, val_top5.
"""

import csv
import json
import os
import statistics
import sys


def row(side, epochs, train_s, val_s, n_train, n_val, wall, top1, top5):
    return dict(side=side, epochs=epochs,
                train_images_per_sec=n_train * epochs / sum(train_s),
                val_images_per_sec=n_val * epochs / sum(val_s),
                train_epochs_per_sec=epochs / sum(train_s),
                val_epochs_per_sec=epochs / sum(val_s),
                wall_seconds=wall, val_top1=top1, val_top5=top5)


def burn(run_dir, data_dir, end, start):
    """The trainer's run: per epoch, training time from its img/s, validation the rest."""
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(run_dir, "metrics.csv")) as f:
        epochs = list(csv.DictReader(f))
    n_train = summary["images_per_epoch"]
    train_s = [n_train / float(e["images_per_sec"]) for e in epochs]
    val_s = [float(e["seconds"]) - t for e, t in zip(epochs, train_s)]
    n_val = sum(len(files) for _, _, files in os.walk(os.path.join(data_dir, "val")))
    last = epochs[-1]
    return row(f"burn {summary['device']}", len(epochs), train_s, val_s, n_train, n_val,
               end - start, float(last["val_top1"]), float(last["val_top5"]))


def pytorch(path, end, start):
    with open(path) as f:
        run = json.loads(f.read().strip().splitlines()[-1])
    epochs = run["epochs"]
    n_train = run["train_images_per_sec"] * sum(run["train_seconds"]) / epochs
    n_val = run["val_images_per_sec"] * sum(run["val_seconds"]) / epochs
    return row(f"pytorch {run['torch']}", epochs, run["train_seconds"], run["val_seconds"],
               n_train, n_val, end - start, run["val_top1"], run["val_top5"])


def table(path, cpu):
    sides = {}
    for line in open(path):
        r = json.loads(line)
        sides.setdefault(r["side"], []).append(r)

    def med(rows, field):
        return statistics.median(r[field] for r in rows)

    torch_rows = next((rows for side, rows in sides.items() if side.startswith("pytorch")), None)
    print(f"CPU: {cpu}; medians over rounds; ratio = speed / PyTorch's speed")
    print(f"{'side':<22} {'train img/s':>11} {'ep/s':>7} {'val img/s':>10} {'ep/s':>7} "
          f"{'run s':>7} {'ratio':>6} {'top-1':>7} {'top-5':>7} {'runs':>5}")
    for side, rows in sides.items():
        wall = med(rows, "wall_seconds")
        ratio = f"{med(torch_rows, 'wall_seconds') / wall:.2f}x" if torch_rows else "-"
        print(f"{side:<22} {med(rows, 'train_images_per_sec'):>11.1f} "
              f"{med(rows, 'train_epochs_per_sec'):>7.4f} {med(rows, 'val_images_per_sec'):>10.1f} "
              f"{med(rows, 'val_epochs_per_sec'):>7.3f} {wall:>7.1f} {ratio:>6} "
              f"{med(rows, 'val_top1'):>7.2%} {med(rows, 'val_top5'):>7.2%} {len(rows):>5}")


def main():
    kind = sys.argv[1]
    if kind == "burn":
        print(json.dumps(burn(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))))
    elif kind == "pytorch":
        print(json.dumps(pytorch(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))))
    elif kind == "table":
        table(sys.argv[2], sys.argv[3])
    else:
        sys.exit(f"recipe_rows.py: unknown kind {kind}")


if __name__ == "__main__":
    main()
