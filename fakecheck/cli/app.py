"""The fakecheck command line: the Typer app, the global options, and the commands it registers.

Each command lives in its own module and is registered here; exit codes are in `exits`.  torch and librosa
are imported inside the commands only: --help and shell completion (which re-runs this program on every TAB)
stay fast.
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from typing import Annotated

import typer

from fakecheck.cli import evaluate, explain, info, report, scan, train
from fakecheck.cli.common import state
from fakecheck.cli.exits import unexpected_exit_code
from fakecheck.version import __version__

# OpenMP threads that spin-wait while a peer is descheduled made one training step 10x slower on
# 2 busy cores (benchmarks/threads.py); passive waiting removes that.  Must be set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


class Precision(str, Enum):
    """--precision: = fakecheck.precision.PRECISIONS (tests check); that module loads torch."""

    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"
    int8 = "int8"


app = typer.Typer(
    name="fakecheck",
    help="Tell genuine speech from synthetic speech (TTS, voice conversion, vocoders), and show where the model looked.",
    no_args_is_help=True,
    # Plain click help: Typer's Rich help formatter costs ~70 ms of imports on every --help.
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
    state["debug"] = debug
    state["precision"] = precision.value
    if threads:
        os.environ["FAKECHECK_THREADS"] = str(threads)


for command in (scan.scan, train.train, evaluate.evaluate, explain.explain, report.report, info.info):
    app.command()(command)


GLOBAL_FLAGS = ("--debug",)
GLOBAL_VALUED = ("--threads", "--precision")  # global options that take a value


def hoist_global_options(args: list[str], commands: set[str]) -> list[str]:
    """`fakecheck scan x --precision fp32` read as `fakecheck --precision fp32 scan x`: global options written
    after the subcommand move before it, where click looks for them (issue 26).  Nothing after `--` moves."""
    i = 0
    while i < len(args) and args[i] not in commands:
        i += 2 if args[i] in GLOBAL_VALUED else 1
    if i >= len(args):
        return args
    moved: list[str] = []
    kept: list[str] = []
    rest = args[i + 1:]
    j = 0
    while j < len(rest):
        name = rest[j].split("=", 1)[0]
        if rest[j] == "--":
            kept += rest[j:]
            break
        if name in GLOBAL_FLAGS or (name in GLOBAL_VALUED and "=" in rest[j]):
            moved.append(rest[j])
        elif name in GLOBAL_VALUED and j + 1 < len(rest):
            moved += rest[j: j + 2]
            j += 1
        else:
            kept.append(rest[j])
        j += 1
    return args[:i] + moved + [args[i]] + kept


def python_stderr_off_fd2() -> None:
    """Give Python's stderr a descriptor of its own, so that catching what C decoders write to fd 2
    (fakecheck.audio.decode.quietly) never catches a line of ours: progress, warnings, ERROR rows."""
    try:
        own = os.dup(2)
    except OSError:  # no stderr at all: nothing to protect
        return
    sys.stderr = os.fdopen(own, "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="backslashreplace")


def main() -> None:
    """Console-script entry point: unexpected errors print one line unless --debug."""
    commands = {c.name or c.callback.__name__ for c in app.registered_commands if c.callback}
    sys.argv[1:] = hoist_global_options(sys.argv[1:], commands)
    python_stderr_off_fd2()
    try:
        app()
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence; typer already handled usage errors
        if state["debug"]:
            raise
        sys.stderr.write(f"error: {type(exc).__name__}: {exc} (rerun with --debug for the traceback)\n")
        sys.exit(unexpected_exit_code(exc))
