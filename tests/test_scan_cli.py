"""`fakecheck scan`: exit codes, plain output for pipes, sharding, folder walking, streaming outputs, Ctrl-C."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.cli.app import app
from fakecheck.evidence.sinks import CSV_COLUMNS

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def write_clip(path: Path, seconds: float = 2.0, seed: int = 0, rate: int = 16_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, speechlike(seconds, rate, seed=seed), rate)
    return path


@pytest.fixture
def clips(tmp_path) -> Path:
    d = tmp_path / "clips"
    for i in range(3):
        write_clip(d / f"clip {i}.wav", seed=i)
    return d


def verdicts(result) -> list[str]:
    """The first field of each plain output row."""
    return [line.split()[0] for line in result.stdout.splitlines()]


def no_traceback(result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


# -- exit codes ------------------------------------------------------------------------------
def test_exit_0_when_nothing_is_flagged(clips, tiny_model_file):
    result = run("scan", clips, "--model", tiny_model_file, "--threshold", "0.999999")
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert verdicts(result) == ["REAL"] * 3


def test_exit_1_when_a_clip_is_fake(clips, tiny_model_file):
    result = run("scan", clips, "--model", tiny_model_file, "--threshold", "0.000001")
    no_traceback(result)
    assert result.exit_code == 1, result.output
    assert verdicts(result) == ["FAKE"] * 3


@pytest.mark.parametrize("args", [
    ["--no-such-option"],
    ["--shard", "3/2"],
    ["--shard", "0/2"],
    ["--shard", "1/0"],
    ["--shard", "a/b"],
    ["--shard", "1/2/3"],
    ["--batch-size", "0"],
    ["--jobs", "0"],
    ["--threshold", "1.5"],
    ["--threshold", "0"],
])
def test_exit_2_on_bad_options(clips, tiny_model_file, args):
    result = run("scan", clips, "--model", tiny_model_file, *args)
    no_traceback(result)
    assert result.exit_code == 2, result.output


def test_exit_2_when_model_is_a_text_file(clips, tmp_path):
    fake_model = tmp_path / "model.pt"
    fake_model.write_text("this is not a checkpoint\n")
    result = run("scan", clips, "--model", fake_model)
    no_traceback(result)
    assert result.exit_code == 2
    assert "error:" in result.stderr and "model.pt" in result.stderr


def test_exit_2_when_model_is_missing_or_a_directory(clips, tmp_path):
    for model in (tmp_path / "missing.pt", tmp_path):
        result = run("scan", clips, "--model", model)
        no_traceback(result)
        assert result.exit_code == 2, (model, result.output)


def test_exit_2_when_csv_directory_does_not_exist(clips, tiny_model_file, tmp_path):
    result = run("scan", clips, "--model", tiny_model_file, "--csv", tmp_path / "no" / "such" / "dir" / "out.csv")
    no_traceback(result)
    assert result.exit_code == 2
    assert "cannot write csv output" in result.stderr
    assert "REAL" not in result.stdout and "FAKE" not in result.stdout  # failed before any work


def test_exit_3_on_an_error_row(clips, tiny_model_file):
    (clips / "broken.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    result = run("scan", clips, "--model", tiny_model_file, "--threshold", "0.999999")
    no_traceback(result)
    assert result.exit_code == 3, result.output
    assert verdicts(result).count("ERROR") == 1


def test_exit_3_wins_over_fake(clips, tiny_model_file):
    """cli.py: when several apply the highest wins, so ERROR (3) beats FAKE (1)."""
    (clips / "broken.wav").write_bytes(b"\x00" * 100)
    result = run("scan", clips, "--model", tiny_model_file, "--threshold", "0.000001")
    no_traceback(result)
    assert sorted(verdicts(result)) == ["ERROR", "FAKE", "FAKE", "FAKE"]
    assert result.exit_code == 3


def test_missing_path_named_explicitly_gets_an_error_row(tmp_path, tiny_model_file):
    result = run("scan", tmp_path / "nowhere.wav", "--model", tiny_model_file)
    no_traceback(result)
    assert result.exit_code == 3
    assert verdicts(result) == ["ERROR"] and "nowhere.wav" in result.stdout


def test_inconclusive_alone_exits_0(tmp_path, tiny_model_file):
    sf.write(tmp_path / "silence.wav", np.zeros(32_000, dtype=np.float32), 16_000)
    result = run("scan", tmp_path / "silence.wav", "--model", tiny_model_file)
    assert result.exit_code == 0
    assert verdicts(result) == ["INCONCLUSIVE"]


# -- plain output -----------------------------------------------------------------------------
def test_plain_rows_when_piped(clips, tiny_model_file):
    """CliRunner is not a terminal: one plain row per file (no table), path last, reason after it."""
    (clips / "bad.wav").write_bytes(b"nope" * 50)
    result = run("scan", clips, "--model", tiny_model_file)
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    assert "━" not in result.stdout and "│" not in result.stdout
    expected = [str(clips / "bad.wav")] + [str(clips / f"clip {i}.wav") for i in range(3)]
    for line, path in zip(lines, expected, strict=True):
        head, note = line.split(path)  # spaces inside the name intact
        assert note.strip().startswith("# ")
        if line.startswith("ERROR"):
            assert head.split() == ["ERROR", "-", "-", "-", "-"]
        else:
            verdict, p, *_ = head.split()
            assert verdict in ("REAL", "FAKE", "PARTIAL") and 0.0 <= float(p) <= 1.0
    assert "4 files:" in result.stderr  # the summary goes to stderr, never into the piped rows


def test_plain_rows_are_tab_separated(clips, tiny_model_file):
    (clips / "bad.wav").write_bytes(b"nope" * 50)
    result = run("scan", clips, "--model", tiny_model_file)
    lines = result.stdout.splitlines()
    expected = [str(clips / "bad.wav")] + [str(clips / f"clip {i}.wav") for i in range(3)]
    for line, path in zip(lines, expected, strict=True):
        fields = line.split("\t")
        assert fields[0] in ("REAL", "FAKE", "PARTIAL", "ERROR", "INCONCLUSIVE")
        assert len(fields) == 7 and fields[5] == path and fields[6].startswith("# ")
        if fields[0] == "ERROR":
            assert fields[1:5] == ["-", "-", "-", "-"]
        else:
            assert 0.0 <= float(fields[1]) <= 1.0 and fields[2] in ("low", "medium", "high")
            assert fields[3].endswith(" s") and (fields[4] == "-" or fields[4].endswith(" s"))


def test_quiet_prints_nothing(clips, tiny_model_file, tmp_path):
    result = run("scan", clips, "--model", tiny_model_file, "-q", "--csv", tmp_path / "q.csv")
    assert result.stdout == "" and result.stderr == ""
    assert len((tmp_path / "q.csv").read_text().splitlines()) == 4


# -- sharding ------------------------------------------------------------------------------------
def scanned_paths(result) -> list[str]:
    return [json.loads(line)["path"] for line in result.stdout.splitlines()]


@pytest.fixture
def many_clips(tmp_path) -> Path:
    d = tmp_path / "many"
    base = speechlike(0.6)
    for i in range(14):
        (d / f"g{i % 3}").mkdir(parents=True, exist_ok=True)
        sf.write(d / f"g{i % 3}" / f"c{i:02d}.wav", base, 16_000)
    return d


def test_shards_partition_the_scan(many_clips, tiny_model_file):
    full = scanned_paths(run("scan", many_clips, "--model", tiny_model_file, "--jsonl", "-"))
    assert len(full) == 14
    n = 3
    shards = [scanned_paths(run("scan", many_clips, "--model", tiny_model_file, "--jsonl", "-", "--shard", f"{k}/{n}"))
              for k in range(1, n + 1)]
    union = [p for s in shards for p in s]
    assert sorted(union) == sorted(full)  # union is the full scan ...
    assert len(union) == len(set(union))  # ... and the shards are disjoint
    assert all(s == [p for p in full if p in s] for s in shards)  # each keeps the scan order
    again = [scanned_paths(run("scan", many_clips, "--model", tiny_model_file, "--jsonl", "-", "--shard", f"{k}/{n}"))
             for k in range(1, n + 1)]
    assert again == shards  # the split is deterministic
    single = scanned_paths(run("scan", many_clips, "--model", tiny_model_file, "--jsonl", "-", "--shard", "1/1"))
    assert single == full


# -- folders -------------------------------------------------------------------------------------
def test_folder_recursion_is_sorted_and_skips_non_audio(tmp_path, tiny_model_file):
    root = tmp_path / "tree"
    for rel in ["b.wav", "a.flac", "Z.wav", "sub/y.wav", "sub/deeper/x.wav", "A dir/q.wav", "sub2/p.WAV"]:
        write_clip(root / rel, seconds=0.6)
    for rel in ["notes.txt", "cover.png", "sub/README", "sub/deeper/.hidden", "sub2/data.csv"]:
        (root / rel).write_text("not audio\n")
    expected = [root / p for p in ["Z.wav", "a.flac", "b.wav", "A dir/q.wav", "sub/y.wav", "sub/deeper/x.wav",
                                   "sub2/p.WAV"]]
    out = tmp_path / "r.json"
    for _ in range(2):  # same order on every run
        result = run("scan", root, "--model", tiny_model_file, "--json", out)
        assert result.exit_code in (0, 1), result.output
        doc = json.loads(out.read_text())
        assert [r["path"] for r in doc["results"]] == [str(p) for p in expected]
        assert doc["summary"]["skipped_non_audio"] == 5 and doc["summary"]["files"] == 7
        assert "5 non-audio skipped" in result.stderr
        assert "7 files:" in result.stderr


def test_explicit_non_audio_file_still_gets_a_row(tmp_path, tiny_model_file):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    result = run("scan", notes, "--model", tiny_model_file)
    assert result.exit_code == 3
    assert verdicts(result) == ["ERROR"] and "non-audio skipped" not in result.stderr


# -- streaming outputs ---------------------------------------------------------------------------
def test_jsonl_to_stdout_is_valid_json_lines(clips, tiny_model_file):
    (clips / "bad.wav").write_bytes(b"")
    result = run("scan", clips, "--model", tiny_model_file, "--jsonl", "-")
    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert len(lines) == 4  # only JSON on stdout: no table, no summary
    rows = [json.loads(line) for line in lines]
    for r in rows:
        assert r["schema_version"] == 1
        assert set(CSV_COLUMNS) <= set(r) and "windows" in r
    assert [r["verdict"] for r in rows].count("ERROR") == 1


def test_scores_file_has_trial_score_lines(clips, tiny_model_file, tmp_path):
    (clips / "silent.wav").write_bytes(b"")  # rows without a score are left out
    sf.write(clips / "quiet.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    scores, js = tmp_path / "scores.txt", tmp_path / "s.json"
    result = run("scan", clips, "--model", tiny_model_file, "--scores", scores, "--json", js, "-q")
    assert result.exit_code == 3
    by_trial = {}
    for line in scores.read_text().splitlines():
        trial, value = line.split(" ")
        by_trial[trial] = float(value)
    results = json.loads(js.read_text())["results"]
    scored = [r for r in results if r["score"] is not None]
    assert len(by_trial) == len(scored) == 3
    for r in scored:
        trial = "_".join(Path(r["path"]).stem.split())  # utterance IDs, whitespace-free: "clip 0.wav" -> "clip_0"
        assert abs(by_trial[trial] - (-r["score"])) < 1e-5  # ASVspoof sign: higher = bona fide
    full = tmp_path / "full.txt"
    result = run("scan", clips, "--model", tiny_model_file, "--scores", full, "--scores-full-path", "-q")
    assert sorted(line.split(" ")[0] for line in full.read_text().splitlines()) == sorted(
        "_".join(r["path"].split()) for r in scored)


def test_scores_use_utterance_ids_and_warn_on_duplicates(tmp_path, tiny_model_file):
    """ASVspoof keys name trials by utterance ID (LA_E_1000001), so --scores writes file stems."""
    write_clip(tmp_path / "a" / "LA_E_1000001.flac")
    write_clip(tmp_path / "a" / "LA_E_1000002.wav")
    scores = tmp_path / "s.txt"
    result = run("scan", tmp_path / "a", "--model", tiny_model_file, "--scores", scores)
    assert result.exit_code in (0, 1), result.output
    assert [line.split(" ")[0] for line in scores.read_text().splitlines()] == ["LA_E_1000001", "LA_E_1000002"]
    assert "not unique" not in result.stderr
    write_clip(tmp_path / "b" / "LA_E_1000001.wav")
    result = run("scan", tmp_path / "a", tmp_path / "b", "--model", tiny_model_file, "--scores", scores)
    assert result.exit_code in (0, 1), result.output
    warning = [line for line in result.stderr.splitlines() if "not unique" in line]
    assert len(warning) == 1 and "LA_E_1000001" in warning[0] and "--scores-full-path" in warning[0]
    assert len(scores.read_text().splitlines()) == 3  # every trial is still written


# -- Ctrl-C --------------------------------------------------------------------------------------
def default_sigint() -> None:
    """In the child before exec: a runner started in the background (nohup, `cmd &`) passes SIGINT on as
    ignored, and Python then never raises KeyboardInterrupt; restore the default so Ctrl-C is tested."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_complete_rows_and_exits_130(tmp_path, tiny_model_file):
    exe = shutil.which("fakecheck")
    if exe is None:
        pytest.skip("the fakecheck console script is not on PATH")
    d = tmp_path / "forty"
    d.mkdir()
    x = speechlike(10.0)
    for i in range(40):
        sf.write(d / f"c{i:02d}.wav", x, 16_000)
    out, js = tmp_path / "out.csv", tmp_path / "out.json"
    env = {**os.environ, "FAKECHECK_THREADS": "1"}
    proc = subprocess.Popen([exe, "scan", str(d), "--csv", str(out), "--json", str(js), "--model",
                             str(tiny_model_file), "--batch-size", "1", "--jobs", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, preexec_fn=default_sigint)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            if out.exists() and out.read_text(encoding="utf-8").count("\n") >= 2:  # header + a row
                break
            time.sleep(0.005)
        assert proc.poll() is None, "scan finished (or died) before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = stderr.decode("utf-8", "replace")
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_COLUMNS)
    assert 1 <= len(rows) - 1 < 40
    assert all(len(r) == len(CSV_COLUMNS) for r in rows), rows
    assert [r[0] for r in rows[1:]] == [str(d / f"c{i:02d}.wav") for i in range(len(rows) - 1)]
    # The other outputs hold the same rows, except perhaps the one in flight: cli.scan writes a
    # row to each sink in turn and then prints it, and SIGINT can land between two of those.
    done = len(rows) - 1
    assert len(stdout.decode().splitlines()) in (done - 1, done)
    doc = json.loads(js.read_text())  # the JSON document is still closed and valid
    assert doc["summary"]["interrupted"] is True
    assert len(doc["results"]) in (done - 1, done)
    assert [r["path"] for r in doc["results"]] == [r[0] for r in rows[1 : len(doc["results"]) + 1]]


