"""Pure functions from results to Rich renderables or plain text (for pipes and NO_COLOR)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from fakecheck.analysis.assessment import (  # noqa: F401  (renderers and tests use them from here)
    NEUTRAL,
    assessment,
    clock,
    fmt_p,
    headline,
    is_long,
    span,
)

VERDICT_STYLE = {"REAL": "bold green", "FAKE": "bold red", "PARTIAL": "bold dark_orange", "INCONCLUSIVE": "bold yellow",
                 "ERROR": "bold magenta"}
SEGMENTS_SHOWN = 2  # fake segments listed in a table cell; the rest are counted
LABEL_WIDTH = 12  # explain's row labels; heat-map columns fill the rest of the line
ASCII_RAMP = " .:-=+*#%@"  # 10 levels, light to dark: readable without colour


def display_path(path: str) -> str:
    """A path with control characters made visible, so a newline in a name cannot fake a row."""
    return path.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 or c == "\x7f" for c in path) else path


def fmt_segments(row: dict[str, Any]) -> str:
    """'3.2-6.1 s, 9.0-9.8 s (+2)' in a short file, '4:06-4:12, 7:30-7:33' in a file of a minute or more (the
    file's one time format), or '-' without fake segments."""
    segs = row.get("fake_segments") or []
    if not segs:
        return "-"
    long = is_long(row.get("duration_s"))
    shown = ", ".join(span(a, b, long) for a, b in segs[:SEGMENTS_SHOWN])
    return shown + (f" (+{len(segs) - SEGMENTS_SHOWN})" if len(segs) > SEGMENTS_SHOWN else "")


def fmt_duration(d: float | None) -> str:
    """Seconds with one decimal under a minute; m:ss from a minute, h:mm:ss past an hour (one format per file)."""
    if d is None:
        return "-"
    return f"{d:.1f} s" if not is_long(d) else clock(d, True)


def scan_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False, header_style="bold")
    for name, justify in (("file", "left"), ("duration", "right"), ("verdict", "left"), ("P(fake)", "right"),
                          ("fake segments", "right"), ("assessment", "left")):
        table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        table.add_row(
            escape(display_path(r["path"])), fmt_duration(r.get("duration_s")),
            verdict_text(r), fmt_p(r.get("p_fake"), r.get("threshold")),
            fmt_segments(r), escape(assessment(r)),
        )
    return table


def plain_row(r: dict[str, Any]) -> str:
    """verdict, P(fake), confidence, duration, fake segments, path, '# assessment' (tab-separated; the
    path comes after the fixed fields so that spaces in names stay parseable)."""
    return (f"{r['verdict']}\t{fmt_p(r.get('p_fake'), r.get('threshold'))}\t{r.get('confidence') or '-'}\t"
            f"{fmt_duration(r.get('duration_s'))}\t{fmt_segments(r)}\t{display_path(r['path'])}\t"
            f"# {assessment(r)}")


def validation_figure(metrics: dict[str, Any], provenance: dict[str, Any]) -> str:
    """The checkpoint's one EER, said as what it measured: '29% equal error rate on held-out generators' only
    when its validation held out every generator it trained on (issue 26: one figure, from the checkpoint)."""
    from fakecheck.model.checkpoint import held_out_generators

    eer = metrics.get("eer")
    if not isinstance(eer, float):
        return "an untested model"
    held_out = held_out_generators(provenance)
    if held_out:
        return f"{eer:.0%} equal error rate on held-out generators"
    if held_out is False:
        return (f"{eer:.0%} equal error rate on a validation split that shares generators with training "
                "(it says nothing about unseen generators)")
    return f"{eer:.0%} equal error rate on its validation data"


def limits_line(metrics: dict[str, Any], provenance: dict[str, Any] | None = None) -> str:
    """The model's known limits, once per run (README, Limitations)."""
    figure = validation_figure(metrics, provenance or {})
    return (f"note: {figure}; unseen generators are often missed and phone or compressed audio is less reliable. "
            "A verdict is evidence, not proof (README: Limitations).")


