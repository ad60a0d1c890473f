"""explain: token-to-seconds mapping, normalisation, modes, rendering, PNG, and a splice check."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck import audio
from fakecheck.cli import app
from fakecheck.explain import explain_file, parse_mode, rollout, top_segments
from fakecheck.inference import Detector


@pytest.fixture
def det(tiny_checkpoint):
    return Detector(tiny_checkpoint)


def test_attention_is_a_distribution_over_the_whole_clip(tmp_path, det):
    path = tmp_path / "long.wav"
    sf.write(path, speechlike(9.0), 16_000)
    ex = explain_file(det, path)
    tokens = ex.tokens()
    assert len(tokens) == int(np.ceil(9.0 / 0.04))
    assert abs(sum(t["attention"] for t in tokens) - 1.0) < 1e-6
    assert tokens[1]["start_s"] == pytest.approx(0.04) and tokens[-1]["end_s"] == pytest.approx(9.0, abs=0.05)
    assert ex.layers.shape == (det.model.cfg.n_layers, len(tokens))
    assert len(ex.verdict.windows) == 4  # 0, 2, 4 s and one flush with the end at 5 s


def test_leading_silence_maps_to_zero_attention_and_correct_seconds(tmp_path, det):
    x = np.concatenate([np.zeros(32_000, np.float32), speechlike(3.0)])  # 2 s silence, then sound
    path = tmp_path / "late.wav"
    sf.write(path, x, 16_000)
    ex = explain_file(det, path)
    per_token = ex.attention
    assert per_token[: int(2.0 / 0.04)].sum() == 0.0  # no window starts before the sound
    assert per_token[int(2.0 / 0.04):].sum() == pytest.approx(1.0)
    assert ex.verdict.windows[0].start_s == pytest.approx(2.0)
    assert ex.energy_db[: int(2.0 / 0.04)].max() <= -100


def test_rollout_of_identity_attention_is_the_pooling():
    import torch

    n = 5
    eye = torch.eye(n).expand(1, 2, n, n)
    pool = torch.softmax(torch.randn(1, n), dim=-1)
    assert torch.allclose(rollout([eye, eye], pool), pool, atol=1e-6)


def test_modes_are_validated():
    assert parse_mode("rollout", 3) == ("rollout", -1)
    assert parse_mode("last", 3) == ("layer", 2)
    assert parse_mode("layer:1", 3) == ("layer", 0)
    for bad in ("layer:0", "layer:4", "layer:x", "gradcam"):
        with pytest.raises(ValueError):
            parse_mode(bad, 3)


def test_top_segments_do_not_overlap():
    att = np.zeros(100)
    att[10:15] = 0.1
    att[60:65] = 0.1
    segs = top_segments(att / att.sum(), 0.04, k=3)
    assert segs[0].start_s <= 0.6 and segs[0].end_s >= 0.4
    spans = sorted((s.start_s, s.end_s) for s in segs)
    assert all(a[1] <= b[0] + 1e-9 for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize("mode", ["rollout", "last", "layer:1", "occlusion"])
def test_cli_json_and_plain_heatmap(tmp_path, tiny_model_file, mode, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    path = tmp_path / "clip.wav"
    sf.write(path, speechlike(5.0), 16_000)
    out = tmp_path / "e.json"
    result = CliRunner().invoke(app, ["explain", str(path), "--model", str(tiny_model_file), "--mode", mode,
                                      "--json", str(out), "--width", "40", "--heads"])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    for key in ("verdict", "p_fake", "duration_s", "tokens", "windows"):
        assert key in doc
    assert abs(sum(t["attention"] for t in doc["tokens"]) - 1) < 1e-6
    assert "L1 head 1" in result.output and "energy" in result.output and "0.0s" in result.output
    heat = [line for line in result.output.splitlines() if line.startswith(mode.split(":")[0])][0]
    assert set(heat[12:]) <= set(" .:-=+*#%@"), heat  # the ASCII ramp, no escape codes


def test_png_is_written(tmp_path, tiny_model_file):
    pytest.importorskip("matplotlib")
    path = tmp_path / "clip.wav"
    sf.write(path, speechlike(3.0), 16_000)
    png = tmp_path / "e.png"
    result = CliRunner().invoke(app, ["explain", str(path), "--model", str(tiny_model_file), "--png", str(png)])
    assert result.exit_code in (0, 1), result.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def griffin_lim_resynthesis(x: np.ndarray) -> np.ndarray:
    """A vocoder resynthesis made at test time (phase thrown away and re-estimated)."""
    import librosa

    mag = np.abs(librosa.stft(x, n_fft=512, hop_length=128))
    return librosa.griffinlim(mag, n_iter=32, hop_length=128, random_state=0, length=len(x)).astype(np.float32)


@pytest.mark.corpus
def test_spliced_synthetic_segment_is_localised(corpus, tmp_path):
    """Real speech, then 6 s of the same speaker resynthesised, then real again: the P(fake)
    timeline must peak inside the splice and most of the top-decile attention fall inside it."""
    import csv

    rows = [r for r in csv.DictReader(open(corpus / "manifest.csv")) if r["system"] == "vctk"
            and float(r["duration_s"]) > 5]
    rows.sort(key=lambda r: r["path"])
    clips = [audio.trim_silence(audio.load(corpus / r["path"])) for r in rows[:4]]
    fake = griffin_lim_resynthesis(np.concatenate(clips[1:3])[: 6 * 16_000])
    real_a = np.concatenate([clips[0], clips[0]])[: 8 * 16_000]
    real_b = np.concatenate([clips[3], clips[3]])[: 8 * 16_000]
    x = np.concatenate([real_a, fake, real_b])
    lo, hi = len(real_a) / 16_000, (len(real_a) + len(fake)) / 16_000
    path = tmp_path / "spliced.wav"
    sf.write(path, x, 16_000)
    ex = explain_file(Detector.load(), path)
    peak = max(ex.verdict.windows, key=lambda w: w.p_fake)
    overlap = min(peak.end_s, hi) - max(peak.start_s, lo)
    assert overlap >= 0.5 * (peak.end_s - peak.start_s), (peak, lo, hi)
    order = np.argsort(-ex.attention)[: max(1, len(ex.attention) // 10)]
    t = order * ex.token_seconds
    inside = ex.attention[order][(t >= lo) & (t < hi)].sum() / ex.attention[order].sum()
    assert inside > 0.5, f"only {inside:.0%} of the top-decile attention mass lies in the splice"
