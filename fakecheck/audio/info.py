"""What a file is (`AudioInfo`), the one error decoding raises, and what both decoders share: the accepted
sample rates, the `truncated` and `damaged` warnings, and the checks on decoded samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

MIN_SOURCE_RATE, MAX_SOURCE_RATE = 8_000, 192_000
# Containers libsndfile cannot read, as sniff names them -> (ffmpeg demuxer, name for users).  The
# demuxer is forced (-f), so ffmpeg never guesses a format (a playlist, a concat list) from the bytes.
FFMPEG_CONTAINERS = {"mp4": ("mov", "MP4/M4A/3GP"), "matroska": ("matroska", "WebM/Matroska"), "adts": ("aac", "AAC"),
                     "amr": ("amr", "AMR")}

DAMAGED = "damaged: the decoder reported errors in the stream"  # a C decoder's own error lines (e.g. libmpg123)
TRUNCATED = "truncated"  # the warning of a file whose header and payload disagree, or whose decoding stopped early
# Decoded audio this much shorter than the header's length counts as truncated.  libsndfile's length of an MP3
# without a Xing header is an estimate, 11 ms long on a CBR example; encoder padding is of that order too.
TRUNCATED_TOLERANCE_S = 0.1
TRUNCATED_TOLERANCE_SHARE = 0.01

_BLOCK_SECONDS = 10.0  # decode granularity when streaming


class AudioLoadError(Exception):
    """A file could not be turned into audio; the message is one line meant for users."""


@dataclass(frozen=True)
class AudioInfo:
    """What the container says about a file, before any decoding."""

    path: Path
    source_rate: int
    channels: int
    duration_s: float
    decoder: str  # "libsndfile" or "ffmpeg"
    demuxer: str = ""  # the ffmpeg demuxer forced for this file (decoder "ffmpeg")
    codec: str = ""  # libsndfile's subtype (PCM_16, MPEG_LAYER_III, OPUS...); "" for ffmpeg and memory input
    header_mismatch: bool = False  # the header's data length disagrees with the file (a WAV cut or over-long)


def _short_of_header(decoded_s: float, header_s: float) -> bool:
    return decoded_s < header_s - max(TRUNCATED_TOLERANCE_S, TRUNCATED_TOLERANCE_SHARE * header_s)


def _check_rate(rate: int) -> None:
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise AudioLoadError(
            f"sample rate {rate} Hz is outside the supported {MIN_SOURCE_RATE}-{MAX_SOURCE_RATE} Hz"
        )


def _finite(x: np.ndarray) -> np.ndarray:
    if not np.isfinite(x).all():
        raise AudioLoadError("audio contains NaN or Inf samples (corrupt float data)")
    return x


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:160]
