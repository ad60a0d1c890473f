"""An evidence report for one file: everything the HTML page shows, gathered once.

`build` runs the explanation (verdict, P(fake) timeline, attention), hashes and describes the file,
and draws the pictures the page embeds: a waveform envelope, a spectrogram and the attention rows
as PNG bytes (a small PNG writer here, so no plotting library is needed).  fakecheck.report_html
turns a Report into one self-contained HTML file.  Nothing here prints.

The page's audio player plays the original file's bytes when a browser can play its format and it
is at most EMBED_ORIGINAL_MAX_BYTES; otherwise a 16 kHz mono Opus copy, and the page says so (the
SHA-256 shown is always the original file's).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from fakecheck import audio
from fakecheck.version import __version__

if TYPE_CHECKING:
    from fakecheck.analysis.detector import Detector
    from fakecheck.analysis.explain import Explanation

FIGURE_COLUMNS = 1200  # pixels across every time panel: finer than a printed page shows
SPECTROGRAM_ROWS = 128  # frequency rows, 0-8 kHz
SPECTROGRAM_RANGE_DB = 80.0  # darkest colour: this far under the loudest cell
EMBED_ORIGINAL_MAX_BYTES = 6_000_000  # larger originals play from an Opus copy: a 10-min WAV would pass 15 MB
# Formats Chromium, Firefox and Safari play from a data: URI, by what audio.probe found -> MIME type.
PLAYABLE = {"WAV": "audio/wav", "FLAC": "audio/flac", "MP3": "audio/mpeg", "OGG": "audio/ogg", "MP4/M4A": "audio/mp4",
            "AAC": "audio/aac", "WebM/Matroska": "audio/webm"}
# A dark-to-bright colour ramp (black, purple, red, orange, pale yellow), as matplotlib's magma goes.
RAMP = np.array([[0, 0, 4], [80, 18, 123], [183, 55, 121], [252, 137, 97], [252, 253, 191]], dtype=np.float64)


@dataclass(frozen=True)
class FileFacts:
    """What the file is, independent of any model."""

    path: str
    sha256: str
    size_bytes: int
    format: str  # "WAV (PCM_16)", "MP3", "MP4/M4A"...
    duration_s: float
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class Report:
    explanation: Explanation
    facts: FileFacts | None  # None when the file could not be read
    model_name: str
    model_sha256: str
    model_format_version: int
    limits: tuple[str, ...]
    command: str
    created: str  # UTC, ISO 8601
    fakecheck_version: str = __version__
    audio_mime: str = ""
    audio_bytes: bytes = b""
    audio_note: str = ""
    waveform: np.ndarray = field(default_factory=lambda: np.zeros((2, 0)))  # (2, columns): min, max
    spectrogram_png: bytes = b""
    attention_png: bytes = b""
    attention_rows: tuple[str, ...] = ()  # labels of attention_png's rows, top to bottom
    timeline_step: str = "per 40 ms token"  # what one step of the P(fake) timeline is (timeline_step())


REDACTED_COMMAND = "(left out: --redact)"


def file_name(path: str) -> str:
    """The last part of a path, whichever separator it uses: what a redacted report keeps of where a file was."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def redact(r: Report) -> Report:
    """The report with its local paths (folders) and the command left out, for sharing (issue 26): the file's
    name, its hashes, the model and every result stay."""
    v = r.explanation.verdict
    ex = dataclasses.replace(r.explanation, verdict=dataclasses.replace(v, path=file_name(v.path)))
    facts = dataclasses.replace(r.facts, path=file_name(r.facts.path)) if r.facts else None
    return dataclasses.replace(r, explanation=ex, facts=facts, command=REDACTED_COMMAND)


