"""Evaluation bookkeeping shared by `fakecheck evaluate`: which trials got a score, why the others did
not, per-system intervals, and what the sign of the scores is.  Pure functions; no printing.

A trial is unscored when its verdict carries no score: an ERROR (nothing decoded) or an INCONCLUSIVE
(too little sound or speech to judge).  `score_all` scores the INCONCLUSIVE ones anyway, from the
windows the model saw (challenge protocols need a score for every trial); an ERROR never has one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

MIN_SYSTEM_TRIALS = 30  # spoof trials under which a per-system EER is marked: one trial moves it by > 3 points
SIGN_HINT_EER, SIGN_HINT_AUC = 0.5, 0.5

_REASON_END = re.compile(r" \(|: ")


def reason_kind(error: str) -> str:
    """The kind of a one-line error or INCONCLUSIVE reason, without its figures and details:
    'no speech found (0.3 s of speech detected; 1 s needed)' -> 'no speech found'."""
    return _REASON_END.split(error, maxsplit=1)[0].strip() or "unknown"


def trial_score(verdict: Any, score_all: bool = False) -> float | None:
    """The score of one analysed file: the verdict's clip score, or with `score_all` the mean score of the
    windows of an INCONCLUSIVE file (its speech windows when it has any).  None when nothing was scored."""
    if verdict.score is not None:
        return float(verdict.score)
    if not score_all or verdict.verdict != "INCONCLUSIVE" or not verdict.windows:
        return None
    chosen = [w.score for w in verdict.windows if w.speech] or [w.score for w in verdict.windows]
    return float(sum(chosen) / len(chosen))


def unscored_entry(path: str, verdict: Any) -> dict[str, str]:
    """One entry of evaluate's `failed` list."""
    return {"path": path, "verdict": verdict.verdict, "reason": reason_kind(verdict.error), "error": verdict.error}


def reason_counts(failed: Sequence[dict[str, str]]) -> dict[str, int]:
    """{reason: trials}, most frequent first."""
    return dict(Counter(f["reason"] for f in failed).most_common())


def unscored_line(failed: Sequence[dict[str, str]], total: int, score_all: bool) -> str:
    """The stderr line that accounts for every unscored trial, by reason."""
    counts = reason_counts(failed)
    parts = ", ".join(f"{n} {reason}" for reason, n in counts.items())
    line = f"{len(failed)} of {total} files could not be scored: {parts} (each is listed in --json `failed`)"
    if not score_all and any(f["verdict"] == "INCONCLUSIVE" for f in failed):
        line += "; --score-all scores the INCONCLUSIVE ones too"
    return line


def score_sign(score_file: bool, higher_is_spoof: bool) -> str:
    """What the input scores meant, for the JSON report (the metrics always use higher = spoof)."""
    if not score_file:
        return "higher = spoof (the model's logits)"
    if higher_is_spoof:
        return "higher = spoof (--higher-is-spoof: the file's scores were used as written)"
    return ("higher = bona fide (ASVspoof's sign: the file's scores were negated, so the report's score "
            "thresholds are the negated values)")


def sign_hint(eer: float, auc: float, score_file: bool, higher_is_spoof: bool) -> str:
    """A hint when the scores rank the classes the wrong way round; "" otherwise."""
    if not (eer > SIGN_HINT_EER or auc < SIGN_HINT_AUC):
        return ""
    worse = [f"EER {eer:.1%}"] * (eer > SIGN_HINT_EER) + [f"AUC {auc:.2f}"] * (auc < SIGN_HINT_AUC)
    figures = f"{' and '.join(worse)} {'are' if len(worse) > 1 else 'is'}"  # only the figures that are
    if score_file:
        flip = "without --higher-is-spoof" if higher_is_spoof else "with --higher-is-spoof"
        return (f"hint: {figures} worse than chance: the scores may have the opposite sign; "
                f"try again {flip}")
    return (f"hint: {figures} worse than chance: the model ranks these classes the wrong way round "
            "(are the labels swapped, or is the data far from what the model was trained on?)")


def mark_small_systems(per_system: dict[str, dict[str, Any]], minimum: int = MIN_SYSTEM_TRIALS) -> int:
    """Flag each system with under `minimum` spoof trials (`few_trials`); returns how many were flagged."""
    for d in per_system.values():
        d["few_trials"] = d["n"] < minimum
    return sum(d["few_trials"] for d in per_system.values())
