"""Pure functions from results to Rich renderables or plain text (for pipes and NO_COLOR)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

VERDICT_STYLE = {"REAL": "bold green", "FAKE": "bold red", "INCONCLUSIVE": "bold yellow", "ERROR": "bold magenta"}
ASCII_RAMP = " .:-=+*#%@"  # 10 levels, light to dark: readable without colour


def display_path(path: str) -> str:
    """A path with control characters made visible, so a newline in a name cannot fake a row."""
    return path.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 or c == "\x7f" for c in path) else path


def fmt_p(p: float | None) -> str:
    return "-" if p is None else f"{p:.3f}"


def fmt_segment(row: dict[str, Any]) -> str:
    s, e = row.get("suspicious_start_s"), row.get("suspicious_end_s")
    return "-" if s is None or e is None else f"{s:.1f}-{e:.1f} s"


def fmt_duration(d: float | None) -> str:
    if d is None:
        return "-"
    return f"{d:.1f} s" if d < 600 else f"{int(d // 3600)}:{int(d % 3600 // 60):02d}:{int(d % 60):02d}"


def verdict_cell(row: dict[str, Any]) -> str:
    return row["verdict"] + (f" ({row['error']})" if row.get("error") else "")


def scan_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name, justify in (("file", "left"), ("duration", "right"), ("verdict", "left"),
                          ("P(fake)", "right"), ("suspicious", "right")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        table.add_row(
            escape(display_path(r["path"])), fmt_duration(r.get("duration_s")),
            Text(verdict_cell(r), style=VERDICT_STYLE.get(r["verdict"], "")), fmt_p(r.get("p_fake")),
            fmt_segment(r),
        )
    return table


def plain_row(r: dict[str, Any]) -> str:
    """verdict, P(fake), duration, suspicious segment, path (last, so spaces in names stay parseable)."""
    reason = f"\t# {r['error']}" if r.get("error") else ""
    return (f"{r['verdict']}\t{fmt_p(r.get('p_fake'))}\t{fmt_duration(r.get('duration_s'))}\t"
            f"{fmt_segment(r)}\t{display_path(r['path'])}{reason}")


def summary_line(counts: dict[str, int], wall_s: float, audio_s: float, skipped: int) -> str:
    parts = [f"{counts.get(v, 0)} {v.lower()}" for v in ("REAL", "FAKE", "INCONCLUSIVE", "ERROR")]
    speed = f"{audio_s / wall_s:.0f}x real time" if wall_s > 0 else "-"
    extra = f", {skipped} non-audio skipped" if skipped else ""
    total = sum(counts.values())
    return f"{total} files: {', '.join(parts)}{extra} | {wall_s:.1f} s wall, {audio_s:.0f} s audio, {speed}"


def ramp_char(v: float) -> str:
    """0..1 -> one character of ASCII_RAMP."""
    v = min(max(v, 0.0), 1.0)
    return ASCII_RAMP[min(len(ASCII_RAMP) - 1, int(v * len(ASCII_RAMP)))]


def heat_row(values: Sequence[float], colour: bool, style_hue: str = "red") -> Text:
    """One heatmap row: values 0..1, coloured blocks in a terminal, ASCII ramp otherwise."""
    if not colour:
        return Text("".join(ramp_char(v) for v in values))
    t = Text()
    for v in values:
        level = int(min(max(v, 0.0), 1.0) * 255)
        t.append(" ", style=f"on rgb({level},{level // 4},{max(0, 64 - level // 4)})")
    return t
