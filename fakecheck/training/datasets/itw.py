"""The `itw` layout: In-the-Wild (`meta.csv` with `file,speaker,label`)."""

from __future__ import annotations

import csv
from pathlib import Path

from fakecheck.evaluation.labels import SPOOF, parse_label
from fakecheck.training.datasets.manifest import _field
from fakecheck.training.datasets.rows import DatasetError, Row, _csv_header, _raise_problems


def _is_itw_meta(path: Path) -> bool:
    return {"file", "speaker", "label"} <= set(_csv_header(path))


# --------------------------------------------------------------------------- In-the-Wild


def _load_itw(path: Path) -> list[Row]:
    """In-the-Wild ``meta.csv`` (``file,speaker,label``), audio beside it; the speaker is the source."""
    meta = path / "meta.csv" if path.is_dir() else path
    if not meta.is_file() or not _is_itw_meta(meta):
        raise DatasetError(f"{meta} is not an In-the-Wild meta.csv: it needs a file,speaker,label header.")
    rows: list[Row] = []
    problems: list[str] = []
    try:
        with meta.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
            for record in reader:
                name, speaker = _field(record, columns, "file"), _field(record, columns, "speaker")
                raw_label = _field(record, columns, "label")
                label = parse_label(raw_label)
                if not name or label is None:
                    problems.append(f"line {reader.line_num}: unknown label {raw_label!r} or empty file name")
                    continue
                system = "itw-spoof" if label == SPOOF else "itw-bonafide"
                rows.append(Row(meta.parent / name, label, system, speaker or system, speaker=speaker))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {meta}: {exc}.") from exc
    _raise_problems(meta, problems, "In-the-Wild labels are bona-fide or spoof.")
    return rows
