"""Plain-language sentences about a verdict: the one line a scan row, explain, the PNG and the HTML
report all show.  Pure functions of a row (Verdict.to_dict()); no terminal, no markup.

Two promises, tested in tests/test_assessment.py:
* whenever a row lists fake segments, its line names them (length and place), whatever the verdict;
* a shown P(fake) never sits on the wrong side of the threshold for its verdict because of rounding
  (0.4996 next to REAL reads 0.499, not 0.500).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

SEGMENTS_NAMED = 3  # stretches named in one line, the longest; the rest are counted with their total length
LONG_FILE_S = 60.0  # files this long or longer give every time as m:ss; shorter ones in seconds
P_DECIMALS = 3
NEUTRAL = "neutral"  # the tone of a low-confidence headline: no red or green for a lean (issue 26)
SEPARATOR = " · "


@dataclass(frozen=True)
class Headline:
    """The big word of a verdict and what must stand beside it.  At low confidence the word is a lean ("leans
    FAKE") in a neutral tone; red and green (the verdict's own tone) are for medium and high confidence."""

    word: str  # "FAKE", or "leans FAKE" at low confidence
    detail: str  # "medium confidence · P(fake) 0.768"; "" for INCONCLUSIVE and ERROR
    tone: str  # the verdict (its colour) or NEUTRAL

    @property
    def text(self) -> str:
        return self.word + (SEPARATOR + self.detail if self.detail else "")


def headline(row: dict[str, Any]) -> Headline:
    """The headline of a scan row (Verdict.to_dict()): the word never stands without its confidence and P(fake),
    so a cropped screenshot still carries the doubt."""
    verdict, confidence, p = row["verdict"], row.get("confidence"), row.get("p_fake")
    if p is None:
        return Headline(verdict, "", verdict)
    detail = f"{confidence or 'unknown'} confidence{SEPARATOR}P(fake) {fmt_p(p, row.get('threshold'))}"
    if confidence == "low":
        return Headline(f"leans {verdict}", detail, NEUTRAL)
    return Headline(verdict, detail, verdict)


def fmt_p(p: float | None, threshold: float | None = None) -> str:
    """P(fake) to 3 decimals, rounded towards its own side of `threshold` when rounding would cross it."""
    if p is None:
        return "-"
    scale = 10 ** P_DECIMALS
    shown = round(p, P_DECIMALS)
    if threshold is not None and p < threshold <= shown:
        shown = math.floor(p * scale) / scale
    elif threshold is not None and shown < threshold <= p:
        shown = math.ceil(p * scale) / scale
    return f"{shown:.{P_DECIMALS}f}"


def clock(seconds: float, long: bool) -> str:
    """'4:46' in files of a minute or more, '3.6' (seconds, one decimal) in shorter ones."""
    if not long:
        return f"{seconds:.1f}"
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def span(a: float, b: float, long: bool) -> str:
    return f"{clock(a, long)}-{clock(b, long)}" + ("" if long else " s")


def fmt_seconds(s: float) -> str:
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"


def is_long(duration_s: float | None) -> bool:
    """A file of a minute or more: every time of it is m:ss (h:mm:ss past an hour); shorter, seconds."""
    return (duration_s or 0.0) >= LONG_FILE_S


def segments_phrase(segments: Sequence[Sequence[float]], duration_s: float | None) -> str:
    """'26 s at 4:46-5:12', or '30 s in 2 stretches: 4:46-5:12, 5:16-5:20': the longest SEGMENTS_NAMED stretches
    named, longest first; past that count, '(+N more, S s)' says how many and how long the others are."""
    long = is_long(duration_s)
    total = sum(b - a for a, b in segments)
    if len(segments) == 1:
        a, b = segments[0]
        return f"{fmt_seconds(total)} at {span(a, b, long)}"
    longest = sorted(segments, key=lambda s: (-(s[1] - s[0]), s[0]))
    named = ", ".join(span(a, b, long) for a, b in longest[:SEGMENTS_NAMED])
    rest = longest[SEGMENTS_NAMED:]
    more = f" (+{len(rest)} more, {fmt_seconds(sum(b - a for a, b in rest))})" if rest else ""
    return f"{fmt_seconds(total)} in {len(segments)} stretches: {named}{more}"


def warnings_phrase(warnings: Sequence[str]) -> str:
    """Every warning, shortest first, none dropped (issue 26: the one line people read hid the second one)."""
    return "; ".join(sorted(warnings, key=lambda w: (len(w), w)))


def assessment(row: dict[str, Any]) -> str:
    """One plain-language line: what the verdict means, what was found, and how far to trust it."""
    verdict, conf, warns = row["verdict"], row.get("confidence"), row.get("warnings") or []
    if verdict == "ERROR":
        return f"could not analyse: {row.get('error', '')}"
    if verdict == "INCONCLUSIVE":
        return f"no verdict: {row.get('error', '')}"
    segs = row.get("fake_segments") or []
    found = segments_phrase(segs, row.get("duration_s")) if segs else ""
    look = "looks" if len(segs) == 1 else "look"
    said = warnings_phrase(warns)
    why = said or "the score is close to the threshold"
    if verdict == "PARTIAL":
        text = f"partly synthetic: {found} {look} synthetic ({conf} confidence)"
        return text + (f"; {said}" if warns else "")
    lean = "synthetic" if verdict == "FAKE" else "genuine"
    head = f"unsure, leans {lean}: {why}" if conf == "low" else f"likely {lean} ({conf} confidence)"
    tail = f"; {said}" if warns and conf != "low" else ""
    if verdict == "REAL" and segs:
        # A listed segment must never sit beside a plain REAL: say it, and why it did not make PARTIAL.
        return f"REAL overall, but {found} {look} synthetic (too weak or short for PARTIAL); {head}{tail}"
    if segs:
        return f"{head}; {found} {look} synthetic{tail}"
    return head + tail


def resolution(token_head: bool, token_s: float, window_hop_s: float, window_s: float, short: bool = False) -> str:
    """What one step of the P(fake) timeline is: a token, or (a model without a token head, whose
    timeline repeats each window's score) a window step."""
    if token_head:
        return f"per {token_s * 1000:.0f} ms token"
    if short:
        return f"per {window_hop_s:g} s window step (no token head)"
    return (f"per {window_hop_s:g} s window step (this model has no token head: each step carries the score "
            f"of the {window_s:g} s windows over it)")
