"""Training end to end on a tiny generated dataset: folder layout, resume, determinism, DDP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import speechlike

from fakecheck import datasets, train
from fakecheck.checkpoint import load
from fakecheck.model import ModelConfig

TINY = ModelConfig(d_model=32, n_heads=2, n_layers=1, d_ff=64)


def make_folder_dataset(root: Path, n: int = 6) -> Path:
    """real/: harmonic speech-like clips; fake/<sys>/: the same clips through a crude 'vocoder'."""
    rng = np.random.default_rng(0)
    for i in range(n):
        x = speechlike(1.5, seed=i)
        (root / "real" / f"src{i % 3}").mkdir(parents=True, exist_ok=True)
        sf.write(root / "real" / f"src{i % 3}" / f"r{i}.wav", x, 16_000)
        spec = np.fft.rfft(x)
        fake = np.fft.irfft(np.abs(spec) * np.exp(1j * rng.uniform(0, 2 * np.pi, len(spec))), len(x))
        (root / "fake" / f"sys{i % 2}").mkdir(parents=True, exist_ok=True)
        sf.write(root / "fake" / f"sys{i % 2}" / f"f{i}.wav", fake.astype(np.float32), 16_000)
    return root


def quick_cfg(**kw) -> train.TrainConfig:
    return train.TrainConfig(epochs=2, batch_size=4, clips_per_epoch=8, num_workers=0, patience=5, augment=None,
                             **kw)


def test_train_writes_calibrated_self_describing_checkpoint(tmp_path):
    rows = datasets.load_dataset(make_folder_dataset(tmp_path / "data"))
    events = []
    out = tmp_path / "m.pt"
    train.train(rows, rows, out, quick_cfg(), model_cfg=TINY, hook=events.append, provenance={"data": ["x"]})
    ck = load(out)
    assert ck.model.cfg == TINY
    assert 0.0 <= ck.metrics["eer"] <= 1.0 and "per_system" in ck.metrics
    assert ck.provenance["data"] == ["x"] and "train_config" in ck.provenance
    log = [json.loads(line) for line in (tmp_path / "m.pt.metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [0, 1]
    assert any(e["event"] == "epoch" for e in events)


def test_seed_makes_runs_identical_and_resume_continues(tmp_path):
    rows = datasets.load_dataset(make_folder_dataset(tmp_path / "data"))
    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    train.train(rows, rows, a, quick_cfg(seed=3), model_cfg=TINY)
    train.train(rows, rows, b, quick_cfg(seed=3), model_cfg=TINY)
    sa, sb = torch.load(a.with_name("a.pt.state"), weights_only=True), torch.load(b.with_name("b.pt.state"),
                                                                                   weights_only=True)
    for k in sa["model"]:
        assert torch.equal(sa["model"][k], sb["model"][k]), k
    # resume: one epoch, then continue to three
    c = tmp_path / "c.pt"
    train.train(rows, rows, c, train.TrainConfig(**{**quick_cfg(seed=3).__dict__, "epochs": 1}), model_cfg=TINY)
    train.train(rows, rows, c, train.TrainConfig(**{**quick_cfg(seed=3).__dict__, "epochs": 3}), model_cfg=TINY,
                resume=True)
    log = [json.loads(line)["epoch"] for line in (tmp_path / "c.pt.metrics.jsonl").read_text().splitlines()]
    assert log == [0, 1, 2]


def test_resume_without_state_is_a_clear_error(tmp_path):
    rows = datasets.load_dataset(make_folder_dataset(tmp_path / "data"))
    with pytest.raises(train.TrainingError, match="no training state"):
        train.train(rows, rows, tmp_path / "none.pt", quick_cfg(), model_cfg=TINY, resume=True)


def test_group_split_holds_out_sources_and_systems():
    rows = [datasets.Row(Path(f"/x/{i}.wav"), i % 2, f"sys{i % 6}", f"repo{i % 5}") for i in range(200)]
    tr, va = train.group_split(rows, 0.2, seed=0)
    assert not {r.source for r in tr} & {r.source for r in va}
    assert not {r.system for r in tr if r.label} & {r.system for r in va if r.label}


def test_cli_reports_a_broken_dataset_before_training(tmp_path):
    from typer.testing import CliRunner

    from fakecheck.cli import app

    (tmp_path / "real").mkdir()
    sf.write(tmp_path / "real" / "a.wav", speechlike(1.0), 16_000)
    result = CliRunner().invoke(app, ["train", str(tmp_path), "--out", str(tmp_path / "m.pt")])
    assert result.exit_code == 2, result.output
    assert "dataset problem" in result.output and not (tmp_path / "m.pt").exists()


@pytest.mark.slow
def test_distributed_two_cpu_processes(tmp_path):
    data = make_folder_dataset(tmp_path / "data")
    env = {**os.environ, "FAKECHECK_THREADS": "1"}
    with socket.socket() as sock:  # a free port: a fixed one can be held by an earlier run's rendezvous
        sock.bind(("127.0.0.1", 0))
        port = str(sock.getsockname()[1])
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", port,
           "-m", "fakecheck", "train", str(data), "--val", str(data), "--out", str(tmp_path / "ddp.pt"),
           "--epochs", "1", "--clips-per-epoch", "8", "--batch-size", "4", "--workers", "0", "--no-augment"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert load(tmp_path / "ddp.pt").provenance["n_train"] == 12


def test_manifest_split_column_is_the_split(tmp_path):
    """A manifest with a split column (data/training-manifest.csv) trains and validates on exactly its rows."""
    from typer.testing import CliRunner

    from fakecheck.cli import app

    root = make_folder_dataset(tmp_path / "data")
    files = sorted(root.rglob("*.wav"))
    lines = ["path,label,system,source,split"]
    for f in files:
        label = "bonafide" if "real" in f.parts else "spoof"
        split = "validation" if f.stem in ("r0", "r3", "f0", "f3") else "train"
        lines.append(f"{f.relative_to(root)},{label},{f.parent.name},{f.parent.name},{split}")
    man = root / "manifest.csv"
    man.write_text("\n".join(lines) + "\n")
    rows = datasets.load_dataset(man)
    assert {r.split for r in rows} == {"train", "validation"}
    out = tmp_path / "m.pt"
    result = CliRunner().invoke(app, ["train", str(man), "--out", str(out), "--epochs", "1", "--clips-per-epoch", "4",
                                      "--batch-size", "4", "--workers", "0", "--no-augment"])
    assert result.exit_code == 0, result.output
    ck = load(out)
    assert ck.provenance["n_val"] == 4 and ck.provenance["val_kind"] == "the manifest's split column"
    assert "4 validation clips" in result.output


def test_other_split_values_load_and_leave_the_split_to_train(tmp_path):
    """A `split` column with other values (test, dev) still loads, e.g. for evaluate; train then splits by source."""
    root = make_folder_dataset(tmp_path / "data", n=2)
    man = root / "manifest.csv"
    man.write_text("path,label,split\nreal/src0/r0.wav,bonafide,test\nfake/sys0/f0.wav,spoof,train\n")
    assert sorted(r.split for r in datasets.load_dataset(man)) == ["test", "train"]
