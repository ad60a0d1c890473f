"""Hostile inputs: every broken, odd or malicious file gets exactly one clean row, and nothing crashes.

All inputs are made at run time in tmp_path.  The folder is scanned twice: once in a
subprocess with a timeout (so a FIFO that blocks would fail the test instead of hanging
it) and once in-process through CliRunner.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.cli.app import app
from fakecheck.evidence.sinks import CSV_COLUMNS

REQUIRED_KEYS = {"path", "verdict", "p_fake", "score", "threshold", "duration_s", "sample_rate", "channels",
                 "suspicious_start_s", "suspicious_end_s", "model", "error", "windows"}
SCORED = {"REAL", "FAKE", "PARTIAL"}
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
FORMULA_NAMES = ["=eq.wav", "+plus.wav", "-minus.wav", "@at.wav"]
ODD_NAMES = ["com,ma.wav", 'dq"uote.wav', "new\nline.wav", "tab\there.wav", "日本語 ünï.wav", *FORMULA_NAMES]


def make_hostile_folder(d: Path) -> dict[str, tuple[set[str], str]]:
    """Create the inputs; returns {name: (allowed verdicts, substring the error must contain)}."""
    d.mkdir()
    rng = np.random.default_rng(0)
    expect: dict[str, tuple[set[str], str]] = {}
    speech = speechlike(1.0)

    (d / "corrupt.wav").write_bytes(rng.bytes(4096))
    expect["corrupt.wav"] = ({"ERROR"}, "not decodable")

    sf.write(d / "whole.wav", speechlike(4.5, seed=1), 16_000)
    body = (d / "whole.wav").read_bytes()
    (d / "truncated.wav").write_bytes(body[: 44 + (len(body) - 44) // 3])  # header promises 4.5 s, 1.5 s left
    expect["whole.wav"] = (SCORED, "")
    expect["truncated.wav"] = (SCORED, "")  # libsndfile decodes what is there; checked further below

    (d / "zero_bytes.wav").write_bytes(b"")
    expect["zero_bytes.wav"] = ({"ERROR"}, "empty")
    for name in ("text.wav", "text.mp3"):
        (d / name).write_text("this is a text file, not audio\n" * 40)
        expect[name] = ({"ERROR"}, "not decodable")

    for name, bad in (("nan.wav", np.nan), ("inf.wav", np.inf)):
        x = speech.copy()
        x[1000:1010] = bad
        sf.write(d / name, x, 16_000, subtype="FLOAT")
        expect[name] = ({"ERROR"}, "NaN or Inf")

    sf.write(d / "silent.wav", np.zeros(32_000, dtype=np.float32), 16_000)
    expect["silent.wav"] = ({"INCONCLUSIVE"}, "no speech")
    sf.write(d / "one_sample.wav", np.array([0.25], dtype=np.float32), 16_000)
    expect["one_sample.wav"] = ({"INCONCLUSIVE"}, "too short")

    sf.write(d / "rate_192k.wav", speechlike(1.0, 192_000), 192_000)
    expect["rate_192k.wav"] = (SCORED, "")
    sf.write(d / "eight_channels.wav", np.repeat(speech[:, None], 8, axis=1), 16_000)
    expect["eight_channels.wav"] = (SCORED, "")

    for name in ODD_NAMES:
        sf.write(d / name, speech, 16_000)
        expect[name] = (SCORED, "")

    sf.write(d / "unreadable.wav", speech, 16_000)
    os.chmod(d / "unreadable.wav", 0)
    # root reads a mode-000 file anyway; the in-process run simulates the denial (see below)
    expect["unreadable.wav"] = (SCORED, "") if IS_ROOT else ({"ERROR"}, "permission denied")

    os.symlink(d / "does-not-exist.wav", d / "broken_link.wav")
    expect["broken_link.wav"] = ({"ERROR"}, "symlink")
    os.symlink(d / "loop_b.wav", d / "loop_a.wav")
    os.symlink(d / "loop_a.wav", d / "loop_b.wav")
    expect["loop_a.wav"] = expect["loop_b.wav"] = ({"ERROR"}, "symlink")
    (d / "x.wav").mkdir()
    expect["x.wav"] = ({"ERROR"}, "directory")
    os.mkfifo(d / "f.wav")
    expect["f.wav"] = ({"ERROR"}, "not a regular file")

    (d / "notes.txt").write_text("not audio: skipped and counted, no row\n")
    return expect


def unescape(cell: str) -> str:
    """Undo output.safe_cell's apostrophe on formula-like cells."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


