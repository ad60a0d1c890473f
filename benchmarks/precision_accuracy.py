"""Each scoring precision against fp32 on the validation split: accuracy kept, and the speed bought.

    python benchmarks/precision_accuracy.py DATA [--model M] [--limit N] [--max-seconds 8]

DATA is the built data root; rows with split == validation in DATA/training-manifest.csv are
scored.  Each clip is decoded once, cut to its first --max-seconds (as benchmarks/validation.py
does), and scored by Detector.analyse_waveforms in every path (fp32, bf16, int8), the paths taking
turns clip batch by clip batch so that each sees the same machine load.  Per path against fp32:

* mean and max |dP(fake)| over clips scored in both paths, and verdict flips (any change of
  REAL / FAKE / PARTIAL / INCONCLUSIVE);
* EER, and its shift from fp32's in points;
* whether the path passes the accuracy rule (fakecheck.model.precision: EER within 0.3 points, flips
  <= 1%), and whether fakecheck.model.precision.AUTO_CANDIDATES agrees (exit 1 when auto may choose a
  path that fails it);
* seconds of model time and the speed ratio to fp32 (measured in this run, same clips).

--limit N scores every k-th validation clip (evenly spaced, deterministic), for a quicker run.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, note, result, table  # noqa: E402

from fakecheck import audio  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.evaluation.metrics import compute_eer  # noqa: E402
from fakecheck.model import precision  # noqa: E402

PATHS = ("fp32", "bf16", "int8")
CHUNK = 16  # clips per turn


def validation_rows(data: Path, limit: int | None) -> list[tuple[Path, int]]:
    with open(data / "training-manifest.csv", newline="", encoding="utf-8") as f:
        rows = [(data / r["path"], int(r["label"] == "spoof")) for r in csv.DictReader(f) if r["split"] == "validation"]
    if limit and limit < len(rows):
        idx = np.linspace(0, len(rows) - 1, limit).round().astype(int)
        rows = [rows[i] for i in sorted(set(idx))]
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--max-seconds", type=float, default=8.0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    info = machine_info()  # the load at the start; result() adds the load at the end
    rows = validation_rows(args.data, args.limit)
    note(f"{len(rows)} validation clips; decoding")
    clips, labels, names = [], [], []
    for path, label in rows:
        try:
            x = audio.load(path)
        except audio.AudioLoadError:
            continue
        clips.append(x[: int(args.max_seconds * audio.SAMPLE_RATE)])
        labels.append(label)
        names.append(str(path))
    dets = {p: Detector.load(args.model, device="cpu", precision=p) for p in PATHS}
    verdicts: dict[str, list] = {p: [] for p in PATHS}
    seconds = dict.fromkeys(PATHS, 0.0)
    for p in PATHS:  # warm-up: first-call dispatch and allocator
        list(dets[p].analyse_waveforms(clips[:2]))
    for start in range(0, len(clips), CHUNK):
        for p in PATHS:
            t0 = time.perf_counter()
            verdicts[p] += list(dets[p].analyse_waveforms(clips[start:start + CHUNK], names[start:start + CHUNK]))
            seconds[p] += time.perf_counter() - t0
        note(f"{min(start + CHUNK, len(clips))}/{len(clips)}")
    y = np.array(labels)
    ref = verdicts["fp32"]
    ref_eer = None
    out_rows, figures = [], {}
    ok_auto = True
    for p in PATHS:
        vs = verdicts[p]
        both = [i for i in range(len(vs)) if vs[i].p_fake is not None and ref[i].p_fake is not None]
        dp = np.array([abs(vs[i].p_fake - ref[i].p_fake) for i in both])
        flips = sum(vs[i].verdict != ref[i].verdict for i in range(len(vs)))
        scored = [i for i in range(len(vs)) if vs[i].score is not None]
        s = np.array([vs[i].score for i in scored])
        lab = y[scored]
        eer = compute_eer(s[lab == 0], s[lab == 1])[0]
        ref_eer = eer if ref_eer is None else ref_eer
        passes = precision.passes_accuracy_rule(eer - ref_eer, flips, len(vs))
        in_auto = p in precision.AUTO_CANDIDATES
        ok_auto &= passes or not in_auto
        speed = seconds["fp32"] / seconds[p]
        figures[p] = {"mean_abs_dp": float(dp.mean()), "max_abs_dp": float(dp.max()), "flips": flips,
                      "n": len(vs), "eer": eer, "eer_shift_points": 100 * (eer - ref_eer), "passes_rule": passes,
                      "auto_candidate": in_auto, "seconds": seconds[p], "speed_vs_fp32": speed,
                      "native": precision.runs_natively(p)}
        out_rows.append([p, f"{dp.mean():.4f}", f"{dp.max():.4f}", f"{flips}/{len(vs)}", f"{100 * eer:.2f}%",
                         f"{100 * (eer - ref_eer):+.2f}", "yes" if passes else "NO", "yes" if in_auto else "no",
                         f"{speed:.2f}x"])
    print(table(["path", "mean |dP|", "max |dP|", "flips", "EER", "dEER pts", "rule", "auto", "speed vs fp32"],
                out_rows))
    print(f"clips {len(clips)} (first {args.max_seconds:g} s of each), model "
          f"{dets['fp32'].model_name}; rule: dEER <= {100 * precision.MAX_EER_SHIFT:.1f} points and flips <= "
          f"{precision.MAX_FLIP_FRACTION:.0%}; auto here -> {precision.resolve('auto', dets['fp32'].device)}")
    result("precision_accuracy", {"clips": len(clips), "paths": figures}, info)
    if args.json:
        args.json.write_text(json.dumps({"paths": figures, "machine": info}, indent=2) + "\n")
    if not ok_auto:
        print("AUTO_CANDIDATES holds a path that fails the accuracy rule: fix fakecheck/model/precision.py")
    return 0 if ok_auto else 1


if __name__ == "__main__":
    sys.exit(main())
