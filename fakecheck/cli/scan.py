"""`fakecheck scan`: a verdict per file for files, folders and URIs."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from fakecheck.cli import report as commands_report
from fakecheck.cli.common import load_detector, state, warn_duplicate_trials
from fakecheck.cli.consoles import consoles
from fakecheck.cli.exits import EXIT_FAKE, EXIT_INPUT_ERROR, EXIT_INTERRUPTED, EXIT_OK, EXIT_WRITE_ERROR, fail
from fakecheck.version import __version__


def _parse_shard(shard: str | None) -> tuple[int, int] | None:
    if not shard:
        return None
    try:
        k, n = (int(v) for v in shard.split("/"))
    except ValueError:
        raise fail(f"--shard takes K/N with whole numbers, e.g. 1/4; got {shard!r}") from None
    if not 1 <= k <= n:
        raise fail(f"--shard K/N needs 1 <= K <= N; got {shard!r}")
    return k, n


def scan(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(metavar="PATHS", help="Audio files and/or folders (searched recursively).")],
    csv: Annotated[str | None, typer.Option("--csv", help="Write a CSV row per input to FILE.")] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write one JSON document to FILE, or - for stdout.")] = None,
    jsonl: Annotated[str | None, typer.Option("--jsonl", help="Stream one JSON object per line to FILE or -.")] = None,
    scores: Annotated[str | None, typer.Option("--scores", help="Write ASVspoof 'trial score' lines to FILE (trial = file stem).")] = None,
    scores_full_path: Annotated[bool, typer.Option("--scores-full-path", help="Name --scores trials by full path, not stem.")] = False,
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint to use instead of the bundled model.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="P(fake) at or above which a clip is FAKE.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="A file's windows gathered before scoring (memory only: scores never depend on it).")] = 8,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Decoder threads running beside inference.")] = 2,
    shard: Annotated[str | None, typer.Option("--shard", help="K/N: scan only the K-th of N deterministic parts.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, mps or auto.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table, progress or summary; ERROR rows still go to stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also name each file skipped in folders (not an audio extension).")] = False,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Write an HTML evidence report per file, and index.html, to DIR.")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Score on Ray (pip install \"fakecheck[ray]\"): the cluster in RAY_ADDRESS, else a local one. Inputs may be s3://, gs://... URIs.")] = False,
    ray_address: Annotated[str | None, typer.Option("--ray-address", metavar="ADDRESS", help="--ray on this cluster: ray://head:10001, or auto for one running here.")] = None,
    redact: Annotated[bool, typer.Option("--redact", help="With --report-dir: leave local folders and the command out of the reports and the index.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue a killed scan: skip the files whose rows --csv/--jsonl already hold, and append the rest.")] = False,
) -> None:
    """Scan audio files and folders; print a verdict per file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from fakecheck.analysis.inputs import in_shard, iter_inputs  # here: numpy stays off the --help path
    from fakecheck.analysis.verdict import FLAGGED, SCHEMA_VERSION, VERDICTS
    from fakecheck.evidence import render
    from fakecheck.evidence.sinks import OutputError, as_written, open_sinks, prepare_resume

    shard_kn = _parse_shard(shard)
    _check_resume(resume, csv, jsonl, json_out, scores)
    out, err = consoles()
    inputs: list[Any] = []  # Paths, or URIs under --ray
    skipped, empty = 0, []
    skipped_paths: list[Path] = []
    ray = ray or bool(ray_address)
    if ray:  # issue 19: Ray Data (fakecheck/scale.py); URIs are listed there
        from fakecheck.analysis import scale
    for p in paths:  # one at a time, to name the folders that hold no audio
        try:
            found, n_skipped = scale.expand([p]) if ray else iter_inputs([p], skipped_paths)
        except Exception as exc:  # scale.ScaleError: a URI that cannot be listed
            raise fail(str(exc)) from None
        inputs += found
        skipped += n_skipped
        if not found:
            empty.append(p)
    if verbose and not quiet:
        ctx.call_on_close(show_decoder_messages())
        for p in skipped_paths:
            err.print(f"skipped (not an audio extension): {p}", markup=False, highlight=False)
    found_any = bool(inputs)
    if shard_kn:
        inputs = [p for p in inputs if in_shard(p, shard_kn)]
    previous: dict[str, str] = {}  # --resume: {path as written: verdict} of the rows already written
    if resume:
        try:
            done = prepare_resume([(t, f) for t, f in ((csv, "csv"), (jsonl, "jsonl")) if t])
        except OutputError as exc:
            raise fail(str(exc)) from None
        listed = len(inputs)
        previous = {as_written(str(p)): done[as_written(str(p))] for p in inputs if as_written(str(p)) in done}
        inputs = [p for p in inputs if as_written(str(p)) not in previous]
        if not quiet:
            err.print(f"resuming: {listed - len(inputs)} of {listed} files already done", markup=False, highlight=False)
    det = load_detector(model, device, threshold)
    meta = {"schema_version": SCHEMA_VERSION, "fakecheck_version": __version__, "model": det.model_name,
            "model_sha256": det.checkpoint.sha256, "threshold": det.threshold, "precision": det.precision}
    try:
        sinks = open_sinks([(csv, "csv"), (json_out, "json"), (jsonl, "jsonl"), (scores, "scores")], meta,
                           full_path=scores_full_path, append=resume)
    except OutputError as exc:
        raise fail(str(exc)) from None
    if scores:
        warn_duplicate_trials(err, inputs, scores_full_path)
    if report_dir:
        try:
            commands_report.check_report_dir(report_dir)
        except OSError as exc:
            _close_quietly(sinks)
            raise fail(f"--report-dir {report_dir}: {exc.strerror}") from None
    stdout_taken = any(s.target == "-" for s in sinks)
    if not found_any:  # only empty folders: an error, after the options were checked and the outputs opened
        _close_quietly(sinks, _summary({}, VERDICTS, 0, skipped, 0.0, 0.0, False))
        names = ", ".join(str(p) for p in empty)
        raise fail(f"no audio files found in {names}" + (f" ({skipped} non-audio files skipped)" if skipped else ""),
                    EXIT_INPUT_ERROR)
    if not quiet:
        for p in empty:
            err.print(f"warning: no audio files found in {p}", markup=False)
        err.print(render.limits_line(det.checkpoint.metrics, det.checkpoint.provenance), markup=False, highlight=False, soft_wrap=True)
        how = " (auto)" if state.get("precision", "auto") == "auto" else ""
        err.print(f"precision: {det.precision}{how}", markup=False, highlight=False)
    show_table = not quiet and not stdout_taken
    interactive = out.is_terminal and not os.environ.get("NO_COLOR")
    counts: dict[str, int] = dict(Counter(previous.values()))  # the exit code and summary cover every row
    rows: list[dict[str, Any]] = []
    audio_s, t0, code = 0.0, time.time(), EXIT_OK
    progress = Progress(TextColumn("scanning"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=quiet or not err.is_terminal or len(inputs) < 2)
    task = progress.add_task("scan", total=len(inputs))
    try:
        with progress:
            for row in (_ray_rows(ray_address, inputs, model, det, batch_size) if ray else
                        (v.to_dict() for v in det.analyse_files(
                            inputs, batch_size=batch_size, jobs=jobs,
                            hook=lambda done, total: progress.update(task, completed=done)))):
                counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
                audio_s += row["duration_s"] or 0.0
                for s in sinks:
                    s.add(row)
                if show_table and not interactive:
                    typer.echo(render.plain_row(row))  # raw tabs: Rich would expand them to spaces
                elif quiet and row["verdict"] == "ERROR":
                    typer.echo(render.plain_row(row), err=True)
                rows.append({k: row[k] for k in row if k != "windows"})
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
        err.print(f"interrupted: {len(rows)} of {len(inputs)} files done; their rows are kept")
    except OutputError as exc:
        _close_quietly(sinks)
        raise fail(str(exc), EXIT_WRITE_ERROR) from None
    wall = time.time() - t0
    summary = _summary(counts, VERDICTS, len(previous) + len(rows), skipped, wall, audio_s, code == EXIT_INTERRUPTED)
    try:
        for s in sinks:
            s.close(summary)
    except OutputError as exc:
        raise fail(str(exc), EXIT_WRITE_ERROR) from None
    if report_dir and code == EXIT_OK:
        try:
            n = commands_report.write_scan_reports(det, rows, report_dir, redact=redact)
        except OSError as exc:
            raise fail(f"writing reports to {report_dir} failed: {exc.strerror}", EXIT_WRITE_ERROR) from None
        if not quiet:
            err.print(f"{n} reports and {commands_report.INDEX_NAME} written to {render.display_path(str(report_dir))}",
                      markup=False, highlight=False)
    if show_table and interactive and rows:
        out.print(render.scan_table(rows))
    if not quiet:
        err.print(render.summary_line(counts, wall, audio_s, skipped), markup=False, highlight=False, soft_wrap=True)
    if code == EXIT_OK:
        flagged = any(counts.get(v) for v in FLAGGED)
        code = EXIT_INPUT_ERROR if counts.get("ERROR") else EXIT_FAKE if flagged else EXIT_OK
    raise typer.Exit(code)


def _ray_rows(address: str | None, inputs: Sequence[Any], model: Path | None, det: Any, batch_size: int) -> Any:
    """scan --ray: the rows from a Ray cluster (address None: RAY_ADDRESS, else a local one), in input
    order.  The actors run the driver's precision path, so the recorded `precision` holds for every row."""
    from fakecheck.analysis import scale

    try:
        yield from scale.scan_files(inputs, address=address, model=model,
                                    precision=det.precision, threshold=det.threshold, batch_size=batch_size)
    except scale.ScaleError as exc:
        raise fail(str(exc)) from None



class _ToStderr(logging.Handler):
    """Writes each record to the stderr of the moment (a test runner swaps it), one line each."""

    def emit(self, record: logging.LogRecord) -> None:
        sys.stderr.write(self.format(record) + "\n")


def show_decoder_messages() -> Callable[[], None]:
    """--verbose: what C decoders wrote about each file (kept off the terminal otherwise), one line each.
    Returns what detaches it again, for the end of this command."""
    handler = _ToStderr()
    handler.setFormatter(logging.Formatter("decoder: %(message)s"))
    logger = logging.getLogger("fakecheck.audio.decode")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def detach() -> None:
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)

    return detach


