"""Property tests: the audio front end, the features and the detector on arbitrary input.

Hypothesis draws the arrays; every example is generated at run time and kept small
(max_examples=30) so the whole file runs in seconds on a shared CPU.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fakecheck import audio
from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.audio.info import AudioLoadError
from fakecheck.model.features import FeatureConfig, extract

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])

# Any float32 value, NaN and +-Inf included; large finite values (up to float32 max) too.
ANY_FLOAT = st.floats(width=32, allow_nan=True, allow_infinity=True)
# Finite samples: "huge" is far outside -1..1 but inside what float32 features can square
# (the log-mel overflows float32 power beyond ~1e17; see test_detector_never_returns_nan_p_fake).
FINITE = st.floats(min_value=-1e6, max_value=1e6, width=32, allow_nan=False, allow_infinity=False)


@st.composite
def waveforms(draw, max_len: int = 20_000, elements=ANY_FLOAT):
    """(samples,) or (samples, channels) float32 arrays, of any length from 0 to max_len."""
    n = draw(st.integers(0, max_len))
    channels = draw(st.integers(1, 8))
    shape = (n,) if channels == 1 and draw(st.booleans()) else (n, channels)
    fill = draw(st.sampled_from(["random", "zeros", "sine"]))
    if fill == "zeros":
        return np.zeros(shape, dtype=np.float32)
    if fill == "sine":
        amp = draw(st.sampled_from([1e-12, 1e-3, 0.5, 1.0, 1e3, 1e6]))
        t = np.arange(n, dtype=np.float64) / 16_000
        x = (amp * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        return x if len(shape) == 1 else np.repeat(x[:, None], channels, axis=1)
    # A few drawn values scattered over a base of noise keeps generation fast at any length.
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = (rng.standard_normal(shape) * draw(st.sampled_from([1e-6, 0.1, 1.0]))).astype(np.float32)
    specials = draw(st.lists(elements, max_size=4))
    if n and specials:
        flat = x.reshape(-1)
        idx = rng.integers(0, flat.size, size=len(specials))
        flat[idx] = np.array(specials, dtype=np.float32)
    return x


# Finite samples at the float32 limit: the resampling filter overshoots them to Inf (a found bug).
OVERSHOOT = np.tile(np.array([3e38, -3e38], dtype=np.float32), 500)


@FAST
@given(x=waveforms(), rate=st.integers(audio.MIN_SOURCE_RATE, audio.MAX_SOURCE_RATE))
@example(x=OVERSHOOT, rate=8_000)
@example(x=OVERSHOOT[:, None].repeat(2, axis=1) / 2, rate=44_100)
@example(x=np.zeros(0, dtype=np.float32), rate=8_000)
@example(x=np.zeros((1, 8), dtype=np.float32), rate=192_000)
def test_to_model_rate_is_finite_mono_or_refuses(x, rate):
    try:
        y = audio.to_model_rate(x, rate)
    except AudioLoadError as exc:
        assert str(exc) and "\n" not in str(exc)
        assert not np.isfinite(x).all() or np.abs(x).max() > 1e30, f"refused finite audio: {exc}"
        return
    assert y.dtype == np.float32 and y.ndim == 1
    assert np.isfinite(y).all()
    expected = len(x) * SAMPLE_RATE / rate
    assert abs(len(y) - expected) <= 1, (len(x), rate, len(y))


@pytest.mark.parametrize("rate", [7_999, 192_001, 0, -16_000])
def test_to_model_rate_refuses_unsupported_rates(rate):
    with pytest.raises(AudioLoadError, match="sample rate"):
        audio.to_model_rate(np.zeros(1000, dtype=np.float32), rate)


def test_to_model_rate_refuses_three_dimensional_input():
    with pytest.raises(AudioLoadError, match="expected"):
        audio.to_model_rate(np.zeros((10, 2, 2), dtype=np.float32), 16_000)


@st.composite
def finite_waveforms(draw):
    n = draw(st.integers(400, 20_000))
    kind = draw(st.sampled_from(["zeros", "noise", "tone", "impulse", "dc", "drawn"]))
    amp = draw(st.sampled_from([1e-30, 1e-9, 1e-3, 1.0, 1e3, 1e6]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "zeros":
        x = np.zeros(n)
    elif kind == "noise":
        x = rng.standard_normal(n)
    elif kind == "tone":
        x = np.sin(2 * np.pi * draw(st.floats(20, 7_999)) * np.arange(n) / SAMPLE_RATE)
    elif kind == "impulse":
        x = np.zeros(n)
        x[draw(st.integers(0, n - 1))] = 1.0
    elif kind == "dc":
        x = np.ones(n)
    else:
        x = np.resize(np.array(draw(st.lists(FINITE, min_size=1, max_size=64)), dtype=np.float64), n)
        return x.astype(np.float32)
    return (amp * x).astype(np.float32)


@FAST
@given(x=finite_waveforms())
def test_features_are_finite_with_the_documented_shape(x):
    cfg = FeatureConfig()
    x = np.resize(x, max(len(x), 640))  # at least one 40 ms frame
    feats = extract(torch.from_numpy(x), cfg)
    assert feats.shape == (1, cfg.n_frames(len(x)), 1920)
    assert abs(feats.shape[1] - len(x) / 640) <= 1  # one frame per 40 ms
    assert torch.isfinite(feats).all()


@pytest.fixture(scope="module")
def tiny_detector():
    from fakecheck.analysis.detector import Detector
    from fakecheck.model.checkpoint import Checkpoint
    from fakecheck.model.transformer import ModelConfig, SpoofTransformer

    torch.manual_seed(0)
    fcfg = FeatureConfig()
    ckpt = Checkpoint(SpoofTransformer(ModelConfig(n_features=fcfg.n_features, d_model=32, n_heads=2, n_layers=2,
                                                   d_ff=64)), fcfg)
    return Detector(ckpt, device="cpu", threads=1)


# Rates that keep the drawn waveforms short after resampling (the detector test scores windows).
DETECTOR_RATES = st.sampled_from([8_000, 16_000, 22_050, 44_100, 48_000, 192_000])
HUGE = st.sampled_from([1e18, 1e25, 3e38, -3e38])  # finite in float32, but their squares are not


@FAST
@given(x=waveforms(max_len=20_000, elements=st.one_of(ANY_FLOAT, HUGE)), rate=DETECTOR_RATES)
def test_detector_never_returns_nan_p_fake(tiny_detector, x, rate):
    v = tiny_detector.analyse_waveform(x, rate)
    if v.verdict in ("REAL", "FAKE", "PARTIAL"):
        assert v.p_fake is not None and math.isfinite(v.p_fake) and 0.0 <= v.p_fake <= 1.0
        assert v.score is not None and math.isfinite(v.score)
        assert (v.verdict == "FAKE") == (v.p_fake >= v.threshold)
    else:
        assert v.verdict in ("INCONCLUSIVE", "ERROR")
        assert v.p_fake is None and v.score is None
        assert v.error and "\n" not in v.error
    assert all(math.isfinite(w.p_fake) and math.isfinite(w.score) for w in v.windows)


def test_detector_turns_overflowing_amplitude_into_error(tiny_detector):
    """Finite samples whose squares overflow float32 used to give REAL with p_fake NaN."""
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    x = (1e25 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)
    v = tiny_detector.analyse_waveform(x, SAMPLE_RATE)
    assert v.verdict == "ERROR" and v.p_fake is None and "non-finite" in v.error
