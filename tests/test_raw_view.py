"""The second view (issue 27): a raw-waveform filterbank branch fused with the Whisper tokens inside the model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import speechlike
from test_train import TINY, make_folder_dataset, quick_cfg

from fakecheck.model import checkpoint, features, precision
from fakecheck.model.raw_view import mel_sinc_filters
from fakecheck.model.transformer import ModelConfig, SpoofTransformer
from fakecheck.training import datasets, train

SIZES = {f: getattr(TINY, f) for f in ("d_model", "n_heads", "n_layers", "d_ff")}


def windows(n: int = 2, seconds: float = 4.0) -> torch.Tensor:
    return torch.from_numpy(np.stack([speechlike(seconds, seed=i) for i in range(n)]))


def tiny(raw_view: bool, encoder_blocks: int = 1) -> tuple[features.FeatureConfig, SpoofTransformer]:
    torch.manual_seed(0)
    fcfg, mcfg = train.configs_for(encoder_blocks, raw_view=raw_view, **SIZES)
    return fcfg, SpoofTransformer(mcfg).eval()


@pytest.mark.parametrize("encoder_blocks", [0, 1])
def test_the_raw_view_changes_no_output_shape(encoder_blocks: int) -> None:
    x = windows()
    fcfg, single = tiny(False, encoder_blocks)
    _, both = tiny(True, encoder_blocks)
    views = features.extract_views(x, fcfg)
    assert views.waveforms is not None and views.waveforms.shape == (2, views.features.shape[1] * fcfg.hop_samples)
    with torch.no_grad():
        a, b = single(views, return_attention=True), both(views, return_attention=True)
    assert a.score.shape == b.score.shape == (2,)
    assert a.token_scores is not None and b.token_scores is not None
    assert a.token_scores.shape == b.token_scores.shape == (2, 100)  # one per 40 ms
    assert a.attention is not None and b.attention is not None
    assert [w.shape for w in a.attention] == [w.shape for w in b.attention]
    assert not torch.allclose(a.score, b.score)  # the branch is in the path


def test_without_the_raw_view_the_model_is_as_before() -> None:
    """Off by default: no new weights, no new saved fields, and the same scores from features alone or from views."""
    fcfg, single = tiny(False)
    assert ModelConfig().raw_view is False and single.raw_view is None
    assert not any("raw" in k for k in single.state_dict())
    assert not any(k.startswith("raw") for k in single.cfg.to_dict())  # a file as a single-view model always wrote
    views = features.extract_views(windows(), fcfg)
    with torch.no_grad():
        a, b = single(views.features), single(views)
    assert torch.equal(a.score, b.score) and a.token_scores is not None and b.token_scores is not None
    assert torch.equal(a.token_scores, b.token_scores)


def test_the_bundled_model_loads_as_a_single_view_model_and_saves_the_same_config() -> None:
    data = checkpoint.read_data(checkpoint.bundled_model_path())
    ck = checkpoint.load()
    assert ck.model.cfg.raw_view is False and ck.model.raw_view is None
    assert ck.model.cfg.to_dict() == data["model_config"]
    assert set(ck.model.state_dict()) == set(data["state_dict"])


def test_an_old_checkpoint_without_the_field_loads_as_single_view(tmp_path, tiny_checkpoint) -> None:
    data = tiny_checkpoint.to_dict()
    assert "raw_view" not in data["model_config"]
    ck = checkpoint.from_dict(data)
    assert ck.model.cfg.raw_view is False and ck.model.cfg == tiny_checkpoint.model.cfg


def test_a_raw_view_checkpoint_round_trips_with_identical_scores(tmp_path) -> None:
    fcfg, net = tiny(True)
    x = windows()
    net.train()
    with torch.no_grad():
        net(features.extract_views(x, fcfg))  # moves the BatchNorm statistics away from their start
    net.eval()
    path = tmp_path / "raw.pt"
    checkpoint.save(checkpoint.Checkpoint(net, fcfg), path)
    saved = checkpoint.read_data(path)
    assert saved["model_config"]["raw_view"] is True and saved["model_config"]["raw_filters"] == 48
    loaded = checkpoint.load(path)
    assert loaded.model.cfg == net.cfg and loaded.model.raw_view is not None
    scores = {}
    for path_name in ("fp32", "bf16", "int8"):
        want = precision.Scorer(net, fcfg, path_name, torch.device("cpu"))(x)
        got = precision.Scorer(loaded.model, loaded.features, path_name, torch.device("cpu"))(x)
        assert torch.equal(got.score, want.score) and torch.equal(got.token_scores, want.token_scores), path_name
        scores[path_name] = got.score.float()
    assert torch.allclose(scores["bf16"], scores["fp32"], atol=0.1)
    assert torch.allclose(scores["int8"], scores["fp32"], atol=0.1)


def test_explain_reads_attention_from_a_raw_view_model() -> None:
    from fakecheck.analysis.detector import Detector
    from fakecheck.analysis.explain import window_maps

    fcfg, net = tiny(True)
    maps = window_maps(Detector(checkpoint.Checkpoint(net, fcfg), device="cpu", threads=1), windows().numpy())
    assert maps["rollout"].shape == (2, 100) and np.allclose(maps["rollout"].sum(axis=1), 1, atol=1e-4)


def test_a_raw_view_model_needs_the_waveform() -> None:
    fcfg, net = tiny(True)
    views = features.extract_views(windows(1), fcfg)
    with pytest.raises(AssertionError, match="extract_views"):
        net(views.features)


def test_the_raw_view_does_not_hear_loudness() -> None:
    fcfg, net = tiny(True)
    x = windows(1)
    with torch.no_grad():
        a, b = net(features.extract_views(x, fcfg)), net(features.extract_views(x * 8, fcfg))
    assert torch.allclose(a.score, b.score, atol=1e-5)


def test_gradients_reach_the_filterbank_and_it_learns_at_the_heads_rate() -> None:
    fcfg, net = tiny(True)
    net.train()
    out = net(features.extract_views(windows(), fcfg))
    out.score.sum().backward()
    assert net.raw_view is not None
    grad = net.raw_view.filterbank.weight.grad
    assert grad is not None and bool(torch.isfinite(grad).all()) and grad.abs().sum() > 0
    head, encoder = train.make_optimizer(net, train.TrainConfig(lr=1e-3, encoder_lr=3e-5)).param_groups
    assert head["peak_lr"] == 1e-3 and encoder["peak_lr"] == 3e-5
    assert any(p is net.raw_view.filterbank.weight for p in head["params"])
    assert not any(p is net.raw_view.filterbank.weight for p in encoder["params"])


def test_the_filterbank_starts_as_mel_spaced_band_passes() -> None:
    bank = mel_sinc_filters(48, 251)
    response = torch.fft.rfft(bank, n=4096).abs()  # (48, 2049) over 0..8 kHz
    peaks = response.argmax(dim=1)
    assert bool((peaks[1:] >= peaks[:-1]).all())  # low to high
    assert (peaks[1:] - peaks[:-1])[-10:].float().mean() > (peaks[1:] - peaks[:-1])[10:20].float().mean()  # mel
    # bands wider than 251 taps resolve (about 250 Hz, the top 16) pass at unit gain; the narrow low ones peak lower
    assert torch.allclose(response.max(dim=1).values[-16:], torch.ones(16), atol=0.05)


def test_two_training_steps_with_the_raw_view(tmp_path) -> None:
    rows = datasets.load_dataset(make_folder_dataset(tmp_path / "data"))
    fcfg, mcfg = train.configs_for(0, raw_view=True, **SIZES)
    events: list[dict] = []
    out = tmp_path / "raw.pt"
    start = SpoofTransformer(mcfg).raw_view
    assert start is not None
    train.train(rows, rows, out, replace(quick_cfg(), epochs=1, clips_per_epoch=8), mcfg, fcfg, hook=events.append)
    assert [e["step"] for e in events if e["event"] == "step"] == [1, 2]
    assert next(e for e in events if e["event"] == "start")["raw_view"] is True
    loaded = checkpoint.load(out)
    assert loaded.model.cfg.raw_view and loaded.model.raw_view is not None
    assert not torch.equal(loaded.model.raw_view.filterbank.weight, start.filterbank.weight)  # it learned


def test_train_cli_offers_the_raw_view() -> None:
    from typer.testing import CliRunner

    from fakecheck.cli.app import app

    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0, result.output
    assert "--raw-view" in result.output
