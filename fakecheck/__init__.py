"""fakecheck: tell genuine speech from synthetic speech, and show where the model looked.

This module stays cheap to import (no torch, no librosa): the CLI's --help and shell completion import it on
every keystroke.  The public API is loaded lazily, on first use:

* `Detector` (fakecheck.analysis.detector) and `explain_file` (fakecheck.analysis.explain);
* the modules the README's API section uses: `assessment` and `explain` (fakecheck.analysis), `report` and
  `report_html` (fakecheck.evidence).

The package's wings, and what each may import, are listed in docs/how-it-works.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fakecheck.version import __version__

__all__ = ["Detector", "__version__", "assessment", "explain", "explain_file", "report", "report_html"]

if TYPE_CHECKING:
    from fakecheck.analysis.detector import Detector
    from fakecheck.analysis.explain import explain_file

_LAZY_NAMES = {"Detector": "fakecheck.analysis.detector", "explain_file": "fakecheck.analysis.explain"}
_LAZY_MODULES = {"assessment": "fakecheck.analysis.assessment", "explain": "fakecheck.analysis.explain",
                 "report": "fakecheck.evidence.report", "report_html": "fakecheck.evidence.report_html"}


def __getattr__(name: str) -> Any:
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    if name in _LAZY_MODULES:
        return importlib.import_module(_LAZY_MODULES[name])
    raise AttributeError(f"module 'fakecheck' has no attribute {name!r}")
