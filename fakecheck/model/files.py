"""Where the bundled model files live: `fakecheck/models/` inside an installed wheel, `models/` of a source checkout."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the fakecheck package
WHEEL_MODELS = PACKAGE_DIR / "models"  # pyproject's force-include puts models/ here in the wheel
CHECKOUT_MODELS = PACKAGE_DIR.parent / "models"


def bundled_file(name: str) -> Path:
    """The bundled file `name`: the wheel's copy when it exists, else the source checkout's (which may not exist)."""
    packaged = WHEEL_MODELS / name
    return packaged if packaged.is_file() else CHECKOUT_MODELS / name
