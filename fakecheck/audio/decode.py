"""Decoding: every file becomes mono float32 at SAMPLE_RATE.

The format is read from the first bytes (`sniff`), never the extension.  Decoding is streamed: a file is
decoded in blocks, mixed down and resampled with an anti-aliasing filter (soxr), so a 3-hour file never sits in
memory whole.  libsndfile decodes the native formats; damaged files are salvaged up to the damage; containers
libsndfile cannot read go to ffmpeg with the demuxer forced.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.audio.ffmpeg import _probe_ffmpeg, _stream_ffmpeg
from fakecheck.audio.info import (
    _BLOCK_SECONDS,
    DAMAGED,
    FFMPEG_CONTAINERS,
    TRUNCATED,
    AudioInfo,
    AudioLoadError,
    _check_rate,
    _finite,
    _short,
    _short_of_header,
)

# Extensions treated as audio when scanning folders.  Anything else is skipped and counted.  Only the
# folder walk looks at extensions: how a file is decoded is decided by its first bytes (`sniff`).
AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".au", ".caf", ".w64",
     ".m4a", ".m4b", ".aac", ".mp4", ".webm", ".weba", ".mka",
     ".3gp", ".3g2", ".amr", ".awb"}  # phone voice memos: 3GPP (AAC or AMR inside) and raw AMR-NB/WB
)
_SALVAGE_FRAMES = 1024  # after a decoder error, read again in pieces this small to keep what decodes


T = TypeVar("T")
_FD2 = threading.Lock()  # one capture of the process's stderr at a time
log = logging.getLogger(__name__)  # decoder messages, one record per line: `scan --verbose` shows them


def quietly(path: Path, notes: set[str], fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """fn(*args, **kwargs) with what C decoders write to stderr (fd 2) kept off the terminal (issue 25: libmpg123
    printed its own lines into scans).  Error lines add DAMAGED to `notes`; every line goes to the log.
    The CLI moves Python's own stderr off fd 2 first (cli.consoles), so no message of ours is caught here."""
    with _FD2, tempfile.TemporaryFile() as caught:
        saved = os.dup(2)
        try:
            os.dup2(caught.fileno(), 2)
            return fn(*args, **kwargs)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            for line in caught.read(1 << 16).decode("utf-8", "replace").splitlines():
                if line.strip():
                    log.info("%s: %s", path, line.strip())
                    if "error" in line.lower():
                        notes.add(DAMAGED)


