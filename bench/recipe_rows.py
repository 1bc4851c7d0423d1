#!/usr/bin/env python3
"""Rows and table of `bench/compare-recipe.sh`.

    recipe_rows.py burn RUN_DIR DATA_DIR END START [LOAD]   # a trainer run (metrics.csv, summary.json)
    recipe_rows.py pytorch JSON_FILE END START [LOAD]       # bench/pytorch_recipe.py's last line
    recipe_rows.py table RESULTS CPU [MARGIN CLASSES]       # medians per side and load, ratios

A row: side, load (the background load beside it, `none` when alone), epochs,
train_images_per_sec, val_images_per_sec, train_epochs_per_sec, val_epochs_per_sec (epochs over
the summed seconds of that phase), wall_seconds (the process, start to exit), val_top1, val_top5.

The table leaves out runs that diverged: a final val top-1 more than MARGIN points (default 5)
below the other side's median under the same load, or within 2 points of chance (1 / CLASSES).
It lists them below the table, and `main` exits with status 3 when there is one.
"""

import csv
import json
import os
import statistics
import sys


def row(side, epochs, train_s, val_s, n_train, n_val, wall, top1, top5):
    return dict(side=side, load="none", epochs=epochs,
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


def diverged(runs, margin, classes):
    """The runs (dicts) whose top-1 says they did not learn: near chance, or more than `margin`
    points below the other side's median under the same load."""
    chance = 1.0 / classes if classes else 0.0
    medians = {}
    for r in runs:
        medians.setdefault((r["load"], r["side"]), []).append(r["val_top1"])
    bad = []
    for r in runs:
        others = [statistics.median(v) for (load, side), v in medians.items()
                  if load == r["load"] and side != r["side"]]
        behind = any(r["val_top1"] < other - margin / 100.0 for other in others)
        if r["val_top1"] <= chance + 0.02 or behind:
            bad.append(r)
    return bad


def med(rows, field):
    return statistics.median(r[field] for r in rows)


def table(path, cpu, margin=5.0, classes=0):
    runs = [json.loads(line) for line in open(path)]
    for r in runs:
        r.setdefault("load", "none")
    bad = diverged(runs, margin, classes)
    groups = {}
    for r in runs:
        if r not in bad:
            groups.setdefault((r["side"], r["load"]), []).append(r)

    def torch_rows(load):
        return next((rows for (side, l), rows in groups.items()
                     if l == load and side.startswith("pytorch")), None)

    print(f"CPU: {cpu}; medians over rounds; ratio = speed / PyTorch's speed under the same "
          "load; kept = speed beside the load / speed alone (whole run)")
    print(f"{'side':<22} {'load':<8} {'train img/s':>11} {'ep/s':>7} {'val img/s':>10} "
          f"{'ep/s':>7} {'run s':>7} {'ratio':>6} {'kept':>6} {'top-1':>7} {'top-5':>7} "
          f"{'runs':>5}")
    for (side, load), rows in groups.items():
        wall = med(rows, "wall_seconds")
        base = torch_rows(load)
        ratio = f"{med(base, 'wall_seconds') / wall:.2f}x" if base else "-"
        alone = groups.get((side, "none"))
        kept = f"{med(alone, 'wall_seconds') / wall:.0%}" if alone and load != "none" else "-"
        print(f"{side:<22} {load:<8} {med(rows, 'train_images_per_sec'):>11.1f} "
              f"{med(rows, 'train_epochs_per_sec'):>7.4f} {med(rows, 'val_images_per_sec'):>10.1f} "
              f"{med(rows, 'val_epochs_per_sec'):>7.3f} {wall:>7.1f} {ratio:>6} {kept:>6} "
              f"{med(rows, 'val_top1'):>7.2%} {med(rows, 'val_top5'):>7.2%} {len(rows):>5}")
    for r in bad:
        print(f"DIVERGED, not timed: {r['side']} (load {r['load']}) ended at "
              f"{r['val_top1']:.2%} val top-1 after {r['epochs']} epochs "
              f"(margin {margin:g} points, chance {1 / classes if classes else 0:.0%})")
    return bool(bad)


def main():
    kind = sys.argv[1]
    if kind == "burn":
        r = burn(sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5]))
        r["load"] = sys.argv[6] if len(sys.argv) > 6 else "none"
        print(json.dumps(r))
    elif kind == "pytorch":
        r = pytorch(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
        r["load"] = sys.argv[5] if len(sys.argv) > 5 else "none"
        print(json.dumps(r))
    elif kind == "table":
        margin = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
        classes = int(sys.argv[5]) if len(sys.argv) > 5 else 0
        if table(sys.argv[2], sys.argv[3], margin, classes):
            sys.exit(3)
    else:
        sys.exit(f"recipe_rows.py: unknown kind {kind}")


if __name__ == "__main__":
    main()
