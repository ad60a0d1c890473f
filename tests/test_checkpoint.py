from __future__ import annotations

import pickle
import zipfile

import pytest
import torch

from fakecheck.model import checkpoint
from fakecheck.model.checkpoint import ModelLoadError


def test_round_trip_keeps_everything(tmp_path, tiny_checkpoint):
    tiny_checkpoint.provenance = {"data": ["x"], "epoch": 3}
    tiny_checkpoint.metrics = {"eer": 0.05}
    path = tmp_path / "m.pt"
    checkpoint.save(tiny_checkpoint, path)
    loaded = checkpoint.load(path)
    assert loaded.model.cfg == tiny_checkpoint.model.cfg
    assert loaded.features == tiny_checkpoint.features
    assert loaded.provenance["epoch"] == 3 and loaded.metrics["eer"] == 0.05
    x = torch.randn(1, 100, 1920)
    with torch.no_grad():
        assert torch.equal(loaded.model.eval()(x).score, tiny_checkpoint.model.eval()(x).score)
    assert loaded.sha256 == checkpoint.sha256_file(path)


class Payload:
    def __reduce__(self):
        return (exec, ("open(__import__('os').environ['FAKECHECK_PWNED'], 'w').write('ran')",))


def test_pickle_payload_is_refused_without_running(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    monkeypatch.setenv("FAKECHECK_PWNED", str(marker))
    path = tmp_path / "evil.pt"
    torch.save({"format": "fakecheck-checkpoint", "x": Payload()}, path)
    with pytest.raises(ModelLoadError, match="pickled Python objects"):
        checkpoint.load(path)
    assert not marker.exists(), "the payload must never execute"
    # The same payload in a raw pickle file is refused too.
    raw = tmp_path / "evil.pkl"
    raw.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelLoadError):
        checkpoint.load(raw)
    assert not marker.exists()


def test_bad_model_files_give_clear_errors(tmp_path, tiny_model_file):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ModelLoadError, match="not a fakecheck checkpoint"):
        checkpoint.load(text)
    with pytest.raises(ModelLoadError, match="directory"):
        checkpoint.load(tmp_path)
    truncated = tmp_path / "trunc.pt"
    truncated.write_bytes(tiny_model_file.read_bytes()[:3000])
    with pytest.raises(ModelLoadError):
        checkpoint.load(truncated)
    data = torch.load(tiny_model_file, weights_only=True)
    data["model_config"]["d_model"] = 48  # another architecture than the weights
    data["content_sha256"] = checkpoint.content_digest(data)  # a consistent file: the config check must refuse it
    other = tmp_path / "other.pt"
    torch.save(data, other)
    with pytest.raises(ModelLoadError, match="do not match"):
        checkpoint.load(other)
    data = torch.load(tiny_model_file, weights_only=True)
    data["feature_config"]["n_stages"] = 4
    data["content_sha256"] = checkpoint.content_digest(data)
    mismatch = tmp_path / "mismatch.pt"
    torch.save(data, mismatch)
    with pytest.raises(ModelLoadError, match="features"):
        checkpoint.load(mismatch)
    assert zipfile.is_zipfile(tiny_model_file)


def test_bundled_model_is_verified(tmp_path, monkeypatch, tiny_model_file):
    ckpt = checkpoint.load()  # the real bundled model passes its checksum
    assert ckpt.sha256 == checkpoint.BUNDLED_MODEL_SHA256
    monkeypatch.setattr(checkpoint, "bundled_model_path", lambda: tiny_model_file)
    with pytest.raises(ModelLoadError, match="SHA-256"):
        checkpoint.load()


