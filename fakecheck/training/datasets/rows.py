"""The row every layout reads into, the dataset error, and the helpers the layout readers share."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fakecheck.audio.decode import AUDIO_EXTENSIONS
from fakecheck.evaluation.labels import BONAFIDE, SPOOF

_REAL_DIRS = ("real", "bonafide")
_FAKE_DIRS = ("fake", "spoof")
_SHOWN = 5  # offending rows quoted in an error message; the rest are counted


class DatasetError(Exception):
    """A dataset could not be read or is unusable; the message is one paragraph meant for users."""


@dataclass(frozen=True)
class Row:
    """One labelled clip.

    path: the audio file; label: 1 spoof, 0 bona fide; system: generator (spoof) or corpus
    (bona fide); source: the origin used to group rows for splits; speaker: the speaker when the
    layout names one ("" otherwise), used to group rows when there is no usable source.
    """

    path: Path
    label: int
    system: str
    source: str
    split: str = ""  # "train" or "validation" when the manifest fixes the split (a `split` column)
    speaker: str = ""  # a manifest's `speaker` column, an ASVspoof protocol's first column, In-the-Wild's speaker


def _listing(problems: Sequence[str]) -> str:
    """The first few problems joined into one sentence, plus a count of the others."""
    shown = "; ".join(problems[:_SHOWN])
    more = len(problems) - _SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def _raise_problems(where: Path, problems: Sequence[str], hint: str) -> None:
    if problems:
        raise DatasetError(f"{where}: {len(problems)} line(s) could not be read: {_listing(problems)}. {hint}")


def _hidden(path: Path, root: Path) -> bool:
    """True for dot files and files inside dot folders (macOS '._x.wav' resource forks, .git...)."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _audio_files(folder: Path) -> list[Path]:
    """Audio files under ``folder`` (recursive, by extension), sorted; hidden files skipped."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and not _hidden(p, folder) and p.is_file()
    )


def _subdirs(folder: Path) -> list[Path]:
    """Visible sub-folders of ``folder``, sorted.  scandir avoids a stat per entry on big folders."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []


def _child(folder: Path, names: Iterable[str]) -> list[Path]:
    """Sub-folders of ``folder`` whose lower-cased name is one of ``names``."""
    wanted = set(names)
    return [d for d in _subdirs(folder) if d.name.lower() in wanted]


def _read_columns(path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line number, whitespace-split columns) of each non-blank, non-# line."""
    try:
        with path.open(encoding="utf-8") as f:
            return [(i, cols) for i, line in enumerate(f, 1) if (cols := line.split()) and not cols[0].startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}. Check that the file is a plain-text protocol.") from exc


def _csv_header(path: Path) -> list[str]:
    """Lower-cased, stripped column names of a CSV file's first line ([] if unreadable)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return []
    return [c.strip().lower() for c in first]


def _first_row_width(path: Path) -> int:
    """Number of whitespace-separated columns on the first non-blank line (0 if none)."""
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.split():
                    return len(line.split())
    except (OSError, UnicodeDecodeError):
        return 0
    return 0


def _is_header(cols: Sequence[str], key_index: int) -> bool:
    """True for a header line of a whitespace protocol (its key column says KEY or LABEL)."""
    return len(cols) > key_index and cols[key_index].lower() in {"key", "label"}


def _protocol_label(key: str) -> int | None:
    """Label of an ASVspoof KEY column: exactly bonafide or spoof (any case), else None."""
    return {"bonafide": BONAFIDE, "spoof": SPOOF}.get(key.lower())


def _protocol_system(label: int, attack: str) -> str:
    """System of an ASVspoof row: the attack id of a spoof, "bonafide" for bona fide.

    Bona fide rows carry "-" (2019) or "bonafide" (2021, ASVspoof 5) in the attack column.
    """
    if label == BONAFIDE:
        return "bonafide"
    return attack if attack not in {"-", "bonafide"} else "spoof"


def _sort_key(row: Row) -> tuple[str, int, str, str]:
    return (str(row.path), row.label, row.system, row.source)


# --------------------------------------------------------------------------- ASVspoof 2019

_2019_NAME = re.compile(r"ASVspoof2019\.(LA|PA)\.cm\.(train|dev|eval)\.", re.IGNORECASE)
_2019_ID = re.compile(r"^(LA|PA)_([TDE])_")
