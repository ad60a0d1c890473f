from __future__ import annotations

import pickle
import zipfile

import pytest
import torch

from fakecheck import checkpoint
from fakecheck.checkpoint import ModelLoadError


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
    other = tmp_path / "other.pt"
    torch.save(data, other)
    with pytest.raises(ModelLoadError, match="do not match"):
        checkpoint.load(other)
    data = torch.load(tiny_model_file, weights_only=True)
    data["feature_config"]["n_stages"] = 4
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
    from fakecheck.calibration import Calibration

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
