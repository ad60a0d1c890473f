"""fakecheck on Ray Data: many files through an actor pool, one Detector per actor.

    pip install "fakecheck[ray]"

    import ray
    from fakecheck import scale
    ray.init("ray://head-node:10001")                                  # or ray.init() for this machine
    for row in scale.scan(["s3://bucket/voice/2026-12-04/"], actors=32):
        ...                                                            # the rows of `scan --jsonl`, in order

Inputs are local paths (files or folders, expanded as `scan` expands them; on a cluster they must
be visible to every node, e.g. on shared storage) or URIs that pyarrow's file systems open
(s3://, gs://, abfs://, hdfs://...): folders are listed on the driver, and each actor reads its
files' bytes itself.  A file that cannot be read or decoded costs its own ERROR row, never the job.

`map_verdicts` is the building block for pipelines that already hold a Ray Dataset: a dataset
with a `path` column (and optionally the file's `bytes`) maps to one with `path` and `jsonl`, the
JSON text of the row `scan --jsonl` writes for that input.

Ray is imported here only: the plain install and `--help` never load it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import ray.data

ROW_COLUMN = "jsonl"  # the output column: the JSON text of one scan --jsonl row
DEFAULT_FILES_PER_BATCH = 4  # inputs handed to an actor per call; windows are batched within each file
_URI = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):/+")  # s3://..., also as pathlib shortens it: s3:/...


class ScaleError(Exception):
    """Ray is missing, the cluster cannot be reached, or an input URI cannot be listed."""


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ScaleError('Ray is not installed: pip install "fakecheck[ray]"') from None
    return ray


def as_uri(p: str | os.PathLike[str]) -> str | None:
    """'s3://b/k' (also 's3:/b/k', which pathlib makes of it) -> 's3://b/k'; None for a local path."""
    text = os.fspath(p)
    m = _URI.match(text)
    if not m or m.group(1).lower() == "file" or len(m.group(1)) == 1:  # C:/ is a Windows drive, not a scheme
        return None
    return f"{m.group(1)}://{text[m.end():]}"


def expand(inputs: Iterable[str | os.PathLike[str]]) -> tuple[list[str], int]:
    """Inputs as `scan` takes them -> (files, skipped non-audio files); URI folders listed, sorted."""
    from fakecheck.analysis.inputs import iter_inputs
    from fakecheck.audio.decode import AUDIO_EXTENSIONS

    files: list[str] = []
    skipped = 0
    for p in inputs:
        uri = as_uri(p)
        if uri is None:
            found, n = iter_inputs([p])
            files += [str(f) for f in found]
            skipped += n
            continue
        import pyarrow.fs as pafs

        try:
            fs, root = pafs.FileSystem.from_uri(uri)
            info = fs.get_file_info(root)
            if info.type == pafs.FileType.Directory:
                listed = sorted(i.path for i in fs.get_file_info(pafs.FileSelector(root, recursive=True))
                                if i.type == pafs.FileType.File)
                scheme = uri.split("://", 1)[0]
                audio = [f for f in listed if Path(f).suffix.lower() in AUDIO_EXTENSIONS]
                files += [f"{scheme}://{f}" for f in audio]
                skipped += len(listed) - len(audio)
            else:
                files.append(uri)  # a file, or a missing one: its row will say so
        except (OSError, ValueError) as exc:
            raise ScaleError(f"cannot list {uri}: {exc}") from None
    return files, skipped


class VerdictActor:
    """One Detector, loaded once per actor; called with batches of inputs, returns their rows."""

    def __init__(self, model: bytes | None = None, model_name: str | None = None, precision: str | None = None,
                 threshold: float | None = None, threads: int = 1, batch_size: int | None = None):
        from fakecheck.analysis.detector import DEFAULT_BATCH_SIZE, Detector

        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self._tmp = tempfile.TemporaryDirectory(prefix="fakecheck-actor-")
        path = None
        if model is not None:  # the driver's checkpoint, shipped as bytes: nodes need no copy of the file
            path = Path(self._tmp.name) / (model_name or "model.pt")
            path.write_bytes(model)
        self.det = Detector.load(path, device="cpu", threads=threads, threshold=threshold, precision=precision)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import numpy as np

        names = [str(p) for p in batch["path"]]
        data = batch.get("bytes")
        rows = [self._row(name, None if data is None else data[i]) for i, name in enumerate(names)]
        return {"path": np.array(names, dtype=object), ROW_COLUMN: np.array(rows, dtype=object)}

    def _row(self, name: str, data: bytes | None) -> str:
        try:
            if data is None and as_uri(name) is None:
                v = next(self.det.analyse_files([name], batch_size=self.batch_size))
            else:
                v = self._from_bytes(name, data)
        except Exception as exc:  # one input's failure is its own ERROR row, never the job's
            from fakecheck.audio.info import _short

            v = self.det._error(name, "unexpected error: " + _short(exc))
        return json.dumps(v.to_dict(), ensure_ascii=False)

    def _from_bytes(self, name: str, data: bytes | None) -> Any:
        """Score a file given as bytes, or as a URI read here; the row keeps the name it was given."""
        from dataclasses import replace

        if data is None:
            import pyarrow.fs as pafs

            try:
                fs, path = pafs.FileSystem.from_uri(name)
                with fs.open_input_stream(path) as f:
                    data = f.read()
            except (OSError, ValueError) as exc:
                return self.det._error(name, f"cannot read {name}: {exc}")
        local = Path(self._tmp.name) / ("input" + Path(name).suffix[:16])
        local.write_bytes(bytes(data))
        try:
            v = next(self.det.analyse_files([local], batch_size=self.batch_size))
        finally:
            local.unlink(missing_ok=True)
        return replace(v, path=name, error=v.error.replace(str(local), name))


def map_verdicts(ds: ray.data.Dataset, *, model: str | os.PathLike[str] | None = None, precision: str | None = None,
                 threshold: float | None = None, actors: int | None = None, cpus_per_actor: int = 1,
                 files_per_batch: int = DEFAULT_FILES_PER_BATCH, batch_size: int | None = None) -> ray.data.Dataset:
    """A dataset with a `path` column (local paths or URIs; optionally `bytes`, e.g. from
    ray.data.read_binary_files(..., include_paths=True)) -> one with `path` and ROW_COLUMN.

    actors: Detector actors (default: (the cluster's CPUs - 1) // cpus_per_actor, at least 1: a pool
    holding every CPU starves the tasks that read `ds` upstream, and the job waits forever); cpus_per_actor: CPUs
    each reserves, also its torch threads; model: a checkpoint file on the driver (shipped to
    the actors as bytes), None for the bundled model."""
    ray = _ray()
    blob = Path(model).read_bytes() if model is not None else None
    if actors is None:
        actors = max(1, (int(ray.cluster_resources().get("CPU", 1)) - 1) // cpus_per_actor)
    return ds.map_batches(
        VerdictActor, batch_size=files_per_batch, batch_format="numpy", num_cpus=cpus_per_actor,
        compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={"model": blob, "model_name": Path(model).name if model is not None else None,
                               "precision": precision, "threshold": threshold, "threads": cpus_per_actor,
                               "batch_size": batch_size},
    )


def connect(address: str | None = None, num_cpus: int | None = None) -> None:
    """ray.init once: the cluster at `address` ('auto' finds a running one); when address is None,
    the one in RAY_ADDRESS, else a new local cluster of `num_cpus` CPUs (default: all).  Ray Data's
    progress bars and its INFO log lines stay off: library code does not talk."""
    ray = _ray()
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {"address": address, "include_dashboard": False, "log_to_driver": False,
                                  "logging_level": "ERROR", "configure_logging": False}
        if address is None and not os.environ.get("RAY_ADDRESS"):
            kwargs["num_cpus"] = num_cpus
        try:
            ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ScaleError(f"cannot start or reach the Ray cluster {address or '(local)'}: {exc}") from None
    import logging

    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.execution_options.preserve_order = True  # rows come back in input order, as from plain scan
    ctx.execution_options.verbose_progress = False


def scan(inputs: Sequence[str | os.PathLike[str]], *, address: str | None = None, num_cpus: int | None = None,
         **kwargs: Any) -> Iterator[dict[str, Any]]:
    """The rows `scan --jsonl` writes for `inputs` (files, folders, URIs), in input order, computed
    on a Ray cluster (see connect); kwargs go to map_verdicts."""
    files, _ = expand(inputs)
    yield from scan_files(files, address=address, num_cpus=num_cpus, **kwargs)


def scan_files(files: Sequence[str | os.PathLike[str]], *, address: str | None = None, num_cpus: int | None = None,
               **kwargs: Any) -> Iterator[dict[str, Any]]:
    """As scan, for inputs already expanded to files (the CLI expands, shards and counts them first)."""
    if not files:
        return
    connect(address, num_cpus)
    ray = _ray()
    ds = ray.data.from_items([{"path": str(f)} for f in files], override_num_blocks=min(len(files), 200))
    if kwargs.get("actors") is None:  # from_items has no read tasks: the actors may take every CPU
        kwargs["actors"] = max(1, int(ray.cluster_resources().get("CPU", 1)) // kwargs.get("cpus_per_actor", 1))
    for r in map_verdicts(ds, **kwargs).iter_rows():
        yield json.loads(r[ROW_COLUMN])
