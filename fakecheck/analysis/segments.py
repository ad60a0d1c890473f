"""The P(fake) timeline of a whole file, and the fake segments read from it.

Windows (4 s, every 2 s) each give one spoof logit per 40 ms token.  `stitch` puts them on
one grid over the file, averaging the logits of the windows that cover a cell (each cell
is seen by one or two windows).  `find_segments` then reads the calibrated timeline:

    1. median-smooth P(fake) over SMOOTH_TOKENS (a lone token cannot make a segment);
    2. mark speech tokens whose smoothed P(fake) is at or above the threshold (the same
       P(fake) threshold as the clip verdict);
    3. join marked runs separated by less than MERGE_GAP_S;
    4. keep runs of at least MIN_SEGMENT_S whose mean P(fake) reaches SEGMENT_CONFIDENCE.

The constants were set before any benchmark ran and were not tuned on it; docs/experiments.md gives
what the rule does on the calibration splices and on the splice benchmark.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SMOOTH_TOKENS = 5  # 200 ms median filter
MERGE_GAP_S = 0.3  # runs closer than this are one segment
MIN_SEGMENT_S = 0.5  # shortest segment reported
SEGMENT_CONFIDENCE = 0.5  # mean P(fake) a run must reach to be reported


@dataclass(frozen=True)
class WindowTokens:
    """One window's token logits placed in the file: first token at `start` samples."""

    start: int  # samples from the start of the file
    logits: np.ndarray  # (n,) spoof logits of its real (not repeat-padded) tokens
    speech: np.ndarray  # (n,) bool: the token holds speech


def grid_size(duration_s: float, token_s: float) -> int:
    return max(1, int(np.ceil(round(duration_s / token_s, 6))))


def stitch(windows: Sequence[WindowTokens], n_grid: int, token_samples: int) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """(mean logit per cell, covered mask, speech mask) on a grid of n_grid cells of token_samples.

    A token goes to the cell its centre falls in; cells no window covers (leading silence
    that was trimmed) are uncovered and never speech.
    """
    total = np.zeros(n_grid)
    count = np.zeros(n_grid)
    speech = np.zeros(n_grid, dtype=bool)
    for w in windows:
        n = len(w.logits)
        cells = (w.start + token_samples * np.arange(n) + token_samples // 2) // token_samples
        ok = cells < n_grid
        np.add.at(total, cells[ok], w.logits[ok])
        np.add.at(count, cells[ok], 1)
        speech[cells[ok]] |= w.speech[ok]
    covered = count > 0
    return np.where(covered, total / np.maximum(count, 1), 0.0), covered, speech & covered


def median_smooth(x: np.ndarray, width: int = SMOOTH_TOKENS) -> np.ndarray:
    """Running median over `width` cells (edges use the cells available)."""
    if len(x) == 0 or width <= 1:
        return x.copy()
    half = width // 2
    padded = np.pad(x, half, mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, width)
    return np.median(view, axis=1)


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of a boolean array."""
    if not mask.any():
        return []
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist(), strict=True))


def merge_gap(step_s: float) -> float:
    """The gap under which two runs are one stretch: MERGE_GAP_S, or one step of the timeline when that is longer.
    Without a token head a step is a window hop (2 s), and runs closer than that are the same evidence (issue 26:
    "4:06-4:10, 4:10-4:12" read like a typo)."""
    return max(MERGE_GAP_S, step_s)


def find_segments(p_fake: np.ndarray, speech: np.ndarray, token_s: float, threshold: float,
                  min_segment_s: float = MIN_SEGMENT_S, merge_gap_s: float = MERGE_GAP_S,
                  confidence: float = SEGMENT_CONFIDENCE, smooth: int = SMOOTH_TOKENS) -> list[tuple[float, float]]:
    """[start_s, end_s] of the fake segments of a calibrated token timeline (see the module docstring)."""
    if len(p_fake) == 0:
        return []
    smoothed = median_smooth(p_fake, smooth)
    marked = (smoothed >= threshold) & speech
    merged: list[list[int]] = []
    gap = int(round(merge_gap_s / token_s))
    for a, b in runs(marked):
        if merged and a - merged[-1][1] < gap:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if (b - a) * token_s + 1e-9 < min_segment_s:
            continue
        if mean_p(p_fake, speech, a * token_s, b * token_s, token_s) < confidence:
            continue
        out.append((round(a * token_s, 3), round(b * token_s, 3)))
    return out


def fake_fraction(p_fake: np.ndarray, speech: np.ndarray, threshold: float, smooth: int = SMOOTH_TOKENS) -> float:
    """Share of speech tokens whose smoothed P(fake) is at or above the threshold (0 without speech)."""
    if not speech.any():
        return 0.0
    return float(np.mean(median_smooth(p_fake, smooth)[speech] >= threshold))


def mean_p(p_fake: np.ndarray, speech: np.ndarray, start_s: float, end_s: float, token_s: float) -> float:
    """Mean P(fake) of the speech cells of a [start_s, end_s] segment (the mean find_segments gates on)."""
    a, b = int(round(start_s / token_s)), int(round(end_s / token_s))
    cells = p_fake[a:b][speech[a:b]]
    return float(np.mean(cells)) if len(cells) else 0.0
