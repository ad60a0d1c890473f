"""The fakecheck command line: parse, call the library, render.  Errors become exit codes.

Exit codes (scan): 0 nothing flagged, 1 at least one FAKE or PARTIAL, 2 usage error (bad option,
unusable model, device or output path), 3 at least one input could not be analysed (ERROR
rows), or the folders given held no audio file at all, 4 an output could not be written
mid-run, 5 internal error (a bug: please report it), 130 interrupted.  When several apply:
130 > 5 > 4 > 3 > 1 > 0 (2 stops before any work).  explain, report, evaluate and train use the same
numbers: evaluate gives 3 when files could not be scored or key trials have no score, and train
gives 2 for a dataset problem or an unusable --out (a missing or read-only folder, a folder
given as --out, an existing --out or .state without --force or --resume).

torch and librosa are imported inside the commands only: --help and shell
completion (which re-runs this program on every TAB) stay fast.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from . import __version__, commands_report

if TYPE_CHECKING:
    from rich.console import Console

# OpenMP threads that spin-wait while a peer is descheduled made one training step 10x slower on
# 2 busy cores (benchmarks/threads.py); passive waiting removes that.  Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

EXIT_OK, EXIT_FAKE, EXIT_USAGE, EXIT_INPUT_ERROR, EXIT_WRITE_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130


class Precision(str, Enum):
    """--precision: = fakecheck.precision.PRECISIONS (tests check); that module loads torch."""

    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"
    int8 = "int8"


DEFAULT_ENCODER_BLOCKS = 4  # = the shipped model's (models/MODEL_CARD.md); chosen on the validation split

app = typer.Typer(
    name="fakecheck",
    help="Tell genuine speech from synthetic speech (TTS, voice conversion, vocoders), and show where the model looked.",
    no_args_is_help=True,
    # Plain click help: Typer's Rich help formatter costs ~70 ms of imports on every --help.
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
_state: dict[str, Any] = {"debug": False}


def _consoles() -> tuple[Console, Console]:
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    out = Console(no_color=no_color, highlight=False, soft_wrap=False)
    # soft_wrap: a message is one line whatever the terminal width (scripts grep stderr line by line).
    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    return out, err


def _fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    _, err = _consoles()
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fakecheck {__version__}")
        raise typer.Exit()


@app.callback()
def main_callback(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on unexpected errors.")] = False,
    threads: Annotated[int, typer.Option("--threads", min=0, help="torch CPU threads (0: FAKECHECK_THREADS or 2).")] = 0,
    precision: Annotated[Precision, typer.Option("--precision", case_sensitive=False, help="Number format of scoring: auto (the fastest this CPU runs natively without losing accuracy), fp32, bf16 or int8.")] = Precision.auto,
) -> None:
    _state["debug"] = debug
    _state["precision"] = precision.value
    if threads:
        os.environ["FAKECHECK_THREADS"] = str(threads)


def _load_detector(model: Path | None, device: str | None, threshold: float | None) -> Any:
    from .checkpoint import ModelLoadError, unverified_notice
    from .inference import Detector

    try:
        det = Detector.load(model, device=device, threshold=threshold, precision=_state.get("precision"))
    except (ModelLoadError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if notice := unverified_notice(det.checkpoint):
        _consoles()[1].print(notice, markup=False, highlight=False)
    return det


def _parse_shard(shard: str | None) -> tuple[int, int] | None:
    if not shard:
        return None
    try:
        k, n = (int(v) for v in shard.split("/"))
    except ValueError:
        raise _fail(f"--shard takes K/N with whole numbers, e.g. 1/4; got {shard!r}") from None
    if not 1 <= k <= n:
        raise _fail(f"--shard K/N needs 1 <= K <= N; got {shard!r}")
    return k, n


def in_shard(path: Path, shard: tuple[int, int]) -> bool:
    """Deterministic, listing-order-independent split: hash of the path as given."""
    k, n = shard
    return int.from_bytes(hashlib.sha1(os.fsencode(str(path))).digest()[:8], "big") % n == k - 1


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Audio files and/or folders (searched recursively).")],
    csv: Annotated[str | None, typer.Option("--csv", help="Write a CSV row per input to FILE.")] = None,
    json_out: Annotated[str | None, typer.Option("--json", help="Write one JSON document to FILE, or - for stdout.")] = None,
    jsonl: Annotated[str | None, typer.Option("--jsonl", help="Stream one JSON object per line to FILE or -.")] = None,
    scores: Annotated[str | None, typer.Option("--scores", help="Write ASVspoof 'trial score' lines to FILE (trial = file stem).")] = None,
    scores_full_path: Annotated[bool, typer.Option("--scores-full-path", help="Name --scores trials by full path, not stem.")] = False,
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint to use instead of the bundled model.")] = None,
    threshold: Annotated[float | None, typer.Option("--threshold", help="P(fake) at or above which a clip is FAKE.")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="Windows per forward pass.")] = 8,
    jobs: Annotated[int, typer.Option("--jobs", min=1, help="Decoder threads running beside inference.")] = 2,
    shard: Annotated[str | None, typer.Option("--shard", help="K/N: scan only the K-th of N deterministic parts.")] = None,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, mps or auto.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No table, progress or summary; ERROR rows still go to stderr.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Also name each file skipped in folders (not an audio extension).")] = False,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Write an HTML evidence report per file, and index.html, to DIR.")] = None,
    ray: Annotated[bool, typer.Option("--ray", help="Score on Ray (pip install \"fakecheck[ray]\"): the cluster in RAY_ADDRESS, else a local one. Inputs may be s3://, gs://... URIs.")] = False,
    ray_address: Annotated[str | None, typer.Option("--ray-address", metavar="ADDRESS", help="--ray on this cluster: ray://head:10001, or auto for one running here.")] = None,
) -> None:
    """Scan audio files and folders; print a verdict per file."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from . import render
    from .inference import FLAGGED, SCHEMA_VERSION, VERDICTS, iter_inputs
    from .output import OutputError, open_sinks

    shard_kn = _parse_shard(shard)
    out, err = _consoles()
    inputs: list[Any] = []  # Paths, or URIs under --ray
    skipped, empty = 0, []
    skipped_paths: list[Path] = []
    ray = ray or bool(ray_address)
    if ray:  # issue 19: Ray Data (fakecheck/scale.py); URIs are listed there
        from . import scale
    for p in paths:  # one at a time, to name the folders that hold no audio
        try:
            found, n_skipped = scale.expand([p]) if ray else iter_inputs([p], skipped_paths)
        except Exception as exc:  # scale.ScaleError: a URI that cannot be listed
            raise _fail(str(exc)) from None
        inputs += found
        skipped += n_skipped
        if not found:
            empty.append(p)
    if verbose and not quiet:
        for p in skipped_paths:
            err.print(f"skipped (not an audio extension): {p}", markup=False, highlight=False)
    found_any = bool(inputs)
    if shard_kn:
        inputs = [p for p in inputs if in_shard(p, shard_kn)]
    det = _load_detector(model, device, threshold)
    meta = {"schema_version": SCHEMA_VERSION, "fakecheck_version": __version__, "model": det.model_name,
            "model_sha256": det.checkpoint.sha256, "threshold": det.threshold, "precision": det.precision}
    try:
        sinks = open_sinks([(csv, "csv"), (json_out, "json"), (jsonl, "jsonl"), (scores, "scores")], meta,
                           full_path=scores_full_path)
    except OutputError as exc:
        raise _fail(str(exc)) from None
    if scores:
        _warn_duplicate_trials(err, inputs, scores_full_path)
    if report_dir:
        try:
            commands_report.check_report_dir(report_dir)
        except OSError as exc:
            _close_quietly(sinks)
            raise _fail(f"--report-dir {report_dir}: {exc.strerror}") from None
    stdout_taken = any(s.target == "-" for s in sinks)
    if not found_any:  # only empty folders: an error, after the options were checked and the outputs opened
        _close_quietly(sinks, _summary({}, VERDICTS, 0, skipped, 0.0, 0.0, False))
        names = ", ".join(str(p) for p in empty)
        raise _fail(f"no audio files found in {names}" + (f" ({skipped} non-audio files skipped)" if skipped else ""),
                    EXIT_INPUT_ERROR)
    if not quiet:
        for p in empty:
            err.print(f"warning: no audio files found in {p}", markup=False)
        err.print(render.limits_line(det.checkpoint.metrics), markup=False, highlight=False, soft_wrap=True)
        how = " (auto)" if _state.get("precision", "auto") == "auto" else ""
        err.print(f"precision: {det.precision}{how}", markup=False, highlight=False)
    show_table = not quiet and not stdout_taken
    interactive = out.is_terminal and not os.environ.get("NO_COLOR")
    counts: dict[str, int] = {}
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
        raise _fail(str(exc), EXIT_WRITE_ERROR) from None
    wall = time.time() - t0
    summary = _summary(counts, VERDICTS, len(rows), skipped, wall, audio_s, code == EXIT_INTERRUPTED)
    try:
        for s in sinks:
            s.close(summary)
    except OutputError as exc:
        raise _fail(str(exc), EXIT_WRITE_ERROR) from None
    if report_dir and code == EXIT_OK:
        try:
            n = commands_report.write_scan_reports(det, rows, report_dir)
        except OSError as exc:
            raise _fail(f"writing reports to {report_dir} failed: {exc.strerror}", EXIT_WRITE_ERROR) from None
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
    from . import scale

    try:
        yield from scale.scan_files(inputs, address=address, model=model,
                                    precision=det.precision, threshold=det.threshold, batch_size=batch_size)
    except scale.ScaleError as exc:
        raise _fail(str(exc)) from None


