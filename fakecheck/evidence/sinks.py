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

    def __init__(self, target: str, fmt: str, meta: dict[str, Any], full_path: bool = False):
        self.target, self.fmt, self.meta, self.full_path = target, fmt, meta, full_path
        self.rows: list[dict[str, Any]] = []
        try:
            self.stream: IO[str] = sys.stdout if target == "-" else open(  # noqa: SIM115
                target, "w", encoding="utf-8", errors="backslashreplace", newline=""
            )
        except OSError as exc:
            raise OutputError(f"cannot write {fmt} output to {target}: {exc.strerror}") from None
        if fmt == "csv":
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


def open_sinks(specs: Sequence[tuple[str | None, str]], meta: dict[str, Any], full_path: bool = False) -> list[Sink]:
    """Open every requested output up front, so a bad path fails before any work is done."""
    sinks: list[Sink] = []
    try:
        for target, fmt in specs:
            if target:
                sinks.append(Sink(target, fmt, meta, full_path))
    except OutputError:
        for s in sinks:
            s.close()
        raise
    return sinks
