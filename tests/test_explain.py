"""explain: token-to-seconds mapping, normalisation, modes, rendering, PNG, and a splice check."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck import audio
from fakecheck.analysis.detector import Detector
from fakecheck.analysis.explain import explain_file, parse_mode, rollout, top_segments
from fakecheck.cli.app import app


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
    for key in ("verdict", "p_fake", "confidence", "warnings", "duration_s", "tokens", "windows", "fake_segments"):
        assert key in doc
    assert doc["map"] == ("occlusion" if mode == "occlusion" else "attention")  # occlusion is not attention
    assert abs(sum(t[doc["map"]] for t in doc["tokens"]) - 1) < 1e-6
    assert all(0.0 <= t["p_fake"] <= 1.0 and isinstance(t["speech"], bool) for t in doc["tokens"])
    assert "L1 head 1" in result.output and "energy" in result.output and "0.0s" in result.output
    assert "P(fake)" in result.output and "fake segments" in result.output
    # --width is the line width: each heat-map row is one line (a wrapped row would leave a continuation line).
    lines = result.stdout.splitlines()
    energy = [i for i, line in enumerate(lines) if line.startswith("energy")]
    assert len(energy) == 1 and lines[energy[0] + 1].startswith("P(fake) per 40 ms"), lines
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
    assert f"picture written to {png}" in result.stderr  # issue 26: --png said nothing


def random_phase(x: np.ndarray, seed: int) -> np.ndarray:
    """A crude 'vocoder': keep each 32 ms frame's magnitude, draw the phase at random."""
    import librosa

    mag = np.abs(librosa.stft(x, n_fft=512, hop_length=128))
    phase = np.exp(2j * np.pi * np.random.default_rng(seed).random(mag.shape))
    return librosa.istft(mag * phase, hop_length=128, length=len(x)).astype(np.float32)