def summary_line(counts: dict[str, int], wall_s: float, audio_s: float, skipped: int) -> str:
    from fakecheck.analysis.verdict import VERDICTS

    parts = [f"{counts.get(v, 0)} {v.lower()}" for v in VERDICTS]
    speed = f"{audio_s / wall_s:.0f}x real time" if wall_s > 0 else "-"
    extra = f", {skipped} non-audio skipped" if skipped else ""
    total = sum(counts.values())
    files = "file" if total == 1 else "files"
    return f"{total} {files}: {', '.join(parts)}{extra} | {wall_s:.1f} s wall, {audio_s:.0f} s audio, {speed}"


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
    """Tick labels in seconds under a heatmap of `cols` columns; the last label is the end of the file,
    flush with the last column (a 604 s file ends at 604.0s)."""
    line = [" "] * cols  # labels stay inside the heat map's columns: the line is no wider than a row
    end = f"{duration_s:.1f}s"
    if len(end) <= cols:
        line[cols - len(end):] = end
    step = max(1, cols // 6)
    for c in range(0, cols, step):
        label = f"{c / cols * duration_s:.1f}s"
        # room for the label and one space on each side, clear of every label already placed
        if c + len(label) < cols - len(end) and all(ch == " " for ch in line[max(0, c - 1):c + len(label) + 1]):
            line[c:c + len(label)] = label
    return " " * label_width + "".join(line).rstrip()


P_DIGITS = "0123456789"  # P(fake) in tenths: its own glyphs, not the attention ramp's


def p_digit(p: float) -> str:
    """0..1 -> '0'..'9' (the tenth it falls in; 1.0 is '9')."""
    return P_DIGITS[min(9, max(0, int(p * 10)))]


def verdict_text(r: dict[str, Any]) -> Text:
    """The verdict word of a row in its colour, or at low confidence its lean ("leans FAKE") unstyled: red and
    green are for medium and high confidence (issue 26)."""
    big = headline(r)
    return Text(big.word, style="" if big.tone == NEUTRAL else VERDICT_STYLE.get(r["verdict"], ""))


def verdict_block(v: dict[str, Any]) -> Any:
    """explain's header: the file, then verdict, P(fake), confidence and duration, then the assessment."""
    from rich.console import Group

    head = verdict_text(v)
    head.append(f"   P(fake) {fmt_p(v.get('p_fake'), v.get('threshold'))}   confidence {v.get('confidence') or '-'}   "
                f"{fmt_duration(v.get('duration_s'))}")
    lines = [Text(display_path(v["path"])), head, Text(assessment(v))]
    lines += [Text(f"warning: {w}") for w in v.get("warnings") or []]
    return Group(*lines)


def segment_mask(segments: Sequence[Sequence[float]], n: int, token_s: float) -> Any:
    """(n,) bool: the tokens inside any of the [start_s, end_s] segments."""
    import numpy as np

    mask = np.zeros(n, dtype=bool)
    for a, b in segments:
        mask[int(round(a / token_s)):int(round(b / token_s))] = True
    return mask


def explanation_view(ex: Any, cols: int, heads: bool, colour: bool) -> Any:
    """Verdict header, map rows (layers or heads), energy, P(fake) timeline, fake segments, time axis."""
    import numpy as np
    from rich.console import Group

    from fakecheck.analysis import segments
    from fakecheck.analysis.explain import bin_to_width

    v = ex.verdict.to_dict()
    parts: list[Any] = [verdict_block(v)]
    if ex.attention.size == 0:
        return Group(*parts)
    label_w = LABEL_WIDTH
    n = ex.attention.size
    cols = min(cols, n)

    def row(label: str, values: Any, scale_to_max: bool = True) -> Text:
        vals = np.asarray(values, dtype=np.float64)
        top = vals.max() if scale_to_max and vals.size and vals.max() > 0 else 1.0
        t = Text(f"{label:<{label_w}}")
        t.append_text(heat_row(list(vals / top), colour))
        return t

    more = "brighter = more" if colour else f"'{ASCII_RAMP[1]}' least .. '{ASCII_RAMP[-1]}' most"
    parts.append(Text(f"where the model looked: {ex.map_name} ({ex.mode}), not what is fake", no_wrap=True,
                      overflow="ellipsis"))
    parts.append(Text(f"{more}; each row scaled to its own maximum", no_wrap=True, overflow="ellipsis"))
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
    tl = ex.verdict.timeline
    if tl is not None and len(tl.p_fake):
        thr = v["threshold"]
        speech = bin_to_width(tl.speech[:n].astype(float), cols, "max") > 0
        p = bin_to_width(np.where(tl.speech, tl.p_fake, 0.0)[:n], cols, "max")
        parts.append(Text(f"P(fake) {ex.resolution(short=True)}, in tenths:", no_wrap=True, overflow="ellipsis"))
        parts.append(Text("'0' under 0.1 .. '9' 0.9 or more, blank: not speech", no_wrap=True, overflow="ellipsis"))
        digits = Text(f"{'P(fake)':<{label_w}}")
        for q, sp in zip(p, speech, strict=True):
            digits.append(p_digit(q) if sp else " ", style="bold red" if colour and sp and q >= thr else "")
        parts.append(digits)
        parts.append(Text(f"{f'>= {thr:.2f}':<{label_w}}" + "".join("+" if sp and q >= thr else "."
                                                                    for q, sp in zip(p, speech, strict=True))))
        marks = bin_to_width(segment_mask(v["fake_segments"], n, ex.token_seconds).astype(float), cols, "max")
        parts.append(Text(f"{'fake':<{label_w}}" + "".join("#" if m > 0 else "." for m in marks)))
    parts.append(Text(time_axis(ex.verdict.duration_s or 0.0, cols, label_w)))
    if v["fake_segments"]:
        parts.append(Text(f"fake segments (P(fake) >= {v['threshold']:.2f}):"))
        for a, b in v["fake_segments"]:
            mean = f"   mean P(fake) {segments.mean_p(tl.p_fake, tl.speech, a, b, tl.token_s):.2f}" if tl else ""
            parts.append(Text(f"  {a:7.2f}-{b:7.2f} s{mean}"))
    elif tl is not None:
        parts.append(Text("fake segments: none"))
    if ex.segments:
        parts.append(Text("largest occlusion drops:" if ex.map_name == "occlusion" else "most-attended segments:"))
        for s in ex.segments:
            parts.append(Text(f"  {s.start_s:7.2f}-{s.end_s:7.2f} s   {s.attention:6.1%} of {ex.map_name}"))
    return Group(*parts)


PNG_CAVEAT = "Evidence, not proof: an automatic detector can be wrong in both directions."


def png_header(ex: Any, model_sha256: str = "", file_sha256: str = "") -> list[str]:
    """The text lines above the PNG's panels: what the picture is of, the verdict line, warnings, the
    caveat and the hashes, so that the picture, shared alone, still says what it shows."""
    from fakecheck.analysis.assessment import assessment, fmt_p, headline

    v = ex.verdict
    row = v.to_dict(with_windows=False)
    lines = [f"{display_path(v.path)}: {headline(row).word}"
             + (f"   P(fake) {fmt_p(v.p_fake, v.threshold)} (threshold {v.threshold:.2f}), {v.confidence} confidence"
                if v.p_fake is not None else ""),
             assessment(row)]
    lines += [f"warning: {w}" for w in v.warnings]
    lines.append(PNG_CAVEAT)
    lines.append(f"file sha256 {file_sha256 or '-'}")
    lines.append(f"model {v.model} sha256 {model_sha256 or '-'}")
    return lines


def explanation_png(ex: Any, path: Any, model_sha256: str = "", file_sha256: str = "") -> None:
    """A report picture: the verdict line, warnings, caveat and hashes on top; then map rows with a colour
    bar (each row scaled to its maximum), energy, and the P(fake) timeline with the threshold line; fake
    segments shaded on every panel."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("--png needs matplotlib: pip install matplotlib") from None
    import numpy as np

    n = ex.attention.size
    if n == 0:
        raise ValueError(f"nothing to draw: {ex.verdict.verdict} ({ex.verdict.error})")
    dur = n * ex.token_seconds
    header = png_header(ex, model_sha256, file_sha256)
    head_in = 0.2 * len(header) + 0.2
    fig, axes = plt.subplots(3, 1, figsize=(10, 5.5 + head_in), sharex=True,
                             gridspec_kw={"height_ratios": [3, 1, 1.4]}, layout="constrained")
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(rect=(0, 0, 1, 5.5 / (5.5 + head_in)))  # the header sits above the panels
    for i, line in enumerate(header):
        fig.text(0.01, 1 - (0.1 + 0.2 * i) / (5.5 + head_in), line, fontsize=9 if i else 11,
                 fontweight="bold" if i == 0 else "normal", va="top", family="monospace" if "sha256" in line
                 else None, color="#8a4b00" if line.startswith("warning") else "black")
    rows = np.vstack([ex.attention / max(ex.attention.max(), 1e-12),
                      ex.layers / np.maximum(ex.layers.max(1, keepdims=True), 1e-12)])
    image = axes[0].imshow(rows, aspect="auto", cmap="magma", extent=(0, dur, rows.shape[0], 0),
                           interpolation="nearest", vmin=0, vmax=1)
    axes[0].set_yticks(np.arange(rows.shape[0]) + 0.5, [ex.mode] + [f"layer {i + 1}" for i in range(len(ex.layers))])
    # One colour bar beside all three panels, so their time axes stay aligned.
    fig.colorbar(image, ax=axes.tolist(), label=f"{ex.map_name}, each row scaled to its maximum", pad=0.01,
                 fraction=0.03)
    axes[0].set_title(f"where the model looked ({ex.map_name}, {ex.mode}): not what is fake", fontsize=9)
    v = ex.verdict
    t = np.arange(n) * ex.token_seconds
    axes[1].plot(t, ex.energy_db, lw=0.8)
    axes[1].set_ylabel("dB")
    tl = v.timeline
    if tl is not None and len(tl.p_fake):
        p = np.where(tl.speech, tl.p_fake, np.nan)[:n]
        axes[2].step(t[: len(p)], p, where="post", color="crimson", lw=0.9, label=f"P(fake) {ex.resolution(True)}")
    else:
        for w in v.windows:
            axes[2].hlines(w.p_fake, w.start_s, w.end_s, color="crimson")
    axes[2].axhline(v.threshold, color="black", ls="--", lw=0.8, label=f"threshold {v.threshold:.2f}")
    axes[2].set_ylim(0, 1)
    axes[2].set_ylabel("P(fake)")
    axes[2].set_xlabel("seconds")
    axes[2].legend(loc="upper right", fontsize=7)
    for a, b in v.fake_segments:
        axes[0].axvspan(a, b, ymin=0.96, ymax=1.0, color="orange", lw=0, zorder=3)  # a band above the heat map
        for ax in axes[1:]:
            ax.axvspan(a, b, color="orange", alpha=0.25, lw=0)
    fig.text(0.01, 0.005, "shaded: fake segments (P(fake) at or above the threshold)", fontsize=7)
    fig.savefig(path, dpi=120)
    plt.close(fig)
