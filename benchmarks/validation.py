"""The detector's validation protocol: one command, every figure the model card quotes.

    python benchmarks/validation.py DATA [--model M ...] [--conditions clean,mp3_32k,opus_16k,phone_8k,mp3_32k_24k]
        [--max-seconds 8] [--json OUT.json]

DATA is the built data root; its training-manifest.csv fixes the validation split (docs/data.md).
Each validation clip is decoded once, cut to its first --max-seconds (so the five conditions cost
what one full pass would), put through each condition (MP3 32 kbit/s, Opus 16 kbit/s, an 8 kHz
phone band, and MP3 32 kbit/s at 24 kHz, applied to both classes), and scored exactly as `fakecheck scan` scores a file
(speech detection, sliding windows, calibration).  Per model and condition it prints:

* EER over all scored clips, and the mean per family (each held-out spoof family against all
  bona fide clips, averaged: less dominated by the largest family);
* the false-alarm rate at the model's threshold (FAKE or PARTIAL) and the mean P(fake) for every
  bona fide corpus with at least MIN_CLIPS clips;
* how many clips were INCONCLUSIVE (too little speech) and so left out.
Several --model values are scored on the same decoded clips, so their figures compare directly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "data"))

import manifest as data_manifest  # noqa: E402

from fakecheck import audio  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.evaluation.metrics import compute_eer  # noqa: E402
from fakecheck.training.augment import CONDITIONS, condition  # noqa: E402

MIN_CLIPS = 30  # bona fide corpora with fewer clips get no false-alarm rate of their own (too noisy)
FLAGGED = ("FAKE", "PARTIAL")


def family_of(system: str, source: str) -> str:
    if system in data_manifest.HELD_OUT_SYSTEMS:
        return data_manifest.HELD_OUT_SYSTEMS[system]
    return data_manifest.VALIDATION_SOURCES.get(source, "other")


def figures(verdicts: Iterable, rows: list[dict[str, str]]) -> dict[str, object]:
    verdicts = list(verdicts)  # analyse_waveforms yields them one by one
    p = np.array([v.p_fake if v.p_fake is not None else np.nan for v in verdicts])
    flagged = np.array([v.verdict in FLAGGED for v in verdicts])
    labels = np.array([r["label"] == "spoof" for r in rows])
    ok = np.isfinite(p)
    bona = p[ok & ~labels]
    eer = compute_eer(bona, p[ok & labels])[0]
    fams: dict[str, list[float]] = defaultdict(list)
    for r, x, k in zip(rows, p, ok, strict=True):
        if k and r["label"] == "spoof":
            fams[family_of(r["system"], r["source"])].append(x)
    per_family = {f: compute_eer(bona, np.array(xs))[0] for f, xs in sorted(fams.items())}
    corpora: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if r["label"] == "bonafide" and ok[i]:
            corpora[r["system"]].append(i)
    per_source = {c: {"n": len(ix), "false_alarm": float(flagged[ix].mean()), "mean_p_fake": float(p[ix].mean())}
                  for c, ix in sorted(corpora.items(), key=lambda kv: -len(kv[1])) if len(ix) >= MIN_CLIPS}
    return {"eer": eer, "mean_family_eer": float(np.mean(list(per_family.values()))), "per_family": per_family,
            "false_alarm_all": float(flagged[ok & ~labels].mean()), "per_bonafide_source": per_source,
            "worst_false_alarm": max((v["false_alarm"] for v in per_source.values()), default=float("nan")),
            "n_scored": int(ok.sum()), "n_unscored": int((~ok).sum())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("--model", action="append", default=None, help="checkpoint(s); default: the bundled model")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--max-seconds", type=float, default=8.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    rows = [r for r in data_manifest.read_csv(str(a.data / "training-manifest.csv")) if r["split"] == "validation"]
    t0 = time.time()
    clips, kept = [], []
    for r in rows:
        try:
            clips.append(audio.load(a.data / r["path"])[: int(a.max_seconds * audio.SAMPLE_RATE)])
            kept.append(r)
        except audio.AudioLoadError as exc:
            print(f"skipped {r['path']}: {exc}", file=sys.stderr)
    print(f"{len(kept)} validation clips decoded in {time.time() - t0:.0f} s", file=sys.stderr)
    detectors = [Detector.load(m, threads=a.threads) for m in (a.model or [None])]
    results: dict[str, dict[str, object]] = {}
    for cond in a.conditions.split(","):
        t = time.time()
        waves = [condition(x, cond) for x in clips]
        for det in detectors:
            name = det.model_name
            res = figures(det.analyse_waveforms(waves), kept)
            results.setdefault(name, {})[cond] = res
            print(f"{name:28s} {cond:9s} EER {res['eer']:6.2%}  mean/family {res['mean_family_eer']:6.2%}  "
                  f"false alarms {res['false_alarm_all']:6.2%} (worst source {res['worst_false_alarm']:6.2%})  "
                  f"unscored {res['n_unscored']}  [{time.time() - t:.0f} s]", flush=True)
            print_details(name, cond, res)
            if a.json:  # after every condition: a long run killed half-way keeps what it measured
                a.json.write_text(json.dumps(results, indent=1))


def print_details(name: str, cond: str, res: dict[str, object]) -> None:
    print(f"  {name} ({cond}): bona fide sources, false-alarm rate at the threshold and mean P(fake)")
    for src, v in res["per_bonafide_source"].items():  # type: ignore[attr-defined]
        print(f"    {src:28s} n={v['n']:4d}  false alarms {v['false_alarm']:6.1%}  mean P(fake) {v['mean_p_fake']:.3f}")
    print(f"  {name} ({cond}): spoof families, EER against all bona fide")
    for fam, e in res["per_family"].items():  # type: ignore[attr-defined]
        print(f"    {fam:40s} {e:6.2%}", flush=True)


if __name__ == "__main__":
    main()
