"""The one feature extractor (fakecheck.model.features): Whisper encoder stages per 40 ms frame."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import speechlike

from fakecheck.model import whisper
from fakecheck.model.features import FeatureConfig, extract


def test_shape_batch_and_determinism():
    cfg = FeatureConfig()
    x = torch.from_numpy(np.stack([speechlike(4.0, seed=s) for s in range(3)]))
    a, b = extract(x, cfg), extract(x, cfg)
    assert a.shape == (3, 100, 5 * 384) == (3, cfg.n_frames(64000), cfg.n_features)
    assert torch.equal(a, b)
    assert torch.allclose(a[1], extract(x[1:2], cfg)[0], atol=1e-4)  # batching does not mix items


def test_frames_are_pairs_of_encoder_frames_with_stages_side_by_side():
    x = torch.from_numpy(speechlike(4.0))[None]
    with torch.no_grad():
        h = whisper.load_encoder()(x)  # (1, 5, 200, 384)
    f = extract(x)
    assert torch.allclose(f[0, 7, 2 * 384:3 * 384], h[0, 2, 14:16].mean(dim=0), atol=1e-5)


@pytest.mark.parametrize("gain_db", [-20.0, 12.0])
def test_gain_barely_moves_features(gain_db):
    x = torch.from_numpy(speechlike(4.0))
    a, b = extract(x), extract(x * 10 ** (gain_db / 20))
    assert (a - b).abs().max() < 1e-2


def test_features_of_another_encoder_are_refused():
    with pytest.raises(ValueError, match="another Whisper encoder"):
        extract(torch.zeros(1, 64000), FeatureConfig(weights_sha256="0" * 64))


def test_config_round_trip_rejects_unknown_keys():
    cfg = FeatureConfig(pool_frames=1)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg and cfg.hop_samples == 320
    with pytest.raises(ValueError):
        FeatureConfig.from_dict({**cfg.to_dict(), "n_lfcc": 20})
