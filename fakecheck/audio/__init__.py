"""The audio wing: files become mono float32 at 16 kHz, and what that audio is like.

Modules: `constants` (sample rate, frames, windows, silence levels: defined once), `info` (AudioInfo,
AudioLoadError, the shared warnings), `decode` (probing, streaming decode, salvage of damaged files), `ffmpeg`
(the containers libsndfile cannot read), `levels` (frame levels, silence, trimming), `windows` (the
model's sliding windows), `vad` (speech detection, silero-vad), `conditions` (what a recording's signal says
about it: clipping, noise, codec traces).

Imports: nothing else of fakecheck.  Every other wing may import this one.  `vad` loads torch, so this
package's `__init__` does not import it.
"""

from __future__ import annotations

from fakecheck.audio.constants import (
    DIGITAL_SILENCE_DBFS,
    HOP_LENGTH,
    LOUD_PERCENTILE,
    MIN_SAMPLES,
    MIN_SECONDS,
    N_FFT,
    RELATIVE_SILENCE_DB,
    SAMPLE_RATE,
    SILENCE_DBFS,
    SPEECH_FRACTION,
    WIN_LENGTH,
    WINDOW_HOP_SAMPLES,
    WINDOW_HOP_SECONDS,
    WINDOW_SAMPLES,
    WINDOW_SECONDS,
)
from fakecheck.audio.decode import (
    AUDIO_EXTENSIONS,
    check_readable,
    load,
    probe,
    riff_mismatch,
    sniff,
    stream,
    to_model_rate,
)
from fakecheck.audio.info import (
    FFMPEG_CONTAINERS,
    MAX_SOURCE_RATE,
    MIN_SOURCE_RATE,
    TRUNCATED,
    TRUNCATED_TOLERANCE_S,
    TRUNCATED_TOLERANCE_SHARE,
    AudioInfo,
    AudioLoadError,
)
from fakecheck.audio.levels import (
    frame_dbfs,
    has_speech,
    silence_dbfs,
    trim_leading_silence,
    trim_silence,
)
from fakecheck.audio.windows import (
    Window,
    fit_window,
    iter_windows,
)

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "AudioLoadError",
    "DIGITAL_SILENCE_DBFS",
    "FFMPEG_CONTAINERS",
    "HOP_LENGTH",
    "LOUD_PERCENTILE",
    "MAX_SOURCE_RATE",
    "MIN_SAMPLES",
    "MIN_SECONDS",
    "MIN_SOURCE_RATE",
    "N_FFT",
    "RELATIVE_SILENCE_DB",
    "SAMPLE_RATE",
    "SILENCE_DBFS",
    "SPEECH_FRACTION",
    "TRUNCATED",
    "TRUNCATED_TOLERANCE_S",
    "TRUNCATED_TOLERANCE_SHARE",
    "WINDOW_HOP_SAMPLES",
    "WINDOW_HOP_SECONDS",
    "WINDOW_SAMPLES",
    "WINDOW_SECONDS",
    "WIN_LENGTH",
    "Window",
    "check_readable",
    "fit_window",
    "frame_dbfs",
    "has_speech",
    "iter_windows",
    "load",
    "probe",
    "riff_mismatch",
    "silence_dbfs",
    "sniff",
    "stream",
    "to_model_rate",
    "trim_leading_silence",
    "trim_silence",
]
