"""What the commands share: the global options' values, and loading the detector.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fakecheck.cli.consoles import consoles
from fakecheck.cli.exits import fail

if TYPE_CHECKING:
    from rich.console import Console

# int8 moved the bundled model's validation EER or flipped verdicts past the accuracy rule (README, Performance)
INT8_CAVEAT = ("note: --precision int8 failed fakecheck's accuracy rule with the bundled model: scores can differ "
               "from fp32 enough to flip verdicts near the threshold")
state: dict[str, Any] = {"debug": False}  # set by the global options (app.main_callback)



def load_detector(model: Path | None, device: str | None, threshold: float | None) -> Any:
    from fakecheck.analysis.detector import Detector
    from fakecheck.model.checkpoint import ModelLoadError, unverified_notice

    try:
        det = Detector.load(model, device=device, threshold=threshold, precision=state.get("precision"))
    except (ModelLoadError, ValueError) as exc:
        raise fail(str(exc)) from None
    if notice := unverified_notice(det.checkpoint):
        consoles()[1].print(notice, markup=False, highlight=False)
    if det.precision == "int8":
        consoles()[1].print(INT8_CAVEAT, markup=False, highlight=False)
    return det


def warn_duplicate_trials(err: Console, paths: Sequence[Any], full_path: bool) -> None:
    """One stderr line when two inputs would share a trial id in a score file (all lines are still written)."""
    from fakecheck.evaluation.scorefiles import duplicate_trials, trial_id

    dup = duplicate_trials([trial_id(p, full_path) for p in paths])
    if dup:
        first = next(iter(dup))
        err.print(f"warning: {len(dup)} trial IDs are not unique in the score file (e.g. {first!r} x{dup[first]}); "
                  "a scoring script joining on them will mix those trials up; use --scores-full-path", markup=False)
