"""The ffmpeg path: containers libsndfile cannot read (MP4/M4A/3GP, WebM/Matroska, AAC, AMR), decoded by
ffmpeg with the demuxer forced, under a time limit proportional to the file's size.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.audio.info import (
    _BLOCK_SECONDS,
    FFMPEG_CONTAINERS,
    TRUNCATED,
    AudioInfo,
    AudioLoadError,
    _check_rate,
    _finite,
    _short,
    _short_of_header,
)

# ffmpeg decodes AAC and Opus at hundreds of times real time, so a file it has not finished in this long is a
# decoder stuck on hostile input: 30 s plus 10 s per MB (a 1 MB AAC file at 64 kbit/s is 2 minutes of audio).
FFMPEG_TIMEOUT_BASE_S = 30.0
FFMPEG_TIMEOUT_S_PER_MB = 10.0


def _ffmpeg(kind: str) -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise AudioLoadError(f"this {FFMPEG_CONTAINERS[kind][1]} file needs the ffmpeg decoder, which is not on PATH "
                             "(e.g. apt-get install ffmpeg)")
    return exe


def _ffmpeg_reason(stderr: str, path: Path) -> str:
    """ffmpeg's last message, without the path and the "[demuxer @ 0x...]" prefix it puts before it."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    text = lines[-1] if lines else "no output"
    text = re.sub(r"^\[[^\]]* @ 0x[0-9a-f]+\]\s*", "", text)
    if text.startswith(f"{path}: "):
        text = text[len(f"{path}: "):]
    return _short(Exception(text)).rstrip(".") or "unknown error"


def _probe_ffmpeg(path: Path, kind: str) -> AudioInfo:
    exe = _ffmpeg(kind)
    demuxer = FFMPEG_CONTAINERS[kind][0]
    probe_exe = shutil.which("ffprobe") or exe.replace("ffmpeg", "ffprobe")
    cmd = [probe_exe, "-v", "error", "-f", demuxer, "-select_streams", "a:0", "-show_entries",
           "stream=sample_rate,channels:format=duration", "-of", "default=nw=1", str(path)]
    limit = ffmpeg_time_limit(path)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=limit, errors="replace")
    except subprocess.TimeoutExpired:
        raise AudioLoadError(f"decoder timed out (ffprobe ran over {limit:.0f} s)") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise AudioLoadError(f"not decodable audio (ffmpeg: {_short(exc)})") from None
    if proc.returncode != 0:
        raise AudioLoadError(f"not decodable audio (ffmpeg: {_ffmpeg_reason(proc.stderr, path)})")
    fields = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    try:
        rate, channels = int(fields["sample_rate"]), int(fields["channels"])
        raw = fields.get("duration", "")
        duration = float(raw) if raw.replace(".", "", 1).isdigit() else 0.0  # "N/A" for some streams: unknown
    except (KeyError, ValueError):
        rate = channels = 0
    if rate <= 0 or channels <= 0:
        raise AudioLoadError("not decodable audio (ffmpeg: no audio stream in the file)")
    _check_rate(rate)
    return AudioInfo(path, rate, channels, duration, "ffmpeg", demuxer)


def ffmpeg_time_limit(path: Path) -> float:
    """Seconds ffmpeg may take to decode `path` before it is killed: proportional to the file's size."""
    try:
        size_mb = os.path.getsize(path) / 1e6
    except OSError:
        size_mb = 0.0
    return FFMPEG_TIMEOUT_BASE_S + FFMPEG_TIMEOUT_S_PER_MB * size_mb


def _stream_ffmpeg(info: AudioInfo, notes: set[str] | None = None) -> Iterator[np.ndarray]:
    path, demuxer = info.path, info.demuxer
    notes = notes if notes is not None else set()
    kind = next((k for k, (d, _) in FFMPEG_CONTAINERS.items() if d == demuxer), "mp4")
    cmd = [_ffmpeg(kind), "-v", "error", "-nostdin", "-f", demuxer, "-i", str(path), "-vn", "-ac", "1",
           "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    # stderr goes to a temp file, not a pipe: ffmpeg can print a line per damaged packet, and a full
    # pipe that nobody reads until the end would stall it (and the scan) forever.
    with tempfile.TemporaryFile() as errfile:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errfile, stdin=subprocess.DEVNULL)
        assert proc.stdout is not None
        limit = ffmpeg_time_limit(path)
        watchdog = threading.Timer(limit, proc.kill)  # a kill ends the read loop below with what decoded so far
        watchdog.daemon = True
        watchdog.start()
        block_bytes = int(_BLOCK_SECONDS * SAMPLE_RATE) * 4
        samples = 0
        try:
            while chunk := proc.stdout.read(block_bytes):
                usable = len(chunk) - len(chunk) % 4
                samples += usable // 4
                yield _finite(np.frombuffer(chunk[:usable], dtype="<f4").copy())
            code = proc.wait()
            if not watchdog.is_alive() and code != 0:
                raise AudioLoadError(f"decoder timed out (ffmpeg ran over {limit:.0f} s)")
            errfile.seek(max(0, errfile.seek(0, os.SEEK_END) - (1 << 16)))  # its last lines say why
            err = errfile.read().decode("utf-8", "replace")
            if code != 0 and samples == 0:
                raise AudioLoadError(f"decoding failed (ffmpeg: {_ffmpeg_reason(err, path)})")
            # A raw AMR file's duration is ffprobe's estimate from the bitrate, not a header field.
            estimated = info.demuxer == "amr"
            if code != 0 or (info.duration_s and not estimated and _short_of_header(samples / SAMPLE_RATE,
                                                                                   info.duration_s)):
                notes.add(TRUNCATED)  # what decoded before the damage is kept
        finally:
            watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