def _warn_duplicate_trials(err: Console, paths: Sequence[Any], full_path: bool) -> None:
    """One stderr line when two inputs would share a trial id in a score file (all lines are still written)."""
    from .metrics import duplicate_trials, trial_id

    dup = duplicate_trials([trial_id(p, full_path) for p in paths])
    if dup:
        first = next(iter(dup))
        err.print(f"warning: {len(dup)} trial IDs are not unique in the score file (e.g. {first!r} x{dup[first]}); "
                  "a scoring script joining on them will mix those trials up; use --scores-full-path", markup=False)


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


@app.command()
def train(
    data: Annotated[list[Path], typer.Argument(help="Training data: folders, CSV manifests or ASVspoof/ITW/WaveFake/FoR layouts.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the best checkpoint (.pt).")],
    epochs: Annotated[int, typer.Option("--epochs", min=1)] = 30,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    resume: Annotated[bool, typer.Option("--resume", help="Continue from OUT.state after an interruption.")] = False,
    val: Annotated[list[Path] | None, typer.Option("--val", help="Validation data (default: hold out whole sources).")] = None,
    extra: Annotated[list[Path] | None, typer.Option("--extra", help="Training-only data (e.g. vocoded resynthesis); rows from validation sources are dropped.")] = None,
    clips_per_epoch: Annotated[int, typer.Option("--clips-per-epoch", min=0, help="Windows drawn per epoch (0: one per training clip).")] = 0,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the dataset layout instead of autodetecting.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing OUT (and its .state) instead of refusing.")] = False,
    batch_size: Annotated[int, typer.Option("--batch-size", min=2)] = 32,
    lr: Annotated[float, typer.Option("--lr")] = 1e-3,
    patience: Annotated[int, typer.Option("--patience", min=1)] = 6,
    val_fraction: Annotated[float, typer.Option("--val-fraction", min=0.05, max=0.5)] = 0.2,
    workers: Annotated[int, typer.Option("--workers", min=0, help="Augmentation worker processes.")] = 1,
    no_augment: Annotated[bool, typer.Option("--no-augment", help="Disable waveform augmentation.")] = False,
    device: Annotated[str | None, typer.Option("--device", help="cpu, cuda, mps or auto.")] = None,
    encoder_blocks: Annotated[int, typer.Option("--encoder-blocks", min=0, max=4, help="Fine-tune Whisper's top K encoder blocks (0: keep the encoder frozen).")] = DEFAULT_ENCODER_BLOCKS,
    encoder_lr: Annotated[float, typer.Option("--encoder-lr", help="Peak learning rate of the fine-tuned encoder blocks.")] = 3e-5,
) -> None:
    """Train a model; validation EER every epoch, best checkpoint kept, calibrated on validation."""
    _check_train_out(out, force, resume)  # before torch and the data load: a typo costs nothing
    import torch

    from . import datasets
    from . import train as training

    _, err = _consoles()
    rank = int(os.environ.get("RANK", "0"))
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not torch.distributed.is_initialized():
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() and device != "cpu" else "gloo")
    from .inference import _threads_default

    torch.set_num_threads(_threads_default())
    try:
        rows = [r for d in data for r in datasets.load_dataset(d, fmt)]
        datasets.validate(rows)
        stratified = False
        if val:
            val_rows = [r for d in val for r in datasets.load_dataset(d, fmt)]
            datasets.validate(val_rows)
            train_rows, val_kind = rows, f"given with --val: {', '.join(Path(d).name for d in val)}"
        elif rows and all(r.split in ("train", "validation") for r in rows):
            train_rows = [r for r in rows if r.split == "train"]
            val_rows = [r for r in rows if r.split == "validation"]
            val_kind = "the manifest's split column"
        else:
            train_rows, val_rows, val_kind = training.auto_split(rows, val_fraction, seed)
            stratified = val_kind != training.SPLIT_BY_SOURCE
        dropped = {training.DROP_SYSTEM_IN_VAL: len(rows) - len(train_rows) - len(val_rows)} if not val else {}
        if extra:
            extra_rows = [r for d in extra for r in datasets.load_dataset(d, fmt)]
            datasets.validate(rows + extra_rows)
            kept = training.drop_held_out(extra_rows, val_rows, by_source=not stratified)
            train_rows = train_rows + kept
            dropped[training.DROP_EXTRA_HELD_OUT] = len(extra_rows) - len(kept)
        dropped = {reason: n for reason, n in dropped.items() if n}
    except datasets.DatasetError as exc:
        raise _fail(f"dataset problem: {exc}") from None
    except training.TrainingError as exc:
        raise _fail(str(exc)) from None
    if rank == 0:
        if stratified:
            err.print(f"validation: {val_kind}", markup=False)
        if dropped:
            total = len(rows) + (len(extra_rows) if extra else 0)
            err.print(f"left out {sum(dropped.values())} of {total} rows before training: "
                      + ", ".join(f"{n} {reason}" for reason, n in dropped.items()), markup=False)
        n_val = [sum(r.label == c for r in val_rows) for c in (0, 1)]
        if min(n_val) < training.MIN_VAL_PER_CLASS:
            err.print(f"warning: validation holds {n_val[0]} bona fide and {n_val[1]} spoof clips; an EER on "
                      f"{sum(n_val)} clips is not meaningful (aim for {training.MIN_VAL_PER_CLASS} of each, "
                      "or pass a larger --val)", markup=False)
    cfg = training.TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, patience=patience, seed=seed,
                               num_workers=workers, val_fraction=val_fraction,
                               clips_per_epoch=clips_per_epoch, encoder_lr=encoder_lr)
    if no_augment:
        cfg.augment = None
    provenance = {"command": " ".join(["fakecheck", *sys.argv[1:]]), "data": [str(d) for d in data],
                  "extra": [str(d) for d in extra or []],
                  "fakecheck_version": __version__, "seed": seed,
                  "val_kind": val_kind, "val_sources": sorted({r.source for r in val_rows}), "dropped": dropped,
                  "val_systems": sorted({r.system for r in val_rows if r.label == 1})}
    hook = _train_hook(err) if rank == 0 else None
    try:
        feature_cfg, model_cfg = training.configs_for(encoder_blocks)
        ckpt = training.train(train_rows, val_rows, out, cfg, model_cfg, feature_cfg, resume=resume, device=device,
                              hook=hook, provenance=provenance)
    except training.TrainingError as exc:
        raise _fail(str(exc)) from None
    except KeyboardInterrupt:
        err.print(f"interrupted: the last good checkpoint is intact; continue with --resume (state: {out}.state)")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    if rank == 0:
        m = ckpt.metrics
        err.print(f"best validation EER {m.get('eer', float('nan')):.2%}, minDCF {m.get('min_dcf', float('nan')):.3f}"
                  f" -> {out}", markup=False)


