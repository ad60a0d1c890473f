"""`fakecheck explain`: where in time the evidence lies, as a heatmap, JSON or PNG."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from fakecheck.cli.common import load_detector
from fakecheck.cli.consoles import consoles
from fakecheck.cli.exits import EXIT_FAKE, EXIT_INPUT_ERROR, EXIT_OK, EXIT_WRITE_ERROR, fail


def explain(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="One audio file.")],
    mode: Annotated[str, typer.Option("--mode", help="rollout, last, layer:N or occlusion.")] = "rollout",
    heads: Annotated[bool, typer.Option("--heads", help="One heatmap row per attention head.")] = False,
    width: Annotated[int, typer.Option("--width", min=0, help="Total line width in characters (default: the terminal's).")] = 0,
    json_out: Annotated[str | None, typer.Option("--json", help="Write the explanation as JSON to FILE or -.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write a heatmap and timeline picture (needs matplotlib).")] = None,
    model: Annotated[Path | None, typer.Option("--model", help="Checkpoint (default: the bundled model).")] = None,
    device: Annotated[str | None, typer.Option("--device")] = None,
) -> None:
    """Show where the evidence lies in time: P(fake) over time, fake segments, attention, energy."""
    import json

    from fakecheck.analysis import explain as ex
    from fakecheck.analysis.verdict import FLAGGED
    from fakecheck.evidence import render

    if file.is_dir():
        raise fail(f"{file} is a folder: explain takes one file; for a folder use `fakecheck scan {file}` "
                    f"(or `fakecheck scan {file} --report-dir OUT` for an HTML report per file)")
    out, err = consoles()
    if width:
        out.width = width  # the lines are built to fit it: nothing wraps, in a terminal or a pipe
    det = load_detector(model, device, None)
    try:
        ex.parse_mode(mode, det.model.cfg.n_layers)
    except ValueError as exc:
        raise fail(str(exc)) from None
    result = ex.explain_file(det, file, mode)
    if json_out != "-":
        err.print(render.limits_line(det.checkpoint.metrics, det.checkpoint.provenance), markup=False, highlight=False, soft_wrap=True)
    if json_out:
        text = json.dumps(result.to_dict(), indent=2, ensure_ascii=False)
        if json_out == "-":
            typer.echo(text)
        else:
            try:
                Path(json_out).write_text(text + "\n", encoding="utf-8")
            except OSError as exc:
                raise fail(f"cannot write {json_out}: {exc.strerror}", EXIT_WRITE_ERROR) from None
    if png:
        try:
            from fakecheck.evidence.report import sha256_file

            try:
                file_sha = sha256_file(file)
            except OSError:  # unreadable: its ERROR verdict has no picture anyway (ValueError below)
                file_sha = ""
            render.explanation_png(result, png, det.checkpoint.sha256, file_sha)
            consoles()[1].print(f"picture written to {render.display_path(str(png))}", markup=False, highlight=False)
        except ImportError as exc:
            raise fail(str(exc)) from None
        except ValueError as exc:  # an ERROR/empty result has no picture; the verdict still prints
            _, err = consoles()
            err.print(f"--png skipped: {exc}", markup=False)
    if json_out != "-":
        colour = out.is_terminal and not os.environ.get("NO_COLOR")
        cols = max(20, out.width - render.LABEL_WIDTH - 1)
        out.print(render.explanation_view(result, cols, heads, colour))
    v = result.verdict
    raise typer.Exit(EXIT_INPUT_ERROR if v.verdict == "ERROR" else EXIT_FAKE if v.verdict in FLAGGED else EXIT_OK)
