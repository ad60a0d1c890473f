"""Writers for scan results: CSV, JSON, JSON lines and ASVspoof trial-score files.

Rows are written whole, one `write` per row, and flushed, so an interrupted run
leaves every finished row and never half of one.  CSV cells that hold text (paths,
errors, model names) are neutralised against spreadsheet formula injection: a cell
starting with = + - @ (or a tab / carriage return) gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import IO, Any

CSV_COLUMNS = (
    "path", "verdict", "p_fake", "confidence", "score", "threshold", "fake_fraction", "fake_segments", "warnings",
    "duration_s", "sample_rate", "channels", "suspicious_start_s", "suspicious_end_s", "model", "error",
)
# List-valued columns, written as compact JSON text in CSV cells: [[1.2,3.4],[7.0,8.5]].
LIST_COLUMNS = frozenset({"fake_segments"})
TEXT_COLUMNS = frozenset({"path", "verdict", "confidence", "warnings", "model", "error"})
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
RESUMABLE = ("csv", "jsonl")  # row-per-line outputs; a JSON document and score lines are written otherwise


class OutputError(Exception):
    """An output file could not be opened or written (read-only place, full disk...)."""


def safe_cell(value: Any) -> str:
    """A CSV cell that spreadsheet software shows as text, never evaluates."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if not math.isfinite(value) else f"{value:.6g}"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_line(row: dict[str, Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(
        [safe_cell(_text(row.get(c))) if c in TEXT_COLUMNS else safe_cell(_list(row.get(c))) if c in LIST_COLUMNS
         else safe_cell(_num(row.get(c))) for c in CSV_COLUMNS]
    )
    return buf.getvalue()


def _text(v: Any) -> Any:
    return "; ".join(map(str, v)) if isinstance(v, list | tuple) else v


def _list(v: Any) -> str:
    return json.dumps(list(v or []), separators=(",", ":"), ensure_ascii=False)


def _num(v: Any) -> Any:
    return v if v is None or isinstance(v, float | int) else str(v)


class Sink:
    """One output target ('-' is stdout) in one format: csv, json, jsonl or scores.

    Score files name trials by utterance ID (the file stem), or by the whole path with `full_path`.
    """

    def __init__(self, target: str, fmt: str, meta: dict[str, Any], full_path: bool = False, append: bool = False):
        """`append`: continue a file that `keep_rows` left holding whole rows only (scan --resume)."""
        self.target, self.fmt, self.meta, self.full_path = target, fmt, meta, full_path
        self.rows: list[dict[str, Any]] = []
        continuing = append and os.path.exists(target) and os.path.getsize(target) > 0
        try:
            self.stream: IO[str] = sys.stdout if target == "-" else open(  # noqa: SIM115
                target, "a" if continuing else "w", encoding="utf-8", errors="backslashreplace", newline=""
            )
        except OSError as exc:
            raise OutputError(f"cannot write {fmt} output to {target}: {exc.strerror}") from None
        if fmt == "csv" and not continuing:
            self._write(",".join(CSV_COLUMNS) + "\n")

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError as exc:
            raise OutputError(f"writing {self.target} failed: {exc.strerror}") from None
        except UnicodeEncodeError:  # a name that is not valid UTF-8 on a strict stdout
            self._write(text.encode("utf-8", "backslashreplace").decode("utf-8"))

    def add(self, row: dict[str, Any]) -> None:
        if self.fmt == "csv":
            self._write(csv_line(row))
        elif self.fmt == "jsonl":
            self._write(json.dumps({"schema_version": self.meta["schema_version"], **row}, ensure_ascii=False) + "\n")
        elif self.fmt == "scores":
            if row.get("score") is not None:
                from fakecheck.evaluation.scorefiles import (  # the one writer, shared with `evaluate`
                    trial_id,
                    write_trial_scores,
                )

                buf = io.StringIO()
                write_trial_scores(buf, [(trial_id(row["path"], self.full_path), float(row["score"]))])
                self._write(buf.getvalue())
        else:
            self.rows.append(row)

    def close(self, summary: dict[str, Any] | None = None) -> None:
        if self.fmt == "json":
            doc = {**self.meta, "summary": summary or {}, "results": self.rows}
            self._write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        if self.stream is not sys.stdout:
            try:
                self.stream.close()
            except OSError as exc:
                raise OutputError(f"closing {self.target} failed: {exc.strerror}") from None


