#!/usr/bin/env python3
"""Regenerate completions/ (bash, zsh, fish) from the fakecheck CLI with Typer's own machinery.

    python scripts/gen_completions.py           # rewrite the files that changed
    python scripts/gen_completions.py --check   # exit 1 if a committed file is stale

The scripts are exactly what `fakecheck --show-completion SHELL` prints: the same
Typer function (typer._completion_shared.get_completion_script), the same program
name and the same completion variable (_FAKECHECK_COMPLETE).  They hold no command
or option names: on each TAB the shell re-runs `fakecheck` with that variable set
and the CLI answers from its live definition, so they only go stale when Typer
changes its templates.

The wheel installs them (pyproject.toml, [tool.hatch.build.targets.wheel.shared-data]) as
    <prefix>/share/bash-completion/completions/fakecheck
    <prefix>/share/zsh/site-functions/_fakecheck
    <prefix>/share/fish/vendor_completions.d/fakecheck.fish
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COMPLETIONS = ROOT / "completions"
# completions/<file> -> shell, as named by Typer
FILES = {"fakecheck.bash": "bash", "_fakecheck": "zsh", "fakecheck.fish": "fish"}


def complete_var(prog_name: str) -> str:
    """The environment variable Typer's --show-completion and shell_complete use for `prog_name`."""
    return "_{}_COMPLETE".format(prog_name.replace("-", "_").upper())


def render() -> dict[str, str]:
    """{file name in completions/: script text}, byte-for-byte what --show-completion prints."""
    sys.path.insert(0, str(ROOT))  # the checkout's CLI, also when fakecheck is not installed
    try:
        from typer._completion_shared import get_completion_script

        from fakecheck.cli.app import app
    finally:
        sys.path.remove(str(ROOT))
    prog_name = app.info.name
    assert isinstance(prog_name, str) and prog_name, "the Typer app needs a name"
    # show_callback passes the script to click.echo, which adds the final newline.
    return {
        name: get_completion_script(prog_name=prog_name, complete_var=complete_var(prog_name), shell=shell) + "\n"
        for name, shell in FILES.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files and exit 1 instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for name, text in render().items():
        path = COMPLETIONS / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(name)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {path.relative_to(ROOT)}")
    if args.check and stale:
        print(f"stale: {', '.join(stale)}; run: python scripts/gen_completions.py", file=sys.stderr)
        return 1
    if not stale:
        print("completions/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
