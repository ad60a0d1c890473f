"""Exit codes, and the one place that turns an error into one.

Exit codes: 0 nothing flagged, 1 at least one FAKE or PARTIAL, 2 usage error (bad option,
unusable model, device or output path), 3 at least one input could not be analysed (ERROR
rows), or the folders given held no audio file at all, 4 an output could not be written
mid-run, 5 internal error (a bug: please report it), 130 interrupted.  When several apply:
130 > 5 > 4 > 3 > 1 > 0 (2 stops before any work).  explain, report, evaluate and train use the same
numbers: evaluate gives 3 when files could not be scored or key trials have no score, and train
gives 2 for a dataset problem or an unusable --out (a missing or read-only folder, a folder
given as --out, an existing --out or .state without --force or --resume).
"""

from __future__ import annotations

import typer

from fakecheck.cli.consoles import consoles

EXIT_OK, EXIT_FAKE, EXIT_USAGE, EXIT_INPUT_ERROR, EXIT_WRITE_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 5, 130


def fail(message: str, code: int = EXIT_USAGE) -> typer.Exit:
    """Print `message` as one error line on stderr, and return the typer.Exit that ends the command with `code`."""
    _, err = consoles()
    from rich.markup import escape

    err.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def unexpected_exit_code(exc: BaseException) -> int:
    """The exit code of an error no command handled: 4 when the system refused a read or write, 5 (a bug) else."""
    return EXIT_WRITE_ERROR if isinstance(exc, OSError) else EXIT_INTERNAL
