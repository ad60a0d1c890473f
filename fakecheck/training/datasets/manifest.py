"""The `csv` layout: a manifest with a path,label[,system] header (more columns allowed)."""

from __future__ import annotations

import csv
from pathlib import Path

from fakecheck.evaluation.labels import SPOOF, parse_label
from fakecheck.training.datasets.rows import DatasetError, Row, _raise_problems

# --------------------------------------------------------------------------- CSV manifests


def _field(record: dict[str | None, str | None], columns: dict[str, str], name: str) -> str:
    """Stripped value of column ``name`` (lower-case) in a DictReader record; "" if absent or empty."""
    return (record.get(columns[name]) or "").strip() if name in columns else ""


def _manifest_in(folder: Path) -> Path:
    """The CSV manifest of a folder: manifest.csv, else the only *.csv there."""
    if (folder / "manifest.csv").is_file():
        return folder / "manifest.csv"
    found = sorted(folder.glob("*.csv"))
    if len(found) == 1:
        return found[0]
    raise DatasetError(
        f"{folder} has {'no' if not found else len(found)} CSV files and no manifest.csv; "
        "pass the manifest file itself as DATA."
    )


def _load_csv(path: Path) -> list[Row]:
    """CSV manifest with header ``path,label[,system][,source_repo,...]``; paths relative to the CSV."""
    if path.is_dir():
        path = _manifest_in(path)
    base = path.parent
    rows: list[Row] = []
    problems: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # -sig: Excel writes a BOM
            reader = csv.DictReader(f)
            columns = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
            if "path" not in columns or "label" not in columns:
                raise DatasetError(
                    f"{path}: a CSV manifest needs a header line with 'path' and 'label' columns "
                    f"(and optionally 'system'), found {', '.join(columns) or 'no header'}."
                )
            for record in reader:
                line = reader.line_num
                rel, raw_label = _field(record, columns, "path"), _field(record, columns, "label")
                label = parse_label(raw_label)
                if not rel:
                    problems.append(f"line {line}: empty path")
                    continue
                if label is None:
                    problems.append(f"line {line}: unknown label {raw_label!r} for {rel}")
                    continue
                system = _field(record, columns, "system") or ("spoof" if label == SPOOF else "bonafide")
                source = _field(record, columns, "source_repo") or _field(record, columns, "source") or system
                split = _field(record, columns, "split").lower()  # used by train only if all are train/validation
                rows.append(Row(base / rel, label, system, source, split, _field(record, columns, "speaker")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}. Check that it is a UTF-8 CSV file.") from exc
    _raise_problems(
        path, problems, "Labels must be bonafide/bona-fide/real/genuine/0 or spoof/fake/synthetic/deepfake/1."
    )
    return rows
