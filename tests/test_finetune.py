"""Detector v3: Whisper's top blocks fine-tuned as the model's first layers (issue 18)."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_train import TINY, make_folder_dataset, quick_cfg

from fakecheck.model import checkpoint, features, precision, whisper
from fakecheck.model.transformer import SpoofTransformer
from fakecheck.training import datasets, train


@pytest.mark.parametrize("k", [1, 2, 4])
def test_split_encoder_reproduces_the_frozen_stages_before_training(k: int) -> None:
    """Frozen lower blocks (features.py) + fine-tunable top blocks (model.py) = the whole encoder."""
    x = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 32000)).astype(np.float32) * 0.1)
    whole = features.extract(x, features.FeatureConfig(pool_frames=1))  # all 5 stages at 20 ms
    fcfg, mcfg = train.configs_for(k, **{f: getattr(TINY, f) for f in ("d_model", "n_heads", "n_layers", "d_ff")})
    net = SpoofTransformer(mcfg)
    net.load_whisper_top(whisper.load_encoder())
    lower = features.extract(x, fcfg)
    assert lower.shape[-1] == (whisper.N_STAGES - k) * whisper.WIDTH
    assert torch.allclose(net.all_stages(lower), whole, atol=1e-5)
    out = net(lower)
    assert out.score.shape == (2,) and out.pool_weights.shape[1] == fcfg.n_frames(32000) // 2  # 40 ms tokens


def test_configs_for_zero_is_the_frozen_design() -> None:
    fcfg, mcfg = train.configs_for(0)
    assert fcfg == features.FeatureConfig() and mcfg.encoder_blocks == 0 and mcfg.frames_per_token == 1


def test_only_the_fine_tuned_blocks_get_the_encoder_learning_rate() -> None:
    _, mcfg = train.configs_for(1, d_model=32, n_heads=2, n_layers=1, d_ff=64)
    net = SpoofTransformer(mcfg)
    opt = train.make_optimizer(net, train.TrainConfig(lr=1e-3, encoder_lr=3e-5))
    head, enc = opt.param_groups
    assert head["peak_lr"] == 1e-3 and enc["peak_lr"] == 3e-5
    assert sum(p.numel() for p in enc["params"]) == sum(p.numel() for p in net.encoder_top.parameters())
    assert sum(p.numel() for g in opt.param_groups for p in g["params"]) == net.n_params()


def test_fine_tuned_checkpoint_carries_its_blocks_and_scans(tmp_path) -> None:
    rows = datasets.load_dataset(make_folder_dataset(tmp_path / "data"))
    fcfg, mcfg = train.configs_for(1, d_model=32, n_heads=2, n_layers=1, d_ff=64, token_head=False)
    out = tmp_path / "ft.pt"
    ck = train.train(rows, rows, out, replace(quick_cfg(encoder_lr=1e-3), epochs=1), mcfg, fcfg)
    loaded = checkpoint.load(out)
    assert loaded.model.cfg.encoder_blocks == 1 and loaded.features.frozen_blocks == 3
    # the fine-tuned block moved away from Whisper's weights, and the file carries the moved weights
    start = whisper.load_encoder().blocks[3].up.weight
    assert not torch.equal(loaded.model.encoder_top.blocks[0].up.weight, start)
    assert torch.equal(loaded.model.encoder_top.blocks[0].up.weight, ck.model.encoder_top.blocks[0].up.weight)
    assert loaded.provenance["precision"] in ("bfloat16", "float32")


def test_a_checkpoint_whose_blocks_do_not_add_up_is_refused(tmp_path, tiny_checkpoint) -> None:
    fcfg, mcfg = train.configs_for(2, d_model=32, n_heads=2, n_layers=1, d_ff=64)
    ck = checkpoint.Checkpoint(SpoofTransformer(mcfg), fcfg)
    data = ck.to_dict()
    data["model_config"] = {**data["model_config"], "encoder_blocks": 1, "n_stages": 4}
    del data["content_sha256"]  # as an old file without the content hash: the block check must still refuse it
    with pytest.raises(checkpoint.ModelLoadError, match="encoder"):
        checkpoint.from_dict(data)


def test_training_resumes_inside_an_epoch(tmp_path) -> None:
    """State saved every `save_every` steps: a run killed mid-epoch continues from the next batch."""
    rows = datasets.load_dataset(make_folder_dataset(tmp_path / "data"))
    cfg = replace(quick_cfg(save_every=2), epochs=1, clips_per_epoch=16)
    whole, part = tmp_path / "whole.pt", tmp_path / "part.pt"
    train.train(rows, rows, whole, cfg, TINY)
    # simulate a kill after step 2 of 4: write the state the loop writes at that point, then resume
    events: list[dict] = []

    class Stop(Exception):
        pass

    def stop_after_save(e: dict) -> None:
        events.append(e)
        if e["event"] == "step" and e["step"] == 3:
            raise Stop

    with pytest.raises(Stop):
        train.train(rows, rows, part, cfg, TINY, hook=stop_after_save)
    state = torch.load(part.with_name("part.pt.state"), weights_only=True)
    assert state["step"] == 2 and state["epoch"] == 0
    resumed: list[dict] = []
    train.train(rows, rows, part, cfg, TINY, resume=True, hook=resumed.append)
    assert resumed[0]["event"] == "start" and any(e["event"] == "resumed" and e["step"] == 2 for e in resumed)
    assert [e["step"] for e in resumed if e["event"] == "step"] == [3, 4]
    log = [json.loads(line) for line in (tmp_path / "part.pt.metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1]


def test_bf16_only_where_the_cpu_runs_it_natively() -> None:
    cpu = torch.device("cpu")
    assert precision.training_dtype(cpu, frozenset({"avx2", "amx_bf16"})) == torch.bfloat16
    assert precision.training_dtype(cpu, frozenset({"avx512f", "avx512_bf16"})) == torch.bfloat16
    assert precision.training_dtype(cpu, frozenset({"avx2", "avx512f"})) == torch.float32  # would be emulated
    assert precision.training_dtype(cpu, frozenset()) == torch.float32


def test_matched_bona_fide_draws_follow_their_sources_fakes() -> None:
    labels = np.array([0, 0, 1, 1, 1, 1, 0, 0, 0, 0])
    systems = ["gt", "gt", "tts", "tts", "vc", "vc", "big", "big", "big", "big"]
    sources = ["page", "page", "page", "page", "page", "page", "corpus", "corpus", "corpus", "corpus"]
    plain = train.sampling_weights(labels, systems)
    matched = train.sampling_weights(labels, systems, sources, 0.5)
    assert matched[labels == 0].sum() == pytest.approx(0.5) and matched[labels == 1].sum() == pytest.approx(0.5)
    assert matched[:2].sum() > plain[:2].sum()  # the page's ground truth gains draws
    assert np.allclose(matched[labels == 1], plain[labels == 1])  # fakes untouched
    assert replace(train.TrainConfig(), matched_bonafide_share=0.0).matched_bonafide_share == 0.0
