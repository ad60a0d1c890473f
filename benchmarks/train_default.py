"""Benchmark (e): reproduce the bundled default model end to end and time each stage.

    python benchmarks/train_default.py [--data ../data] [--out runs/default.pt] [--skip-validation]

Stages, each resumable (re-running continues where a kill stopped it):
  1. the training data, `bash scripts/data/build.sh DATA` (docs/data.md), unless DATA/training-manifest.csv
     exists; the 87 repositories must have been fetched first (docs/data.md, step 1);
  2. fine-tuning, `benchmarks/experiments/finetune.py DATA OUT` with RECIPE (models/MODEL_CARD.md): Whisper's
     top blocks and the transformer head, selected on the committed validation split;
  3. the validation protocol, `benchmarks/validation.py DATA --model OUT` (four conditions, per source).
Prints the wall time of each stage and the figures of the result.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The shipped model's recipe (models/MODEL_CARD.md, docs/experiments.md "Detector v3").
RECIPE = ["--encoder-blocks", "4", "--encoder-lr", "3e-5", "--lr", "1e-3", "--epochs", "2", "--clips-per-epoch",
          "6000", "--patience", "1", "--matched-share", "0.5", "--threads", "2", "--seed", "0"]


def run(cmd: list[str]) -> float:
    print("running:", " ".join(cmd), flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True)
    return time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "default.pt")
    ap.add_argument("--skip-validation", action="store_true")
    args = ap.parse_args()
    walls = {}
    if not (args.data / "training-manifest.csv").is_file():
        walls["data"] = run(["bash", str(ROOT / "scripts" / "data" / "build.sh"), str(args.data)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    walls["train"] = run([sys.executable, str(ROOT / "benchmarks" / "experiments" / "finetune.py"), str(args.data),
                          str(args.out), *RECIPE])
    if not args.skip_validation:
        walls["validation"] = run([sys.executable, str(ROOT / "benchmarks" / "validation.py"), str(args.data),
                                   "--model", str(args.out), "--json", str(args.out.with_suffix(".validation.json"))])
    for stage, s in walls.items():
        print(f"{stage + ' wall time':28s} {s / 60:6.1f} min")


if __name__ == "__main__":
    main()
