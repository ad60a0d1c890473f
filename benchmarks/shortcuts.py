"""Shortcut check for the model card: how far P(fake) moves under trivial changes.

    python benchmarks/shortcuts.py [--model M] [--clips 160]

Clips come from the committed validation split (data/training-manifest.csv), taken from
its clips in ../shared/corpus and balanced between the classes; never from training data.
Prints mean, 95th percentile and max |delta P(fake)| per probe, and how many
verdicts flip.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

from fakecheck import audio
from fakecheck.analysis.detector import Detector
from fakecheck.training import datasets
from fakecheck.training.shortcuts import PROBES

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "manifest.csv"
SPLIT = Path(__file__).resolve().parents[1] / "data" / "training-manifest.csv"


def validation_rows(data: Path, n: int) -> list[datasets.Row]:
    """Validation rows of the built data set (scripts/data/build.sh) if it is there, else those in the corpus."""
    if (data / "training-manifest.csv").is_file():
        rows = [r for r in datasets.load_dataset(data / "training-manifest.csv") if r.split == "validation"]
    else:
        val = {r["path"].removeprefix("corpus/") for r in csv.DictReader(open(SPLIT, encoding="utf-8"))
               if r["split"] == "validation" and r["path"].startswith("corpus/")}
        rows = [r for r in datasets.load_dataset(CORPUS) if r.path.relative_to(CORPUS.parent).as_posix() in val]
    if not rows:
        sys.exit("no validation clips of the committed split were found")
    rng = np.random.default_rng(0)
    out = []
    for label in (0, 1):
        pool = [r for r in rows if r.label == label]
        out += [pool[i] for i in sorted(rng.choice(len(pool), size=min(n // 2, len(pool)), replace=False))]
    return out


def clip_parser(doc: str | None) -> argparse.ArgumentParser:
    """The arguments of a benchmark over `validation_rows`: --model, --clips and --data."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--clips", type=int, default=160)
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "data",
                    help="root of the built training data (docs/data.md)")
    return ap


def main() -> None:
    args = clip_parser(__doc__).parse_args()
    det = Detector.load(args.model)
    rows = validation_rows(args.data, args.clips)
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
