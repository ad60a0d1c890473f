#!/usr/bin/env python3
"""Reference for docs/experiments.md: a linear probe on the Whisper feature cache.

    python benchmarks/experiments/linear_probe.py CACHE

Mean and standard deviation over time of each of the 5 Whisper stages (3,840 numbers per window),
standardised on training windows; logistic regression with the class and system weights of
fakecheck.train.sampling_weights, at three strengths.  Prints the EER per validation condition.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from fakecheck.metrics import compute_eer  # noqa: E402
from fakecheck.train import sampling_weights  # noqa: E402

CONDITIONS = ["clean", "mp3_32k", "opus_16k", "phone_8k"]


def pooled(cache: Path, n: int) -> np.ndarray:
    w = np.load(cache / "whisper.npy", mmap_mode="r")
    out = np.zeros((n, 5 * 384 * 2), np.float32)
    for s in range(0, n, 512):
        x = np.asarray(w[s:s + 512], dtype=np.float32)  # (b, 5, 100, 384)
        out[s:s + 512] = np.concatenate([x.mean(2).reshape(len(x), -1), x.std(2).reshape(len(x), -1)], 1)
    return out


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    cache = Path(sys.argv[1])
    rows = list(csv.DictReader(open(cache / "index.csv", newline="", encoding="utf-8")))
    feats = pooled(cache, len(rows))
    train = np.array([r["split"] == "train" for r in rows])
    y = np.array([r["label"] == "spoof" for r in rows])
    cond = np.array([r["condition"] for r in rows])
    tr = np.where(train)[0]
    weights = sampling_weights(y[tr].astype(int), [rows[i]["system"] for i in tr]) * len(tr)
    x = StandardScaler().fit(feats[tr]).transform(feats)
    for c in (0.001, 0.01, 0.1):
        s = LogisticRegression(C=c, max_iter=300).fit(x[tr], y[tr], sample_weight=weights).decision_function(x)
        eers = {k: compute_eer(s[(cond == k) & ~y], s[(cond == k) & y])[0] for k in CONDITIONS}
        print(f"C={c}: " + "  ".join(f"{k} {v:.3f}" for k, v in eers.items()), flush=True)


if __name__ == "__main__":
    main()
