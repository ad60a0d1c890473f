#!/usr/bin/env python3
"""Screenshots of the example clips' evidence reports for README: docs/report-<clip>.png.

    python scripts/report_screenshots.py [--width 1000]

Writes each example's report with the bundled model (as `fakecheck report` does), opens it in headless
Chromium (tests/browser.py) and keeps a full-page screenshot at the given width.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.evidence import report, report_html  # noqa: E402
from tests import browser  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--width", type=int, default=1000)
    a = ap.parse_args()
    det = Detector.load()
    with tempfile.TemporaryDirectory() as tmp:
        for clip in sorted((ROOT / "examples").glob("*.wav")):
            page = Path(tmp) / f"{clip.stem}.html"
            rel = clip.relative_to(ROOT)
            page.write_text(report_html.render(report.build(det, rel, f"fakecheck report {rel}")), encoding="utf-8")
            shot = browser.load(page, a.width)
            if shot.errors:
                raise SystemExit(f"{clip.name}: {shot.errors}")
            out = ROOT / "docs" / f"report-{clip.stem}.png"
            out.write_bytes(shot.screenshot)
            try:  # 256 colours are plenty for a page of text and two heat maps: a third of the bytes
                from PIL import Image

                Image.open(out).convert("RGB").quantize(256).save(out, optimize=True)
            except ImportError:
                pass
            print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
