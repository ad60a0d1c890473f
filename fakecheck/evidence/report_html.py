"""One self-contained HTML page from a fakecheck.report.Report, and the index page of many.

Self-contained means: one file, no network.  Pictures and audio are data: URIs, the style and the
script are inline, no fonts are loaded, and a Content-Security-Policy forbids any other source, so
even a tag that slipped through could fetch nothing.  Every string that comes from the file or the
command line (names, paths, tags, errors) goes through `esc`; control characters are shown escaped
first (fakecheck.render.display_path), so a newline in a name cannot fake a line of the page.

The time panels share one x axis in an SVG viewBox PLOT_LEFT..PLOT_LEFT + PLOT_WIDTH; a click on it
seeks the audio, and a line follows the playhead.  Print CSS drops the player and keeps each figure
on one page.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import numpy as np

from fakecheck.analysis.assessment import NEUTRAL, clock, fmt_p, fmt_seconds, headline, is_long, span
from fakecheck.analysis.assessment import assessment as assessment_line
from fakecheck.evidence.render import display_path

if TYPE_CHECKING:
    from fakecheck.evidence.report import Report

VIEW_WIDTH = 1000  # SVG user units across the figure
PLOT_LEFT, PLOT_WIDTH = 90, 895  # the time axis inside it; labels sit left of PLOT_LEFT
WAVE_H, SPEC_H, PFAKE_H, ATT_ROW_H, AXIS_H, GAP = 70, 120, 110, 12, 24, 14
TIMELINE_POINTS = 2000  # P(fake) drawn as at most this many steps (the max of each bin: a fake cell stays visible)
CSP = ("default-src 'none'; img-src data:; media-src data:; style-src 'unsafe-inline'; "
       "script-src 'unsafe-inline'; base-uri 'none'; form-action 'none'")
VERDICT_COLOUR = {"REAL": "#1b7a3a", "FAKE": "#b3261e", "PARTIAL": "#b35c00", "INCONCLUSIVE": "#8a6d00",
                  "ERROR": "#7b1fa2", NEUTRAL: "#4a4a4a"}
CAVEAT = ("An automatic detector can be wrong in both directions; weigh this report with where the recording "
          "came from, who is speaking, and other checks.")

FIGURE_MIN_PX = 760  # the figure's narrowest drawing: its 11-unit labels stay >= 8 px tall (11 * 760 / 1000)
STYLE = """
:root { color-scheme: light; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.3em; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.05em; margin: 22px 0 6px; border-bottom: 1px solid #ddd; }
.verdict { font-size: 2em; font-weight: 700; letter-spacing: .02em; }
.verdict .detail { font-size: .5em; font-weight: 600; letter-spacing: 0; white-space: nowrap; }
td.path { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; word-break: keep-all;
          overflow-wrap: normal; }
.line { font-size: 1.1em; margin: 4px 0 8px; }
.caveat { background: #fff8e1; border-left: 4px solid #e0a800; padding: 8px 12px; }
.warn li { color: #8a4b00; }
table { border-collapse: collapse; width: 100%; }
td, th { text-align: left; padding: 3px 8px 3px 0; vertical-align: top; }
td.mono, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .9em; overflow-wrap: anywhere; }
figure { margin: 8px 0; overflow-x: auto; }
svg { width: 100%; height: auto; display: block; cursor: pointer; }
/* On a phone the figure keeps a readable width and scrolls sideways: at 390 px a 1000-unit viewBox would draw its
   11-unit labels about 4 px tall (issue 26); at FIGURE_MIN_PX they are 8 px or more. */
@media (max-width: 760px) { svg#timeline { min-width: FIGURE_MIN_PXpx; } .summary th { white-space: nowrap; } }
svg text { font: 11px system-ui, sans-serif; fill: #333; }
audio { width: 100%; margin: 8px 0; }
button.seek { font: inherit; border: 1px solid #aaa; border-radius: 4px; background: #f6f6f6; cursor: pointer; }
.note { color: #555; font-size: .9em; }
@media (max-width: 600px) { body { font-size: 14px; padding: 8px; } .verdict { font-size: 1.6em; } }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  audio, button.seek, .noprint { display: none; }
  figure, table, .caveat { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""
STYLE = STYLE.replace("FIGURE_MIN_PX", str(FIGURE_MIN_PX))  # CSS braces keep this out of an f-string

SCRIPT = """
(function () {
  var player = document.getElementById('player');
  var fig = document.getElementById('timeline');
  if (!player || !fig) { return; }
  var duration = parseFloat(fig.getAttribute('data-duration'));
  var left = parseFloat(fig.getAttribute('data-left')), width = parseFloat(fig.getAttribute('data-width'));
  var view = parseFloat(fig.getAttribute('data-view'));
  var head = document.getElementById('playhead');
  function seek(t) {
    player.currentTime = Math.max(0, Math.min(duration, t));
    var p = player.play();
    if (p && p.catch) { p.catch(function () {}); }
  }
  fig.addEventListener('click', function (e) {
    var r = fig.getBoundingClientRect();
    var x = (e.clientX - r.left) / r.width * view;
    seek((x - left) / width * duration);
  });
  document.querySelectorAll('button.seek').forEach(function (b) {
    b.addEventListener('click', function () { seek(parseFloat(b.getAttribute('data-t'))); });
  });
  player.addEventListener('timeupdate', function () {
    var x = left + width * player.currentTime / duration;
    head.setAttribute('x1', x); head.setAttribute('x2', x); head.setAttribute('visibility', 'visible');
  });
})();
"""


def esc(text: Any) -> str:
    """Text from outside (a file, a tag, a command line) made safe for HTML text and attribute values."""
    return html.escape(display_path(str(text)), quote=True)


def data_uri(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def _x(t: float, duration: float) -> float:
    return PLOT_LEFT + PLOT_WIDTH * (t / duration if duration > 0 else 0.0)


def ticks(duration: float, n: int = 8) -> list[float]:
    """Round tick times from 0 to the end, the end always labelled (a 604 s file ends at 10:04)."""
    if duration <= 0:
        return [0.0]
    raw = duration / n
    step = min((s for s in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600) if s >= raw),
               default=raw)
    out = [float(t) for t in np.arange(0, duration, step)]
    if out and duration - out[-1] < 0.4 * step:
        out.pop()  # too close to the end label
    return out + [duration]


def timeline_points(p: np.ndarray, speech: np.ndarray, token_s: float) -> list[tuple[float, float, float]]:
    """(start_s, end_s, P(fake)) steps of the speech cells, at most TIMELINE_POINTS (max within a bin)."""
    n = len(p)
    if n == 0:
        return []
    vals = np.where(speech, p, np.nan)
    edges = np.linspace(0, n, min(n, TIMELINE_POINTS) + 1).astype(int)
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        chunk = vals[a:max(b, a + 1)]
        if np.isfinite(chunk).any():
            out.append((a * token_s, b * token_s, float(np.nanmax(chunk))))
    return out


def figure_svg(r: Report) -> str:
    """Waveform, spectrogram, P(fake) with threshold and segments, attention rows: one time axis."""
    v = r.explanation.verdict
    duration = r.facts.duration_s if r.facts else (v.duration_s or 0.0)
    parts: list[str] = []
    y = 0

    def label(text: str, top: float, h: float) -> None:
        parts.append(f'<text x="{PLOT_LEFT - 8}" y="{top + h / 2 + 4:.1f}" text-anchor="end">{esc(text)}</text>')

    # waveform
    env = r.waveform
    if env.shape[1]:
        peak = max(float(np.abs(env).max()), 1e-9)
        cols = env.shape[1]
        xs = PLOT_LEFT + PLOT_WIDTH * (np.arange(cols) + 0.5) / cols
        mid = y + WAVE_H / 2
        top = mid - env[1] / peak * (WAVE_H / 2 - 2)
        bottom = mid - env[0] / peak * (WAVE_H / 2 - 2)
        pts = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs, top, strict=True))
        pts += " " + " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(xs[::-1], bottom[::-1], strict=True))
        parts.append(f'<polygon points="{pts}" fill="#3b5b92"/>')
        label("waveform", y, WAVE_H)
        y += WAVE_H + GAP
    # spectrogram
    if r.spectrogram_png:
        parts.append(f'<image x="{PLOT_LEFT}" y="{y}" width="{PLOT_WIDTH}" height="{SPEC_H}" '
                     f'preserveAspectRatio="none" href="{data_uri("image/png", r.spectrogram_png)}"/>')
        parts.append(f'<text x="{PLOT_LEFT - 8}" y="{y + 10}" text-anchor="end">8 kHz</text>')
        parts.append(f'<text x="{PLOT_LEFT - 8}" y="{y + SPEC_H}" text-anchor="end">0</text>')
        label("spectrogram", y, SPEC_H)
        y += SPEC_H + GAP
    # P(fake) timeline
    tl = v.timeline
    p_top = y
    if tl is not None and len(tl.p_fake):
        def py(p: float) -> float:
            return p_top + PFAKE_H * (1 - p)

        parts.append(f'<rect x="{PLOT_LEFT}" y="{p_top}" width="{PLOT_WIDTH}" height="{PFAKE_H}" fill="#fafafa" '
                     'stroke="#ccc"/>')
        for a, b, p in timeline_points(tl.p_fake, tl.speech, tl.token_s):
            x0, x1 = _x(a, duration), max(_x(b, duration), _x(a, duration) + 0.4)
            fill = "#c0392b" if p >= v.threshold else "#7f8c8d"
            parts.append(f'<rect x="{x0:.1f}" y="{py(p):.1f}" width="{x1 - x0:.1f}" '
                         f'height="{p_top + PFAKE_H - py(p):.1f}" fill="{fill}"/>')
        ty = py(v.threshold)
        parts.append(f'<line x1="{PLOT_LEFT}" x2="{PLOT_LEFT + PLOT_WIDTH}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#000" '
                     'stroke-dasharray="5,4"/>')
        parts.append(f'<text x="{PLOT_LEFT + PLOT_WIDTH - 4}" y="{ty - 4:.1f}" text-anchor="end">threshold '
                     f'{v.threshold:.2f}</text>')
        for p in (0.0, 1.0):
            parts.append(f'<text x="{PLOT_LEFT - 4}" y="{py(p) + 4:.1f}" text-anchor="end">{p:.0f}</text>')
        label("P(fake)", p_top, PFAKE_H)
        y += PFAKE_H + GAP
    # attention rows
    if r.attention_png:
        h = ATT_ROW_H * len(r.attention_rows)
        parts.append(f'<image x="{PLOT_LEFT}" y="{y}" width="{PLOT_WIDTH}" height="{h}" preserveAspectRatio="none" '
                     f'href="{data_uri("image/png", r.attention_png)}"/>')
        for i, name in enumerate(r.attention_rows):
            parts.append(f'<text x="{PLOT_LEFT - 8}" y="{y + ATT_ROW_H * (i + 0.5) + 4:.1f}" text-anchor="end" '
                         f'font-size="10">{esc(name)}</text>')
        y += h + GAP
    # fake segments across every panel, then the time axis and the playhead
    for a, b in v.fake_segments:
        x0, x1 = _x(a, duration), _x(b, duration)
        parts.insert(0, f'<rect x="{x0:.1f}" y="0" width="{max(x1 - x0, 1):.1f}" height="{y}" fill="#f39c12" '
                        f'opacity="0.25"><title>fake segment {a:.1f}-{b:.1f} s</title></rect>')
    long = duration >= 60
    for t in ticks(duration):
        x = _x(t, duration)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y - GAP}" y2="{y - GAP + 5}" stroke="#333"/>')
        anchor = "end" if t == duration else "middle" if t > 0 else "start"
        parts.append(f'<text x="{x:.1f}" y="{y - GAP + 17}" text-anchor="{anchor}">{clock(t, long)}'
                     f'{"" if long else " s"}</text>')
    y += AXIS_H - GAP + 10
    parts.append(f'<line id="playhead" x1="{PLOT_LEFT}" x2="{PLOT_LEFT}" y1="0" y2="{y - AXIS_H}" stroke="#0066cc" '
                 'stroke-width="1.5" visibility="hidden"/>')
    return (f'<svg id="timeline" viewBox="0 0 {VIEW_WIDTH} {y}" role="img" aria-label="time panels" '
            f'data-duration="{duration:.3f}" data-left="{PLOT_LEFT}" data-width="{PLOT_WIDTH}" '
            f'data-view="{VIEW_WIDTH}">{"".join(parts)}</svg>')


def _rows(pairs: Sequence[tuple[str, str]]) -> str:
    return "".join(f"<tr><th>{esc(k)}</th><td class=\"mono\">{v}</td></tr>" for k, v in pairs)


def render(r: Report) -> str:
    """The whole page, as text."""
    ex = r.explanation
    v = ex.verdict
    row = v.to_dict(with_windows=False)
    name = v.path.rsplit("/", 1)[-1]
    big = headline(row)
    head = [f'<div class="verdict" id="headline" style="color:{VERDICT_COLOUR.get(big.tone, "#333")}">'
            f'{esc(big.word)}' + (f' <span class="detail">{esc(big.detail)}</span>' if big.detail else "") + "</div>",
            f'<p class="line" id="assessment">{esc(assessment_line(row))}</p>']
    facts = []
    if v.p_fake is not None:
        facts.append(("P(fake)", f"{fmt_p(v.p_fake, v.threshold)} (threshold {v.threshold:.2f}: at or above it the "
                                 "clip as a whole reads synthetic)"))
        facts.append(("confidence", esc(v.confidence or "-")))
    if v.error:
        facts.append(("reason", esc(v.error)))
    body = [f"<h1>fakecheck evidence report: {esc(name)}</h1>", *head,
            f'<table class="summary">{_rows(facts)}</table>' if facts else ""]
    if v.warnings:
        body.append("<h2>Warnings: conditions that make this verdict less reliable</h2><ul class=\"warn\">"
                    + "".join(f"<li>{esc(w)}</li>" for w in v.warnings) + "</ul>")
    body.append(f'<p class="caveat"><strong>Evidence, not proof.</strong> {esc(CAVEAT)}</p>')
    if r.audio_bytes:
        body.append("<h2>Listen</h2>"
                    f'<audio id="player" controls preload="metadata" src="{data_uri(r.audio_mime, r.audio_bytes)}">'
                    "</audio>"
                    f'<p class="note">{esc(r.audio_note)}. Click anywhere on the panels below to play from '
                    "that moment.</p>")
    if r.facts and (r.waveform.shape[1] or v.timeline is not None):
        body.append("<h2>Where in time</h2><figure>" + figure_svg(r) + "<figcaption class=\"note\">"
                    "Top to bottom on one time axis: the waveform; the spectrogram (0-8 kHz, brighter = louder); "
                    f"P(fake) {esc(r.timeline_step)} of speech (red at or above the threshold, "
                    "dashed line; silence and non-speech are blank); and the attention view: "
                    f"<strong>where the model looked ({esc(ex.map_name)}, {esc(ex.mode)}), not what is fake</strong>, "
                    "each row scaled to its own maximum. Orange bands: fake segments.</figcaption></figure>")
    if v.fake_segments and v.timeline is not None:
        from fakecheck.analysis.segments import mean_p

        tl = v.timeline
        long = is_long(v.duration_s)
        seg_rows = "".join(
            f"<tr><td>{span(a, b, long)}</td><td>{fmt_seconds(b - a)}</td>"
            f"<td>{mean_p(tl.p_fake, tl.speech, a, b, tl.token_s):.2f}</td>"
            f'<td><button class="seek" data-t="{a:.2f}">play</button></td></tr>' for a, b in v.fake_segments)
        body.append("<h2>Fake segments</h2><p class=\"note\">Stretches of speech whose P(fake) is at or above the "
                    "threshold: places to listen to.</p><table><tr><th>time</th><th>length</th>"
                    f"<th>mean P(fake)</th><th></th></tr>{seg_rows}</table>")
    if r.facts:
        f = r.facts
        body.append("<h2>The file</h2><table>" + _rows([
            ("name", esc(f.path)), ("SHA-256", esc(f.sha256)), ("size", f"{f.size_bytes:,} bytes"),
            ("format", esc(f.format)), ("duration", f"{f.duration_s:.2f} s"),
            ("sample rate", f"{f.sample_rate} Hz"), ("channels", str(f.channels))]) + "</table>")
    else:
        body.append("<h2>The file</h2><table>" + _rows([("name", esc(v.path))]) + "</table>")
    body.append("<h2>How this was made</h2><table>" + _rows([
        ("model", esc(r.model_name)), ("model SHA-256", esc(r.model_sha256 or "-")),
        ("model format", f"fakecheck checkpoint v{r.model_format_version}"),
        ("fakecheck", esc(r.fakecheck_version)), ("created", esc(r.created + " (UTC)")),
        ("command", esc(r.command or "-"))]) + "</table>")
    body.append("<h2>Known limits of this model</h2><ul>" + "".join(f"<li>{esc(x)}</li>" for x in r.limits)
                + "</ul>")
    return page(f"fakecheck: {v.verdict}: {name}", "\n".join(body), script=bool(r.audio_bytes))


def page(title: str, body: str, script: bool = False) -> str:
    js = f"<script>{SCRIPT}</script>" if script else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style></head>\n<body>\n{body}\n{js}\n</body></html>\n")


def _link(href: str, text: str) -> str:
    return f'<a href="{html.escape(quote(href), quote=True)}">{text}</a>' if href else text


def breakable_path(path: str) -> str:
    """An escaped path that wraps only after its separators: `<wbr>` after each / (issue 26: a name must not
    break mid-word, as `h0077.w` / `av` did)."""
    return "/<wbr>".join(esc(part) for part in path.split("/"))


def index(entries: Sequence[tuple[str, dict[str, Any]]], command: str, created: str, limits: str = "",
          redacted: bool = False) -> str:
    """The index of `scan --report-dir`: one row per file, linking its report (href, scan row), with the
    verdict's headline (the lean, in a neutral tone, at low confidence), P(fake), confidence and every warning;
    `limits` is the model's limits line.  `redacted`: file names without their folders, and no command."""
    from fakecheck.evidence.report import REDACTED_COMMAND, file_name

    if redacted:
        entries = [(href, {**r, "path": file_name(r["path"])}) for href, r in entries]
        command = REDACTED_COMMAND
    def row_html(href: str, r: dict[str, Any]) -> str:
        big = headline(r)
        warnings = "; ".join(r.get("warnings") or []) or "-"
        return (f'<tr><td class="path">{_link(href, breakable_path(r["path"]))}</td>'
                f'<td style="color:{VERDICT_COLOUR.get(big.tone, "#333")}"><strong>{esc(big.word)}</strong></td>'
                f'<td>{esc(r.get("confidence") or "-")}</td><td>{fmt_p(r.get("p_fake"), r.get("threshold"))}</td>'
                f"<td>{esc(warnings)}</td><td>{esc(assessment_line(r))}</td></tr>")

    rows = "".join(row_html(href, r) for href, r in entries)
    limits_html = f'<p class="note" id="limits">{esc(limits)}</p>' if limits else ""
    body = (f"<h1>fakecheck evidence reports ({len(entries)} files)</h1>"
            f'<p class="caveat"><strong>Evidence, not proof.</strong> {esc(CAVEAT)}</p>{limits_html}'
            "<table><tr><th>file</th><th>verdict</th><th>confidence</th><th>P(fake)</th><th>warnings</th>"
            f"<th>assessment</th></tr>{rows}</table><p class=\"note\">{esc(command)} &middot; {esc(created)} (UTC)</p>")
    return page("fakecheck evidence reports", body)