def _check_resume(resume: bool, csv: str | None, jsonl: str | None, json_out: str | None, scores: str | None) -> None:
    """--resume continues row-per-line files; anything else it cannot continue is a usage error, before any work."""
    if not resume:
        return
    if not (csv or jsonl):
        raise fail("--resume needs --csv or --jsonl: it continues from the rows those files already hold")
    if "-" in (csv, jsonl):
        raise fail("--resume needs --csv/--jsonl files, not standard output")
    if json_out or scores:
        raise fail("--resume continues --csv and --jsonl only: --json and --scores are written whole; "
                   "leave them out, or make them from the finished CSV/JSON Lines")


def _summary(counts: dict[str, int], verdicts: Sequence[str], files: int, skipped: int, wall: float, audio_s: float,
             interrupted: bool) -> dict[str, Any]:
    """The JSON summary: every verdict counted, zeros included, so readers need no defaults."""
    return {**{v: counts.get(v, 0) for v in verdicts}, "files": files, "skipped_non_audio": skipped,
            "wall_s": round(wall, 3), "audio_s": round(audio_s, 3), "interrupted": interrupted}


def _close_quietly(sinks: list[Any], summary: dict[str, Any] | None = None) -> None:
    for s in sinks:
        try:
            s.close(summary)
        except Exception:
            pass
