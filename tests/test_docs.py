"""The numbers in docs/how-it-works.md must be the default model's real configuration."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from fakecheck import audio
from fakecheck.model import whisper
from fakecheck.model.checkpoint import load
from fakecheck.model.transformer import SpoofTransformer
from fakecheck.training import train

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "how-it-works.md").read_text(encoding="utf-8")


def table_value(name: str) -> str:
    match = re.search(rf"^\| `{name}` \| ([^|]+) \|", DOC, re.M)
    assert match, f"{name} missing from the config table"
    return match.group(1).strip()


def test_documented_dimensions_match_the_bundled_model():
    ck = load()
    cfg = ck.model.cfg
    for name in ("n_features", "encoder_blocks", "n_stages", "frames_per_token", "d_model", "n_heads", "head_size",
                 "n_layers", "d_ff"):
        assert int(table_value(name)) == getattr(cfg, name), name
    assert float(table_value("dropout")) == cfg.dropout
    assert f"| parameters | {ck.model.n_params():,} |" in DOC
    f = ck.features
    n_frames = f.n_frames(audio.WINDOW_SAMPLES)
    n_tokens = n_frames // cfg.frames_per_token
    assert f"{n_frames} frames" in DOC
    assert f"`(batch, {audio.WINDOW_SAMPLES})` samples into `(batch, {n_frames}, {f.n_features})`" in DOC
    width = cfg.stage_width * cfg.frames_per_token
    assert f"`(B, {n_frames}, {f.n_features})` becomes `(B, {n_tokens}, {width})`" in DOC
    assert f"`Linear({width}, {cfg.d_model})`" in DOC
    assert f"**{f.n_features} features** = {f.n_stages} × {f.stage_width}" in DOC
    weights = ", ".join(f"{w:.2f}" for w in ck.model.stage_weights().tolist())
    assert f"weights are\n  {weights}" in DOC or f"weights are {weights}" in DOC
    assert f"`(B, {cfg.n_heads}, {n_tokens}, {cfg.head_size})`" in DOC
    assert f"`Linear({cfg.d_model},{cfg.d_ff})` → GELU → `Linear({cfg.d_ff},{cfg.d_model})`" in DOC
    assert f"`HOP` = {whisper.HOP}" in DOC and f"`TARGET_RMS` = {whisper.TARGET_RMS}" in DOC
    assert f"`WINDOW_SAMPLES` = {audio.WINDOW_SAMPLES}" in DOC


def test_defaults_are_what_the_doc_describes():
    ck = load()
    bundled = ck.model.cfg
    # The bundled model is `fakecheck train`'s default fine-tuning configuration without a token head (its
    # splice-trained successor lost: docs/experiments.md); the token head is one Linear(d_model, 1).
    from fakecheck.cli.train import DEFAULT_ENCODER_BLOCKS

    fcfg, mcfg = train.configs_for(DEFAULT_ENCODER_BLOCKS)
    assert dataclasses.replace(mcfg, token_head=False) == bundled
    assert SpoofTransformer(mcfg).n_params() == ck.model.n_params() + bundled.d_model + 1
    assert fcfg == ck.features
    assert f"`encoder_blocks` | {bundled.encoder_blocks} |" in DOC
    assert f"{sum(p.numel() for p in ck.model.encoder_parameters()):,} in the fine-tuned Whisper blocks" in DOC


def test_the_readme_quotes_the_bundled_checkpoints_eer():
    """One EER (issue 26): the README's figure is the one the checkpoint records, which the note, info and the
    report print."""
    import re

    from fakecheck.evidence.render import limits_line
    from fakecheck.model.checkpoint import bundled_model_path, load

    ck = load(bundled_model_path())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = {float(x) for x in re.findall(r"validation EER is (\d+\.\d)%", readme)}
    quoted |= {float(x) for x in re.findall(r"\*\*EER (\d+\.\d)%\*\* on [\d,]+ clips", readme)}
    assert quoted == {round(100 * ck.metrics["eer"], 1)}, quoted
    n = ck.metrics["n_bonafide"] + ck.metrics["n_spoof"]
    assert f"on {n:,} clips" in readme
    assert f"{ck.metrics['eer']:.0%} equal error rate on held-out generators" in limits_line(ck.metrics,
                                                                                            ck.provenance)


def test_a_random_split_is_not_called_held_out_generators():
    from fakecheck.evidence.render import limits_line
    from fakecheck.evidence.report import known_limits
    from fakecheck.model.checkpoint import held_out_generators

    random_split = {"val_kind": "stratified by class, 20% of each class held out at random, grouped by file; "
                                "validation shares sources and generators with training"}
    assert held_out_generators(random_split) is False
    line = limits_line({"eer": 0.25}, random_split)
    assert "held-out generators" not in line and "shares generators with training" in line
    assert "says nothing about new kinds" in known_limits({"eer": 0.25}, random_split)[0]
    assert held_out_generators({"held_out_generators": True, "val_kind": "anything"}) is True
    assert "on its validation data" in limits_line({"eer": 0.3}, {})
