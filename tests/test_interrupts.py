"""Interrupted and failing work: killed training resumes from an intact checkpoint; write errors are clear."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import soundfile as sf
from conftest import speechlike
from test_train import make_folder_dataset

from fakecheck.model.checkpoint import load


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_training_keeps_last_checkpoint_and_resumes(tmp_path, sig):
    data = make_folder_dataset(tmp_path / "data")
    out = tmp_path / "m.pt"
    base = [sys.executable, "-m", "fakecheck", "train", str(data), "--val", str(data), "--out", str(out),
            "--clips-per-epoch", "8", "--batch-size", "4", "--workers", "0", "--no-augment", "--patience", "40"]
    cmd = base + ["--epochs", "40"]
    env = {**os.environ, "FAKECHECK_THREADS": "1"}
    # A runner started in the background passes SIGINT on as ignored; restore the default for the child.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    log = tmp_path / "m.pt.metrics.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and not (log.exists() and len(log.read_text().splitlines()) >= 2):
        time.sleep(0.1)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    ckpt = load(out)  # intact, loadable
    done = len(log.read_text().splitlines())
    assert ckpt.provenance["epoch"] <= done
    resume = subprocess.run(base + ["--epochs", str(done + 2), "--resume"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert resume.returncode == 0, resume.stderr[-2000:]
    epochs = [json.loads(line)["epoch"] for line in log.read_text().splitlines()]
    assert epochs[-1] == done + 2 and epochs == sorted(set(epochs))
    assert not list(tmp_path.glob(".m.pt*.tmp")), "temp files of the killed run are cleaned up on resume"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to simulate a full disk")
def test_full_disk_mid_scan_is_a_clear_error(tmp_path, tiny_model_file):
    clip = tmp_path / "a.wav"
    sf.write(clip, speechlike(2.0), 16_000)
    proc = subprocess.run([sys.executable, "-m", "fakecheck", "scan", str(clip), "--model", str(tiny_model_file),
                           "--jsonl", "/dev/full"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 4, proc.stderr
    assert "No space left on device" in proc.stderr and "Traceback" not in proc.stderr


def test_read_only_output_is_a_usage_error(tmp_path, tiny_model_file):
    clip = tmp_path / "a.wav"
    sf.write(clip, speechlike(2.0), 16_000)
    proc = subprocess.run([sys.executable, "-m", "fakecheck", "scan", str(clip), "--model", str(tiny_model_file),
                           "--csv", "/proc/version"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and ("cannot write csv output" in proc.stderr or "failed" in proc.stderr)
    assert "Traceback" not in proc.stderr