def test_module_entry_point_runs(tmp_path, tiny_model_file):
    write_clip(tmp_path / "a.wav")
    r = subprocess.run([sys.executable, "-m", "fakecheck", "scan", str(tmp_path / "a.wav"), "--model",
                        str(tiny_model_file), "--threshold", "0.999999"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "REAL"


def test_error_messages_are_one_line_whatever_the_width(clips, tmp_path):
    """Rich must not hard-wrap an error at the console width: scripts grep for one line."""
    model = tmp_path / ("a-rather-long-folder-name-" * 6) / "missing-model.pt"
    result = run("scan", clips, "--model", model)
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and str(model) in lines[0], result.stderr


# -- empty inputs, quiet mode, summary counts -------------------------------------------------------
def test_an_empty_folder_is_an_error_not_a_silent_success(tmp_path, tiny_model_file):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not audio\n")
    js = tmp_path / "e.json"
    result = run("scan", empty, "--model", tiny_model_file, "--json", js)
    assert result.exit_code == 3, result.output
    assert result.stdout == ""
    assert f"no audio files found in {empty}" in result.stderr and "1 non-audio" in result.stderr
    doc = json.loads(js.read_text())  # the outputs are still written, empty and valid
    assert doc["results"] == [] and doc["summary"]["files"] == 0
    quiet = run("scan", empty, "--model", tiny_model_file, "-q")
    assert quiet.exit_code == 3 and "no audio files found" in quiet.stderr  # an error: printed even with -q


def test_an_empty_folder_beside_files_is_a_warning(clips, tmp_path, tiny_model_file):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run("scan", clips, empty, "--model", tiny_model_file, "--threshold", "0.999999")
    assert result.exit_code == 0, result.output
    assert verdicts(result) == ["REAL"] * 3
    assert f"warning: no audio files found in {empty}" in result.stderr


def test_quiet_still_prints_error_rows_on_stderr(clips, tiny_model_file, tmp_path):
    (clips / "broken.wav").write_bytes(b"RIFF\x00\x00garbage" * 10)
    result = run("scan", clips, "--model", tiny_model_file, "-q", "--threshold", "0.999999")
    assert result.exit_code == 3
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr  # no summary, no progress: the ERROR row only
    fields = lines[0].split("\t")
    assert fields[0] == "ERROR" and fields[5] == str(clips / "broken.wav") and fields[6].startswith("# ")


def test_json_summary_counts_every_verdict_even_zero(clips, tiny_model_file, tmp_path):
    from fakecheck.analysis.verdict import VERDICTS

    js = tmp_path / "s.json"
    result = run("scan", clips, "--model", tiny_model_file, "--threshold", "0.999999", "--json", js)
    assert result.exit_code == 0
    summary = json.loads(js.read_text())["summary"]
    assert {"REAL", "FAKE", "INCONCLUSIVE", "ERROR"} <= set(VERDICTS)
    assert {v: summary[v] for v in VERDICTS} == {v: 3 if v == "REAL" else 0 for v in VERDICTS}


def test_an_empty_shard_of_a_full_folder_is_not_an_error(tmp_path, tiny_model_file):
    write_clip(tmp_path / "d" / "only.wav")
    codes = [run("scan", tmp_path / "d", "--model", tiny_model_file, "--threshold", "0.999999", "--shard", f"{k}/4")
             for k in range(1, 5)]
    assert sorted(r.exit_code for r in codes) == [0, 0, 0, 0]
    assert sum(len(r.stdout.splitlines()) for r in codes) == 1
    assert not any("no audio files" in r.stderr for r in codes)
