"""The `for` layout: Fake-or-Real `training|validation|testing/{fake,real}/`."""

from __future__ import annotations

from pathlib import Path

from fakecheck.evaluation.labels import BONAFIDE, SPOOF
from fakecheck.training.datasets.rows import _FAKE_DIRS, _REAL_DIRS, DatasetError, Row, _audio_files, _subdirs

_FOR_SPLITS = ("training", "validation", "testing")


# --------------------------------------------------------------------------- Fake-or-Real


def _has_fake_real(folder: Path) -> bool:
    return (folder / "fake").is_dir() and (folder / "real").is_dir()


def _for_split_dirs(root: Path) -> list[Path]:
    """Split folders of a Fake-or-Real tree: ``root`` itself if it is one split, else the
    training/validation/testing folders found in ``root`` or up to two folders down
    (e.g. ``for-2sec/for-2seconds/``).  Two versions in one tree are an error: they hold the
    same recordings processed differently, and mixing them would leak between splits."""
    if root.name.lower() in _FOR_SPLITS and _has_fake_real(root):
        return [root]
    skip = {*_FOR_SPLITS, *_REAL_DIRS, *_FAKE_DIRS}
    hits: dict[Path, list[Path]] = {}
    level = [root]
    for depth in range(3):
        below: list[Path] = []
        for base in level:
            splits = [base / s for s in _FOR_SPLITS if _has_fake_real(base / s)]
            if splits:
                hits[base] = splits  # a version: do not look inside it for more
            elif depth < 2:
                below += [d for d in _subdirs(base) if d.name.lower() not in skip]
        level = below
    if len(hits) > 1:
        names = ", ".join(str(base.relative_to(root)) for base in hits)
        raise DatasetError(f"{root} holds several Fake-or-Real versions ({names}); point DATA at one of them.")
    return next(iter(hits.values()), [])


def _load_for(path: Path) -> list[Row]:
    """Fake-or-Real: every split found (or the one DATA points at); fake/ -> spoof, real/ -> bona fide."""
    splits = _for_split_dirs(path)
    if not splits and _has_fake_real(path):  # fmt="for" on a folder that is one split under another name
        splits = [path]
    if not splits:
        raise DatasetError(
            f"{path} is not a Fake-or-Real tree: no training/, validation/ or testing/ with fake/ and real/."
        )
    rows: list[Row] = []
    for split in splits:
        rows += [Row(f, SPOOF, "for-spoof", "for-spoof") for f in _audio_files(split / "fake")]
        rows += [Row(f, BONAFIDE, "for-bonafide", "for-bonafide") for f in _audio_files(split / "real")]
    return rows
