"""Augmentation levers of issue 18: each keeps length and scale, is seeded, and is off by default."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import speechlike

from fakecheck.training import augment


def test_levers_are_off_by_default() -> None:
    cfg = augment.AugmentConfig()
    assert cfg.p_channel == 0.0 and cfg.p_rawboost == 0.0


@pytest.mark.parametrize("lever", ["channel", "rawboost"])
def test_lever_keeps_length_level_and_is_reproducible(lever: str) -> None:
    x = speechlike(4.0)
    fn = getattr(augment, lever)
    a, b = fn(x, np.random.default_rng(3)), fn(x, np.random.default_rng(3))
    assert a.shape == x.shape and a.dtype == np.float32 and np.isfinite(a).all()
    assert np.array_equal(a, b)
    assert 0.25 < np.std(a) / np.std(x) < 4  # a channel, not a mute or a blast
    assert not np.allclose(a, x)


def test_mu_law_quantises_to_256_levels_and_keeps_the_signal() -> None:
    x = speechlike(1.0)
    y = augment.mu_law_round_trip(x)
    assert len(np.unique(y)) <= 256
    assert np.corrcoef(x, y)[0, 1] > 0.99


def test_packet_loss_zeroes_whole_20ms_frames() -> None:
    x = speechlike(2.0) + 0.01  # no natural zeros
    y = augment.packet_loss(x, np.random.default_rng(0), rate=0.2)
    zero_frames = (y.reshape(-1, 320) == 0).all(axis=1)
    assert 0 < zero_frames.sum() < len(zero_frames)
    assert np.array_equal(y.reshape(-1, 320)[~zero_frames], x.reshape(-1, 320)[~zero_frames])


def test_mp3_at_24k_is_32_kbit_and_keeps_the_length():
    import io

    import soundfile as sf
    import soxr

    from fakecheck.training.augment import MP3_24K_LEVEL_32K, MP3_24K_RATE, condition

    x = speechlike(6.0)
    y = condition(x, "mp3_32k_24k")
    assert y.shape == x.shape and y.dtype == np.float32
    assert not np.array_equal(x, y)
    # still the same speech once the codec's delay is undone: the best alignment within 0.2 s correlates well
    best = max(float(np.corrcoef(x[: len(x) - lag], y[lag:])[0, 1]) for lag in range(0, 3200, 8))
    assert best > 0.8
    up = soxr.resample(x, 16_000, MP3_24K_RATE)
    buf = io.BytesIO()
    sf.write(buf, up, MP3_24K_RATE, format="MP3", bitrate_mode="CONSTANT", compression_level=MP3_24K_LEVEL_32K)
    kbps = len(buf.getvalue()) * 8 / (len(up) / MP3_24K_RATE) / 1000
    assert 28 <= kbps <= 36
