"""Speech detection does not depend on level (issue 20, item 2): the same verdict presence from -30 to
+12 dB, for speech and for a quiet real recording; tones, noise and silence INCONCLUSIVE at every gain."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from fakecheck import audio
from fakecheck.analysis.verdict import SCORED
from fakecheck.audio import vad
from tests.conftest import EXAMPLES, speechlike
from tests.test_conditions import det, noise_kinds  # noqa: F401  (det is a fixture)

SR = 16_000
GAINS_DB = (-30, -20, -12, -6, 0, 6, 12)


def at_dbfs(x: np.ndarray, rms_dbfs: float) -> np.ndarray:
    """x scaled so that its RMS over the non-silent part is rms_dbfs."""
    loud = audio.trim_silence(x)
    return (x * 10 ** ((rms_dbfs - 10 * np.log10(np.mean(loud.astype(np.float64) ** 2))) / 20)).astype(np.float32)


def speech_clips() -> dict[str, np.ndarray]:
    real = sf.read(EXAMPLES / "real_arctic_a0007.wav", dtype="float32")[0]
    clips = {f"speechlike-{seed}": speechlike(6.0, seed=seed) for seed in range(3)}
    clips["real arctic"] = real
    clips["quiet meeting (-50 dBFS)"] = at_dbfs(np.concatenate([real, np.zeros(SR, np.float32), real]), -50.0)
    return clips


@pytest.mark.parametrize("name", list(speech_clips()))
def test_speech_keeps_its_verdict_from_minus_30_to_plus_12_db(det, name):  # noqa: F811
    x = speech_clips()[name]
    got = {g: det.analyse_waveform(x * np.float32(10 ** (g / 20)), SR, name=name) for g in GAINS_DB}
    assert all(v.verdict in SCORED for v in got.values()), {g: (v.verdict, v.error) for g, v in got.items()}


@pytest.mark.parametrize("kind", ["tone", "white", "pink", "chord", "silence", "dither"])
def test_non_speech_stays_inconclusive_at_every_gain(det, kind):  # noqa: F811
    rng = np.random.default_rng(0)
    sounds = {**noise_kinds(), "silence": np.zeros(5 * SR, np.float32),
              # 16-bit TPDF dither alone: +-1 step of 2**-15, under DIGITAL_SILENCE_DBFS
              "dither": ((rng.random(5 * SR) - rng.random(5 * SR)) * 2.0**-15).astype(np.float32)}
    for g in GAINS_DB:
        v = det.analyse_waveform(sounds[kind] * np.float32(10 ** (g / 20)), SR, name=kind)
        assert v.verdict == "INCONCLUSIVE", (kind, g, v.verdict, v.error)


def test_levelling_puts_loud_frames_at_the_target_and_leaves_digital_silence_alone():
    import torch

    x = torch.from_numpy(np.stack([speechlike(4.0) * 0.001, np.zeros(64_000, np.float32)]))
    y = vad.normalise_level(x)
    levels = audio.frame_dbfs(y[0].numpy())
    assert np.percentile(levels, audio.LOUD_PERCENTILE) == pytest.approx(vad.VAD_LEVEL_DBFS, abs=0.01)
    assert torch.equal(y[1], x[1])


def test_silence_floor_is_relative_but_never_below_digital_silence():
    assert audio.silence_dbfs(np.full(100, -15.0)) == audio.SILENCE_DBFS  # normal level: unchanged
    assert audio.silence_dbfs(np.full(100, -30.0)) == -30.0 - audio.RELATIVE_SILENCE_DB
    assert audio.silence_dbfs(np.full(100, -80.0)) == audio.DIGITAL_SILENCE_DBFS
