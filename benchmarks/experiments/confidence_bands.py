#!/usr/bin/env python3
"""How often is a verdict right in each confidence band?  (README and model card figures)

    python benchmarks/experiments/confidence_bands.py CACHE [--model M]

Scores the cached clean validation windows (the middle 4 s of every validation clip,
benchmarks/experiments/cache_features.py) with a model, turns each score into a verdict and a
confidence band exactly as scan does (fakecheck.calibration.confidence, no input warnings),
and prints per band: the share of clips, the accuracy, and the accuracy per class.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch

from fakecheck import calibration
from fakecheck.checkpoint import load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cache", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    a = ap.parse_args()
    ck = load(a.model)
    rows = list(csv.DictReader(open(a.cache / "index.csv", newline="", encoding="utf-8")))
    idx = np.array([i for i, r in enumerate(rows) if r["split"] == "validation" and r["condition"] == "clean"])
    feats = np.load(a.cache / "whisper.npy", mmap_mode="r")
    scores = []
    with torch.no_grad():
        for s in range(0, len(idx), 128):
            x = torch.from_numpy(np.asarray(feats[idx[s:s + 128]], dtype=np.float32))
            scores.append(ck.model(x.permute(0, 2, 1, 3).flatten(2)).score.numpy())
    p = ck.calibration.p_fake(np.concatenate(scores))
    y = np.array([rows[i]["label"] == "spoof" for i in idx])
    right = (p >= ck.threshold) == y
    bands = np.array([calibration.confidence(float(v), ck.threshold) for v in p])
    print(f"{len(idx)} validation clips ({int((~y).sum())} bona fide, {int(y.sum())} spoof), model {ck.name}")
    print(f"{'band':<8}{'share':>8}{'accuracy':>10}{'bona fide':>11}{'spoof':>8}")
    for band in calibration.CONFIDENCE_LEVELS:
        m = bands == band
        if not m.any():
            print(f"{band:<8}{0:>8.1%}")
            continue
        acc_b = right[m & ~y].mean() if (m & ~y).any() else float("nan")
        acc_s = right[m & y].mean() if (m & y).any() else float("nan")
        print(f"{band:<8}{m.mean():>8.1%}{right[m].mean():>10.1%}{acc_b:>11.1%}{acc_s:>8.1%}")
    print(f"{'all':<8}{1:>8.1%}{right.mean():>10.1%}{right[~y].mean():>11.1%}{right[y].mean():>8.1%}")


if __name__ == "__main__":
    main()
