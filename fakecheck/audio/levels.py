"""Frame levels and silence: what counts as silence in this audio, and trimming it."""

from __future__ import annotations

import numpy as np

from fakecheck.audio.constants import (
    DIGITAL_SILENCE_DBFS,
    HOP_LENGTH,
    LOUD_PERCENTILE,
    RELATIVE_SILENCE_DB,
    SILENCE_DBFS,
    SPEECH_FRACTION,
)


def frame_dbfs(x: np.ndarray, frame: int = HOP_LENGTH) -> np.ndarray:
    """Level of each non-overlapping `frame`-sample frame in dBFS, shape (frames,)."""
    n = len(x) // frame
    if n == 0:
        return np.full(1, -np.inf if not len(x) else 10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-20))
    frames = x[: n * frame].reshape(n, frame).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)


def silence_dbfs(levels: np.ndarray) -> float:
    """The level under which a frame of this audio is silence: SILENCE_DBFS, or RELATIVE_SILENCE_DB under
    the loud frames of quieter audio, never below DIGITAL_SILENCE_DBFS (see the constants)."""
    levels = levels[np.isfinite(levels)]  # frame_dbfs gives -inf for an empty block
    if len(levels) == 0:
        return SILENCE_DBFS
    loud = float(np.percentile(levels, LOUD_PERCENTILE))
    return float(np.clip(loud - RELATIVE_SILENCE_DB, DIGITAL_SILENCE_DBFS, SILENCE_DBFS))


def has_speech(x: np.ndarray) -> bool:
    """Energy test: enough frames above silence (`silence_dbfs`) to be worth scoring."""
    if len(x) == 0:
        return False
    db = frame_dbfs(x)
    return float(np.mean(db > silence_dbfs(db))) >= SPEECH_FRACTION


def trim_leading_silence(x: np.ndarray) -> np.ndarray:
    """Drop silent frames (`silence_dbfs` of this block) at the start, so padding a clip with silence
    cannot move it."""
    db = frame_dbfs(x)
    loud = np.nonzero(db > silence_dbfs(db))[0]
    if len(loud) == 0:
        return x[:0]
    return x[int(loud[0]) * HOP_LENGTH :]


def trim_silence(x: np.ndarray) -> np.ndarray:
    """Drop silent frames at both ends (used on whole clips in training and tests)."""
    db = frame_dbfs(x)
    loud = np.nonzero(db > SILENCE_DBFS)[0]
    if len(loud) == 0:
        return x[:0]
    return x[int(loud[0]) * HOP_LENGTH : (int(loud[-1]) + 1) * HOP_LENGTH]
