"""Which rows validate and which train: source, class-stratified and held-out splits (no torch).

Kept apart from the training loop (fakecheck/train.py), which imports these and re-exports them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from fakecheck.training.datasets.rows import Row


class TrainingError(Exception):
    """Training cannot start or continue; one line for users."""


# -- data ------------------------------------------------------------------------------
def group_split(rows: Sequence[Row], val_fraction: float, seed: int) -> tuple[list[Row], list[Row]]:
    """Hold out whole sources, then drop from training every spoof system seen in validation.

    Sources (e.g. the repository a clip came from) are shuffled with `seed` and taken
    into validation until it holds `val_fraction` of the rows.  A generator that
    appears in validation is removed from training entirely, so validation measures
    unseen generators and unseen recording sources, never a re-encoded neighbour.
    """
    sources = sorted({r.source for r in rows})
    rng = np.random.default_rng(seed)
    rng.shuffle(sources)
    val_sources: set[str] = set()
    n_val = 0
    for s in sources:
        if n_val >= val_fraction * len(rows):
            break
        val_sources.add(s)
        n_val += sum(r.source == s for r in rows)
    val = [r for r in rows if r.source in val_sources]
    val_systems = {r.system for r in val if r.label == 1}
    train = [r for r in rows if r.source not in val_sources and not (r.label == 1 and r.system in val_systems)]
    return train, val


SPLIT_BY_SOURCE = "whole sources held out automatically"
MIN_VAL_PER_CLASS = 50  # below this many validation clips of a class, an EER moves by whole points per clip


def _has_both(rows: Sequence[Row]) -> bool:
    return len({r.label for r in rows}) == 2


def auto_split(rows: Sequence[Row], val_fraction: float, seed: int) -> tuple[list[Row], list[Row], str]:
    """The validation split when none is given: (train, validation, how it was made).

    Whole sources are held out (:func:`group_split`) when every class comes from at least two
    sources and that split leaves both classes on both sides.  Otherwise (a flat real/ + fake/
    folder, a path,label CSV, ASVspoof protocols whose only grouping is the attack id) the source
    says nothing about origin, and :func:`stratified_split` takes a share of each class instead.
    The third value says which, for the checkpoint's provenance and the user.
    """
    sources = [{r.source for r in rows if r.label == c} for c in (0, 1)]
    if all(len(s) >= 2 for s in sources):
        train, val = group_split(rows, val_fraction, seed)
        if _has_both(train) and _has_both(val):
            return train, val, SPLIT_BY_SOURCE
        why = "holding out whole sources left a class out of one side"
    elif len({r.source for r in rows}) == 1:
        why = "all clips share one source"
    else:
        why = "a class comes from one source only"
    train, val, grouped_by = stratified_split(rows, val_fraction, seed)
    return train, val, (f"stratified by class, {val_fraction:.0%} of each class held out at random, grouped by "
                        f"{grouped_by} (no usable source information: {why}); validation shares sources and "
                        "generators with training")


def stratified_split(rows: Sequence[Row], val_fraction: float, seed: int) -> tuple[list[Row], list[Row], str]:
    """Hold out about `val_fraction` of each class, keeping each group on one side.

    A group is a speaker where the rows name one (each speaker's clips stay together), else a
    file; when a class has fewer than two speakers, groups are files.  Groups are shuffled with
    `seed` and taken while they bring a class that is still short of its share
    (max(1, round(val_fraction * n)) clips) and no class that has reached it; a second pass fills
    a class still short.  Returns (train, validation, "speaker" | "file").
    """
    for c, name in ((0, "bona fide"), (1, "spoof")):
        if sum(r.label == c for r in rows) < 2:
            raise TrainingError(f"cannot hold out validation clips: the {name} class has fewer than 2 clips; "
                                "add data or pass --val")
    speakers = [{r.speaker for r in rows if r.label == c and r.speaker} for c in (0, 1)]
    by_speaker = all(len(s) >= 2 for s in speakers)
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.speaker if by_speaker and r.speaker else f"file:{r.path}", []).append(r)
    names = sorted(groups)
    np.random.default_rng(seed).shuffle(names)
    target = [max(1, round(val_fraction * sum(r.label == c for r in rows))) for c in (0, 1)]
    have = [0, 0]
    held: set[str] = set()
    for strict in (True, False):
        for g in names:
            if g in held:
                continue
            labels = {r.label for r in groups[g]}
            short = any(have[c] < target[c] for c in labels)
            if short and (not strict or all(have[c] < target[c] for c in labels)):
                held.add(g)
                for r in groups[g]:
                    have[r.label] += 1
    val = [r for g in names if g in held for r in groups[g]]
    train = [r for g in names if g not in held for r in groups[g]]
    if not (_has_both(train) and _has_both(val)):
        raise TrainingError("cannot split these clips so that training and validation both hold both classes "
                            "(a speaker covers too much of a class); pass --val")
    order = {id(r): i for i, r in enumerate(rows)}  # keep the input order (sorted by path) on each side
    return sorted(train, key=lambda r: order[id(r)]), sorted(val, key=lambda r: order[id(r)]), (
        "speaker" if by_speaker else "file")


def drop_held_out(extra: Sequence[Row], val: Sequence[Row], by_source: bool) -> list[Row]:
    """Training-only rows that cannot leak into validation: no held-out source (source splits), or
    no validation file or speaker (stratified splits, where sources are shared by design)."""
    if by_source:
        sources = {r.source for r in val}
        return [r for r in extra if r.source not in sources]
    paths, speakers = {r.path for r in val}, {r.speaker for r in val if r.speaker}
    return [r for r in extra if r.path not in paths and not (r.speaker and r.speaker in speakers)]


def held_out_summary(val_rows: Sequence[Row], shown: int = 6) -> str:
    """What a validation split holds, for the user: its sources and its spoof systems, the first `shown` of each by
    name (most clips first) and how many more, e.g. "3 sources (vctk 120, mls 40, libri 12; 172 clips), 2
    generators (xtts 60, vits 20)"."""
    def named(counts: Counter[str]) -> str:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        names = ", ".join(f"{name} {n}" for name, n in ranked[:shown])
        return names + (f", +{len(ranked) - shown} more" if len(ranked) > shown else "")

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'s' * (n != 1)}"

    sources = Counter(r.source for r in val_rows)
    systems = Counter(r.system for r in val_rows if r.label == 1)
    generators = f"{plural(len(systems), 'generator')} ({named(systems)})" if systems else "no generator"
    return f"{plural(len(sources), 'source')} ({named(sources)}; {plural(len(val_rows), 'clip')}), {generators}"