def check_outputs(expect: dict[str, tuple[set[str], str]], stdout: str, stderr: str, csv_path: Path,
                  json_path: Path) -> dict[str, dict]:
    n = len(expect)
    assert "Traceback" not in stdout + stderr
    assert "1 non-audio skipped" in stderr
    assert f"{n} files:" in stderr

    # plain output: one line per input (the newline in a name is shown as \n, never a second row)
    assert len(stdout.splitlines()) == n, stdout
    assert "new\\nline.wav" in stdout

    # CSV: parses back to one row per input with the same paths; formula cells neutralised
    text = csv_path.read_text(encoding="utf-8")
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == list(CSV_COLUMNS)
    body = table[1:]
    assert len(body) == n
    assert all(len(r) == len(CSV_COLUMNS) for r in body)
    assert sorted(unescape(r[0]) for r in body) == sorted(expect)
    by_csv = {unescape(r[0]): dict(zip(CSV_COLUMNS, r, strict=True)) for r in body}
    for name in FORMULA_NAMES:
        assert by_csv[name]["path"] == "'" + name
    for r in body:
        for col in ("path", "verdict", "model", "error"):
            assert not r[CSV_COLUMNS.index(col)].startswith(("=", "+", "-", "@")), r

    # JSON: versioned document, every key on every row, same paths
    doc = json.loads(json_path.read_text(encoding="utf-8"))
    assert doc["schema_version"] == 1
    assert doc["summary"]["files"] == n and doc["summary"]["skipped_non_audio"] == 1
    results = doc["results"]
    assert len(results) == n
    for r in results:
        assert REQUIRED_KEYS <= set(r), set(r) ^ REQUIRED_KEYS
    rows = {r["path"]: r for r in results}
    assert sorted(rows) == sorted(expect)

    # verdicts and reasons
    for name, (allowed, reason) in expect.items():
        r = rows[name]
        assert r["verdict"] in allowed, (name, r["verdict"], r["error"])
        assert by_csv[name]["verdict"] == r["verdict"]
        if r["verdict"] in ("ERROR", "INCONCLUSIVE"):
            assert r["error"] and "\n" not in r["error"] and len(r["error"]) < 300, (name, r["error"])
            assert reason in r["error"], (name, r["error"])
            assert r["p_fake"] is None and r["score"] is None
        else:
            assert 0.0 <= r["p_fake"] <= 1.0 and r["error"] == ""
    assert rows["rate_192k.wav"]["sample_rate"] == 192_000 and abs(rows["rate_192k.wav"]["duration_s"] - 1) < 0.01
    assert rows["eight_channels.wav"]["channels"] == 8
    assert 1.3 < rows["truncated.wav"]["duration_s"] < 1.7  # what survived, not what the header promised
    assert rows["one_sample.wav"]["duration_s"] < 0.001
    assert rows["silent.wav"]["duration_s"] == 2.0
    return rows


@pytest.fixture
def hostile(tmp_path):
    d = tmp_path / "hostile"
    expect = make_hostile_folder(d)
    yield d, expect
    os.chmod(d / "unreadable.wav", 0o644)  # let pytest clean up


def test_hostile_folder_in_a_subprocess(hostile, tiny_model_file, tmp_path):
    d, expect = hostile
    exe = shutil.which("fakecheck")
    cmd = [exe] if exe else [sys.executable, "-m", "fakecheck"]
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    r = subprocess.run([*cmd, "scan", ".", "--csv", str(out_csv), "--json", str(out_json), "--model",
                        str(tiny_model_file)], cwd=d, capture_output=True, timeout=120,
                       env={**os.environ, "FAKECHECK_THREADS": "1"})
    stdout, stderr = r.stdout.decode("utf-8"), r.stderr.decode("utf-8")
    assert r.returncode == 3, stderr
    check_outputs(expect, stdout, stderr, out_csv, out_json)


