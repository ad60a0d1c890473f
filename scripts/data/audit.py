#!/usr/bin/env python3
"""Shortcut audit of the built training set: what a forger controls, measured per class.

    python scripts/data/audit.py [--root DATA] [--workers 2] > audit.md

For every clip of ROOT/training-manifest.csv: duration, active loudness (dBFS of frames within
40 dB of the loudest), leading and trailing silence (frames more than 40 dB below the loudest),
exact digital zeros at either end, effective bandwidth (highest frequency whose long-term level is
within 50 dB of the spectrum's peak), the original sample rate and container.  Writes
ROOT/audit.csv and prints Markdown tables of medians and quartiles per label (all, train,
validation), plus the sampling shares of the largest sources and systems.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifest as M  # noqa: E402

FRAME = 160  # 10 ms at 16 kHz
NATIVE_RATE = {"piper": 22050, "kokoro": 24000}  # rates of the engines run here, before resampling


def measure(path: str) -> dict[str, float]:
    import soundfile as sf

    x, sr = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    n = len(x) // FRAME
    frames = x[: n * FRAME].reshape(n, FRAME).astype(np.float64)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    loud = db.max() if n else -120.0
    active = db > loud - 40
    idx = np.flatnonzero(active)
    lead = idx[0] * FRAME / sr if len(idx) else len(x) / sr
    trail = (n - 1 - idx[-1]) * FRAME / sr if len(idx) else len(x) / sr
    nz = np.flatnonzero(x != 0)
    zeros_lead = nz[0] / sr if len(nz) else len(x) / sr
    zeros_trail = (len(x) - 1 - nz[-1]) / sr if len(nz) else len(x) / sr
    spec = np.zeros(257)
    if len(x) >= 512:
        segs = np.lib.stride_tricks.sliding_window_view(x, 512)[::256]
        spec = np.mean(np.abs(np.fft.rfft(segs * np.hanning(512), axis=1)) ** 2, axis=0)
    sdb = 10 * np.log10(spec + 1e-20)
    above = np.flatnonzero(sdb > sdb.max() - 50)
    bandwidth = above[-1] * sr / 512 if len(above) else 0.0
    rms_active = 10 * np.log10(np.mean(frames[active] ** 2) + 1e-12) if active.any() else -120.0
    return {"duration_s": len(x) / sr, "active_dbfs": rms_active, "lead_silence_s": lead,
            "trail_silence_s": trail, "lead_zeros_s": zeros_lead, "trail_zeros_s": zeros_trail,
            "bandwidth_hz": bandwidth}


def original_rates(root: Path) -> dict[str, tuple[str, str]]:
    """path -> (original sample rate, container) from the corpus manifests."""
    out = {}
    for prefix, man in (("corpus", root / "corpus" / "manifest.csv"), ("more", root / "more" / "manifest.csv")):
        if man.exists():
            for r in M.read_csv(str(man)):
                ext = os.path.splitext(r.get("source_path") or r["path"])[1].lower().lstrip(".")
                out[f"{prefix}/{r['path']}"] = (r.get("sample_rate", ""), ext)
    return out


def quartiles(v: list[float]) -> str:
    if not v:
        return "-"
    q = np.percentile(v, [25, 50, 75])
    return f"{q[1]:.2f} ({q[0]:.2f}-{q[2]:.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[3] / "data")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    clips = M.read_manifest(str(a.root / "training-manifest.csv"))
    out_csv = a.root / "audit.csv"
    done: dict[str, dict[str, str]] = {}
    if out_csv.exists():
        done = {r["path"]: r for r in M.read_csv(str(out_csv))}
    todo = [c for c in clips if c.path not in done]
    with ProcessPoolExecutor(a.workers) as ex:
        for c, m in zip(todo, ex.map(measure, [str(a.root / c.path) for c in todo], chunksize=32), strict=True):
            done[c.path] = {"path": c.path, **{k: f"{v:.4f}" for k, v in m.items()}}
    with open(out_csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(next(iter(done.values())).keys()))
        w.writeheader()
        w.writerows(done[c.path] for c in clips if c.path in done)
    rates = original_rates(a.root)

    def rate_of(c: M.Clip) -> tuple[str, str]:
        if c.path in rates:
            return rates[c.path]
        engine = c.source.split(":", 1)[-1]
        return str(NATIVE_RATE.get(engine, 16000)), "wav" if c.source.startswith("local:") else "flac"

    keys = ["duration_s", "active_dbfs", "lead_silence_s", "trail_silence_s", "lead_zeros_s", "trail_zeros_s",
            "bandwidth_hz"]
    print("| measure | split | bona fide: median (IQR) | spoof: median (IQR) |")
    print("|---|---|---|---|")
    for k in keys:
        for split in ("all", "train", "validation"):
            vals = defaultdict(list)
            for c in clips:
                if split == "all" or c.split == split:
                    vals[c.label].append(float(done[c.path][k]))
            print(f"| {k} | {split} | {quartiles(vals['bonafide'])} | {quartiles(vals['spoof'])} |")
    print()
    for name, fn in (("original sample rate", lambda c: rate_of(c)[0]), ("container", lambda c: rate_of(c)[1])):
        per = {lab: Counter(fn(c) for c in clips if c.label == lab) for lab in ("bonafide", "spoof")}
        print(f"| {name} | bona fide share | spoof share |")
        print("|---|---:|---:|")
        for v in sorted(set(per["bonafide"]) | set(per["spoof"]), key=lambda v: -(per["bonafide"][v]
                                                                                   + per["spoof"][v]))[:8]:
            nb, ns = sum(per["bonafide"].values()), sum(per["spoof"].values())
            print(f"| {v or '?'} | {per['bonafide'][v] / nb:.1%} | {per['spoof'][v] / ns:.1%} |")
        print()
    exact = {lab: np.mean([float(done[c.path]["lead_zeros_s"]) > 0.05 or float(done[c.path]["trail_zeros_s"]) > 0.05
                           for c in clips if c.label == lab]) for lab in ("bonafide", "spoof")}
    print(f"Clips with over 50 ms of exact digital zeros at an end: bona fide {exact['bonafide']:.1%}, "
          f"spoof {exact['spoof']:.1%}.\n")
    # Sampling shares: fakecheck.training.train.sampling_weights gives each class half of the draws and a
    # system (spoof) or corpus (bona fide) with n clips a weight of sqrt(n).
    train = [c for c in clips if c.split == "train"]
    for lab, key in (("bonafide", lambda c: c.system), ("spoof", lambda c: c.system)):
        n = Counter(key(c) for c in train if c.label == lab)
        total = sum(math.sqrt(v) for v in n.values())
        top = n.most_common(6)
        print(f"| {lab} group (train) | clips | share of clips | share of draws |")
        print("|---|---:|---:|---:|")
        for g, v in top:
            print(f"| {g} | {v} | {v / sum(n.values()):.1%} | {math.sqrt(v) / total:.1%} |")
        print()


if __name__ == "__main__":
    main()