def _check_train_out(out: Path, force: bool, resume: bool) -> None:
    """--out must name a new file in a writable folder (or an existing one with --force / --resume)."""
    if out.is_dir():
        raise _fail(f"--out {out} is a directory; name the checkpoint file, e.g. {out / 'model.pt'}")
    folder = out.parent
    if not folder.exists():
        raise _fail(f"--out {out}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise _fail(f"--out {out}: {folder} is not a directory")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _fail(f"--out {out}: the folder {folder} is not writable")
    if not (force or resume):
        for existing in (out, out.with_name(out.name + ".state")):
            if existing.exists():
                raise _fail(f"--out {out}: {existing} already exists; pass --force to overwrite it, "
                            "or --resume to continue that run")


def _train_hook(err: Console) -> Any:
    def hook(e: dict[str, Any]) -> None:
        kind = e["event"]
        if kind == "start":
            err.print(f"model: {e['params']:,} parameters on {e['device']} in {e['precision']}"
                      f"{' (native bf16 on this CPU)' if e['precision'] == 'bfloat16' and e['device'] == 'cpu' else ''}, "
                      f"{e['encoder_blocks']} Whisper blocks fine-tuned; {e['n_train']} training and "
                      f"{e['n_val']} validation clips", markup=False)
        elif kind == "decoded":
            from collections import Counter

            from .train import drop_reason

            why = Counter(drop_reason(line) for line in e["errors"])
            n = len(e["errors"])
            err.print(f"decoded in {e['seconds']:.0f} s; {n} clip{'' if n == 1 else 's'} skipped"
                      + (": " + ", ".join(f"{k} {r}" for r, k in why.most_common()) if why else ""), markup=False)
            for line in e["errors"][:5]:
                err.print(f"  skipped {line}", markup=False, soft_wrap=True)
        elif kind == "step" and err.is_terminal:
            err.print(f"epoch {e['epoch']} step {e['step']}/{e['steps']} loss {e['loss']:.3f}", end="\r",
                      markup=False)
        elif kind == "epoch":
            mark = " *" if e["improved"] else ""
            err.print(f"epoch {e['epoch']}: loss {e['train_loss']:.3f}, val EER {e['val_eer']:.2%}, "
                      f"{e['epoch_seconds']:.0f} s{mark}", markup=False)
        elif kind == "resumed":
            err.print(f"resuming at epoch {e['epoch']}" + (f", step {e['step'] + 1}" if e.get('step') else ""), markup=False)
    return hook


BOOTSTRAP_RESAMPLES = 1000  # = metrics.BOOTSTRAP_RESAMPLES (tests/test_evaluate.py checks); metrics loads NumPy


@app.command()
def evaluate(
    data: Annotated[Path | None, typer.Argument(help="Labelled data in any layout `train` reads (or give --score-file and --key).")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
    score_file: Annotated[Path | None, typer.Option("--score-file", help="Evaluate an existing 'trial score' file (e.g. AASIST's) instead of a model.")] = None,
    key: Annotated[Path | None, typer.Option("--key", help="The key of --score-file: 'trial label [system]' lines or an ASVspoof 2019/2021/5 protocol.")] = None,
    higher_is_spoof: Annotated[bool, typer.Option("--higher-is-spoof", help="--score-file scores are higher = spoof (default: ASVspoof's higher = bona fide).")] = False,
    llr: Annotated[bool, typer.Option("--llr", help="--score-file scores are calibrated LLRs: report actDCF and Cllr too.")] = False,
    json_out: Annotated[str | None, typer.Option("--json", help="Write metrics as JSON to FILE or -.")] = None,
    scores: Annotated[Path | None, typer.Option("--scores", help="Write 'trial score' lines (ASVspoof sign; trial = file stem).")] = None,
    scores_full_path: Annotated[bool, typer.Option("--scores-full-path", help="Name --scores trials by full path, not stem.")] = False,
    plot: Annotated[Path | None, typer.Option("--plot", help="Write a DET curve PNG.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the 95% intervals of EER and minDCF (0: none).")] = BOOTSTRAP_RESAMPLES,
    fmt: Annotated[str | None, typer.Option("--format", help="Force the dataset layout.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", min=1)] = 2,
    device: Annotated[str | None, typer.Option("--device")] = None,
    score_all: Annotated[bool, typer.Option("--score-all", help="Score INCONCLUSIVE clips too (too little speech), from the windows the model saw: for challenge protocols that need a score for every trial.")] = False,
) -> None:
    """Score labelled data: EER and minDCF with 95% CIs, actDCF (ASVspoof 5 costs), Cllr, AUC, per-system EER."""
    import json

    from . import evaluation, metrics

    out, err = _consoles()
    if score_file or key:
        if not (score_file and key):
            raise _fail("--score-file and --key go together: give both" if score_file
                        else "--key is the key of a --score-file: give both")
        if data or model or scores or score_all:
            raise _fail("evaluate scores DATA with a model, or a --score-file against a --key: not both "
                        "(DATA, --model, --scores and --score-all belong to the first)")
        ev = _evaluate_score_file(score_file, key, higher_is_spoof, llr)
        title = f"{score_file.name} against {key.name}"
    else:
        if data is None:
            raise _fail("evaluate needs DATA (labelled audio) or --score-file FILE --key KEY")
        if higher_is_spoof or llr:
            raise _fail("--higher-is-spoof and --llr describe a --score-file")
        ev = _evaluate_model(data, model, fmt, device, jobs, score_all)
        title = f"{ev['model']} on {data}"
    s, labels = ev["scores"], ev["labels"]
    if len(set(labels.tolist())) < 2:
        raise _fail("fewer than two classes could be scored; nothing to evaluate", EXIT_INPUT_ERROR)
    report = metrics.summary(s, labels, ev["systems"], ev["llr"], ev["score_threshold"])
    cal = ev["calibration"]
    report.update({
        "threshold": ev["threshold"],  # a P(fake), as everywhere in fakecheck; None without a calibrated model
        "eer_threshold": float(cal.p_fake(report["eer_score_threshold"])) if cal else None,
        "score_sign": evaluation.score_sign(score_file is not None, higher_is_spoof),
        "confidence_intervals": metrics.bootstrap_ci(s[labels == 0], s[labels == 1], bootstrap)
        if bootstrap else None,
        "model": ev["model"], "precision": ev.get("precision"), "data": str(data) if data else None,
        "score_file": str(score_file) if score_file else None, "key": str(key) if key else None,
        "n_failed": len(ev["failed"]), "failed": ev["failed"],
        "unscored_reasons": evaluation.reason_counts(ev["failed"]), "score_all": score_all,
        "n_scored_inconclusive": ev.get("n_scored_inconclusive", 0),
        "min_system_trials": evaluation.MIN_SYSTEM_TRIALS,
        "n_missing": len(ev["missing"]), "missing": ev["missing"][:20], "n_unlabelled": ev["n_unlabelled"],
    })
    evaluation.mark_small_systems(report["per_system"])
    if bootstrap:
        for name, ci in metrics.per_system_ci(s, labels, ev["systems"], bootstrap).items():
            report["per_system"][name]["eer_ci"] = ci
    if scores:
        _warn_duplicate_trials(err, ev["paths"], scores_full_path)
        try:
            metrics.write_trial_scores(scores, [(metrics.trial_id(p, scores_full_path), float(v))
                                                for p, v in zip(ev["paths"], s, strict=True)])
        except OSError as exc:
            raise _fail(f"cannot write {scores}: {exc.strerror}", EXIT_WRITE_ERROR) from None
    if plot:
        try:
            metrics.plot_det(s[labels == 0], s[labels == 1], plot, title=title)
        except ImportError as exc:
            raise _fail(str(exc)) from None
    if json_out:
        text = json.dumps(report, indent=2)
        if json_out == "-":
            typer.echo(text)
        else:
            Path(json_out).write_text(text + "\n", encoding="utf-8")
    if json_out != "-":
        out.print(_metrics_tables(report, title))
    if hint := evaluation.sign_hint(report["eer"], report["auc"], score_file is not None, higher_is_spoof):
        err.print(hint, markup=False)
    if ev["failed"]:
        err.print(evaluation.unscored_line(ev["failed"], ev["n_files"], score_all), markup=False)
    if ev["missing"]:
        err.print(f"{len(ev['missing'])} key trials have no score in {score_file} (the first 20 are in --json "
                  "`missing`); the metrics cover the rest", markup=False)
    if ev["n_unlabelled"]:
        err.print(f"warning: {ev['n_unlabelled']} scored trials are not in the key {key}; they are left out",
                  markup=False)
    raise typer.Exit(EXIT_INPUT_ERROR if ev["failed"] or ev["missing"] else EXIT_OK)


def _evaluate_model(data: Path, model: Path | None, fmt: str | None, device: str | None, jobs: int,
                    score_all: bool = False) -> dict[str, Any]:
    """Run a model over labelled audio: aligned scores, labels, systems and LLRs of the files it could score."""
    import numpy as np

    from . import datasets, evaluation

    try:
        rows = datasets.load_dataset(data, fmt)
        datasets.validate(rows)
    except datasets.DatasetError as exc:
        raise _fail(f"dataset problem: {exc}") from None
    det = _load_detector(model, device, None)
    results = list(det.analyse_files([r.path for r in rows], jobs=jobs))
    trial = [evaluation.trial_score(v, score_all) for v in results]
    ok = [i for i, t in enumerate(trial) if t is not None]
    s = np.array([trial[i] for i in ok], dtype=np.float64)
    cal = det.checkpoint.calibration
    return {"scores": s, "labels": np.array([rows[i].label for i in ok], dtype=np.int64),
            "systems": [rows[i].system for i in ok], "llr": cal.llr(s), "paths": [str(rows[i].path) for i in ok],
            "score_threshold": float(cal.score_at(det.threshold)), "threshold": det.threshold, "calibration": cal,
            "model": det.model_name, "precision": det.precision, "missing": [], "n_unlabelled": 0, "n_files": len(rows),
            "n_scored_inconclusive": sum(results[i].score is None for i in ok),
            "failed": [evaluation.unscored_entry(str(rows[i].path), v) for i, (v, t) in enumerate(zip(results, trial, strict=True))
                       if t is None]}


def _evaluate_score_file(score_file: Path, key: Path, higher_is_spoof: bool, llr: bool) -> dict[str, Any]:
    """Join a score file with its key: the trials of both, plus the key trials without a score."""
    import numpy as np

    from . import metrics

    try:
        scored = metrics.read_trial_scores(score_file, higher_is_spoof)
        labelled = metrics.read_key(key)
    except metrics.TrialFileError as exc:
        raise _fail(str(exc)) from None
    common = [t for t in labelled if t in scored]
    if not common:
        raise _fail(f"no trial of {score_file} is in the key {key} (e.g. {next(iter(scored), '-')!r} against "
                    f"{next(iter(labelled))!r}); both must name trials the same way, e.g. by utterance ID")
    s = np.array([scored[t] for t in common], dtype=np.float64)
    return {"scores": s, "labels": np.array([labelled[t][0] for t in common], dtype=np.int64),
            "systems": [labelled[t][1] for t in common], "llr": s if llr else None, "paths": common,
            "score_threshold": None, "threshold": None, "calibration": None, "model": None, "failed": [],
            "missing": [t for t in labelled if t not in scored], "n_files": len(labelled),
            "n_unlabelled": sum(t not in labelled for t in scored)}


def _metrics_tables(report: dict[str, Any], title: str) -> Any:
    """The metrics table (with 95% intervals where computed) and the per-system EER table."""
    from rich.console import Group
    from rich.table import Table

    ci = report.get("confidence_intervals") or {}
    table = Table(title=title, show_edge=False)
    table.add_column("metric")
    table.add_column("value", justify="right")
    if ci:
        table.add_column(f"{ci['level']:.0%} CI", justify="right")
    for name in ("eer", "min_dcf", "act_dcf", "cllr", "auc", "accuracy", "n_bonafide", "n_spoof"):
        val = report[name]
        cells = [name, f"{val:.4f}" if isinstance(val, float) else "-" if val is None else str(val)]
        if ci:
            cells.append(f"{ci[name][0]:.4f}-{ci[name][1]:.4f}" if name in ci else "")
        table.add_row(*cells)
    per = Table(title="EER per spoofing system", show_edge=False)
    per.add_column("system")
    per.add_column("n", justify="right")
    per.add_column("EER", justify="right")
    if ci:
        per.add_column(f"{ci['level']:.0%} CI", justify="right")
    for name, d in sorted(report["per_system"].items()):
        cells = [name + (" *" if d["few_trials"] else ""), str(d["n"]), f"{d['eer']:.2%}"]
        if ci:
            cells.append(f"{d['eer_ci'][0]:.2%}-{d['eer_ci'][1]:.2%}")
        per.add_row(*cells)
    if not any(d["few_trials"] for d in report["per_system"].values()):
        return Group(table, per)
    return Group(table, per, f"* fewer than {report['min_system_trials']} spoof trials: that EER is not reliable")


@app.command()
def explain(
    file: Annotated[Path, typer.Argument(help="One audio file.")],
    mode: Annotated[str, typer.Option("--mode", help="rollout, last, layer:N or occlusion.")] = "rollout",
    heads: Annotated[bool, typer.Option("--heads", help="One heatmap row per attention head.")] = False,
    width: Annotated[int, typer.Option("--width", min=0, help="Total line width in characters (default: the terminal's).")] = 0,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the explanation as JSON to FILE or -.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write a heatmap and timeline picture (needs matplotlib).")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
    device: Annotated[str | None, typer.Option("--device")] = None,
) -> None:
    """Show where the evidence lies in time: P(fake) per 40 ms, fake segments, attention, energy."""
    import json

    from . import explain as ex
    from . import render
    from .inference import FLAGGED

    if file.is_dir():
        raise _fail(f"{file} is a folder: explain takes one file; for a folder use `fakecheck scan {file}` "
                    f"(or `fakecheck scan {file} --report-dir OUT` for an HTML report per file)")
    out, err = _consoles()
    if width:
        out.width = width  # the lines are built to fit it: nothing wraps, in a terminal or a pipe
    det = _load_detector(model, device, None)
    try:
        ex.parse_mode(mode, det.model.cfg.n_layers)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    result = ex.explain_file(det, file, mode)
    if json_out != "-":
        err.print(render.limits_line(det.checkpoint.metrics), markup=False, highlight=False, soft_wrap=True)
    if json_out:
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
        if json_out == "-":
            typer.echo(text)
        else:
            try:
                Path(json_out).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise _fail(f"cannot write {json_out}: {exc.strerror}", EXIT_WRITE_ERROR) from None
    if png:
        try:
            from .report import sha256_file

            try:
                file_sha = sha256_file(file)
            except OSError:  # unreadable: its ERROR verdict has no picture anyway (ValueError below)
                file_sha = ""
            render.explanation_png(result, png, det.checkpoint.sha256, file_sha)
        except ImportError as exc:
            raise _fail(str(exc)) from None
        except ValueError as exc:  # an ERROR/empty result has no picture; the verdict still prints
            _, err = _consoles()
            err.print(f"--png skipped: {exc}", markup=False)
    if json_out != "-":
        colour = out.is_terminal and not os.environ.get("NO_COLOR")
        cols = max(20, out.width - render.LABEL_WIDTH - 1)
        out.print(render.explanation_view(result, cols, heads, colour))
    v = result.verdict
    raise typer.Exit(EXIT_INPUT_ERROR if v.verdict == "ERROR" else EXIT_FAKE if v.verdict in FLAGGED else EXIT_OK)


app.command(name="report")(commands_report.report)


@app.command()
def info(
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
) -> None:
    """Show a model's card summary: parameters, checksum, training data, validation figures, threshold."""
    import json

    det = _load_detector(model, "cpu", None)
    ck = det.checkpoint
    m, p = ck.metrics, ck.provenance
    out, _ = _consoles()
    lines = [
        f"model        {ck.name}",
        f"sha256       {ck.sha256}",
        f"contents     {ck.content_status}",
        f"parameters   {ck.model.n_params():,}",
        f"architecture {json.dumps(ck.model.cfg.to_dict())}",
        f"features     {ck.features.frontend}: {ck.features.n_stages} stage{'s' if ck.features.n_stages != 1 else ''} "
        f"x {ck.features.stage_width} "
        f"per {ck.features.hop_samples * 1000 // ck.features.sample_rate} ms frame (frozen: the stem and "
        f"{ck.features.frozen_blocks} of 4 blocks)",
        f"fine-tuned   {ck.model.cfg.encoder_blocks} Whisper block{'s' if ck.model.cfg.encoder_blocks != 1 else ''} "
        "and its final norm, as the model's first layers"
        if ck.model.cfg.encoder_blocks else "fine-tuned   none (the whole encoder is frozen)",
        f"trained on   {', '.join(Path(d).name for d in p.get('data', [])) or 'unknown'} "
        f"({p.get('n_train', '?')} clips)",
        f"validation   {p.get('n_val', '?')} clips, {p.get('val_kind', 'validation split')}; "
        f"EER {m.get('eer', float('nan')):.2%}, "
        f"minDCF {m.get('min_dcf', float('nan')):.3f}, Cllr {m.get('cllr', float('nan')):.3f}",
        f"calibration  llr = {_affine(ck.calibration.a, ck.calibration.b, 'score')}",
        f"threshold    P(fake) >= {ck.threshold} -> FAKE; a stretch of speech at or above it -> PARTIAL",
    ]
    tcal = ck.token_calibration
    if not ck.model.cfg.token_head:
        head = "none: the timeline repeats each window's score"
    elif tcal is None:
        head = "yes, calibrated with the clip calibration"
    else:
        head = f"llr = {_affine(tcal.a, tcal.b, 'token score')}"
    lines.insert(-1, f"token head   {head}")
    out.print("\n".join(lines), markup=False, highlight=False, soft_wrap=True)  # one line per field


def _affine(a: float, b: float, x: str) -> str:
    """'a * x + b' with the sign of b written once: 1.2 * score - 1.99, not + -1.99."""
    return f"{a:.4f} * {x} {'-' if b < 0 else '+'} {abs(b):.4f}"


def main() -> None:
    """Console-script entry point: unexpected errors print one line unless --debug."""
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence; typer already handled usage errors
        if _state["debug"]:
            raise
        sys.stderr.write(f"error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)\n")
        sys.exit(EXIT_WRITE_ERROR if isinstance(exc, OSError) else EXIT_INTERNAL)
