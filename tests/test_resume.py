"""scan --resume (issue 25, item 5): a scan killed at any moment, SIGKILL included, continues from the rows already
written, with no duplicate, missing or half row: the finished files equal an uninterrupted run's, byte for byte."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.cli import app
from fakecheck.evidence.sinks import CSV_COLUMNS, OutputError, prepare_resume, read_rows

N_CLIPS = 8


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("clips")
    for i in range(N_CLIPS):
        sf.write(d / f"clip{i:02d}.wav", speechlike(4.0, seed=i), 16_000)
    sf.write(d / "=formula.wav", speechlike(2.0, seed=99), 16_000)  # a CSV cell that gets an apostrophe
    (d / "broken.wav").write_bytes(b"RIFF\x00\x00")  # an ERROR row is a row too
    return d


def _scan(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FAKECHECK_THREADS": "1", "NO_COLOR": "1"}
    return subprocess.Popen([sys.executable, "-m", "fakecheck", "scan", *args, "--quiet"], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def uninterrupted(folder, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("whole")
    p = _scan([str(folder), "--csv", "out.csv", "--jsonl", "out.jsonl", "--batch-size", "1"], out)
    _, err = p.communicate(timeout=600)
    assert p.returncode in (0, 1, 3), err.decode()
    return {name: (out / name).read_bytes() for name in ("out.csv", "out.jsonl")}


@pytest.mark.slow
def test_a_scan_killed_with_sigkill_resumes_to_the_same_output(folder, uninterrupted, tmp_path):
    args = [str(folder), "--csv", "out.csv", "--jsonl", "out.jsonl", "--batch-size", "1"]
    p = _scan(args, tmp_path)
    deadline = time.time() + 300
    csv_path = tmp_path / "out.csv"
    while time.time() < deadline:  # kill once a few rows are out, while the scan is still going
        if csv_path.exists() and csv_path.read_bytes().count(b"\n") >= 4:
            break
        time.sleep(0.02)
    p.send_signal(signal.SIGKILL)
    p.wait()
    killed_rows = csv_path.read_bytes().count(b"\n") - 1
    assert 0 < killed_rows < N_CLIPS + 2, "the kill did not land part-way; the test proves nothing"
    # as if the kill had cut a write in half: a row without its newline in one output only
    with open(tmp_path / "out.jsonl", "ab") as f:
        f.write(b'{"schema_version": 2, "path": "half')
    p = _scan([*args, "--resume"], tmp_path)
    _, err = p.communicate(timeout=600)
    assert p.returncode in (0, 1, 3), err.decode()
    assert b"resuming:" not in err  # --quiet
    for name, whole in uninterrupted.items():
        assert (tmp_path / name).read_bytes() == whole, name


def test_resume_keeps_only_rows_every_output_holds(tmp_path):
    header = ",".join(CSV_COLUMNS)
    csv_file, jsonl_file = tmp_path / "o.csv", tmp_path / "o.jsonl"
    csv_file.write_text(f"{header}\na.wav,REAL\nb.wav,FAKE\n'=c.wav,ERROR\nd.wa", encoding="utf-8")
    jsonl_file.write_text('{"path": "a.wav", "verdict": "REAL"}\n{"path": "=c.wav", "verdict": "ERROR"}\n',
                          encoding="utf-8")
    done = prepare_resume([(str(csv_file), "csv"), (str(jsonl_file), "jsonl")])
    assert done == {"a.wav": "REAL", "=c.wav": "ERROR"}  # b.wav is in one output only: scanned again
    assert csv_file.read_text(encoding="utf-8") == f"{header}\na.wav,REAL\n'=c.wav,ERROR\n"
    assert [r[0] for r in read_rows(str(jsonl_file), "jsonl")] == ["a.wav", "=c.wav"]


def test_resume_refuses_a_file_that_is_not_its_output(tmp_path):
    other = tmp_path / "notes.csv"
    other.write_text("name,amount\nrent,1200\n", encoding="utf-8")
    with pytest.raises(OutputError, match="not a fakecheck CSV"):
        prepare_resume([(str(other), "csv")])
    assert other.read_text(encoding="utf-8") == "name,amount\nrent,1200\n"  # untouched


def test_resume_with_no_earlier_output_is_a_fresh_scan(tmp_path):
    assert prepare_resume([(str(tmp_path / "new.csv"), "csv")]) == {}
    assert not (tmp_path / "new.csv").exists()


@pytest.mark.parametrize("extra, message", [
    ([], "--resume needs --csv or --jsonl"),
    (["--csv", "-"], "not standard output"),
    (["--csv", "o.csv", "--json", "o.json"], "--json and --scores are written whole"),
])
def test_resume_usage_errors(tmp_path, extra, message):
    r = CliRunner().invoke(app, ["scan", str(tmp_path), "--resume", *extra])
    assert r.exit_code == 2
    assert message in r.output
