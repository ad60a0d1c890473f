"""`fakecheck report` and scan's `--report-dir`: write self-contained HTML evidence reports.

Kept out of cli/app.py (which only registers the command) and cheap to import: torch, the model and the
report builder load inside the functions, so --help and shell completion stay fast.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from fakecheck.cli.common import load_detector
from fakecheck.cli.consoles import consoles
from fakecheck.cli.exits import EXIT_FAKE, EXIT_INPUT_ERROR, EXIT_OK, EXIT_WRITE_ERROR, fail

REPORT_SUFFIX = ".report.html"
INDEX_NAME = "index.html"
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")  # report file names: anything else becomes "_"


def command_line() -> str:
    """The command as typed (shell-quoted), for the report's provenance table."""
    return shlex.join(["fakecheck", *sys.argv[1:]])


def report_name(i: int, path: str) -> str:
    """'0003-interview_take_2.report.html': numbered (two inputs may share a name), only safe characters."""
    stem = SAFE_NAME.sub("_", Path(path).stem)[:80].strip("._") or "audio"
    return f"{i:04d}-{stem}{REPORT_SUFFIX}"


def write_text(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, so a failure never leaves half a report."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def report(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="One audio file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Where to write the HTML (default: FILE's name + .report.html, here).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="Attention view: rollout, last or layer:N (occlusion is slow).")] = "rollout",
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
    device: Annotated[str | None, typer.Option("--device")] = None,
    redact: Annotated[bool, typer.Option("--redact", help="Leave out local folders and the command, for sharing; keep the file's name, hashes, model and results.")] = False,
) -> None:
    """Write a self-contained HTML evidence report for one file: verdict, player, timeline, hashes."""

    if file.is_dir():
        raise fail(f"{file} is a folder: report takes one file; for a folder use "
                        f"`fakecheck scan {file} --report-dir OUT` (one report per file, plus an index)")
    target = out or Path(Path(file.name).stem + REPORT_SUFFIX)
    if target.is_dir():
        raise fail(f"--out {target} is a folder; give a file name such as {target / 'report.html'}")
    if not target.parent.is_dir():
        raise fail(f"--out {target}: the folder {target.parent} does not exist")
    det = load_detector(model, device, None)
    from fakecheck.analysis import explain
    from fakecheck.analysis.verdict import FLAGGED
    from fakecheck.evidence import render, report_html
    from fakecheck.evidence import report as rep

    try:
        explain.parse_mode(mode, det.model.cfg.n_layers)
    except ValueError as exc:
        raise fail(str(exc)) from None
    _, err = consoles()
    err.print(render.limits_line(det.checkpoint.metrics, det.checkpoint.provenance), markup=False, highlight=False, soft_wrap=True)
    r = rep.build(det, file, command_line(), mode)
    r = rep.redact(r) if redact else r
    try:
        write_text(target, report_html.render(r))
    except OSError as exc:
        raise fail(f"cannot write {target}: {exc.strerror}", EXIT_WRITE_ERROR) from None
    v = r.explanation.verdict
    typer.echo(render.plain_row(v.to_dict(with_windows=False)))
    err.print(f"report written to {render.display_path(str(target))}", markup=False, highlight=False)
    raise typer.Exit(EXIT_INPUT_ERROR if v.verdict == "ERROR" else EXIT_FAKE if v.verdict in FLAGGED
                     else EXIT_OK)


def check_report_dir(folder: Path) -> None:
    """Create the folder up front (scan fails before any work when it cannot); OSError if impossible."""
    folder.mkdir(parents=True, exist_ok=True)
    if not os.access(folder, os.W_OK):
        raise PermissionError(13, "Permission denied")


def write_scan_reports(det: Any, rows: Sequence[dict[str, Any]], folder: Path, redact: bool = False) -> int:
    """One report per scanned row (in scan order) and index.html; returns the number written.

    Each report runs the file through the explanation once more (attention is not part of a scan)."""
    from datetime import UTC, datetime

    from fakecheck.evidence import report as rep
    from fakecheck.evidence import report_html
    from fakecheck.evidence.render import limits_line

    command = command_line()
    entries: list[tuple[str, dict[str, Any]]] = []
    for i, row in enumerate(rows, 1):
        name = report_name(i, row["path"])
        r = rep.build(det, row["path"], command)
        write_text(folder / name, report_html.render(rep.redact(r) if redact else r))
        entries.append((name, row))
    created = datetime.now(UTC).replace(microsecond=0).isoformat()
    limits = limits_line(det.checkpoint.metrics, det.checkpoint.provenance).removeprefix("note: ")
    write_text(folder / INDEX_NAME, report_html.index(entries, command, created, limits, redacted=redact))
    return len(entries)
