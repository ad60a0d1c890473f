"""The `folder` layout: real/ (or bonafide/) and fake/ (or spoof/) sub-folders of audio files."""

from __future__ import annotations

from pathlib import Path

from fakecheck.evaluation.labels import BONAFIDE, SPOOF
from fakecheck.training.datasets.rows import _FAKE_DIRS, _REAL_DIRS, DatasetError, Row, _audio_files, _child, _subdirs

# --------------------------------------------------------------------------- folder


def _load_folder(root: Path) -> list[Row]:
    """real|bonafide/ and fake|spoof/ trees.  The first sub-folder under fake/ names the system;
    under real/ it names the source (the bona fide system is always "bonafide")."""
    real, fake = _child(root, _REAL_DIRS), _child(root, _FAKE_DIRS)
    if not real or not fake:
        raise DatasetError(
            f"{root} is not a folder dataset: it needs a real/ (or bonafide/) and a fake/ (or spoof/) "
            f"sub-folder, found {', '.join(d.name + '/' for d in _subdirs(root)) or 'no sub-folders'}."
        )
    rows: list[Row] = []
    for label, class_dirs in ((BONAFIDE, real), (SPOOF, fake)):
        for class_dir in class_dirs:
            for f in _audio_files(class_dir):
                parts = f.relative_to(class_dir).parts
                group = parts[0] if len(parts) > 1 else None
                if label == SPOOF:
                    system = group or "spoof"
                    rows.append(Row(f, SPOOF, system, system))
                else:
                    rows.append(Row(f, BONAFIDE, "bonafide", group or "bonafide"))
    return rows
