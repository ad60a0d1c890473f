"""fakecheck: tell genuine speech from synthetic speech, and show where the model looked.

This module stays cheap to import (no torch, no librosa): the CLI's --help and
shell completion import it on every keystroke.  `Detector` is loaded lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"
__all__ = ["Detector", "__version__"]

if TYPE_CHECKING:
    from .inference import Detector


def __getattr__(name: str) -> Any:
    if name == "Detector":
        from .inference import Detector

        return Detector
    raise AttributeError(f"module 'fakecheck' has no attribute {name!r}")