def test_hostile_folder_in_process(hostile, tiny_model_file, tmp_path, monkeypatch):
    d, expect = hostile
    if IS_ROOT:  # chmod 000 does not stop root: make os.access deny this one file instead
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: (
            False if Path(p).name == "unreadable.wav" else real_access(p, mode, *a, **k)))
        expect = {**expect, "unreadable.wav": ({"ERROR"}, "permission denied")}
    monkeypatch.chdir(d)
    out_csv, out_json = tmp_path / "out.csv", tmp_path / "out.json"
    result = CliRunner().invoke(app, ["scan", ".", "--csv", str(out_csv), "--json", str(out_json),
                                      "--model", str(tiny_model_file), "--jobs", "3"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 3, result.output
    check_outputs(expect, result.stdout, result.stderr, out_csv, out_json)


def test_unreadable_file_as_normal_user(tmp_path, tiny_model_file):
    if IS_ROOT:
        pytest.skip("running as root: chmod 000 does not make a file unreadable "
                    "(covered by the simulated denial in test_hostile_folder_in_process)")
    f = tmp_path / "locked.wav"
    sf.write(f, speechlike(1.0), 16_000)
    os.chmod(f, 0)
    try:
        result = CliRunner().invoke(app, ["scan", str(f), "--model", str(tiny_model_file)])
    finally:
        os.chmod(f, 0o644)
    assert result.exit_code == 3 and "permission denied" in result.stdout


# -- explain ------------------------------------------------------------------------------------
def test_explain_corrupt_file(tmp_path, tiny_model_file):
    f = tmp_path / "corrupt.wav"
    f.write_bytes(np.random.default_rng(1).bytes(3000))
    result = CliRunner().invoke(app, ["explain", str(f), "--model", str(tiny_model_file), "--json", "-"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code == 3
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "ERROR" and "not decodable" in doc["error"] and "\n" not in doc["error"]
    assert doc["tokens"] == [] and doc["top_segments"] == [] and doc["fake_segments"] == []


def test_explain_fifo_does_not_hang(tmp_path, tiny_model_file):
    os.mkfifo(tmp_path / "f.wav")
    result = CliRunner().invoke(app, ["explain", str(tmp_path / "f.wav"), "--model", str(tiny_model_file)])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "ERROR" in result.stdout and "FIFO" in result.stdout  # the table may wrap the reason in its column
    doc = CliRunner().invoke(app, ["explain", str(tmp_path / "f.wav"), "--model", str(tiny_model_file), "--json", "-"])
    assert "not a regular file" in json.loads(doc.stdout)["error"]


def test_explain_silent_file(tmp_path, tiny_model_file):
    f = tmp_path / "silent.wav"
    sf.write(f, np.zeros(32_000, dtype=np.float32), 16_000)
    result = CliRunner().invoke(app, ["explain", str(f), "--model", str(tiny_model_file), "--json", "-"])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code == 0  # INCONCLUSIVE is neither flagged nor an error
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "INCONCLUSIVE" and "no speech" in doc["error"] and doc["p_fake"] is None
    assert doc["top_segments"] == [] and doc["fake_segments"] == []  # nothing judged: no maps, no segments
    text = CliRunner().invoke(app, ["explain", str(f), "--model", str(tiny_model_file)])
    assert text.exit_code == 0 and "no speech" in text.stdout and "most-attended" not in text.stdout


# -- evaluate and train -------------------------------------------------------------------------
def folder_dataset(root: Path, n: int = 3) -> Path:
    for label, offset in (("real", 0), ("fake", 100)):
        (root / label).mkdir(parents=True)
        for i in range(n):
            sf.write(root / label / f"{label}{i}.wav", speechlike(1.5, seed=offset + i), 16_000)
    (root / "fake" / "corrupt.wav").write_bytes(np.random.default_rng(2).bytes(3000))
    return root


def test_evaluate_reports_a_corrupt_file_and_still_scores(tmp_path, tiny_model_file):
    data = folder_dataset(tmp_path / "data")
    out = tmp_path / "metrics.json"
    result = CliRunner().invoke(app, ["evaluate", str(data), "--model", str(tiny_model_file), "--json", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert result.exit_code == 3  # some inputs could not be analysed
    assert "1 of 7 files could not be scored: 1 not decodable audio" in result.stderr
    report = json.loads(out.read_text())
    assert report["n_failed"] == 1
    assert report["failed"][0]["path"].endswith("corrupt.wav") and report["failed"][0]["error"]
    assert report["n_bonafide"] == 3 and report["n_spoof"] == 3
    assert 0.0 <= report["eer"] <= 1.0 and 0.0 <= report["auc"] <= 1.0


def test_train_skips_a_corrupt_file(tmp_path):
    from fakecheck.model.transformer import ModelConfig
    from fakecheck.training import datasets
    from fakecheck.training import train as training

    rows = datasets.load_dataset(folder_dataset(tmp_path / "data"))
    assert len(rows) == 7
    events: list[dict] = []
    cfg = training.TrainConfig(epochs=1, batch_size=4, clips_per_epoch=8, num_workers=0, augment=None)
    out = tmp_path / "model.pt"
    ckpt = training.train(rows, rows, out, cfg, model_cfg=ModelConfig(d_model=32, n_heads=2, n_layers=1, d_ff=64),
                          hook=events.append)
    decoded = [e for e in events if e["event"] == "decoded"]
    assert len(decoded) == 1
    errors = decoded[0]["errors"]
    assert len(errors) == 2  # the corrupt file, once as training and once as validation row
    assert all("corrupt.wav" in e and "not decodable" in e and "\n" not in e for e in errors)
    assert out.is_file() and ckpt.provenance["n_train"] == 6
    assert [e["event"] for e in events][-1] == "done"


# -- a 3-hour file --------------------------------------------------------------------------------
def write_long_flac(path: Path, seconds: int, rate: int = 8_000) -> None:
    """Speech (it must get a verdict, not INCONCLUSIVE), written in 1-minute blocks."""
    block = rate * 60
    x = speechlike(60.0, rate)
    with sf.SoundFile(path, "w", rate, 1, format="FLAC", subtype="PCM_16") as f:
        left = seconds * rate
        while left > 0:
            f.write(x[: min(block, left)])
            left -= block


def scan_peak_rss(path: Path, model: Path, out_csv: Path) -> tuple[int, int]:
    """Run `fakecheck scan` in a child; return (exit code, the child's peak RSS in KiB)."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    exe = shutil.which("fakecheck")
    cmd = [exe] if exe else [sys.executable, "-m", "fakecheck"]
    r = subprocess.run([sys.executable, "-c", probe, *cmd, "scan", str(path), "--model", str(model), "--csv",
                        str(out_csv), "-q"], capture_output=True, text=True, timeout=600,
                       env={**os.environ, "FAKECHECK_THREADS": "1"})
    code, rss = r.stdout.split()
    return int(code), int(rss)


@pytest.mark.slow
def test_one_hour_file_streams_in_bounded_memory(tmp_path, tiny_model_file):
    # One hour, not three, since the Whisper front end costs about 50 ms a window; the bound below
    # still sits well under what decoding the whole file would hold.
    long, short = tmp_path / "one_hour.flac", tmp_path / "two_minutes.flac"
    write_long_flac(long, 3600)
    write_long_flac(short, 120)
    code_short, rss_short = scan_peak_rss(short, tiny_model_file, tmp_path / "short.csv")
    code_long, rss_long = scan_peak_rss(long, tiny_model_file, tmp_path / "long.csv")
    long.unlink()
    assert code_short in (0, 1) and code_long in (0, 1)
    rows = list(csv.DictReader(open(tmp_path / "long.csv", encoding="utf-8")))
    assert len(rows) == 1
    assert abs(float(rows[0]["duration_s"]) - 3600) < 1
    assert rows[0]["sample_rate"] == "8000" and rows[0]["verdict"] in SCORED
    # Decoding the whole file would hold >= 230 MB (3600 s x 16 kHz x 4 bytes); keeping every
    # window's samples alive (a bug fixed in inference._score_batch) added 460 MB an hour.
    growth_mb = (rss_long - rss_short) / 1024
    assert growth_mb < 150, f"peak RSS grew by {growth_mb:.0f} MB between a 2-minute and a 1-hour file"
