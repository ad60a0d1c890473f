#!/usr/bin/env python3
"""What an HTML evidence report costs against `explain` on the same file (issue 20 targets: a 10-minute
clip's report under 15 MB, written in under 3x the time of explain).

    python benchmarks/report_cost.py [FILE] [--minutes 10] [--model M]

Without FILE, a clip of MINUTES is made from the committed examples (speech with 0.5 s pauses, 16 kHz
16-bit WAV, the kind of file a journalist receives).  The model is loaded once; then explain_file and
report.build + report_html.render run on the file, each timed once after a warm-up on the first 8 s.
Prints both times, their ratio and the report's size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakecheck import audio  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.analysis.explain import explain_file  # noqa: E402
from fakecheck.evidence import report, report_html  # noqa: E402


def make_clip(path: Path, minutes: float) -> None:
    parts = []
    for name in sorted((ROOT / "examples").glob("*.wav")):
        parts += [audio.trim_silence(audio.load(name)), np.zeros(audio.SAMPLE_RATE // 2, np.float32)]
    one = np.concatenate(parts)
    n = int(minutes * 60 * audio.SAMPLE_RATE)
    sf.write(path, np.tile(one, n // len(one) + 1)[:n], audio.SAMPLE_RATE, subtype="PCM_16")


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file", type=Path, nargs="?")
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--model", type=Path)
    a = ap.parse_args()
    det = Detector.load(a.model)
    with tempfile.TemporaryDirectory() as tmp:
        path = a.file
        if path is None:
            path = Path(tmp) / "clip.wav"
            make_clip(path, a.minutes)
        warm = Path(tmp) / "warm.wav"
        sf.write(warm, audio.load(path)[: 8 * audio.SAMPLE_RATE], audio.SAMPLE_RATE)
        report_html.render(report.build(det, warm, "warm-up"))  # imports, thread pools, caches
        t_explain, _ = timed(lambda: explain_file(det, path))
        t_report, text = timed(lambda: report_html.render(report.build(det, path, "benchmark")))
    size = len(text.encode("utf-8"))
    info = audio.probe(path) if a.file else None
    duration = info.duration_s if info else a.minutes * 60
    print(f"{path.name if a.file else f'{a.minutes:g} min of example speech'} ({duration:.0f} s), "
          f"model {det.model_name}")
    print(f"  explain   {t_explain:6.1f} s")
    print(f"  report    {t_report:6.1f} s   ({t_report / t_explain:.2f}x explain; target < 3x)")
    print(f"  size      {size / 1e6:6.2f} MB (target < 15 MB)")


if __name__ == "__main__":
    main()
