"""The command-line wing: one module per command, plus the app, the global options and the exit codes.

Modules: `app` (the Typer app, the global options, `main`), `exits` (exit codes and `fail`), `consoles` (stdout
and stderr), `common` (the global options' values, loading the detector), and one module per command: `scan`,
`train`, `evaluate`, `explain`, `report`, `info`.

Imports: every other wing; nothing imports this one.  Only typer is imported at module level: torch and the
library are imported inside the commands, so --help and shell completion stay fast.
"""

from __future__ import annotations

from fakecheck.cli.app import app, main

__all__ = ["app", "main"]
