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


def time_axis(duration_s: float, cols: int, label_width: int) -> str:
    """Tick labels in seconds under a heatmap of `cols` columns."""
    line = [" "] * (cols + 8)
    step = max(1, cols // 6)
    for c in range(0, cols, step):
        label = f"{c / cols * duration_s:.1f}s"
        if c + len(label) <= cols + 8 and all(ch == " " for ch in line[c:c + len(label) + 1]):
            line[c:c + len(label)] = label
    return " " * label_width + "".join(line).rstrip()


def explanation_view(ex: Any, cols: int, heads: bool, colour: bool) -> Any:
    """Verdict header, heatmap rows (layers or heads), energy, P(fake) timeline, time axis, top segments."""
    import numpy as np
    from rich.console import Group

    from .explain import bin_to_width

    v = ex.verdict.to_dict()
    parts: list[Any] = [scan_table([v])]
    if ex.attention.size == 0:
        return Group(*parts)
    label_w = 12
    n = ex.attention.size
    cols = min(cols, n)

    def row(label: str, values: Any) -> Text:
        vals = np.asarray(values, dtype=np.float64)
        top = vals.max() if vals.size and vals.max() > 0 else 1.0
        t = Text(f"{label:<{label_w}}")
        t.append_text(heat_row(list(vals / top), colour))
        return t

    parts.append(Text(f"attention over time ({ex.mode}; darker = more attention)"))
    parts.append(row(ex.mode, bin_to_width(ex.attention, cols)))
    if heads:
        for li, layer in enumerate(bin_to_width(ex.heads, cols)):
            for hi, h in enumerate(layer):
                parts.append(row(f"L{li + 1} head {hi + 1}", h))
    else:
        for li, layer in enumerate(bin_to_width(ex.layers, cols)):
            parts.append(row(f"layer {li + 1}", layer))
    energy = bin_to_width(ex.energy_db, cols)
    parts.append(row("energy", np.clip((energy + 60) / 60, 0, 1)))
    windows = ex.verdict.windows
    if len(windows) > 1:
        grid = np.zeros(n)
        for w in windows:
            a, b = int(w.start_s / ex.token_seconds), int(np.ceil(w.end_s / ex.token_seconds))
            grid[a:b] = np.maximum(grid[a:b], w.p_fake)
        t = Text(f"{'P(fake)':<{label_w}}")
        t.append_text(heat_row(list(bin_to_width(grid, cols, "max")), colour))
        parts.append(t)
    parts.append(Text(time_axis(ex.verdict.duration_s or 0.0, cols, label_w)))
    if ex.segments:
        parts.append(Text("most-attended segments:"))
        for s in ex.segments:
            parts.append(Text(f"  {s.start_s:7.2f}-{s.end_s:7.2f} s   {s.attention:6.1%} of attention"))
    return Group(*parts)


def explanation_png(ex: Any, path: Any) -> None:
    """A report picture: attention rows, energy and P(fake) over time."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--png needs matplotlib: pip install 'fakecheck[plot]'") from None
    import numpy as np

    n = ex.attention.size
    if n == 0:
        raise ValueError(f"nothing to draw: {ex.verdict.verdict} ({ex.verdict.error})")
    dur = n * ex.token_seconds
    fig, axes = plt.subplots(3, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1]})
    rows = np.vstack([ex.attention / max(ex.attention.max(), 1e-12),
                      ex.layers / np.maximum(ex.layers.max(1, keepdims=True), 1e-12)])
    axes[0].imshow(rows, aspect="auto", cmap="magma", extent=(0, dur, rows.shape[0], 0), interpolation="nearest")
    axes[0].set_yticks(np.arange(rows.shape[0]) + 0.5, [ex.mode] + [f"layer {i + 1}" for i in range(len(ex.layers))])
    v = ex.verdict
    axes[0].set_title(f"{v.path}: {v.verdict}" + (f" (P(fake) {v.p_fake:.2f})" if v.p_fake is not None else ""))
    t = np.arange(n) * ex.token_seconds
    axes[1].plot(t, ex.energy_db, lw=0.8)
    axes[1].set_ylabel("dB")
    for w in v.windows:
        axes[2].hlines(w.p_fake, w.start_s, w.end_s, color="crimson")
    axes[2].set_ylim(0, 1)
    axes[2].set_ylabel("P(fake)")
    axes[2].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
