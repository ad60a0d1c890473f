from __future__ import annotations

import pytest
import torch

from fakecheck.model.transformer import ModelConfig, SpoofTransformer


def test_default_model_is_compact():
    model = SpoofTransformer(ModelConfig())
    print(f"default model parameters: {model.n_params():,}")
    assert model.n_params() < 1_000_000


def test_shapes_and_attention_rows_sum_to_one():
    cfg = ModelConfig()
    model = SpoofTransformer(cfg).eval()
    out = model(torch.randn(2, 100, cfg.n_features), return_attention=True)
    assert out.score.shape == (2,)
    assert out.pool_weights.shape == (2, 100)
    assert out.attention is not None and len(out.attention) == cfg.n_layers
    for w in out.attention:
        assert w.shape == (2, cfg.n_heads, 100, 100)
        assert torch.allclose(w.sum(-1), torch.ones(2, cfg.n_heads, 100), atol=1e-5)
    assert torch.allclose(out.pool_weights.sum(-1), torch.ones(2), atol=1e-5)


def test_fast_and_explicit_attention_agree():
    model = SpoofTransformer(ModelConfig()).eval()
    x = torch.randn(3, 100, 1920)
    with torch.no_grad():
        assert torch.allclose(model(x).score, model(x, return_attention=True).score, atol=1e-5)


def test_wrong_feature_size_is_a_clear_error():
    with pytest.raises(AssertionError, match="expected 1920 features"):
        SpoofTransformer(ModelConfig())(torch.randn(1, 100, 60))


def test_stage_mix_is_a_learned_average_of_layer_normalised_stages():
    model = SpoofTransformer(ModelConfig()).eval()
    assert torch.allclose(model.stage_weights(), torch.full((5,), 0.2))
    x = torch.randn(2, 10, 5, 384)
    with torch.no_grad():
        model.stage_logits.copy_(torch.tensor([0.0, 0.0, 50.0, 0.0, 0.0]))  # all weight on stage 2
        mixed = model.mix_stages(x.flatten(2))
    assert torch.allclose(mixed, torch.nn.functional.layer_norm(x[:, :, 2], (384,)), atol=1e-4)
