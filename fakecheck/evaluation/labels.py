"""Label words: the one place that says which strings mean spoof (1) and bona fide (0)."""

from __future__ import annotations

BONAFIDE, SPOOF = 0, 1
_BONAFIDE_WORDS = frozenset({"bonafide", "bona-fide", "bona_fide", "bona fide", "real", "genuine", "0"})
_SPOOF_WORDS = frozenset({"spoof", "fake", "synthetic", "deepfake", "1"})


# --------------------------------------------------------------------------- helpers


def parse_label(text: str) -> int | None:
    """1 for a spoof word (spoof, fake, synthetic, deepfake, 1), 0 for a bona fide word
    (bonafide, bona-fide, bona_fide, real, genuine, 0), None otherwise.  Case-insensitive."""
    word = text.strip().lower()
    if word in _BONAFIDE_WORDS:
        return BONAFIDE
    if word in _SPOOF_WORDS:
        return SPOOF
    return None