def as_written(path: str) -> str:
    """A path as the row writers put it in a file: names that are not valid UTF-8 are backslash-escaped."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8")


def _csv_path(cell: str) -> str:
    """The path a CSV cell holds, without the apostrophe `safe_cell` put before a formula character."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(_FORMULA_START) else cell


def read_rows(target: str, fmt: str) -> list[tuple[str, str, str]]:
    """The whole rows of a csv or jsonl output a killed scan left: (path as written, verdict, the row's line).
    A last line without its newline is half a row and is not returned; a file that is not such an output
    raises OutputError rather than being overwritten."""
    try:
        with open(target, encoding="utf-8", errors="surrogateescape", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise OutputError(f"cannot read {target} to resume: {exc.strerror}") from None
    lines = text.split("\n")[:-1]  # the part after the last newline, if any, is a half row
    rows: list[tuple[str, str, str]] = []
    if fmt == "csv":
        if not lines:
            return []
        if lines[0] != ",".join(CSV_COLUMNS):
            raise OutputError(f"{target} is not a fakecheck CSV (its header differs); not resuming into it")
        try:
            for line in lines[1:]:
                cells = next(csv.reader([line]))
                rows.append((_csv_path(cells[0]), cells[1], line))
        except (csv.Error, IndexError, StopIteration):
            raise OutputError(f"{target} holds a line that is not a fakecheck CSV row; not resuming into it") from None
        return rows
    for line in lines:
        try:
            row = json.loads(line)
            rows.append((row["path"], row["verdict"], line))
        except (ValueError, KeyError, TypeError):
            raise OutputError(f"{target} holds a line that is not a fakecheck JSON row; not resuming into it") from None
    return rows


def keep_rows(target: str, fmt: str, rows: Sequence[tuple[str, str, str]], done: set[str]) -> None:
    """Rewrite `target` to hold only the rows whose path is in `done`, atomically (a kill now loses nothing)."""
    header = [",".join(CSV_COLUMNS)] if fmt == "csv" else []
    text = "".join(line + "\n" for line in header + [line for path, _, line in rows if path in done])
    tmp = f"{target}.resume-tmp"
    try:
        with open(tmp, "w", encoding="utf-8", errors="surrogateescape", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot rewrite {target} to resume: {exc.strerror}") from None


def prepare_resume(specs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Make the csv/jsonl outputs (target, fmt) of a killed scan agree, and return {path as written: verdict}
    of the rows they all hold.  A row one output has and another lacks (the kill fell between two writes)
    is dropped from both and scanned again, so no row is duplicated or missing."""
    found = {spec: read_rows(*spec) for spec in specs}
    done: set[str] | None = None
    for rows in found.values():
        paths = {path for path, _, _ in rows}
        done = paths if done is None else done & paths
    done = done or set()
    for (target, fmt), rows in found.items():
        if os.path.exists(target) and (len(rows) != len(done) or _has_half_row(target)):
            keep_rows(target, fmt, rows, done)
    verdicts = {path: verdict for rows in found.values() for path, verdict, _ in rows if path in done}
    return verdicts


def _has_half_row(target: str) -> bool:
    with open(target, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


def open_sinks(specs: Sequence[tuple[str | None, str]], meta: dict[str, Any], full_path: bool = False,
               append: bool = False) -> list[Sink]:
    """Open every requested output up front, so a bad path fails before any work is done."""
    sinks: list[Sink] = []
    try:
        for target, fmt in specs:
            if target:
                sinks.append(Sink(target, fmt, meta, full_path, append=append and fmt in RESUMABLE))
    except OutputError:
        for s in sinks:
            s.close()
        raise
    return sinks
