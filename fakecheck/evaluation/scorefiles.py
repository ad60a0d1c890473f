"""ASVspoof score and key files: write `trial score` lines, read score files and keys (no NumPy).

Sign: fakecheck's scores are higher = spoof; ASVspoof's files are higher = bona fide, so a written
score is negated, and a read one is negated unless the file says higher = spoof.

Key layouts (whitespace-separated; blank and ``#`` lines skipped), see :func:`read_key`:
``trial label``, ``trial label system`` (a free-form system name) and the ASVspoof protocols.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from typing import TextIO

_WHITESPACE = re.compile(r"\s")


def _trial_line(trial_id: str, score: float) -> str:
    """One ``<trial_id> <score>`` line in ASVspoof's sign (the negated spoof score)."""
    tid = _WHITESPACE.sub("_", str(trial_id))
    if not tid:
        raise ValueError("empty trial id")
    if not math.isfinite(score):
        raise ValueError(f"trial {tid}: score is {score}")
    asvspoof_score = -float(score) + 0.0  # + 0.0 turns -0.0 into 0.0: no "-0.000000" for a zero score
    return f"{tid} {asvspoof_score:.6f}\n"


def trial_id(path: str | os.PathLike[str], full_path: bool = False) -> str:
    """The trial name of a scored file: its utterance ID, the file name without its extension
    (``.../LA_E_1000001.flac`` -> ``LA_E_1000001``), as ASVspoof keys name trials; or the whole
    path with ``full_path``.  Whitespace becomes ``_`` when the line is written."""
    text = os.fspath(path)
    if full_path:
        return text
    name = os.path.basename(text)
    stem, dot, _ = name.rpartition(".")
    return stem if dot and stem else name


def duplicate_trials(ids: Sequence[str]) -> dict[str, int]:
    """{written trial id: count} of the ids that occur more than once (after the whitespace rule)."""
    counts: dict[str, int] = {}
    for tid in ids:
        key = _WHITESPACE.sub("_", tid)
        counts[key] = counts.get(key, 0) + 1
    return {k: n for k, n in counts.items() if n > 1}


def write_trial_scores(path_or_textio: str | os.PathLike[str] | TextIO, trials: Sequence[tuple[str, float]]) -> None:
    """Write a score file for the ASVspoof scoring scripts: one ``<trial_id> <score>`` line per trial.

    ``trials`` holds (trial id, score in OUR sign: higher = spoof).  The file follows ASVspoof's
    sign, higher = bona fide, so the written value is the NEGATED score, with ``%.6f``.  Each
    whitespace character in an id becomes ``_`` (the scripts split lines on whitespace).
    ``path_or_textio`` is a path (the file is overwritten) or an open text stream (written to,
    not closed).
    """
    lines = [_trial_line(tid, float(score)) for tid, score in trials]
    if isinstance(path_or_textio, str | os.PathLike):
        with open(os.fspath(path_or_textio), "w", encoding="utf-8", newline="\n") as f:
            f.writelines(lines)
    else:
        path_or_textio.writelines(lines)



# --------------------------------------------------------------------------- reading score and key files

_SHOWN = 5  # problems quoted in a TrialFileError; the rest are counted
_ATTACK = re.compile(r"^A{1,2}\d{2}$")  # ASVspoof attack ids: A01-A19 (2019/2021), A01-A32 (ASVspoof 5)


class TrialFileError(ValueError):
    """A score or key file could not be read; the message is one line meant for users."""


