"""Training end to end on a tiny generated dataset: folder layout, resume, determinism, DDP."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import crude_vocoder, speechlike

from fakecheck.model.checkpoint import load
from fakecheck.model.transformer import ModelConfig
from fakecheck.training import datasets, train

TINY = ModelConfig(d_model=32, n_heads=2, n_layers=1, d_ff=64)


def make_folder_dataset(root: Path, n: int = 6) -> Path:
    """real/: harmonic speech-like clips; fake/<sys>/: the same clips through a crude 'vocoder'."""
    rng = np.random.default_rng(0)
    for i in range(n):
        x = speechlike(2.0, seed=i)
        (root / "real" / f"src{i % 3}").mkdir(parents=True, exist_ok=True)
        sf.write(root / "real" / f"src{i % 3}" / f"r{i}.wav", x, 16_000)
        fake = crude_vocoder(x, seed=int(rng.integers(1 << 31)))
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
    assert [r["epoch"] for r in log] == [1, 2]  # counted from 1, as the console does
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
    assert log == [1, 2, 3]


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

    from fakecheck.cli.app import app

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

    from fakecheck.cli.app import app

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


# -- automatic validation split without source information -----------------------------------------
def quick_cli(*args: str | Path):
    from typer.testing import CliRunner

    from fakecheck.cli.app import app

    return CliRunner().invoke(app, ["train", *map(str, args), "--epochs", "1", "--clips-per-epoch", "4",
                                    "--batch-size", "4", "--workers", "0", "--no-augment"])


def make_flat_dataset(root: Path, real: str = "real", fake: str = "fake", n: int = 6) -> Path:
    """real/*.wav and fake/*.wav with no sub-folders: no source information at all."""
    for name, offset in ((real, 0), (fake, 100)):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(n):
            sf.write(root / name / f"{name}{i}.wav", speechlike(2.0, seed=offset + i), 16_000)
    return root


@pytest.mark.parametrize("real,fake", [("real", "fake"), ("bonafide", "spoof")])
def test_a_flat_folder_trains_with_a_stratified_split(tmp_path, real, fake):
    data = make_flat_dataset(tmp_path / "flat", real, fake)
    out = tmp_path / "m.pt"
    result = quick_cli(data, "--out", out)
    assert result.exit_code == 0, result.output
    ck = load(out)
    assert "stratified" in ck.provenance["val_kind"] and "by file" in ck.provenance["val_kind"]
    assert ck.provenance["n_val"] == 2 and ck.provenance["n_train"] == 10  # 20% of each class of 6
    assert ck.metrics["n_bonafide"] == 1 and ck.metrics["n_spoof"] == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("validation:")]
    assert len(lines) == 1 and "stratified" in lines[0], result.stderr


def test_a_path_label_csv_trains(tmp_path):
    data = make_flat_dataset(tmp_path / "flat")
    man = tmp_path / "flat" / "list.csv"
    man.write_text("path,label\n" + "".join(f"{f.relative_to(data)},{f.parent.name}\n"
                                            for f in sorted(data.rglob("*.wav"))))
    out = tmp_path / "m.pt"
    result = quick_cli(man, "--out", out)
    assert result.exit_code == 0, result.output
    assert "stratified" in load(out).provenance["val_kind"]
    assert not out.with_name("m.pt.state").exists()  # a finished run leaves no resumable state behind (issue 26)


def test_auto_split_groups_by_speaker_and_keeps_source_splits_when_usable():
    rows = [datasets.Row(Path(f"/x/{i}.wav"), i % 2, "s" if i % 2 else "bonafide", "one", speaker=f"spk{i % 10}")
            for i in range(200)]
    tr, va, kind = train.auto_split(rows, 0.2, seed=0)
    assert "stratified" in kind and "by speaker" in kind
    assert not {r.speaker for r in tr} & {r.speaker for r in va}  # no speaker on both sides
    for c in (0, 1):
        assert 0.1 <= sum(r.label == c for r in va) / sum(r.label == c for r in rows) <= 0.3
    assert sorted(map(str, (r.path for r in tr + va))) == sorted(map(str, (r.path for r in rows)))
    assert train.auto_split(rows, 0.2, seed=0) == (tr, va, kind)  # deterministic for a seed
    # usable sources: whole sources held out, as before
    sourced = [datasets.Row(Path(f"/x/{i}.wav"), i % 2, f"sys{i % 5}", f"repo{i % 5}") for i in range(200)]
    tr, va, kind = train.auto_split(sourced, 0.2, seed=0)
    assert kind == train.SPLIT_BY_SOURCE and (tr, va) == train.group_split(sourced, 0.2, seed=0)
    # a source split that would leave training without spoof (every system is in a held-out source) falls back
    shared = [datasets.Row(Path(f"/x/{i}.wav"), i % 2, f"sys{i % 6}", f"repo{i % 5}") for i in range(200)]
    assert not {r.label for r in train.group_split(shared, 0.2, seed=0)[0]} >= {0, 1}
    tr, va, kind = train.auto_split(shared, 0.2, seed=0)
    assert "stratified" in kind and "left a class out" in kind and {r.label for r in tr} == {0, 1}


def test_auto_split_needs_two_clips_of_each_class():
    rows = [datasets.Row(Path("/x/a.wav"), 0, "bonafide", "bonafide"),
            *(datasets.Row(Path(f"/x/f{i}.wav"), 1, "spoof", "spoof") for i in range(5))]
    with pytest.raises(train.TrainingError, match="--val"):
        train.auto_split(rows, 0.2, seed=0)


def test_speakers_are_read_from_manifests_and_asvspoof_protocols(tmp_path):
    man = tmp_path / "m.csv"
    man.write_text("path,label,speaker\na.wav,bonafide,p225\nb.wav,spoof,p226\n")
    assert [r.speaker for r in datasets.load_dataset(man)] == ["p225", "p226"]
    proto = tmp_path / "ASVspoof2019.LA.cm.train.trn.txt"
    proto.write_text("LA_0079 LA_T_1138215 - - bonafide\nLA_0080 LA_T_1271820 - A01 spoof\n")
    assert [r.speaker for r in datasets.load_dataset(proto)] == ["LA_0079", "LA_0080"]


# -- --out, --force, small validation sets, info --------------------------------------------------------
def test_out_is_checked_before_torch_loads(tmp_path):
    """A bad --out fails at once (exit 2, one line), before torch or the data are loaded."""
    data = make_flat_dataset(tmp_path / "flat", n=2)
    (tmp_path / "a-file").write_text("x")
    cases = [(tmp_path / "no" / "such" / "m.pt", "does not exist"), (tmp_path, "is a directory"),
             (tmp_path / "a-file" / "m.pt", "not a directory")]
    for out, reason in cases:
        code = ("import sys; from fakecheck.cli import main; sys.argv = ['fakecheck', 'train', sys.argv[1], "
                "'--out', sys.argv[2]]\ntry:\n    main()\nexcept SystemExit as e:\n"
                "    print('torch' in sys.modules, e.code)")
        proc = subprocess.run([sys.executable, "-c", code, str(data), str(out)], capture_output=True, text=True,
                              timeout=60, cwd=Path(__file__).resolve().parents[1])
        assert proc.stdout.split() == ["False", "2"], (out, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: --out") and reason in lines[0], (out, proc.stderr)


def test_an_existing_out_needs_force_or_resume(tmp_path):
    data = make_flat_dataset(tmp_path / "flat")
    out = tmp_path / "m.pt"
    assert quick_cli(data, "--out", out).exit_code == 0
    before = out.read_bytes()
    again = quick_cli(data, "--out", out)
    assert again.exit_code == 2 and "--force" in again.stderr and "--resume" in again.stderr, again.output
    assert out.read_bytes() == before
    finished = quick_cli(data, "--out", out, "--resume", "--epochs", "2")  # a finished run left no state
    assert finished.exit_code == 2 and "no training state" in finished.stderr, finished.output
    assert quick_cli(data, "--out", out, "--force").exit_code == 0
    (tmp_path / "m2.pt.state").write_bytes(b"left by an earlier run")
    stale = quick_cli(data, "--out", tmp_path / "m2.pt")
    assert stale.exit_code == 2 and "m2.pt.state" in stale.stderr


def test_a_small_validation_set_is_warned_about(tmp_path):
    data = make_flat_dataset(tmp_path / "flat")
    result = quick_cli(data, "--out", tmp_path / "m.pt")
    assert result.exit_code == 0
    warning = [line for line in result.stderr.splitlines() if "not meaningful" in line]
    assert len(warning) == 1 and "1 bona fide and 1 spoof" in warning[0], result.stderr


def test_info_follows_the_provenance_and_prints_no_absolute_paths(tmp_path):
    from typer.testing import CliRunner

    from fakecheck.cli.app import app

    data = make_flat_dataset(tmp_path / "flat")
    val = make_flat_dataset(tmp_path / "heldout", n=2)
    out = tmp_path / "m.pt"
    assert quick_cli(data, "--val", val, "--out", out).exit_code == 0
    info = CliRunner().invoke(app, ["info", "--model", str(out)])
    assert info.exit_code == 0, info.output
    assert "given with --val: heldout" in info.stdout and "held-out sources" not in info.stdout
    assert str(tmp_path) not in info.stdout, info.stdout
    assert "trained on   flat (12 clips)" in info.stdout
    for line in info.stdout.splitlines():
        assert re.match(r"^[a-z][a-z0-9 -]{11} \S", line), line  # one line per field, never wrapped
    stratified = tmp_path / "s.pt"
    assert quick_cli(data, "--out", stratified).exit_code == 0
    text = CliRunner().invoke(app, ["info", "--model", str(stratified)]).stdout
    assert "stratified" in text and str(tmp_path) not in text


def test_splice_windows_carry_token_labels_that_follow_the_piece():
    from fakecheck.training.train import CropDataset
    from tests.conftest import tone

    real, fake = tone(5.0, freq=200.0), tone(5.0, freq=900.0)
    ds = CropDataset([real, fake], np.array([0, 1]), None, splice_prob=1.0, token_samples=640)
    kinds = set()
    for seed in range(40):
        x, clip_label, tokens = ds[(seed % 2, seed)]
        assert x.shape == (64_000,) and tokens.shape == (100,)
        assert float(clip_label) == float(tokens.max() >= 0.5)
        kinds.add((float(tokens.min()), float(tokens.max())))
    # Mixed windows (some tokens real, some fake) and seam-only ones (all real or all fake) both occur.
    assert any(lo == 0.0 and hi == 1.0 for lo, hi in kinds)
    assert (0.0, 0.0) in kinds or (1.0, 1.0) in kinds


def test_without_splices_every_token_has_the_clip_label():
    from fakecheck.training.train import CropDataset
    from tests.conftest import tone

    ds = CropDataset([tone(5.0), tone(5.0)], np.array([0, 1]), None, splice_prob=0.0)
    assert float(ds[(1, 0)][2].min()) == 1.0 and float(ds[(0, 0)][2].max()) == 0.0


def test_rows_left_out_are_counted_by_reason_on_stderr_and_in_the_checkpoint(tmp_path):
    """Five sources, each with 2 bona fide clips, one clip of its own spoof system and one of a system
    shared by all: holding out one source (10%) sends "shared" to validation, so its 4 other clips leave training."""
    lines = ["path,label,system,source"]
    for k in range(5):
        for i, (label, system) in enumerate((("bonafide", ""), ("bonafide", ""), ("spoof", f"own{k}"),
                                             ("spoof", "shared"))):
            name = f"s{k}_{i}.wav"
            sf.write(tmp_path / name, speechlike(2.0, seed=10 * k + i), 16_000)
            lines.append(f"{name},{label},{system},repo{k}")
    (tmp_path / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 20)
    lines.append("broken.wav,bonafide,,repo0")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp_path / "m.pt"
    result = quick_cli(manifest, "--out", out, "--val-fraction", "0.1")  # one source held out
    assert result.exit_code == 0, result.output
    prov = load(out).provenance
    assert prov["val_kind"] == train.SPLIT_BY_SOURCE
    assert prov["dropped"] == {train.DROP_SYSTEM_IN_VAL: 4, train.DROP_UNDECODABLE: 1}
    # every row is accounted for: trained on, validated on, or dropped for a stated reason
    assert prov["n_train"] + prov["n_val"] + 5 == 21, prov
    assert f"left out 4 of 21 rows before training: 4 {train.DROP_SYSTEM_IN_VAL}" in result.stderr
    # the user is told which source and which generators the validation figure comes from
    (held,) = prov["val_sources"]
    assert f"validation: {train.SPLIT_BY_SOURCE}: 1 source ({held} " in result.stderr
    assert "2 generators (" in result.stderr and "shared 1" in result.stderr
    assert f"1 clip skipped: 1 {train.DROP_UNDECODABLE}" in result.stderr


def test_the_held_out_summary_names_sources_and_generators_most_clips_first():
    from fakecheck.training.datasets.rows import Row
    from fakecheck.training.splits import held_out_summary

    rows = [Row(Path(f"{i}.wav"), 0, "vctk", "vctk") for i in range(3)] + [Row(Path("m.wav"), 0, "mls", "mls")]
    rows += [Row(Path(f"s{i}.wav"), 1, f"gen{i % 8}", "demo") for i in range(9)]
    line = held_out_summary(rows, shown=6)
    assert line.startswith("3 sources (demo 9, vctk 3, mls 1; 13 clips), 8 generators (gen0 2, gen1 1, gen2 1,")
    assert line.endswith(", +2 more)")
    assert held_out_summary(rows[:1]) == "1 source (vctk 1; 1 clip), no generator"
