"""The dict round trip shared by the settings dataclasses that checkpoints store.

A checkpoint is data (plain dicts), so each settings class turns into a dict and back; a key the
class does not know means the file was written by another version, and is refused by name.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar, TypeVar

S = TypeVar("S", bound="Settings")


class Settings:
    """Mixin for frozen dataclasses: `to_dict` and a strict `from_dict`."""

    KIND: ClassVar[str] = ""  # named in the error for unknown keys: "unknown {KIND} settings [...]"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[S], d: dict[str, Any]) -> S:
        unknown = set(d) - set(cls.__dataclass_fields__)  # type: ignore[attr-defined]
        if unknown:
            raise ValueError(f"unknown {cls.KIND} settings {sorted(unknown)}")
        return cls(**d)