def _lines(path: str | os.PathLike[str]) -> list[tuple[int, list[str]]]:
    """(1-based line number, whitespace-split columns) of each non-blank line not starting with #."""
    try:
        with open(os.fspath(path), encoding="utf-8-sig") as f:
            return [(i, cols) for i, line in enumerate(f, 1) if (cols := line.split()) and not cols[0].startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise TrialFileError(f"cannot read {os.fspath(path)}: {exc}") from None


def _fail_on(path: str | os.PathLike[str], problems: list[str], what: str) -> None:
    if problems:
        more = len(problems) - _SHOWN
        shown = "; ".join(problems[:_SHOWN]) + (f"; and {more} more" if more > 0 else "")
        raise TrialFileError(f"{os.fspath(path)}: {len(problems)} line(s) are not {what}: {shown}")


def read_trial_scores(path: str | os.PathLike[str], higher_is_spoof: bool = False) -> dict[str, float]:
    """``{trial: score in OUR sign (higher = spoof)}`` from a score file.

    A line is ``trial ... score``: the trial id in column 1, the score in the last column, so both
    ``trial score`` (ASVspoof 2021/5 submissions, ``fakecheck scan --scores``) and clovaai/aasist's
    ``utt_id attack key score`` are read.  Scores are taken in ASVspoof's sign (higher = bona fide)
    and negated, unless ``higher_is_spoof``.  A first line whose last column is not a number is a
    header; blank lines and ``#`` lines are skipped.  A trial listed twice, or a score that is not a
    finite number, is an error.
    """
    scores: dict[str, float] = {}
    problems: list[str] = []
    for k, (line, cols) in enumerate(_lines(path)):
        if len(cols) < 2:
            problems.append(f"line {line}: needs at least 2 columns (trial score)")
            continue
        try:
            value = float(cols[-1])
        except ValueError:
            if k > 0:
                problems.append(f"line {line}: score {cols[-1]!r} is not a number")
            continue
        if not math.isfinite(value):
            problems.append(f"line {line}: score {cols[-1]!r} is not a finite number")
        elif cols[0] in scores:
            problems.append(f"line {line}: trial {cols[0]} is scored twice")
        else:
            scores[cols[0]] = value if higher_is_spoof else -value
    _fail_on(path, problems, "'trial score' lines")
    return scores


def read_key(path: str | os.PathLike[str]) -> dict[str, tuple[int, str]]:
    """``{trial: (label, system)}`` from a key file; label 1 = spoof, 0 = bona fide.

    Accepted layouts (whitespace-separated; blank and ``#`` lines skipped):

    * 2 columns ``trial label``; the label is any word :func:`fakecheck.datasets.parse_label` reads
      (bonafide, spoof, real, fake, 0, 1, ...);
    * 3 columns ``trial label system``, where column 2 is such a label word and column 3 is not
      ``bonafide``/``spoof``: the system is a free-form name (``elevenlabs``, ``my-vits``) that the
      per-system table uses; it is ignored on bona fide lines;
    * 3 or more columns, the ASVspoof protocols and keys: the trial (utterance id) in column 2 and
      the key ``bonafide`` or ``spoof`` in any later column: ASVspoof 2019 LA/PA CM protocols
      (``SPEAKER UTT - ATTACK KEY``), ASVspoof 2021 LA/DF ``trial_metadata.txt`` and ASVspoof 5
      ``.tsv`` protocols.  The system of a spoof trial is the first column that reads as an
      ASVspoof attack id (A01, A19, AA01...), else ``spoof``.

    A first line without a label is a header.  A trial listed twice, or a line with no label or with
    both ``bonafide`` and ``spoof``, is an error.
    """
    from fakecheck.evaluation.labels import parse_label

    key: dict[str, tuple[int, str]] = {}
    problems: list[str] = []
    for k, (line, cols) in enumerate(_lines(path)):
        system = ""
        if len(cols) == 2:
            trial, label = cols[0], parse_label(cols[1])
            rest: list[str] = []
        elif len(cols) == 3 and parse_label(cols[1]) is not None and cols[2].lower() not in ("bonafide", "spoof"):
            trial, label, rest, system = cols[0], parse_label(cols[1]), [], cols[2]
        elif len(cols) >= 3:
            trial, rest = cols[1], cols[2:]
            words = {c.lower() for c in rest} & {"bonafide", "spoof"}
            if len(words) > 1:
                problems.append(f"line {line}: says both bonafide and spoof")
                continue
            label = {"bonafide": 0, "spoof": 1}[words.pop()] if words else None
        else:
            trial, label, rest = cols[0], None, []
        if label is None:
            if k > 0:
                problems.append(f"line {line}: no bonafide or spoof label")
            continue
        if trial in key:
            problems.append(f"line {line}: trial {trial} is listed twice")
            continue
        attack = system or next((c for c in rest if _ATTACK.match(c)), "spoof")
        key[trial] = (label, attack if label == 1 else "bonafide")
    _fail_on(path, problems, "key lines")
    if not key:
        raise TrialFileError(f"{os.fspath(path)}: no labelled trials found")
    return key
