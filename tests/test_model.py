from __future__ import annotations

import pytest
import torch

from fakecheck.model import ModelConfig, SpoofTransformer


def test_default_model_is_compact():
    model = SpoofTransformer(ModelConfig())
    print(f"default model parameters: {model.n_params():,}")
    assert model.n_params() < 1_000_000


def test_shapes_and_attention_rows_sum_to_one():
    cfg = ModelConfig()
    model = SpoofTransformer(cfg).eval()
    out = model(torch.randn(2, 401, cfg.n_features), return_attention=True)
    assert out.score.shape == (2,)
    assert out.pool_weights.shape == (2, 100)
    assert out.attention is not None and len(out.attention) == cfg.n_layers
    for w in out.attention:
        assert w.shape == (2, cfg.n_heads, 100, 100)
        assert torch.allclose(w.sum(-1), torch.ones(2, cfg.n_heads, 100), atol=1e-5)
    assert torch.allclose(out.pool_weights.sum(-1), torch.ones(2), atol=1e-5)


def test_fast_and_explicit_attention_agree():
    model = SpoofTransformer(ModelConfig()).eval()
    x = torch.randn(3, 401, 60)
    with torch.no_grad():
        assert torch.allclose(model(x).score, model(x, return_attention=True).score, atol=1e-5)


def test_wrong_feature_size_is_a_clear_error():
    with pytest.raises(AssertionError, match="expected 60 features"):
        SpoofTransformer(ModelConfig())(torch.randn(1, 401, 20))
