"""The result of one input (Verdict) and the rule that turns scores and fake segments into it.

Cheap to import (NumPy only): the CLI's renderers, the HTML report and the tests read verdicts
without loading torch.  fakecheck.inference computes the numbers; `decide` names the verdict.

The PARTIAL rule has no cliff.  A fake segment's evidence is how far its mean P(fake) sits above
the threshold, in log-odds, times the square root of its length in seconds:

    evidence = (logit(mean P(fake)) - logit(threshold)) * sqrt(seconds)

A clip under the threshold is PARTIAL when any segment's evidence reaches PARTIAL_EVIDENCE, so
length and strength trade off smoothly: at the default threshold of 0.5 a 2 s segment needs a mean
P(fake) of 0.73 (the old fixed cut-off, which took no account of length), 8 s need 0.62, 32 s need
0.56, and half a second needs 0.88.  The square root, not the length itself, because the
overlapping windows make neighbouring tokens correlated evidence: doubling a stretch does not
double what it proves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from fakecheck.model.calibration import CONFIDENCE_LOGODDS, confidence, logit

SCHEMA_VERSION = 1
VERDICTS = ("REAL", "FAKE", "PARTIAL", "INCONCLUSIVE", "ERROR")
FLAGGED = ("FAKE", "PARTIAL")  # verdicts that make scan exit 1
SCORED = ("REAL", "FAKE", "PARTIAL")  # verdicts that carry a p_fake (the tests use it)

MIN_SPEECH_S = 1.0  # a file with less detected speech is INCONCLUSIVE: there is nothing to judge
# The PARTIAL bar, anchored so that a segment one window hop long (2 s, the bundled model's timeline
# step) needs exactly the old cut-off: medium confidence on its own, 1 log-odds above the threshold.
PARTIAL_ANCHOR_S = 2.0
PARTIAL_EVIDENCE = CONFIDENCE_LOGODDS[0] * math.sqrt(PARTIAL_ANCHOR_S)  # 1.41 log-odds x sqrt(s)


@dataclass(frozen=True)
class WindowScore:
    """One scored window: its span in the file (seconds), calibrated P(fake), raw score, speech flag."""

    start_s: float
    end_s: float
    p_fake: float
    score: float
    speech: bool


@dataclass(frozen=True)
class Timeline:
    """Calibrated P(fake) per token over the whole file (token_s seconds per cell)."""

    token_s: float
    p_fake: np.ndarray  # (cells,)
    speech: np.ndarray  # (cells,) bool: the cell holds speech that was scored


@dataclass(frozen=True)
class Verdict:
    """The result for one input; the same fields as a row of scan's CSV/JSON output."""

    path: str
    verdict: str  # REAL, FAKE, PARTIAL, INCONCLUSIVE or ERROR
    p_fake: float | None  # calibrated P(synthetic) under equal priors; None unless REAL, FAKE or PARTIAL
    score: float | None  # raw model logit (clip aggregate)
    threshold: float  # p_fake at or above this is FAKE
    duration_s: float | None
    sample_rate: int | None  # of the original file
    channels: int | None
    suspicious_start_s: float | None
    suspicious_end_s: float | None
    model: str
    error: str = ""  # the one-line reason for ERROR and INCONCLUSIVE
    confidence: str | None = None  # low, medium or high (calibration.confidence); None unless scored
    warnings: tuple[str, ...] = field(default=())  # conditions that weaken the verdict (fakecheck.conditions)
    fake_fraction: float | None = None  # share of speech tokens at or above the threshold
    fake_segments: tuple[tuple[float, float], ...] = field(default=())  # [start_s, end_s] of fake stretches
    windows: tuple[WindowScore, ...] = field(default=())
    timeline: Timeline | None = field(default=None, compare=False, repr=False)  # not in to_dict: explain shows it

    def to_dict(self, with_windows: bool = True) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("windows", "timeline")}
        d["fake_segments"] = [list(s) for s in self.fake_segments]
        d["warnings"] = list(self.warnings)
        if with_windows:
            d["windows"] = [asdict(w) for w in self.windows]
        return d


def segment_evidence(mean_p: float, seconds: float, threshold: float) -> float:
    """Log-odds of a segment's mean P(fake) above the threshold, times sqrt(its length in seconds)."""
    return (logit(mean_p) - logit(threshold)) * math.sqrt(max(seconds, 0.0))


def decide(p_fake: float, threshold: float, segments: Sequence[tuple[float, float, float]],
           n_warnings: int = 0) -> tuple[str, str]:
    """(verdict, confidence) of a scored clip from its P(fake) and its (start_s, end_s, mean P(fake)) segments.

    FAKE at or above the threshold; else PARTIAL when a segment's evidence reaches PARTIAL_EVIDENCE
    (module docstring); else REAL.  PARTIAL is as sure as its strongest segment's mean P(fake)."""
    if p_fake >= threshold:
        return "FAKE", confidence(p_fake, threshold, n_warnings)
    best = max(segments, key=lambda s: segment_evidence(s[2], s[1] - s[0], threshold), default=None)
    if best is not None and segment_evidence(best[2], best[1] - best[0], threshold) >= PARTIAL_EVIDENCE:
        return "PARTIAL", confidence(best[2], threshold, n_warnings)
    return "REAL", confidence(p_fake, threshold, n_warnings)


def speech_reason(speech_s: float) -> str:
    """The INCONCLUSIVE reason for too little speech; the same wording whatever the amount."""
    need = f"{speech_s:.1f} s of speech; {MIN_SPEECH_S:g} s needed"
    return f"no speech found ({need})" if round(speech_s, 1) == 0 else f"too little speech ({need})"
