"""Benchmark (e): reproduce the bundled default model end to end and time each stage.

    python benchmarks/train_default.py [--data ../data] [--cache ../cache] [--out runs/default.pt]

Stages, each resumable (re-running skips finished work):
  1. the training data, `scripts/data/build.sh DATA` (docs/data.md), unless DATA/training-manifest.csv exists;
  2. the feature cache, `benchmarks/experiments/cache_features.py` (two shards, one per core);
  3. training and calibration, `benchmarks/experiments/train_cached.py --frontend whisper --export OUT`
     with the recipe recorded in models/MODEL_CARD.md.
Prints the wall time of each stage and the validation figures of the exported checkpoint.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ["--frontend", "whisper", "--epochs", "10", "--draws", "12000", "--threads", "2", "--seed", "0"]


def run(cmd: list[str]) -> float:
    print("running:", " ".join(cmd), flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True)
    return time.time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "data")
    ap.add_argument("--cache", type=Path, default=ROOT.parent / "cache")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "default.pt")
    args = ap.parse_args()
    walls = {}
    if not (args.data / "training-manifest.csv").is_file():
        walls["data"] = run(["bash", str(ROOT / "scripts" / "data" / "build.sh"), str(args.data)])
    cache = [sys.executable, str(ROOT / "benchmarks" / "experiments" / "cache_features.py"), str(args.data),
             str(args.cache)]
    t0 = time.time()
    subprocess.run([*cache, "--init-only"], check=True)
    shards = [subprocess.Popen([*cache, "--shard", f"{k}/2"]) for k in range(2)]
    if any(p.wait() for p in shards):
        sys.exit("feature cache failed")
    walls["cache"] = time.time() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    result = args.out.with_suffix(".json")
    walls["train"] = run([sys.executable, str(ROOT / "benchmarks" / "experiments" / "train_cached.py"),
                          str(args.cache), *RECIPE, "--json", str(result), "--export", str(args.out)])
    figures = json.loads(result.read_text())
    for stage, s in walls.items():
        print(f"{stage + ' wall time':28s} {s / 60:6.1f} min")
    print(f"{'best epoch':28s} {figures['epoch']:6d}")
    for k in ("eer_clean", "eer_mp3_32k", "eer_opus_16k", "eer_phone_8k"):
        print(f"{'validation ' + k:28s} {figures[k]:6.2%}")
    print("RESULT " + json.dumps({"walls_s": {k: round(v, 1) for k, v in walls.items()}, **figures}))


if __name__ == "__main__":
    main()