@pytest.mark.slow
def test_spliced_synthetic_segment_is_localised(tmp_path):
    """Train a small detector on real vs resynthesised speech-like audio, then splice 6 s of
    resynthesis between 8 s stretches of real audio: the P(fake) timeline must peak inside the
    splice, and most of the top-decile attention mass must fall inside it."""
    from fakecheck.model.transformer import ModelConfig
    from fakecheck.training import datasets, train

    for i in range(12):
        x = speechlike(4.0, seed=i)
        (tmp_path / "d" / "real").mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / "fake").mkdir(parents=True, exist_ok=True)
        sf.write(tmp_path / "d" / "real" / f"{i}.wav", x, 16_000)
        sf.write(tmp_path / "d" / "fake" / f"{i}.wav", random_phase(x, i), 16_000)
    rows = datasets.load_dataset(tmp_path / "d")
    cfg = train.TrainConfig(epochs=8, batch_size=16, clips_per_epoch=160, num_workers=0, augment=None, patience=8,
                            lr=3e-3, warmup_epochs=0.5)
    ck = train.train(rows, rows, tmp_path / "m.pt", cfg,
                     model_cfg=ModelConfig(d_model=32, n_heads=2, n_layers=2, d_ff=64))
    det = Detector(ck)
    real = [speechlike(8.0, seed=100 + k) for k in range(2)]
    fake = random_phase(speechlike(6.0, seed=200), 7)
    path = tmp_path / "spliced.wav"
    sf.write(path, np.concatenate([real[0], fake, real[1]]), 16_000)
    lo, hi = 8.0, 14.0
    ex = explain_file(det, path)
    tl = ex.verdict.timeline
    assert tl is not None and ck.token_calibration is not None
    peak_t = float(np.argmax(np.where(tl.speech, tl.p_fake, 0))) * tl.token_s
    assert lo <= peak_t < hi, f"the P(fake) timeline peaks at {peak_t:.2f} s, outside the splice"
    assert ex.verdict.verdict in ("FAKE", "PARTIAL") and ex.verdict.fake_segments
    found = np.zeros(len(tl.p_fake), bool)
    for a, b in ex.verdict.fake_segments:
        found[int(a / tl.token_s):int(b / tl.token_s)] = True
    truth = np.zeros(len(tl.p_fake), bool)
    truth[int(lo / tl.token_s):int(hi / tl.token_s)] = True
    assert (found & truth).sum() / (found | truth).sum() > 0.5, ex.verdict.fake_segments
    peak = max(ex.verdict.windows, key=lambda w: w.p_fake)
    assert peak.p_fake > 0.8 and ex.verdict.windows[0].p_fake < 0.2, "the test detector did not learn"
    overlap = min(peak.end_s, hi) - max(peak.start_s, lo)
    assert overlap >= 0.5 * (peak.end_s - peak.start_s), (peak, ex.verdict.windows)
    order = np.argsort(-ex.attention)[: max(1, len(ex.attention) // 10)]
    t = order * ex.token_seconds
    inside = ex.attention[order][(t >= lo) & (t < hi)].sum() / ex.attention[order].sum()
    assert inside > 0.5, (f"only {inside:.0%} of the top-decile attention mass lies in the splice",
                          [(w.start_s, round(w.p_fake, 3)) for w in ex.verdict.windows],
                          [round(float(ex.attention[int(a / 0.04):int((a + 2) / 0.04)].sum()), 3)
                           for a in range(0, 22, 2)])


def test_tokens_straddling_grid_cells_are_split_exactly(tmp_path, det):
    """1.01 s of silence: the first window starts 160 samples into a 640-sample grid cell."""
    x = np.concatenate([np.zeros(16_160, np.float32), speechlike(3.0)])
    path = tmp_path / "offset.wav"
    sf.write(path, x, 16_000)
    ex = explain_file(det, path)
    assert ex.verdict.windows[0].start_s == pytest.approx(1.01)
    first = 16_160 // 640
    assert ex.attention[:first].sum() == 0.0
    assert ex.attention[first] > 0 and ex.attention.sum() == pytest.approx(1.0)
    # cell `first` holds 3/4 of token 0 (divided by its 3/4 coverage); the next cell holds the
    # remaining 1/4 of token 0 plus 3/4 of token 1
    from fakecheck.analysis.explain import window_maps

    (win,) = list(audio.iter_windows(iter([x])))
    m = window_maps(det, win.samples[None])["rollout"][0]
    m = m[: win.length // 640] / m[: win.length // 640].sum()
    expected = (0.25 * m[0] + 0.75 * m[1]) / m[0]
    assert ex.attention[first + 1] / ex.attention[first] == pytest.approx(expected, rel=1e-4)


def test_inconclusive_audio_gets_no_maps(tmp_path, det):
    path = tmp_path / "tone.wav"
    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * np.arange(48_000) / 16_000).astype(np.float32), 16_000)
    ex = explain_file(det, path)
    assert ex.verdict.verdict == "INCONCLUSIVE" and ex.attention.size == 0 and not ex.segments


def test_legend_names_what_colour_and_characters_mean(tmp_path, det):
    from rich.console import Console

    from fakecheck.evidence import render

    path = tmp_path / "clip.wav"
    sf.write(path, speechlike(5.0), 16_000)
    ex = explain_file(det, path)
    console = Console(width=80, record=True, color_system="truecolor")
    console.print(render.explanation_view(ex, 60, False, colour=True))
    assert "brighter = more" in console.export_text() and "darker" not in console.export_text()
    console = Console(width=80, record=True, no_color=True)
    console.print(render.explanation_view(ex, 60, False, colour=False))
    assert "'.' least .. '@' most" in console.export_text()


# -- issue 20, item 6: the text view and the PNG say what they show -----------------------------------
def test_time_axis_is_labelled_to_the_end():
    from fakecheck.evidence import render

    axis = render.time_axis(604.0, 60, 12)
    assert axis.endswith("604.0s") and len(axis) == 72 and "0.0s" in axis


def test_p_fake_row_has_its_own_glyphs_scale_and_threshold_mark(tmp_path, det):
    from rich.console import Console

    from fakecheck.evidence import render

    path = tmp_path / "clip.wav"
    sf.write(path, speechlike(5.0), 16_000)
    ex = explain_file(det, path)
    console = Console(width=80, record=True, no_color=True)
    console.print(render.explanation_view(ex, 60, False, colour=False))
    lines = console.export_text().splitlines()
    assert any("each row scaled to its own maximum" in line for line in lines)
    assert any(line.startswith("'0' under 0.1 .. '9' 0.9 or more") for line in lines)
    digits = next(line for line in lines if line.startswith("P(fake)    "))
    assert set(digits[12:]) <= set("0123456789 ") and set(digits[12:]) - {" "}, digits  # not the attention ramp
    mark = next(line for line in lines if line.startswith(">= 0.50"))
    p = [int(c) for c in digits[12:] if c != " "]
    assert ("+" in mark) == any(d >= 5 for d in p), (digits, mark)


def test_legend_follows_the_model_s_timeline_resolution():
    from fakecheck.analysis.assessment import resolution

    assert resolution(True, 0.04, 2.0, 4.0) == "per 40 ms token"
    assert resolution(False, 0.04, 2.0, 4.0, short=True) == "per 2 s window step (no token head)"


def test_png_header_carries_verdict_line_warnings_caveat_and_hashes(tmp_path, det):
    from fakecheck.evidence import render

    path = tmp_path / "clip.wav"
    sf.write(path, speechlike(5.0) + 0.3 * np.random.default_rng(0).standard_normal(80_000).astype(np.float32),
             16_000)
    ex = explain_file(det, path)
    lines = render.png_header(ex, "a" * 64, "b" * 64)
    from fakecheck.analysis.assessment import assessment

    assert lines[1] == assessment(ex.verdict.to_dict(with_windows=False))
    assert [f"warning: {w}" for w in ex.verdict.warnings] == [x for x in lines if x.startswith("warning: ")]
    assert ex.verdict.warnings  # the noise above makes at least one
    assert render.PNG_CAVEAT in lines and f"file sha256 {'b' * 64}" in lines and any("a" * 64 in x for x in lines)
