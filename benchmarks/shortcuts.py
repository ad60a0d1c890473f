"""Shortcut check for the model card: how far P(fake) moves under trivial changes.

    python benchmarks/shortcuts.py [--model M] [--clips 160]

Clips come from the model's own validation split (the held-out sources recorded
in its provenance), balanced between the classes; never from training data.
Prints mean, 95th percentile and max |delta P(fake)| per probe, and how many
verdicts flip.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from fakecheck import audio, datasets
from fakecheck.inference import Detector
from fakecheck.shortcuts import PROBES

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "manifest.csv"


def validation_rows(det: Detector, n: int) -> list[datasets.Row]:
    held_out = set(det.checkpoint.provenance.get("val_sources", []))
    rows = [r for r in datasets.load_dataset(CORPUS) if r.source in held_out]
    if not rows:
        sys.exit("the model records no validation sources that are in the corpus")
    rng = np.random.default_rng(0)
    out = []
    for label in (0, 1):
        pool = [r for r in rows if r.label == label]
        out += [pool[i] for i in sorted(rng.choice(len(pool), size=min(n // 2, len(pool)), replace=False))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--clips", type=int, default=160)
    args = ap.parse_args()
    det = Detector.load(args.model)
    rows = validation_rows(det, args.clips)
    clips = [audio.load(r.path) for r in rows]
    base = np.array([v.p_fake if v.p_fake is not None else np.nan for v in det.analyse_waveforms(clips)])
    results = {}
    print(f"{len(rows)} validation clips; |delta P(fake)| per probe")
    print(f"{'probe':22s} {'mean':>7s} {'p95':>7s} {'max':>7s} {'flips':>6s}")
    for name, probe in PROBES.items():
        moved = np.array([v.p_fake if v.p_fake is not None else np.nan
                          for v in det.analyse_waveforms([probe(x) for x in clips])])
        d = np.abs(moved - base)
        ok = np.isfinite(d)
        flips = int(np.sum((moved[ok] >= det.threshold) != (base[ok] >= det.threshold)))
        results[name] = {"mean": float(d[ok].mean()), "p95": float(np.percentile(d[ok], 95)),
                         "max": float(d[ok].max()), "flips": flips, "n": int(ok.sum())}
        r = results[name]
        print(f"{name:22s} {r['mean']:7.3f} {r['p95']:7.3f} {r['max']:7.3f} {flips:6d}")
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
