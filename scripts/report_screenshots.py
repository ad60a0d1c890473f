#!/usr/bin/env python3
"""Screenshots of evidence reports for README and docs: docs/report-<clip>.png (desktop) and
docs/report-<clip>-phone.png (390 px, a phone).

    python scripts/report_screenshots.py [--width 1000] [--long TEN_MINUTES.wav]

The clips: the three examples (the real ARCTIC one is a low-confidence FAKE), the real ARCTIC clip through an
8 kHz phone band (a low-confidence REAL), and with --long a long recording, e.g. the 10-minute file with three
inserted fakes that `benchmarks/partial_fakes.py --save-long` writes (PARTIAL).  Each report is written with the
bundled model (as `fakecheck report` does), opened in headless Chromium (tests/browser.py), and kept as a
full-page screenshot.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakecheck import audio  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.evidence import report, report_html  # noqa: E402
from fakecheck.training.augment import resample_round_trip  # noqa: E402
from tests import browser  # noqa: E402

PHONE_WIDTH = 390


def shoot(page: Path, width: int, mobile: bool, out: Path) -> None:
    shot = browser.load(page, width, mobile=mobile)
    if shot.errors:
        raise SystemExit(f"{page.name}: {shot.errors}")
    out.write_bytes(shot.screenshot)
    try:  # 256 colours are plenty for a page of text and two heat maps: a third of the bytes
        from PIL import Image

        Image.open(out).convert("RGB").quantize(256).save(out, optimize=True)
    except ImportError:
        pass
    print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e3:.0f} kB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=1000)
    ap.add_argument("--long", type=Path, default=None, help="a long recording to add (docs/report-long*.png)")
    a = ap.parse_args()
    det = Detector.load()
    with tempfile.TemporaryDirectory() as tmp:
        phone = Path(tmp) / "real_arctic_a0007_phone.wav"  # the same recording through a phone band
        sf.write(phone, resample_round_trip(audio.load(ROOT / "examples" / "real_arctic_a0007.wav"), 8000), 16_000)
        clips = [c.relative_to(ROOT) for c in sorted((ROOT / "examples").glob("*.wav"))] + [phone]
        clips += [a.long] if a.long else []
        for clip in clips:
            name = "long" if clip == a.long else clip.stem
            page = Path(tmp) / f"{name}.html"
            r = report.build(det, clip, f"fakecheck report {clip.name}")
            r = report.redact(r) if clip.is_absolute() else r  # made in a temporary folder: only its name is shown
            page.write_text(report_html.render(r), encoding="utf-8")
            shoot(page, a.width, False, ROOT / "docs" / f"report-{name}.png")
            shoot(page, PHONE_WIDTH, True, ROOT / "docs" / f"report-{name}-phone.png")


if __name__ == "__main__":
    main()
