"""Same audio + same model -> the same scores, however the work is batched, threaded or entered."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike, tone
from typer.testing import CliRunner

from fakecheck.analysis.detector import Detector
from fakecheck.cli.app import app

TOL = 1e-5
PRECISIONS = ("fp32", "bf16", "int8")
# How far a window's logit may move with the batch size (oneDNN picks kernels by shape).  int8 quantises
# activations per batch, so its windows see their batch neighbours: compared across batch sizes
# only loosely; within one batch size it is bit-identical like the others.
BATCH_TOL = {"fp32": TOL, "bf16": 1e-2, "int8": 5e-2}


@pytest.fixture
def files(tmp_path):
    """A handful of clips: multi-window, resampled, stereo, short, silent (no score)."""
    d = tmp_path / "in"
    d.mkdir()
    sf.write(d / "a_long.wav", speechlike(11.0, seed=1), 16_000)  # 5 overlapping windows
    sf.write(d / "b_44k.flac", speechlike(5.0, 44_100, seed=2), 44_100)
    sf.write(d / "c_stereo.wav", np.stack([speechlike(3.0, seed=3), tone(3.0)], axis=1), 16_000, subtype="FLOAT")
    sf.write(d / "d_short.wav", speechlike(1.6, 8_000, seed=4), 8_000)  # one repeat-padded window
    sf.write(d / "e_silent.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    return d


def scan_json(folder, model, tmp_path, *options: str, precision: str = "fp32") -> dict[str, dict]:
    out = tmp_path / f"out{len(list(tmp_path.glob('out*.json')))}.json"
    result = CliRunner().invoke(app, ["--precision", precision, "scan", str(folder), "--model", str(model),
                                      "--json", str(out), "-q", *options])
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(out.read_text())
    assert doc["precision"] == precision
    return {r["path"]: r for r in doc["results"]}


def assert_close(a: dict[str, dict], b: dict[str, dict], tol: float) -> None:
    assert list(a) == list(b)
    for path in a:
        ra, rb = a[path], b[path]
        assert ra["verdict"] == rb["verdict"], path
        if ra["score"] is None:
            assert rb["score"] is None, path
            continue
        assert abs(ra["score"] - rb["score"]) <= tol, (path, ra["score"], rb["score"])
        assert abs(ra["p_fake"] - rb["p_fake"]) <= tol, path
        assert [w["start_s"] for w in ra["windows"]] == [w["start_s"] for w in rb["windows"]], path
        for wa, wb in zip(ra["windows"], rb["windows"], strict=True):
            assert abs(wa["score"] - wb["score"]) <= tol, (path, wa, wb)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_two_runs_are_bit_identical(files, tiny_model_file, tmp_path, precision):
    first = scan_json(files, tiny_model_file, tmp_path, precision=precision)
    second = scan_json(files, tiny_model_file, tmp_path, precision=precision)
    assert len(first) == 5
    assert sum(r["score"] is not None for r in first.values()) == 4  # the silent clip has no score
    for path in first:
        for key in ("verdict", "score", "p_fake", "suspicious_start_s", "suspicious_end_s", "fake_fraction",
                    "fake_segments", "windows"):
            assert first[path][key] == second[path][key], (path, key)  # exact float equality


@pytest.mark.parametrize("precision", PRECISIONS)
def test_batch_size_does_not_change_scores(files, tiny_model_file, tmp_path, precision):
    one = scan_json(files, tiny_model_file, tmp_path, "--batch-size", "1", precision=precision)
    many = scan_json(files, tiny_model_file, tmp_path, "--batch-size", "32", precision=precision)
    assert_close(one, many, BATCH_TOL[precision])


@pytest.mark.parametrize("precision", PRECISIONS)
def test_decoder_threads_do_not_change_scores_or_order(files, tiny_model_file, tmp_path, precision):
    single = scan_json(files, tiny_model_file, tmp_path, "--jobs", "1", "--batch-size", "3", precision=precision)
    three = scan_json(files, tiny_model_file, tmp_path, "--jobs", "3", "--batch-size", "3", precision=precision)
    assert_close(single, three, TOL)  # same batches, any number of decoder threads: the same scores


@pytest.mark.parametrize("name", ["a_long.wav", "b_44k.flac", "c_stereo.wav", "d_short.wav"])
def test_analyse_file_matches_analyse_waveform(files, tiny_checkpoint, name):
    det = Detector(tiny_checkpoint, device="cpu", threads=1)
    from_file = det.analyse_file(files / name)
    samples, rate = sf.read(files / name, dtype="float32")
    from_memory = det.analyse_waveform(samples, rate)
    assert from_file.verdict == from_memory.verdict
    assert from_file.score is not None and from_memory.score is not None
    assert abs(from_file.score - from_memory.score) <= TOL
    assert (from_file.sample_rate, from_file.channels) == (from_memory.sample_rate, from_memory.channels)
    assert abs(from_file.duration_s - from_memory.duration_s) < 1e-3
    assert [w.start_s for w in from_file.windows] == [w.start_s for w in from_memory.windows]


def test_analyse_files_keeps_input_order_with_duplicates(files, tiny_checkpoint):
    det = Detector(tiny_checkpoint, device="cpu", threads=1)
    paths = [files / "a_long.wav", files / "d_short.wav", files / "a_long.wav", files / "e_silent.wav"]
    verdicts = list(det.analyse_files(paths, batch_size=2, jobs=3))
    assert [v.path for v in verdicts] == [str(p) for p in paths]
    assert verdicts[0].score is not None and verdicts[2].score is not None
    assert abs(verdicts[0].score - verdicts[2].score) <= TOL
