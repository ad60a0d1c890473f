"""Self-describing checkpoints, loaded as data only, and the bundled default model.

A checkpoint is one torch.save'd dict of plain values and tensors:
    format, format_version, model_config, feature_config, label_convention,
    calibration {a, b}, token_calibration {a, b} (for the per-token head; absent in old files),
    threshold (on p_fake), provenance {...}, metrics {...}, state_dict,
    content_sha256 (absent in files written before issue 21)
Loading uses torch.load(weights_only=True): a file carrying a pickled object
(code) is refused before anything in it runs.  Writes are atomic (temp file + rename).

Tamper evidence: `content_sha256` is the SHA-256 of every tensor (name, dtype, shape, bytes) and of
every other field (canonical JSON), computed at save and checked at load, so a flipped byte in the
weights or in the calibration is refused.  Non-finite weights are refused too.  A file without the
field still loads, with `Checkpoint.unverified` set, for the caller to say so (the library never prints).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from fakecheck.model.calibration import Calibration
from fakecheck.model.features import FeatureConfig
from fakecheck.model.files import bundled_file
from fakecheck.model.transformer import LABEL_CONVENTION, ModelConfig, SpoofTransformer
from fakecheck.model.whisper import N_LAYERS as N_ENCODER_BLOCKS

FORMAT = "fakecheck-checkpoint"
FORMAT_VERSION = 1
BUNDLED_MODEL_NAME = "fakecheck-default.pt"
# SHA-256 of models/fakecheck-default.pt; a mismatch means a damaged or swapped file.
BUNDLED_MODEL_SHA256 = "b56eae759a7a6f80b3bcf97d67514f4b93e2049620c425646484edd20c4df9f6"
DEFAULT_THRESHOLD = 0.5  # on calibrated p_fake: the Bayes decision for equal priors and costs


class ModelLoadError(Exception):
    """A model file could not be used; the message is one line meant for users."""


@dataclass
class Checkpoint:
    model: SpoofTransformer
    features: FeatureConfig
    calibration: Calibration = field(default_factory=Calibration)
    threshold: float = DEFAULT_THRESHOLD
    token_calibration: Calibration | None = None  # None: token scores use the clip calibration
    provenance: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None
    sha256: str = ""  # of the file
    content_sha256: str = ""  # of the contents, verified at load ("" for a file written before issue 21)
    bundled: bool = False  # the bundled model, verified by its whole-file SHA-256 instead

    @property
    def content_status(self) -> str:
        """One line for `info`: the verified content hash, or why there is none."""
        if self.content_sha256:
            return f"sha256 {self.content_sha256} (verified)"
        if self.bundled:
            return "no content hash (the bundled file is verified by its whole-file sha256)"
        return "no content hash (saved by an older fakecheck: not verified)"

    @property
    def unverified(self) -> bool:
        """A file that predates content hashes: its contents could not be checked (the caller says so)."""
        return self.path is not None and not self.content_sha256 and not self.bundled

    @property
    def name(self) -> str:
        return self.path.name if self.path else "in-memory"

    def token_p_fake(self, scores: Any) -> Any:
        """Calibrated P(fake) of per-token logits (the token head's own calibration when fitted)."""
        return (self.token_calibration or self.calibration).p_fake(scores)

    def to_dict(self) -> dict[str, Any]:
        data = self._fields()
        data["content_sha256"] = content_digest(data)
        return data

    def _fields(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "model_config": self.model.cfg.to_dict(),
            "feature_config": self.features.to_dict(),
            "label_convention": LABEL_CONVENTION,
            "calibration": {"a": float(self.calibration.a), "b": float(self.calibration.b)},
            "threshold": float(self.threshold),
            **({"token_calibration": {"a": float(self.token_calibration.a), "b": float(self.token_calibration.b)}}
               if self.token_calibration is not None else {}),
            "provenance": self.provenance,
            "metrics": self.metrics,
            "state_dict": {k: v.detach().cpu().contiguous() for k, v in self.model.state_dict().items()},
        }


CONTENT_HASH_KEY = "content_sha256"


def content_digest(data: dict[str, Any]) -> str:
    """SHA-256 of a checkpoint dict's contents, the hash field itself left out.

    Tensors count by name, dtype, shape and bytes (in name order); every other field as canonical
    JSON, so the digest does not depend on how torch laid out the zip archive.
    """
    h = hashlib.sha256()
    rest = {k: v for k, v in data.items() if k not in ("state_dict", CONTENT_HASH_KEY)}
    h.update(json.dumps(rest, sort_keys=True, default=repr, allow_nan=True).encode())
    for name, t in sorted(dict(data.get("state_dict") or {}).items()):
        if not isinstance(t, torch.Tensor):
            h.update(f"\0{name}:{t!r}".encode())
            continue
        t = t.detach().cpu().contiguous()
        h.update(f"\0{name}:{t.dtype}:{tuple(t.shape)}\0".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def _check_contents(data: dict[str, Any], where: object) -> str:
    """Verify the content hash (when present) and refuse non-finite weights; returns the hash or ""."""
    stored = data.get(CONTENT_HASH_KEY)
    if stored is not None:
        got = content_digest(data)
        if not isinstance(stored, str) or got != stored:
            raise ModelLoadError(f"model {where} fails its content check (SHA-256 {got[:16]}..., recorded "
                                 f"{str(stored)[:16]}...): the file was damaged or altered after it was saved")
    for name, t in dict(data.get("state_dict") or {}).items():
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise ModelLoadError(f"model {where} has non-finite weights (NaN or Inf in {name}): "
                                 "the file is damaged or the training diverged")
    return stored or ""


def _create_temp(path: Path) -> tuple[int, str]:
    """A new temp file beside `path`, created with mode 0666 so the umask applies (mkstemp's 0600
    would make every checkpoint owner-only).  O_EXCL and a random name make it as safe as mkstemp."""
    for _ in range(100):
        tmp = str(path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name beside {path}")


def atomic_save(obj: Any, path: str | os.PathLike[str]) -> None:
    """torch.save to a temp file beside `path`, fsync, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path: str | os.PathLike[str]) -> int:
    """Delete temp files that a killed atomic_save (SIGKILL mid-write) left beside `path`."""
    path = Path(path)
    stale = list(path.parent.glob(f".{path.name}.*.tmp"))
    for f in stale:
        f.unlink(missing_ok=True)
    return len(stale)


def save(ckpt: Checkpoint, path: str | os.PathLike[str]) -> None:
    atomic_save(ckpt.to_dict(), path)


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def held_out_generators(provenance: dict[str, Any]) -> bool | None:
    """Whether the checkpoint's validation held out every generator it trained on, so that its EER speaks of
    unseen generators (issue 26).  Recorded by training since issue 26; read from the older checkpoints' account
    of their split (the committed split holds out families; a random split says it shares them); else None."""
    if isinstance(provenance.get("held_out_generators"), bool):
        return bool(provenance["held_out_generators"])
    kind = str(provenance.get("val_kind", ""))
    if "shares sources and generators" in kind:
        return False
    if kind.startswith("the committed validation split"):
        return True
    return None


def bundled_model_path() -> Path:
    """The default model: inside the installed wheel, or models/ of a source checkout."""
    return bundled_file(BUNDLED_MODEL_NAME)


def _looks_like_text(head: bytes) -> bool:
    if not head.strip() or b"\x00" in head:
        return False
    for cut in range(4):  # the sample may end inside a multi-byte character
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def _check_container(path: Path) -> None:
    """Refuse what is not torch's zip format before torch.load sees it.

    fakecheck writes zip checkpoints only.  Anything else would reach torch's legacy pickle reader,
    which reads a text file as pickle opcodes and calls it an unsupported global: a "code payload".
    """
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as exc:
        raise ModelLoadError(f"model file {path}: {exc.strerror}") from None
    if zipfile.is_zipfile(path):
        return
    if head.startswith(b"PK\x03\x04"):
        raise ModelLoadError(f"{path} is not a readable checkpoint (a truncated or damaged zip archive)")
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelLoadError(
            f"refused {path}: it is a bare pickle, not a fakecheck checkpoint "
            "(pickles can carry code; nothing was loaded)"
        )
    kind = "it is a text file" if _looks_like_text(head) else "not a torch zip archive"
    raise ModelLoadError(f"{path} is not a fakecheck checkpoint ({kind})")


def read_data(path: str | os.PathLike[str]) -> dict[str, Any]:
    """torch.load a file as data only, with one-line errors for every way it can be wrong."""
    path = Path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ModelLoadError(f"model file {path}: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ModelLoadError(f"model path {path} is a directory; pass the .pt file inside it")
    if not stat.S_ISREG(st.st_mode):
        raise ModelLoadError(f"model path {path} is not a regular file")
    _check_container(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc)
        if "weights_only" in text or "Unsupported global" in text or "Unpickl" in type(exc).__name__:
            raise ModelLoadError(
                f"refused {path}: it contains pickled Python objects, not plain weights (possible code payload)"
            ) from None
        raise ModelLoadError(f"{path} is not a readable checkpoint (truncated or not a torch file)") from None
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path} is not a fakecheck checkpoint")
    return data


def from_dict(data: dict[str, Any], path: Path | None = None, sha256: str = "") -> Checkpoint:
    where = path or "checkpoint"
    if data.get("format") != FORMAT:
        raise ModelLoadError(f"{where} is not a fakecheck checkpoint (no '{FORMAT}' marker)")
    if data.get("format_version") != FORMAT_VERSION:
        version = data.get("format_version")
        raise ModelLoadError(f"{where} has format version {version}; this fakecheck reads {FORMAT_VERSION}")
    content = _check_contents(data, where)  # before the fields are trusted
    try:
        mcfg = ModelConfig.from_dict(dict(data["model_config"]))
        fcfg = FeatureConfig.from_dict(dict(data["feature_config"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"{where} has an invalid configuration ({exc})") from None
    if mcfg.n_features != fcfg.n_features or mcfg.input_stages != fcfg.n_stages:
        raise ModelLoadError(
            f"{where}: model expects {mcfg.n_features} features in {mcfg.input_stages} stages but its feature config "
            f"gives {fcfg.n_features} in {fcfg.n_stages}"
        )
    if mcfg.encoder_blocks and fcfg.frozen_blocks + mcfg.encoder_blocks != N_ENCODER_BLOCKS:
        raise ModelLoadError(f"{where}: {fcfg.frozen_blocks} frozen and {mcfg.encoder_blocks} fine-tuned encoder "
                             f"blocks do not make Whisper's {N_ENCODER_BLOCKS}")
    try:
        fcfg.check_encoder()  # the front end's weights are present and are the ones this model was trained on
    except (ValueError, OSError) as exc:
        raise ModelLoadError(f"{where}: {exc}") from None
    try:
        model = SpoofTransformer(mcfg)
    except AssertionError as exc:
        raise ModelLoadError(f"{where} has an invalid configuration ({exc})") from None
    try:
        model.load_state_dict(data["state_dict"], strict=True)
    except (KeyError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else "missing state_dict"
        raise ModelLoadError(f"{where}: weights do not match the architecture ({first})") from None
    model.eval()
    cal = data.get("calibration") or {}
    calibration = Calibration(float(cal.get("a", 1.0)), float(cal.get("b", 0.0)))
    tcal = data.get("token_calibration")
    token_calibration = Calibration(float(tcal.get("a", 1.0)), float(tcal.get("b", 0.0))) if tcal else None
    threshold = float(data.get("threshold", DEFAULT_THRESHOLD))
    finite = [calibration.a, calibration.b, *((token_calibration.a, token_calibration.b) if token_calibration else ())]
    if not (all(math.isfinite(v) for v in finite) and 0.0 < threshold < 1.0):
        raise ModelLoadError(f"{where}: calibration or threshold is not a finite, valid number")
    return Checkpoint(model, fcfg, calibration, threshold, token_calibration, dict(data.get("provenance") or {}),
                      dict(data.get("metrics") or {}), path, sha256, content)


def load(path: str | os.PathLike[str] | None = None) -> Checkpoint:
    """Load a checkpoint; None means the bundled model, whose SHA-256 is verified first."""
    bundled = path is None
    p = bundled_model_path() if bundled else Path(path)  # type: ignore[arg-type]
    if bundled and not p.is_file():
        raise ModelLoadError(f"the bundled model is missing ({p}); reinstall fakecheck or pass --model")
    digest = sha256_file(p) if p.is_file() else ""
    if bundled and digest != BUNDLED_MODEL_SHA256:
        raise ModelLoadError(
            f"the bundled model {p} fails its SHA-256 check (got {digest[:16]}..., expected "
            f"{BUNDLED_MODEL_SHA256[:16]}...): the file is damaged or was replaced"
        )
    ckpt = from_dict(read_data(p), p, digest)
    ckpt.bundled = bundled
    return ckpt


def unverified_notice(ckpt: Checkpoint) -> str:
    """The one line a caller shows for a checkpoint whose contents could not be verified ("" if they were)."""
    if not ckpt.unverified:
        return ""
    return (f"notice: {ckpt.path} has no content hash (saved by an older fakecheck), so damage to its weights "
            "cannot be detected; re-save it with this version to add one")
