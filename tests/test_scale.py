"""Ray Data scale-out (issue 19) on a local 2-CPU cluster: the same rows as a plain scan, ERROR rows
for inputs that cannot be read, and the job goes on."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck.analysis.scale import as_uri
from fakecheck.cli.app import app


def test_uris_survive_pathlib():
    assert as_uri("s3://bucket/a/b.wav") == "s3://bucket/a/b.wav"
    assert as_uri("s3:/bucket/a/b.wav") == "s3://bucket/a/b.wav"  # str(Path("s3://bucket/...")) drops a slash
    assert as_uri("gs://b/x") == "gs://b/x"
    for local in ("/tmp/a.wav", "a.wav", "C:/audio/a.wav", "file:///tmp/a.wav"):
        assert as_uri(local) is None


@pytest.fixture(scope="module")
def cluster():
    ray = pytest.importorskip("ray")
    from fakecheck.analysis import scale

    scale.connect(num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture
def folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    sf.write(d / "a_long.wav", speechlike(9.0, seed=1), 16_000)
    sf.write(d / "b_44k.flac", speechlike(4.0, 44_100, seed=2), 44_100)
    sf.write(d / "c_stereo.wav", np.stack([speechlike(3.0, seed=3)] * 2, axis=1), 16_000)
    (d / "d_broken.wav").write_bytes(b"RIFF\x00\x00 this is not audio")
    sf.write(d / "e_silent.wav", np.zeros(16_000, dtype=np.float32), 16_000)
    return d


def _jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.slow
def test_scan_ray_writes_the_rows_of_a_plain_scan(cluster, folder, tiny_model_file, tmp_path):
    plain, on_ray = tmp_path / "plain.jsonl", tmp_path / "ray.jsonl"
    base = ["--precision", "fp32", "scan", str(folder), "--model", str(tiny_model_file), "-q"]
    r1 = CliRunner().invoke(app, [*base, "--jsonl", str(plain)])
    r2 = CliRunner().invoke(app, [*base, "--jsonl", str(on_ray), "--ray"])
    assert r1.exit_code == r2.exit_code == 3, (r1.output, r2.output)  # the broken file: exit 3 both ways
    assert plain.read_bytes() == on_ray.read_bytes()  # same rows, same order, same floats
    rows = _jsonl(on_ray)
    assert [r["verdict"] for r in rows].count("ERROR") == 1
    assert rows[3]["path"].endswith("d_broken.wav") and rows[3]["verdict"] == "ERROR" and rows[3]["error"]
    assert rows[0]["p_fake"] is not None  # the job went on after the error
    # --resume on Ray (issue 25): two rows kept and half of a third, as a kill would leave them
    lines = plain.read_bytes().split(b"\n")
    resumed = tmp_path / "resumed.jsonl"
    resumed.write_bytes(b"\n".join(lines[:2]) + b"\n" + lines[2][:25])
    r3 = CliRunner().invoke(app, [*base, "--jsonl", str(resumed), "--ray", "--resume"])
    assert r3.exit_code == 3, r3.output  # the earlier rows count too: the broken file still gives 3
    assert resumed.read_bytes() == plain.read_bytes()


@pytest.mark.slow
def test_map_verdicts_scores_bytes_and_missing_files(cluster, folder, tiny_model_file, tiny_checkpoint):
    from fakecheck.analysis import scale
    from fakecheck.analysis.detector import Detector

    ds = cluster.data.read_binary_files(str(folder), include_paths=True)  # columns: bytes, path
    rows = {r["path"]: json.loads(r["jsonl"]) for r in
            scale.map_verdicts(ds, model=tiny_model_file, precision="fp32").iter_rows()}  # 1 actor, 1 CPU to read
    det = Detector(tiny_checkpoint, device="cpu", threads=1, precision="fp32")
    for path, row in rows.items():
        want = det.analyse_file(path if path.startswith("/") else "/" + path).to_dict()
        assert row["verdict"] == want["verdict"], path
        assert row["score"] == want["score"], path  # bytes or path: the same decoder, the same score
    missing = list(scale.scan_files([str(folder / "nope.wav"), str(folder / "a_long.wav")], model=tiny_model_file,
                                    precision="fp32"))
    assert [r["verdict"] for r in missing][0] == "ERROR" and missing[1]["verdict"] != "ERROR"
