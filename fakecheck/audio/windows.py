"""Model windows: cut a stream of decoded blocks into the 4 s sliding windows the model scores."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from fakecheck.audio.constants import WINDOW_HOP_SAMPLES, WINDOW_SAMPLES
from fakecheck.audio.levels import has_speech, trim_leading_silence


def fit_window(x: np.ndarray, length: int = WINDOW_SAMPLES) -> np.ndarray:
    """Repeat a short clip until it fills `length` samples (the ASVspoof convention), or cut it."""
    if len(x) >= length:
        return x[:length]
    if len(x) == 0:
        return np.zeros(length, dtype=np.float32)
    return np.tile(x, math.ceil(length / len(x)))[:length]


@dataclass(frozen=True)
class Window:
    """One model window: `samples` has WINDOW_SAMPLES values; `length` of them are real audio."""

    start: int  # offset in samples at SAMPLE_RATE, from the start of the file
    length: int  # real (not repeat-padded) samples in the window
    samples: np.ndarray
    speech: bool


def iter_windows(blocks: Iterator[np.ndarray]) -> Iterator[Window]:
    """Cut a stream of blocks into sliding windows, after dropping leading silence.

    Long audio gives windows every WINDOW_HOP_SAMPLES plus one flush with the end;
    audio shorter than a window gives one repeat-padded window.  Memory stays at
    about one window plus one block, whatever the file's length.
    """
    skipped = 0  # leading silent samples dropped
    buf = np.zeros(0, dtype=np.float32)
    buf_start = 0  # offset of buf[0] in the trimmed timeline
    next_start = 0
    emitted = 0
    leading = True
    for block in blocks:
        if leading:
            kept = trim_leading_silence(block)
            skipped += len(block) - len(kept)
            if not len(kept):
                continue
            block, leading = kept, False
        buf = np.concatenate([buf, block])
        while next_start + WINDOW_SAMPLES <= buf_start + len(buf):
            lo = next_start - buf_start
            win = buf[lo : lo + WINDOW_SAMPLES]
            yield Window(skipped + next_start, WINDOW_SAMPLES, win.copy(), has_speech(win))
            emitted += 1
            next_start += WINDOW_HOP_SAMPLES
            keep_from = next_start - WINDOW_HOP_SAMPLES  # last emitted start: room for a flush window
            buf, buf_start = buf[keep_from - buf_start :], keep_from
    total = buf_start + len(buf)
    if emitted == 0:
        if total:
            yield Window(skipped, total, fit_window(buf), has_speech(buf))
    elif next_start - WINDOW_HOP_SAMPLES + WINDOW_SAMPLES < total:
        win = buf[-WINDOW_SAMPLES:]
        yield Window(skipped + total - WINDOW_SAMPLES, WINDOW_SAMPLES, win.copy(), has_speech(win))
