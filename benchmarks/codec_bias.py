"""Which way a re-encoding pushes the score: the signed change of P(fake) per class under each validation condition.

    python benchmarks/codec_bias.py [--model M] [--clips 160] [--max-seconds 4]

Clips: the committed validation split, balanced between the classes (shortcuts.validation_rows: held-out sources
and generators, never training data), their first --max-seconds.  Each is scored clean and under every condition of
fakecheck.training.augment.CONDITIONS (MP3 32 kbit/s, Opus 16 kbit/s, the 8 kHz phone band, MP3 32 kbit/s at
24 kHz), exactly as `scan` scores a file.  Printed per condition and class: the mean signed change of P(fake)
(positive: towards FAKE), the share of clips that moved up, and the share at or above the threshold (for bona fide
clips, the false alarms) before and after.  The warnings quote a direction only where this measures one
(fakecheck/audio/conditions.py, COMPRESSION_BIAS).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from shortcuts import clip_parser, validation_rows  # noqa: E402

from fakecheck import audio  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.training.augment import CONDITIONS, condition  # noqa: E402


def scores(det: Detector, clips: list[np.ndarray]) -> np.ndarray:
    return np.array([np.nan if v.p_fake is None else v.p_fake for v in det.analyse_waveforms(clips)])


def main() -> None:
    ap = clip_parser(__doc__)
    ap.add_argument("--max-seconds", type=float, default=4.0)
    args = ap.parse_args()
    det = Detector.load(args.model)
    rows = validation_rows(args.data, args.clips)
    labels = np.array([r.label for r in rows])
    n = int(args.max_seconds * audio.SAMPLE_RATE)
    clips = [audio.load(r.path)[:n] for r in rows]
    base = scores(det, clips)
    print(f"{len(rows)} validation clips ({int((labels == 0).sum())} bona fide), first {args.max_seconds:g} s; "
          f"model {det.model_name}, precision {det.precision}, threshold {det.threshold:.3f}")
    print(f"{'condition':13s} {'class':9s} {'scored':>6s} {'mean dP':>8s} {'moved up':>9s} "
          f"{'flagged before':>15s} {'after':>6s}")
    for name in CONDITIONS:
        if name == "clean":
            continue
        after = scores(det, [condition(x, name) for x in clips])
        for label, cls in ((0, "bona fide"), (1, "spoof")):
            ok = (labels == label) & np.isfinite(base) & np.isfinite(after)
            d = after[ok] - base[ok]
            print(f"{name:13s} {cls:9s} {int(ok.sum()):6d} {d.mean():+8.3f} {(d > 0).mean():9.0%} "
                  f"{(base[ok] >= det.threshold).mean():15.0%} {(after[ok] >= det.threshold).mean():6.0%}")


if __name__ == "__main__":
    main()
