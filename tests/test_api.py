"""The Python API: Detector.load, the three analysis levels agree, results are frozen and match scan's rows."""

from __future__ import annotations

import dataclasses
import inspect
import json
import subprocess
import sys
import typing

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike

from fakecheck import Detector
from fakecheck.analysis.explain import explain_file
from fakecheck.analysis.verdict import SCORED, Verdict, WindowScore
from fakecheck.audio.constants import SAMPLE_RATE, WINDOW_SAMPLES
from fakecheck.audio.windows import iter_windows
from fakecheck.model.checkpoint import ModelLoadError


@pytest.fixture
def det(tiny_model_file) -> Detector:
    return Detector.load(tiny_model_file, device="cpu")


@pytest.fixture
def clip() -> np.ndarray:
    return speechlike(9.0, seed=3)  # 9 s: windows at 0, 2, 4 s and a flush window ending at 9 s


def test_import_fakecheck_is_light():
    code = ("import sys, fakecheck; assert 'torch' not in sys.modules, 'import fakecheck imported torch'; "
            "assert fakecheck.Detector.__name__ == 'Detector'; assert 'torch' in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_load(tiny_model_file):
    det = Detector.load(tiny_model_file, device="cpu", threshold=0.7)
    assert det.model_name == "tiny.pt"
    assert det.threshold == 0.7
    assert det.checkpoint.sha256 and len(det.checkpoint.sha256) == 64
    assert Detector.load(str(tiny_model_file)).threshold == det.checkpoint.threshold
    with pytest.raises(ModelLoadError):
        Detector.load(tiny_model_file.with_name("missing.pt"))
    with pytest.raises(ValueError, match="threshold"):
        Detector.load(tiny_model_file, threshold=1.0)


def test_score_windows_matches_analyse_waveform(det, clip):
    windows = list(iter_windows(iter([clip])))
    assert len(windows) == 4
    raw = det.score_windows(np.stack([w.samples for w in windows]))
    assert raw.shape == (4,) and raw.dtype == np.float64
    v = det.analyse_waveform(clip, SAMPLE_RATE, name="clip")
    assert v.verdict in SCORED and v.path == "clip"
    assert [ws.start_s for ws in v.windows] == [w.start / SAMPLE_RATE for w in windows]
    np.testing.assert_allclose([ws.score for ws in v.windows], raw, rtol=0, atol=1e-5)
    np.testing.assert_allclose([ws.p_fake for ws in v.windows], det.p_fake(raw), rtol=0, atol=1e-6)
    # One window on its own (1-D input) scores like it does inside the batch.
    np.testing.assert_allclose(det.score_windows(windows[0].samples), raw[:1], rtol=0, atol=1e-5)
    # The clip score is the mean over speech windows.
    speech = [ws.score for ws in v.windows if ws.speech]
    assert v.score == pytest.approx(float(np.mean(speech)), abs=1e-9)


def test_analyse_file_matches_analyse_waveform(det, clip, tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(path, clip, SAMPLE_RATE, subtype="FLOAT")  # lossless: the file holds exactly `clip`
    from_file = det.analyse_file(path)
    from_memory = det.analyse_waveform(clip, SAMPLE_RATE, name=str(path))
    assert from_file.verdict == from_memory.verdict
    assert from_file.path == str(path)
    assert from_file.p_fake == pytest.approx(from_memory.p_fake, abs=1e-5)
    assert from_file.score == pytest.approx(from_memory.score, abs=1e-5)
    assert from_file.duration_s == from_memory.duration_s == 9.0
    assert (from_file.suspicious_start_s, from_file.suspicious_end_s) == \
        (from_memory.suspicious_start_s, from_memory.suspicious_end_s)
    assert len(from_file.windows) == len(from_memory.windows)
    for a, b in zip(from_file.windows, from_memory.windows, strict=True):
        assert (a.start_s, a.end_s, a.speech) == (b.start_s, b.end_s, b.speech)
        assert a.score == pytest.approx(b.score, abs=1e-5)
    # Stereo and another rate go through the same path (mixdown, resampling) and are reported as given.
    stereo = det.analyse_waveform(np.stack([clip, clip], axis=1), SAMPLE_RATE)
    assert (stereo.channels, stereo.sample_rate) == (2, SAMPLE_RATE)
    assert stereo.score == pytest.approx(from_memory.score, abs=1e-5)
    low = det.analyse_waveform(clip[::2], SAMPLE_RATE // 2)
    assert low.verdict in SCORED and (low.sample_rate, low.channels) == (SAMPLE_RATE // 2, 1)


def test_explain_file_agrees_with_analyse_file(det, clip, tmp_path):
    path = tmp_path / "clip.wav"
    sf.write(path, clip, SAMPLE_RATE, subtype="FLOAT")
    ex = explain_file(det, path)
    v = det.analyse_file(path)
    assert ex.verdict == v
    assert ex.attention.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="mode"):
        explain_file(det, path, mode="nonsense")


def test_results_are_frozen(det, clip, tmp_path):
    v = det.analyse_waveform(clip)
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.verdict = "REAL"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.windows[0].p_fake = 0.0  # type: ignore[misc]
    path = tmp_path / "clip.wav"
    sf.write(path, clip, SAMPLE_RATE)
    ex = explain_file(det, path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ex.mode = "last"  # type: ignore[misc]
    assert isinstance(v.windows, tuple) and all(isinstance(w, WindowScore) for w in v.windows)


def test_to_dict_keys_match_scan_json_rows(det, clip, tmp_path, tiny_model_file):
    from typer.testing import CliRunner

    from fakecheck.cli.app import app

    path = tmp_path / "clip.wav"
    sf.write(path, clip, SAMPLE_RATE)
    result = CliRunner().invoke(app, ["scan", str(path), "--model", str(tiny_model_file), "--json", "-", "--quiet"])
    assert result.exit_code in (0, 1), result.output
    rows = json.loads(result.stdout)["results"]
    assert len(rows) == 1
    d = det.analyse_file(path).to_dict()
    assert list(rows[0]) == list(d)
    # Every field but the token timeline (explain's, too long for a row) is in the row, in order.
    assert [f.name for f in dataclasses.fields(Verdict) if f.name != "timeline"] == list(d)
    assert set(rows[0]["windows"][0]) == {f.name for f in dataclasses.fields(WindowScore)}
    assert "windows" not in det.analyse_file(path).to_dict(with_windows=False)
    json.dumps(d)  # plain JSON types only


@pytest.mark.parametrize("fn", [Detector.load, Detector.analyse_file, Detector.analyse_waveform,
                                Detector.score_windows, explain_file])
def test_public_api_is_typed_and_documented(fn):
    hints = typing.get_type_hints(fn)
    params = [p for p in inspect.signature(fn).parameters if p not in ("self", "cls")]
    assert "return" in hints and all(p in hints for p in params), (fn.__qualname__, hints)
    assert fn.__doc__ and ">>>" in fn.__doc__, f"{fn.__qualname__} needs a docstring with an example"


def test_window_samples_constant_is_what_score_windows_takes(det):
    assert det.score_windows(np.zeros((3, WINDOW_SAMPLES), np.float32)).shape == (3,)


def test_the_readme_error_contract(det, tmp_path):
    """README, Python API: bad inputs give ERROR verdicts from the analyse_* methods (no exception); the lower
    levels raise their named exceptions."""
    from fakecheck import audio
    from fakecheck.evaluation.scorefiles import TrialFileError, read_key
    from fakecheck.training.datasets.detect import load_dataset
    from fakecheck.training.datasets.rows import DatasetError

    junk = tmp_path / "junk.wav"
    junk.write_text("not audio at all\n" * 20)
    v = det.analyse_file(junk)
    assert v.verdict == "ERROR" and v.error and "\n" not in v.error
    assert [x.verdict for x in det.analyse_files([junk, tmp_path / "missing.wav"])] == ["ERROR", "ERROR"]
    assert det.analyse_waveform(np.full(1000, np.nan, np.float32), 16_000).verdict == "ERROR"
    with pytest.raises(audio.AudioLoadError):
        audio.load(junk)
    with pytest.raises(DatasetError):
        load_dataset(tmp_path / "no-such-dataset")
    with pytest.raises(TrialFileError):
        read_key(junk)