def check_readable(path: Path) -> None:
    """Refuse what is not a readable regular file, without blocking on FIFOs or devices."""
    try:
        st = os.stat(path)  # follows symlinks; a loop or a dangling link raises OSError
    except OSError as exc:
        if os.path.islink(path):
            raise AudioLoadError(f"broken or looping symlink ({exc.strerror})") from None
        raise AudioLoadError(f"cannot open: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise AudioLoadError("is a directory, not an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise AudioLoadError("not a regular file (FIFO, socket or device)")
    if st.st_size == 0:
        raise AudioLoadError("empty file (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioLoadError("permission denied")


def sniff(path: str | os.PathLike[str]) -> str:
    """What a file is, from its first bytes: a key of FFMPEG_CONTAINERS, or "native" for everything
    else (WAV, FLAC, Ogg, MP3, AIFF... and unknown content), which goes to libsndfile."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
            if head[:3] == b"ID3" and len(head) >= 10:  # an ID3v2 tag (MP3, sometimes raw AAC): skip it
                size = (head[6] & 0x7F) << 21 | (head[7] & 0x7F) << 14 | (head[8] & 0x7F) << 7 | (head[9] & 0x7F)
                f.seek(10 + size + (10 if head[5] & 0x10 else 0))
                head = f.read(16)
    except OSError as exc:
        raise AudioLoadError(f"cannot open: {exc.strerror}") from None
    if head[4:8] == b"ftyp":  # ISO base media: MP4, M4A, M4B, 3GP, MOV
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":  # EBML: WebM, Matroska
        return "matroska"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:  # ADTS sync (MPEG layer bits 00)
        return "adts"
    if head.startswith((b"#!AMR\n", b"#!AMR-WB\n")):  # RFC 4867 storage format (.amr, .awb)
        return "amr"
    return "native"


def riff_mismatch(path: str | os.PathLike[str]) -> bool:
    """True when a RIFF/WAVE file's `data` chunk disagrees with the file: it claims more bytes than the
    file holds (cut short), or bytes follow it that are not a chunk (the header claims too little).
    A size of 0 or 0xFFFFFFFF (written by a streaming encoder that could not seek back) is not a mismatch."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(12)
            if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return False
            pos = 12
            while pos + 8 <= size:
                f.seek(pos)
                cid, n = f.read(4), int.from_bytes(f.read(4), "little")
                if cid != b"data":
                    pos += 8 + n + (n & 1)
                    continue
                if n in (0, 0xFFFFFFFF):
                    return False
                if pos + 8 + n > size:
                    return True
                pos += 8 + n + (n & 1)
                while pos + 8 <= size:  # only well-formed chunks may follow the data
                    f.seek(pos)
                    cid, n = f.read(4), int.from_bytes(f.read(4), "little")
                    if not all(32 <= c < 127 for c in cid) or pos + 8 + n > size + 1:
                        return True
                    pos += 8 + n + (n & 1)
                return False
    except OSError:
        return False
    return False


def probe(path: str | os.PathLike[str]) -> AudioInfo:
    """Read the header of `path`; raise AudioLoadError with a one-line reason on failure.

    The decoder is chosen by the file's content (`sniff`), never by its extension.
    """
    path = Path(path)
    check_readable(path)
    kind = sniff(path)
    if kind in FFMPEG_CONTAINERS:
        return _probe_ffmpeg(path, kind)
    import soundfile as sf

    try:
        info = quietly(path, set(), sf.info, str(path))  # a header cannot be damage of the audio: logged only
    except Exception as exc:  # libsndfile reports corrupt and unknown formats alike
        if _flac_ends_in_metadata(path):
            raise AudioLoadError(f"{TRUNCATED}: the FLAC file ends inside its header, before any audio") from None
        raise AudioLoadError(f"not decodable audio (libsndfile: {_sndfile_reason(exc)})") from None
    if info.frames <= 0 or info.samplerate <= 0 or info.channels <= 0:
        raise AudioLoadError("no audio frames in file")
    _check_rate(info.samplerate)
    return AudioInfo(path, int(info.samplerate), int(info.channels), info.frames / info.samplerate, "libsndfile",
                     codec=str(info.subtype), header_mismatch=riff_mismatch(path))


def stream(path: str | os.PathLike[str], info: AudioInfo | None = None,
           notes: set[str] | None = None) -> Iterator[np.ndarray]:
    """Yield consecutive blocks of mono float32 audio at SAMPLE_RATE.

    Raises AudioLoadError for undecodable data and for NaN/Inf samples: a
    corrupted sample must never reach a verdict silently.  A file that stops
    decoding part-way yields what decoded before the damage; that, a header that
    disagrees with the file, and audio shorter than the header says add TRUNCATED
    to `notes` (when given), for the verdict's warnings.
    """
    info = info or probe(path)
    notes = notes if notes is not None else set()
    if info.header_mismatch:
        notes.add(TRUNCATED)
    if info.decoder == "ffmpeg":
        yield from _stream_ffmpeg(info, notes)
        return
    import soxr

    resampler = None if info.source_rate == SAMPLE_RATE else soxr.ResampleStream(
        info.source_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ"
    )
    for data, last in _native_blocks(info, notes):
        mono = _finite(_mixdown(data) if data.shape[1] > 1 else data[:, 0])
        # Checked again after resampling: the filter can overshoot float32 near its limit.
        out = mono if resampler is None else _finite(resampler.resample_chunk(mono, last=last))
        if len(out):
            yield np.ascontiguousarray(out, dtype=np.float32)


def _flac_ends_in_metadata(path: Path) -> bool:
    """True for a FLAC file cut inside its metadata blocks (nothing of the audio is left)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            if f.read(4) != b"fLaC":
                return False
            pos = 4
            while True:
                head = f.read(4)
                if len(head) < 4:
                    return True
                pos += 4 + int.from_bytes(head[1:4], "big")
                if pos > size:
                    return True
                if head[0] & 0x80:  # the last metadata block
                    return pos >= size
                f.seek(pos)
    except OSError:
        return False


def _native_blocks(info: AudioInfo, notes: set[str]) -> Iterator[tuple[np.ndarray, bool]]:
    """(frames, channels) float32 blocks at the source rate from libsndfile, each with "is the last".

    On a decoder error after the start, the rest is read again in small pieces up to the damage
    (libsndfile loses a whole block otherwise), and TRUNCATED is noted."""
    import soundfile as sf

    block = int(_BLOCK_SECONDS * info.source_rate)
    done = 0
    try:
        with quietly(info.path, notes, sf.SoundFile, str(info.path)) as f:
            while True:
                data = quietly(info.path, notes, f.read, block, dtype="float32", always_2d=True)
                done += len(data)
                last = len(data) < block
                yield data, last
                if last:
                    break
    except Exception as exc:
        rest = quietly(info.path, notes, _salvage, info.path, done)
        if done + len(rest) == 0:
            raise AudioLoadError(f"decoding failed (libsndfile: {_short(exc)})") from None
        notes.add(TRUNCATED)
        yield (rest if len(rest) else np.zeros((0, info.channels), dtype=np.float32)), True
        return
    if _short_of_header(done / info.source_rate, info.duration_s):
        notes.add(TRUNCATED)


def _salvage(path: Path, skip: int) -> np.ndarray:
    """The frames after the first `skip` that decode before libsndfile's error, read in small pieces."""
    import soundfile as sf

    pieces: list[np.ndarray] = []
    try:
        with sf.SoundFile(str(path)) as f:
            try:
                f.seek(skip)
            except Exception:
                f.seek(0)
                left = skip
                while left > 0:
                    got = len(f.read(min(left, _SALVAGE_FRAMES), dtype="float32", always_2d=True))
                    if got == 0:
                        break
                    left -= got
            while True:
                data = f.read(_SALVAGE_FRAMES, dtype="float32", always_2d=True)
                if len(data):
                    pieces.append(data)
                if len(data) < _SALVAGE_FRAMES:
                    break
    except Exception:
        pass  # the damage: keep what decoded before it
    return np.concatenate(pieces) if pieces else np.zeros((0, 1), dtype=np.float32)


def load(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode a whole file to mono float32 at SAMPLE_RATE, shape (samples,)."""
    blocks = list(stream(path))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def to_model_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    """Mix an in-memory array (samples,) or (samples, channels) to mono and resample it."""
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 2:
        x = _mixdown(x)
    if x.ndim != 1:
        raise AudioLoadError(f"expected (samples,) or (samples, channels), got shape {x.shape}")
    _check_rate(rate)
    x = _finite(x)
    if rate != SAMPLE_RATE and len(x):
        import soxr

        # Checked again: samples near the float32 limit are finite but the filter can overshoot to Inf.
        x = _finite(soxr.resample(x, rate, SAMPLE_RATE, quality="HQ").astype(np.float32))
    return x


def _mixdown(x: np.ndarray) -> np.ndarray:
    """Mean over channels; an overflow (corrupt float data) becomes Inf for _finite to report, not a warning."""
    with np.errstate(over="ignore", invalid="ignore"):
        if x.shape[1] == 2:  # the common case: ~70x faster than mean(axis=1) on (n, 2) blocks
            return ((x[:, 0] + x[:, 1]) * np.float32(0.5)).astype(np.float32, copy=False)
        return x.mean(axis=1, dtype=np.float32)


def _sndfile_reason(exc: BaseException) -> str:
    """libsndfile's message without the quoted path (the row already has it), and never a wrong one."""
    text = _short(exc)
    if text.startswith("Error opening ") and "': " in text:
        text = text.split("': ", 1)[1]
    # check_readable has proved the file is a readable regular file; libsndfile still says
    # "does not exist or is not a regular file (possibly a pipe?)" when its MP3 sniffer gives up.
    if "possibly a pipe" in text:
        text = "format not recognised"
    return (text[:1].lower() + text[1:]).rstrip(".")