def sha256_file(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def describe_format(info: audio.AudioInfo) -> str:
    """'WAV (PCM_16)', 'MP3', 'MP4/M4A': the container as users name it, and the codec when known."""
    if info.decoder == "ffmpeg":
        return next((name for d, name in audio.FFMPEG_CONTAINERS.values() if d == info.demuxer), "ffmpeg")
    import soundfile as sf

    try:
        container = sf.info(str(info.path)).format
    except Exception:  # the file was probed a moment ago; a vanished file still gets a report
        container = "unknown"
    if container == "MPEG":
        return "MP3"
    return f"{container} ({info.codec})" if info.codec else container


def waveform_envelope(x: np.ndarray, columns: int = FIGURE_COLUMNS) -> np.ndarray:
    """(2, columns) min and max of the samples under each column (fewer columns for very short audio)."""
    if len(x) == 0:
        return np.zeros((2, 0))
    edges = np.linspace(0, len(x), min(columns, len(x)) + 1).astype(int)
    lo = np.minimum.reduceat(x, edges[:-1])
    hi = np.maximum.reduceat(x, edges[:-1])
    return np.stack([lo, hi]).astype(np.float64)


def spectrogram(x: np.ndarray, columns: int = FIGURE_COLUMNS, rows: int = SPECTROGRAM_ROWS) -> np.ndarray:
    """(rows, columns) log power in 0..1 (1 = the loudest cell, 0 = SPECTROGRAM_RANGE_DB under it), row 0 = 8 kHz."""
    n_fft = audio.N_FFT
    if len(x) < n_fft:
        return np.zeros((rows, 0))
    hop = max(audio.HOP_LENGTH, (len(x) - n_fft) // columns + 1)
    frames = np.lib.stride_tricks.sliding_window_view(x, n_fft)[::hop]
    frames = frames[: columns * max(1, len(frames) // columns)] if len(frames) > columns else frames
    power = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2  # (frames, 257)
    bins = np.linspace(0, power.shape[1], rows + 1).astype(int)
    power = np.add.reduceat(power, bins[:-1], axis=1)  # (frames, rows)
    if len(power) > columns:
        power = power.reshape(columns, -1, rows).mean(axis=1)
    db = 10 * np.log10(power + 1e-12)
    scaled = np.clip((db - (db.max() - SPECTROGRAM_RANGE_DB)) / SPECTROGRAM_RANGE_DB, 0.0, 1.0)
    return scaled.T[::-1]


def colourise(values: np.ndarray) -> np.ndarray:
    """(H, W) values in 0..1 -> (H, W, 3) uint8 along RAMP."""
    pos = np.clip(values, 0, 1) * (len(RAMP) - 1)
    i = np.minimum(pos.astype(int), len(RAMP) - 2)
    frac = (pos - i)[..., None]
    return np.round(RAMP[i] * (1 - frac) + RAMP[i + 1] * frac).astype(np.uint8)


def png(rgb: np.ndarray) -> bytes:
    """A (H, W, 3) uint8 image as PNG bytes (8-bit RGB, no filter, zlib level 9)."""
    h, w, _ = rgb.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def attention_image(ex: Explanation, columns: int = FIGURE_COLUMNS) -> tuple[bytes, tuple[str, ...]]:
    """The chosen map and one row per layer, each scaled to its own maximum (the page says so)."""
    from fakecheck.analysis.explain import bin_to_width

    if ex.attention.size == 0:
        return b"", ()
    rows = np.vstack([ex.attention[None], ex.layers])
    binned = bin_to_width(rows, columns)
    binned = binned / np.maximum(binned.max(axis=1, keepdims=True), 1e-12)
    labels = (ex.mode,) + tuple(f"layer {i + 1}" for i in range(len(ex.layers)))
    return png(colourise(np.repeat(binned, 8, axis=0))), labels


def player_audio(path: Path, fmt: str, x: np.ndarray) -> tuple[str, bytes, str]:
    """(MIME type, bytes, note) for the page's audio player (see the module docstring)."""
    container = fmt.split(" ")[0]
    size = path.stat().st_size
    if container in PLAYABLE and size <= EMBED_ORIGINAL_MAX_BYTES:
        return PLAYABLE[container], path.read_bytes(), "the player plays the original file"
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, x, audio.SAMPLE_RATE, format="OGG", subtype="OPUS")
    why = (f"the original ({size / 1e6:.1f} MB) is larger than {EMBED_ORIGINAL_MAX_BYTES / 1e6:.0f} MB"
           if container in PLAYABLE else f"browsers do not play {container}")
    return "audio/ogg", buf.getvalue(), f"the player plays a 16 kHz mono Opus copy: {why}"


def known_limits(metrics: dict[str, Any], provenance: dict[str, Any] | None = None) -> tuple[str, ...]:
    """The model's known limits in plain language (README: Limitations)."""
    from fakecheck.model.checkpoint import held_out_generators

    eer = metrics.get("eer")
    held_out = held_out_generators(provenance or {})
    if not isinstance(eer, float):
        first = "This model has no validation figures: treat its verdicts as untested."
    elif held_out:
        first = (f"On voice generators it was not trained on, this model is wrong about {eer:.0%} of the time "
                 "(equal error rate on held-out validation data).")
    else:
        first = (f"Its validation did not hold out the generators it was trained on, so its {eer:.0%} equal "
                 "error rate says nothing about new kinds of synthetic voice." if held_out is False else
                 f"Its equal error rate on its validation data is {eer:.0%}; how the validation was chosen is "
                 "not recorded.")
    return (first,
            "New kinds of synthetic voice are often missed: a REAL verdict does not clear a recording.",
            "Phone, heavily compressed, noisy or very short audio is less reliable; the warnings above say "
            "which of these apply to this file.",
            "The fake segments mark where the score rose; they are places to listen to, not proof of an edit.",
            "The attention view shows where the model looked, not what is fake.",
            "Mostly trained on English speech.")


def timeline_step(det: Detector) -> str:
    """The P(fake) timeline's resolution in words (assessment.resolution)."""
    from fakecheck.analysis.assessment import resolution

    return resolution(bool(det.model.cfg.token_head), det.token_samples / audio.SAMPLE_RATE,
                      audio.WINDOW_HOP_SECONDS, audio.WINDOW_SECONDS)


def build(det: Detector, path: str | os.PathLike[str], command: str = "", mode: str = "rollout") -> Report:
    """Everything an evidence report for `path` shows.  An unreadable file gives a report of its ERROR row."""
    from fakecheck.analysis.explain import explain_file

    ex = explain_file(det, path, mode)
    common: dict[str, Any] = {
        "model_name": det.model_name, "model_sha256": det.checkpoint.sha256,
        "model_format_version": _format_version(),
        "limits": known_limits(det.checkpoint.metrics, det.checkpoint.provenance),
        "command": command, "created": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "timeline_step": timeline_step(det),
    }
    if ex.verdict.verdict == "ERROR":
        return Report(ex, None, **common)
    p = Path(path)
    try:
        info = audio.probe(p)
        x = audio.load(p)
        fmt = describe_format(info)
        facts = FileFacts(str(path), sha256_file(p), p.stat().st_size, fmt, info.duration_s, info.source_rate,
                          info.channels)
        mime, data, note = player_audio(p, fmt, x)
    except (audio.AudioLoadError, OSError):  # changed under us since the verdict: report what is known
        return Report(ex, None, **common)
    att_png, att_rows = attention_image(ex)
    spec = spectrogram(x)
    return Report(ex, facts, audio_mime=mime, audio_bytes=data, audio_note=note, waveform=waveform_envelope(x),
                  spectrogram_png=png(colourise(spec)) if spec.size else b"", attention_png=att_png,
                  attention_rows=att_rows, **common)


def _format_version() -> int:
    from fakecheck.model.checkpoint import FORMAT_VERSION

    return FORMAT_VERSION
