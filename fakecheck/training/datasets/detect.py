"""Which layout a path holds, and the entry points: `detect_format`, `load_dataset`, `validate`."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from fakecheck.training.datasets.asvspoof5 import _find_asvspoof5_protocols, _load_asvspoof5
from fakecheck.training.datasets.asvspoof2019 import _find_2019_protocols, _load_asvspoof2019
from fakecheck.training.datasets.asvspoof2021 import _find_2021_keys, _load_asvspoof2021
from fakecheck.training.datasets.fake_or_real import _FOR_SPLITS, _for_split_dirs, _has_fake_real, _load_for
from fakecheck.training.datasets.folder import _load_folder
from fakecheck.training.datasets.itw import _is_itw_meta, _load_itw
from fakecheck.training.datasets.manifest import _load_csv
from fakecheck.training.datasets.rows import (
    _FAKE_DIRS,
    _REAL_DIRS,
    _SHOWN,
    DatasetError,
    Row,
    _child,
    _first_row_width,
    _listing,
    _sort_key,
)
from fakecheck.training.datasets.wavefake import _load_wavefake

FORMATS = ("folder", "csv", "asvspoof2019", "asvspoof2021", "asvspoof5", "itw", "wavefake", "for")

_LAYOUTS = (
    "a folder with real/ (or bonafide/) and fake/ (or spoof/) sub-folders; "
    "a CSV manifest with a path,label[,system] header; "
    "ASVspoof 2019 LA (ASVspoof2019.LA.cm.*.txt protocols or the LA root); "
    "ASVspoof 2021 LA/DF (keys/{LA,DF}/CM/trial_metadata.txt or their root); "
    "ASVspoof 5 (ASVspoof5.*.tsv or their folder); "
    "In-the-Wild (meta.csv or its folder); "
    "WaveFake (a root with generated_audio/ and LJSpeech-1.1/ or jsut_ver1.1/); "
    "Fake-or-Real (training/, validation/, testing/ with fake/ and real/)"
)


# --------------------------------------------------------------------------- detection and entry points

_LOADERS: dict[str, Callable[[Path], list[Row]]] = {
    "folder": _load_folder,
    "csv": _load_csv,
    "asvspoof2019": _load_asvspoof2019,
    "asvspoof2021": _load_asvspoof2021,
    "asvspoof5": _load_asvspoof5,
    "itw": _load_itw,
    "wavefake": _load_wavefake,
    "for": _load_for,
}


def _detect_file(path: Path) -> str | None:
    name, suffix = path.name.lower(), path.suffix.lower()
    if suffix == ".csv":
        return "itw" if name == "meta.csv" and _is_itw_meta(path) else "csv"
    if suffix == ".tsv" and name.startswith("asvspoof5"):
        return "asvspoof5"
    if suffix == ".txt":
        width = _first_row_width(path)
        if width == 5:
            return "asvspoof2019"
        if width >= 8 and name == "trial_metadata.txt":
            return "asvspoof2021"
    return None


def _detect_dir(path: Path) -> str | None:
    """Layout of a folder.  Checks run cheapest and most specific first; the Fake-or-Real scan,
    which lists sub-folders, comes after the ASVspoof checks so it never lists a huge flac folder."""
    if (path / "meta.csv").is_file() and _is_itw_meta(path / "meta.csv"):
        return "itw"
    if (path / "generated_audio").is_dir() or path.name == "generated_audio":
        return "wavefake"
    if path.name.lower() in _FOR_SPLITS and _has_fake_real(path):
        return "for"
    if _find_2021_keys(path):
        return "asvspoof2021"
    if _find_2019_protocols(path):
        return "asvspoof2019"
    if _find_asvspoof5_protocols(path):
        return "asvspoof5"
    # A manifest beats the folder layout: it carries systems and sources (e.g. ../shared/corpus).
    if (path / "manifest.csv").is_file():
        return "csv"
    if _child(path, _REAL_DIRS) and _child(path, _FAKE_DIRS):
        return "folder"
    if _for_split_dirs(path):
        return "for"
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name of the layout of ``path`` (one of ``FORMATS``); DatasetError if it is none of them."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p} does not exist. Give a dataset folder, a CSV manifest or a protocol file.")
    fmt = _detect_file(p) if p.is_file() else _detect_dir(p)
    if fmt is None:
        raise DatasetError(
            f"cannot tell the dataset layout of {p}. Supported: {_LAYOUTS}. "
            f"Name the layout with the format option ({', '.join(FORMATS)}) if detection guessed wrong."
        )
    return fmt


def load_dataset(path: str | os.PathLike[str], fmt: str | None = None) -> list[Row]:
    """Rows of the dataset at ``path`` in layout ``fmt`` (detected when None), sorted by path.

    Parses only: labels and line formats are checked here, audio files are not (see :func:`validate`).
    Relative paths in manifests and protocols are resolved against the manifest's folder, and
    ``path`` is made absolute, so rows do not depend on the working directory.
    """
    p = Path(path).expanduser().absolute()
    if fmt is not None and fmt not in FORMATS:
        raise DatasetError(f"unknown dataset format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if not p.exists():
        raise DatasetError(f"{p} does not exist. Give a dataset folder, a CSV manifest or a protocol file.")
    layout = fmt or detect_format(p)
    rows = _LOADERS[layout](p)
    if not rows:
        raise DatasetError(f"no labelled audio found in {p} (read as {layout}).")
    return sorted(rows, key=_sort_key)


def validate(rows: Sequence[Row], check_files: bool = True) -> None:
    """Raise DatasetError if the rows cannot be used for training or evaluation.

    Checks, in order: not empty; every label is 0 or 1; (if ``check_files``) every path is an
    existing file; both classes present.  Messages quote up to 5 offending rows by 1-based
    position in ``rows`` and path.
    """
    if not rows:
        raise DatasetError("the dataset is empty: no labelled audio files were found.")
    bad = [f"row {i}: label {r.label!r} ({r.path})" for i, r in enumerate(rows, 1) if r.label not in (0, 1)]
    if bad:
        raise DatasetError(f"{len(bad)} row(s) have a label other than 0 (bona fide) or 1 (spoof): {_listing(bad)}.")
    if check_files:
        missing = [f"row {i}: {r.path}" for i, r in enumerate(rows, 1) if not r.path.is_file()]
        if missing:
            raise DatasetError(
                f"{len(missing)} of {len(rows)} audio files are missing: {_listing(missing)}. "
                "Check the dataset root and that the audio was fully extracted."
            )
    labels = {r.label for r in rows}
    if len(labels) < 2:
        only = "bona fide (label 0)" if labels == {0} else "spoof (label 1)"
        example = "; ".join(f"row {i}: {r.path}" for i, r in enumerate(rows[:_SHOWN], 1))
        raise DatasetError(
            f"all {len(rows)} rows are {only}, e.g. {example}. "
            "Training and EER-based evaluation need both bona fide and spoof audio."
        )
