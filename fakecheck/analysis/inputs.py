"""The inputs of a scan: paths and folders expanded into the files to analyse, and the shard each belongs to."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from fakecheck import audio


def iter_inputs(paths: Iterable[str | os.PathLike[str]],
                skipped_paths: list[Path] | None = None) -> tuple[list[Path], int]:
    """Expand files and folders (recursively, sorted) into inputs; returns (inputs, skipped non-audio).

    A path named explicitly is always an input, whatever its extension, so that it
    gets a row (and an error if it is not audio).  Inside folders only files with
    an audio extension are taken; the rest are counted as skipped, and appended to
    `skipped_paths` when it is given.
    """
    out: list[Path] = []
    skipped = 0
    for p in map(Path, paths):
        if p.is_dir() and p.suffix.lower() not in audio.AUDIO_EXTENSIONS:
            for root, dirs, files in os.walk(p, followlinks=False):
                dirs.sort()
                for name in sorted(files + [d for d in dirs if Path(d).suffix.lower() in audio.AUDIO_EXTENSIONS]):
                    f = Path(root) / name
                    if f.suffix.lower() in audio.AUDIO_EXTENSIONS:
                        out.append(f)
                    else:
                        skipped += 1
                        if skipped_paths is not None:
                            skipped_paths.append(f)
        else:
            out.append(p)
    return out, skipped


def in_shard(path: str | os.PathLike[str], shard: tuple[int, int]) -> bool:
    """True when `path` falls in part K of N (`shard` = (K, N), K from 1): a hash of the path as given, so the
    split is deterministic and independent of listing order, and N machines given the same list share no file."""
    k, n = shard
    return int.from_bytes(hashlib.sha1(os.fsencode(str(path))).digest()[:8], "big") % n == k - 1
