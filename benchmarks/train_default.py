"""Benchmark (e): reproduce the default model's training run end to end and time it.

    python benchmarks/train_default.py [--extra GENERATED.csv] [--out runs/default.pt]

It runs exactly the command recorded in models/MODEL_CARD.md: the corpus in
../shared/corpus (split by source repository and generator inside `train`), plus
the paired vocoder resynthesis made by scripts/training-data/ (training only).
Prints the wall time, the time per epoch and the best validation EER.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "manifest.csv"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--extra", type=Path, default=ROOT.parent / "data" / "generated_all.csv")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "default.pt")
    ap.add_argument("--epochs", type=int, default=24)
    args = ap.parse_args()
    if not CORPUS.is_file():
        sys.exit(f"corpus not found at {CORPUS}")
    cmd = ["fakecheck", "train", str(CORPUS), "--out", str(args.out), "--epochs", str(args.epochs),
           "--clips-per-epoch", "2400", "--patience", "10", "--seed", "0"]
    if args.extra.is_file():
        cmd[3:3] = ["--extra", str(args.extra)]
    else:
        print(f"note: {args.extra} not found; training on the corpus alone", file=sys.stderr)
    log_path = args.out.with_name(args.out.name + ".metrics.jsonl")
    for stale in (args.out, args.out.with_name(args.out.name + ".state"), log_path):
        stale.unlink(missing_ok=True)
    print("running:", " ".join(cmd), flush=True)
    t0 = time.time()
    subprocess.run(cmd, check=True)
    wall = time.time() - t0
    log = [json.loads(line) for line in log_path.read_text().splitlines()]
    per_epoch = sum(r["epoch_seconds"] for r in log) / len(log)
    best = min(r["val_eer"] for r in log)
    print(f"{'end-to-end wall time':28s} {wall / 60:6.1f} min")
    print(f"{'epochs run':28s} {len(log):6d}")
    print(f"{'mean training time / epoch':28s} {per_epoch:6.1f} s")
    print(f"{'best validation EER':28s} {best:6.2%}")
    print("RESULT " + json.dumps({"wall_s": round(wall, 1), "epochs": len(log), "epoch_s": round(per_epoch, 1),
                                  "best_val_eer": best}))


if __name__ == "__main__":
    main()
