#!/usr/bin/env python3
"""Does a verdict's presence depend on level?  (issue 20: speech detection levelled before silero-vad)

    python benchmarks/level_sweep.py [DATA_ROOT] [--clips 24] [--model M]

Takes the first CLIPS validation clips of the training manifest (half bona fide, half spoof, in
manifest order; validation material only), plus one quiet real recording (the first bona fide clip
brought to -50 dBFS, as a meeting recorded from across a room), and scores each at gains from -30 to
+12 dB in memory (float samples: +12 dB may pass full scale, as a float file can).  A clip passes when
it gets a verdict (REAL, FAKE or PARTIAL) at every gain or at none; prints the clips that do not.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakecheck import audio  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.analysis.verdict import SCORED  # noqa: E402

GAINS_DB = (-30, -24, -18, -12, -6, 0, 6, 12)
QUIET_DBFS = -50.0


def rms_dbfs(x: np.ndarray) -> float:
    loud = audio.trim_silence(x)
    return float(10 * np.log10(np.mean(loud.astype(np.float64) ** 2) + 1e-20))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, nargs="?", default=Path("/work/data"))
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--model", type=Path)
    a = ap.parse_args()
    rows = [r for r in csv.DictReader(open(ROOT / "data" / "training-manifest.csv", newline="", encoding="utf-8"))
            if r["split"] == "validation"]
    half = a.clips // 2
    chosen = ([r for r in rows if r["label"] == "bonafide"][:half]
              + [r for r in rows if r["label"] == "spoof"][: a.clips - half])
    clips = {r["path"]: audio.load(a.data / r["path"]) for r in chosen}
    first_real = clips[chosen[0]["path"]]
    clips[f"quiet real recording ({QUIET_DBFS:g} dBFS)"] = (
        first_real * np.float32(10 ** ((QUIET_DBFS - rms_dbfs(first_real)) / 20)))
    det = Detector.load(a.model)
    t0 = time.time()
    names, waves = [], []
    for name, x in clips.items():
        for g in GAINS_DB:
            names.append(f"{name} @ {g:+d} dB")
            waves.append((x * np.float32(10 ** (g / 20))).astype(np.float32))
    verdicts = list(det.analyse_waveforms(waves, names))
    bad = 0
    for i, name in enumerate(clips):
        got = verdicts[i * len(GAINS_DB):(i + 1) * len(GAINS_DB)]
        present = [v.verdict in SCORED for v in got]
        if len(set(present)) > 1:
            bad += 1
            print(f"  differs: {name}: " + ", ".join(f"{g:+d} dB {v.verdict}" for g, v in zip(GAINS_DB, got,
                                                                                              strict=True)))
    print(f"{len(clips)} clips ({a.clips} validation clips + 1 quiet real recording) at gains "
          f"{GAINS_DB[0]:+d}..{GAINS_DB[-1]:+d} dB, model {det.model_name}: verdict presence identical at every "
          f"gain for {len(clips) - bad} of {len(clips)} ({time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
