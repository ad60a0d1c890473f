"""Shortcut probes: changes a forger gets for free, which must barely move P(fake).

Used by benchmarks/shortcuts.py (model card figures) and tests/test_shortcuts.py.
Each probe maps a 16 kHz waveform to a 16 kHz waveform, except `mp3_64k`, which goes
through a real .mp3 file on disk so the container and decoder path are exercised too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.training.augment import gain, mp3_kbps_to_level, resample_round_trip

Probe = Callable[[np.ndarray], np.ndarray]


def _mp3_file_round_trip(x: np.ndarray, kbps: int = 64) -> np.ndarray:
    import soundfile as sf

    from fakecheck.audio.decode import load

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp3"
        sf.write(path, np.clip(x, -1, 1), SAMPLE_RATE, format="MP3", bitrate_mode="CONSTANT",
                 compression_level=mp3_kbps_to_level(kbps))
        return load(path)


PROBES: dict[str, Probe] = {
    "gain_+12dB": lambda x: np.clip(gain(x, 12.0), -1, 1),
    "gain_-12dB": lambda x: gain(x, -12.0),
    "leading_silence_1s": lambda x: np.concatenate([np.zeros(SAMPLE_RATE, np.float32), x]),
    "resample_8k": lambda x: resample_round_trip(x, 8_000),
    "resample_44k1": lambda x: resample_round_trip(x, 44_100),
    "mp3_64k": _mp3_file_round_trip,
}
