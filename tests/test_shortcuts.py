"""Shortcut regression: trivial changes must barely move the bundled model's P(fake).

Measured on validation clips of the corpus (sources the model never trained on).
Skipped, with a message, when ../shared/corpus is not present.
"""

from __future__ import annotations

import numpy as np
import pytest

from fakecheck import audio, datasets
from fakecheck.inference import Detector
from fakecheck.shortcuts import PROBES

N_PER_CLASS = 8


@pytest.fixture(scope="module")
def probe_set():
    from conftest import CORPUS

    if not (CORPUS / "manifest.csv").is_file():
        pytest.skip(f"../shared/corpus not found at {CORPUS}: shortcut regression skipped")
    det = Detector.load()
    held_out = set(det.checkpoint.provenance.get("val_sources", []))
    rows = [r for r in datasets.load_dataset(CORPUS / "manifest.csv") if r.source in held_out]
    picked = [r for label in (0, 1) for r in [x for x in rows if x.label == label][:: 7][:N_PER_CLASS]]
    clips = [audio.load(r.path) for r in picked]
    base = np.array([v.p_fake for v in det.analyse_waveforms(clips)], dtype=float)
    return det, clips, base


# Known gap, measured by benchmarks/shortcuts.py on 160 validation clips: an 8 kHz round trip
# moves P(fake) by 0.116 on average (52 verdicts flip).  Strict: this test fails loudly once a
# retrained model closes the gap, so the marker cannot outlive the problem.
KNOWN_GAPS = {"resample_8k": "the bundled model is sensitive to losing the 4-8 kHz band (mean |dP| 0.116)"}


@pytest.mark.corpus
@pytest.mark.parametrize("probe", [pytest.param(p, marks=pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[p]))
                                   if p in KNOWN_GAPS else p for p in sorted(PROBES)])
def test_probe_moves_p_fake_by_less_than_0_1(probe_set, probe):
    det, clips, base = probe_set
    moved = np.array([v.p_fake for v in det.analyse_waveforms([PROBES[probe](x) for x in clips])], dtype=float)
    delta = np.abs(moved - base)
    assert np.isfinite(delta).all()
    assert delta.mean() < 0.1 and np.median(delta) < 0.1, f"{probe}: mean {delta.mean():.3f}, max {delta.max():.3f}"
