"""The two consoles of every command: results to stdout, progress and messages to stderr.

Plain text when piped or with NO_COLOR.  rich is imported on first use, not on the --help path.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def consoles() -> tuple[Console, Console]:
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    out = Console(no_color=no_color, highlight=False, soft_wrap=False)
    # soft_wrap: a message is one line whatever the terminal width (scripts grep stderr line by line).
    err = Console(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)
    return out, err