def test_calibration_score_at_inverts_p_fake():
    from fakecheck.model.calibration import Calibration

    cal = Calibration(0.49, 0.03)
    for p in (0.05, 0.5, 0.9):
        assert float(cal.p_fake(cal.score_at(p))) == pytest.approx(p, abs=1e-12)
    with pytest.raises(ValueError):
        Calibration(0.0, 0.0).score_at(0.5)


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_checkpoints_respect_the_umask(tmp_path, tiny_checkpoint, umask, mode):
    """A checkpoint is a file to share: normal permissions, not mkstemp's owner-only 0600."""
    import os
    import stat

    old = os.umask(umask)
    try:
        checkpoint.save(tiny_checkpoint, tmp_path / "m.pt")
        checkpoint.atomic_save({"x": 1}, tmp_path / "m.pt.state")
    finally:
        os.umask(old)
    for name in ("m.pt", "m.pt.state"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == mode, name
    assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("text", ['{"model": "x"}\n', "# my model\nweights: none\n", "cat > x\n", "hello"])
def test_a_text_file_is_not_a_checkpoint_not_a_payload(tmp_path, text):
    path = tmp_path / "model.pt"
    path.write_text(text)
    with pytest.raises(ModelLoadError) as info:
        checkpoint.load(path)
    msg = str(info.value)
    assert "not a fakecheck checkpoint" in msg and "text file" in msg and "payload" not in msg, msg


def _flip_tensor_bytes(path, out, n=2):
    """Flip `n` bytes inside the stored tensor data of a torch zip checkpoint, leaving the archive readable."""
    with zipfile.ZipFile(path) as z:
        names = [i for i in z.infolist() if "/data/" in i.filename and i.file_size >= 64]
        info = max(names, key=lambda i: i.file_size)
    raw = bytearray(path.read_bytes())
    # torch writes stored (uncompressed) entries: the data sits after the local header.
    local_extra = int.from_bytes(raw[info.header_offset + 28: info.header_offset + 30], "little")
    start = info.header_offset + 30 + int.from_bytes(raw[info.header_offset + 26: info.header_offset + 28], "little") \
        + local_extra
    for k in range(n):
        raw[start + 17 + 13 * k] ^= 0xFF
    out.write_bytes(bytes(raw))


def test_flipped_bytes_in_the_weights_are_refused(tmp_path, tiny_model_file):
    assert checkpoint.load(tiny_model_file).content_sha256  # save wrote the hash and load verified it
    bad = tmp_path / "flipped.pt"
    _flip_tensor_bytes(tiny_model_file, bad)
    assert bad.read_bytes() != tiny_model_file.read_bytes()
    with pytest.raises(ModelLoadError, match=r"flipped\.pt fails its content check"):
        checkpoint.load(bad)


def test_altered_calibration_is_refused(tmp_path, tiny_model_file):
    data = torch.load(tiny_model_file, weights_only=True)
    data["calibration"]["b"] += 1.0  # a plausible edit that only the hash can catch
    edited = tmp_path / "edited.pt"
    torch.save(data, edited)
    with pytest.raises(ModelLoadError, match="edited.pt fails its content check"):
        checkpoint.load(edited)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_a_model_error(tmp_path, tiny_model_file, value):
    data = torch.load(tiny_model_file, weights_only=True)
    name = next(k for k, v in data["state_dict"].items() if v.is_floating_point())
    data["state_dict"][name].view(-1)[0] = value
    data["content_sha256"] = checkpoint.content_digest(data)  # hash consistent: only the finiteness check can refuse
    nan = tmp_path / "nan.pt"
    torch.save(data, nan)
    with pytest.raises(ModelLoadError, match=rf"nan\.pt has non-finite weights \(NaN or Inf in {name}\)"):
        checkpoint.load(nan)


def test_old_checkpoint_without_hash_loads_flagged(tmp_path, tiny_model_file):
    data = torch.load(tiny_model_file, weights_only=True)
    del data["content_sha256"]
    old = tmp_path / "old.pt"
    torch.save(data, old)
    ckpt = checkpoint.load(old)
    assert ckpt.unverified and ckpt.content_sha256 == ""
    assert not checkpoint.load(tiny_model_file).unverified


def test_content_hash_ignores_the_archive_layout(tmp_path, tiny_model_file):
    """Re-saving the same contents (another zip layout, another file hash) keeps the content hash."""
    data = torch.load(tiny_model_file, weights_only=True)
    again = tmp_path / "again.pt"
    torch.save(dict(reversed(list(data.items()))), again)
    assert checkpoint.sha256_file(again) != checkpoint.sha256_file(tiny_model_file)
    assert checkpoint.load(again).content_sha256 == data["content_sha256"]


def test_cli_refuses_a_damaged_model_with_exit_2_and_names_it(tmp_path, tiny_model_file):
    from typer.testing import CliRunner

    from fakecheck.cli.app import app
    from tests.conftest import EXAMPLES

    flipped = tmp_path / "flipped.pt"
    _flip_tensor_bytes(tiny_model_file, flipped)
    data = torch.load(tiny_model_file, weights_only=True)
    data["state_dict"][next(iter(data["state_dict"]))].view(-1)[0] = float("nan")
    data["content_sha256"] = checkpoint.content_digest(data)
    nan = tmp_path / "nan.pt"
    torch.save(data, nan)
    clip = str(EXAMPLES / "fake_piper_joe.wav")
    for bad, reason in ((flipped, "fails its content check"), (nan, "non-finite weights")):
        for args in (["scan", clip], ["info"]):
            result = CliRunner().invoke(app, [*args, "--model", str(bad)])
            assert result.exit_code == 2, result.output
            assert str(bad) in result.stderr and reason in result.stderr, result.stderr
            assert "ERROR" not in result.stdout  # refused before any audio: never blamed on the file


def test_cli_prints_one_notice_for_an_old_checkpoint_and_info_shows_the_hash(tmp_path, tiny_model_file):
    from typer.testing import CliRunner

    from fakecheck.cli.app import app

    result = CliRunner().invoke(app, ["info", "--model", str(tiny_model_file)])
    assert result.exit_code == 0, result.output
    digest = checkpoint.load(tiny_model_file).content_sha256
    assert f"contents     sha256 {digest} (verified)" in result.stdout
    assert "notice" not in result.stderr
    data = torch.load(tiny_model_file, weights_only=True)
    del data["content_sha256"]
    old = tmp_path / "old.pt"
    torch.save(data, old)
    result = CliRunner().invoke(app, ["info", "--model", str(old)])
    assert result.exit_code == 0, result.output
    notices = [line for line in result.stderr.splitlines() if line.startswith("notice:")]
    assert len(notices) == 1 and str(old) in notices[0], result.stderr
    assert "not verified" in result.stdout
