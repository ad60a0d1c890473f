from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import speechlike

from fakecheck.features import FeatureConfig, dct_matrix, lfcc, linear_filterbank


def librosa_lfcc(x: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Reference LFCC from librosa's STFT and scipy's DCT, with our linear filterbank rebuilt in NumPy."""
    import librosa
    import scipy.fft

    y = np.append(x[0], x[1:] - cfg.preemphasis * x[:-1])
    power = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop_length, win_length=cfg.win_length,
                                window="hann", center=True, pad_mode="reflect")) ** 2
    freqs = np.linspace(0, cfg.sample_rate / 2, cfg.n_fft // 2 + 1)
    edges = np.linspace(0, cfg.sample_rate / 2, cfg.n_filters + 2)
    fb = np.array([np.clip(np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)), 0, None)
                   for lo, mid, hi in zip(edges[:-2], edges[1:-1], edges[2:], strict=True)])
    energies = (fb @ power).T
    logfb = np.log(energies + cfg.log_floor * energies.mean() + 1e-30)
    ceps = scipy.fft.dct(logfb, type=2, norm="ortho", axis=1)[:, : cfg.n_lfcc]
    ceps -= ceps.mean(axis=0)
    d1 = librosa.feature.delta(ceps, width=2 * cfg.delta_width + 1, order=1, axis=0, mode="nearest")
    d2 = librosa.feature.delta(d1, width=2 * cfg.delta_width + 1, order=1, axis=0, mode="nearest")
    return np.concatenate([ceps, d1, d2], axis=1)


def test_matches_librosa_reference():
    cfg = FeatureConfig()
    x = speechlike(2.0)
    ours = lfcc(torch.from_numpy(x), cfg)[0].numpy()
    ref = librosa_lfcc(x.astype(np.float64), cfg)
    assert ours.shape == ref.shape == (cfg.n_frames(len(x)), cfg.n_features)
    assert np.allclose(ours, ref, atol=2e-3, rtol=1e-3), np.abs(ours - ref).max()


def test_shape_batch_and_determinism():
    cfg = FeatureConfig()
    x = torch.from_numpy(np.stack([speechlike(4.0, seed=s) for s in range(3)]))
    a, b = lfcc(x, cfg), lfcc(x, cfg)
    assert a.shape == (3, 401, 60)
    assert torch.equal(a, b)
    assert torch.allclose(a[1], lfcc(x[1:2], cfg)[0], atol=1e-5)  # batching does not mix items


@pytest.mark.parametrize("gain_db", [-12.0, 12.0])
def test_gain_barely_moves_features(gain_db):
    x = torch.from_numpy(speechlike(4.0))
    a, b = lfcc(x), lfcc(x * 10 ** (gain_db / 20))
    assert (a - b).abs().max() < 1e-3


def test_filterbank_and_dct():
    fb = linear_filterbank(FeatureConfig())
    assert fb.shape == (64, 257) and fb.min() >= 0 and fb.max() <= 1.0001
    d = dct_matrix(20, 64)
    assert torch.allclose(d @ d.T, torch.eye(20), atol=1e-5)  # orthonormal rows


def test_config_round_trip_rejects_unknown_keys():
    cfg = FeatureConfig(n_lfcc=30)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg and cfg.n_features == 90
    with pytest.raises(ValueError):
        FeatureConfig.from_dict({**cfg.to_dict(), "mystery": 1})
