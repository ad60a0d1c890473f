"""Issue 25, item 1: no file can stop a folder.  A header that lies about its length, a decoder that hangs, and an
error while scoring or building a verdict each cost one ERROR (or scored) row, never the run."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike

from fakecheck import audio
from fakecheck.analysis import detector as detector_module
from fakecheck.audio import ffmpeg, info


def _flac_with_total_samples(path: Path, total: int) -> None:
    """Write a speech FLAC, then overwrite STREAMINFO's 36-bit total-samples field with `total`."""
    sf.write(path, speechlike(3.0), 16_000, format="FLAC")
    data = bytearray(path.read_bytes())
    assert data[:4] == b"fLaC"
    # STREAMINFO starts after the 4-byte marker and the 4-byte block header; bytes 13..17 of it hold
    # 4 bits of channels/bits-per-sample and the 36-bit sample count.
    info = 8
    packed = int.from_bytes(data[info + 13: info + 18], "big")
    packed = (packed & ~((1 << 36) - 1)) | (total & ((1 << 36) - 1))
    data[info + 13: info + 18] = packed.to_bytes(5, "big")
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def det():
    from fakecheck import Detector

    return Detector.load()


def test_an_absurd_header_length_gives_the_decoded_duration(det, tmp_path):
    """The issue's case: a FLAC header claiming ~7 * 10^10 samples (and one claiming 2^36 - 1) made the timeline
    of 10^16 cells; now every length comes from what decoded."""
    paths = []
    for total in (2**36 - 1, 2**31 - 1, 1):
        p = tmp_path / f"claims_{total}.flac"
        _flac_with_total_samples(p, total)
        paths.append(p)
    good = tmp_path / "good.flac"
    sf.write(good, speechlike(3.0), 16_000, format="FLAC")
    verdicts = list(det.analyse_files([*paths, good]))
    assert len(verdicts) == 4
    for v in verdicts:
        assert v.verdict != "ERROR" or v.error, v
        if v.duration_s is not None:
            assert v.duration_s <= 3.5, (v.path, v.duration_s)  # never the header's claim
    assert verdicts[-1].verdict in ("REAL", "FAKE", "PARTIAL") and abs(verdicts[-1].duration_s - 3.0) < 0.05


def test_a_cut_mp3_reports_what_decodes_not_what_its_header_says(det, tmp_path):
    whole = tmp_path / "whole.mp3"
    sf.write(whole, speechlike(8.0), 16_000, format="MP3")
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: len(whole.read_bytes()) // 3])
    (v,) = list(det.analyse_files([cut]))
    decoded = len(audio.load(cut)) / audio.SAMPLE_RATE
    assert v.duration_s is not None and abs(v.duration_s - decoded) < 0.05
    assert v.duration_s < 6.0


def _speech_clips(folder: Path, n: int) -> list[Path]:
    clips = [folder / f"clip{i}.wav" for i in range(n)]
    for i, p in enumerate(clips):
        sf.write(p, speechlike(3.0, seed=i), 16_000)
    return clips


def test_a_failure_while_scoring_costs_one_row(det, tmp_path, monkeypatch):
    clips = _speech_clips(tmp_path, 3)
    sf.write(clips[1], 0.99 * speechlike(3.0, seed=1) / np.abs(speechlike(3.0, seed=1)).max(), 16_000)
    real_score = det.score_windows_and_tokens

    def flaky(samples):
        # The second file's windows, known by their peak: windows may be scored side by side, in any order.
        if np.abs(samples).max() > 0.98:
            raise MemoryError("Unable to allocate 102. PiB")
        return real_score(samples)

    assert max(np.abs(sf.read(c)[0]).max() for c in (clips[0], clips[2])) < 0.98
    monkeypatch.setattr(det, "score_windows_and_tokens", flaky)
    verdicts = list(det.analyse_files(clips))
    assert [v.verdict == "ERROR" for v in verdicts] == [False, True, False]
    assert "scoring failed: Unable to allocate" in verdicts[1].error


def test_a_failure_while_building_a_verdict_costs_one_row(det, tmp_path, monkeypatch):
    clips = _speech_clips(tmp_path, 2)
    real_stitch = detector_module.segments.stitch
    calls = {"n": 0}

    def stitch(*a, **k):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RecursionError("maximum recursion depth exceeded")
        return real_stitch(*a, **k)

    monkeypatch.setattr(detector_module.segments, "stitch", stitch)
    first, second = det.analyse_files(clips)
    assert first.verdict == "ERROR" and first.error.startswith("analysis failed: maximum recursion")
    assert second.verdict != "ERROR"


def _fake_tools(folder: Path, ffmpeg_body: str) -> None:
    """An ffprobe that describes a 16 kHz mono stream, and an ffmpeg with the given shell body."""
    folder.mkdir()
    for name, body in (("ffprobe", "echo sample_rate=16000; echo channels=1; echo duration=3.0"),
                       ("ffmpeg", ffmpeg_body)):
        exe = folder / name
        exe.write_text(f"#!/bin/sh\n{body}\n")
        exe.chmod(exe.stat().st_mode | stat.S_IEXEC)


def test_a_decoder_that_hangs_times_out_with_a_clear_reason(tmp_path, monkeypatch):
    _fake_tools(tmp_path / "bin", "exec sleep 60")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(ffmpeg, "FFMPEG_TIMEOUT_BASE_S", 0.5)
    monkeypatch.setattr(ffmpeg, "FFMPEG_TIMEOUT_S_PER_MB", 0.0)
    clip = tmp_path / "voice.m4a"
    clip.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(2000))
    with pytest.raises(audio.AudioLoadError, match="decoder timed out"):
        list(audio.stream(clip))


def test_the_time_limit_grows_with_the_file(tmp_path):
    small, big = tmp_path / "small.m4a", tmp_path / "big.m4a"
    small.write_bytes(bytes(1000))
    big.write_bytes(bytes(5_000_000))
    assert ffmpeg.ffmpeg_time_limit(big) - ffmpeg.ffmpeg_time_limit(small) == pytest.approx(
        ffmpeg.FFMPEG_TIMEOUT_S_PER_MB * 4.999, rel=1e-3)
    assert ffmpeg.ffmpeg_time_limit(small) >= ffmpeg.FFMPEG_TIMEOUT_BASE_S


def test_a_decoder_that_finishes_in_time_is_not_cut(tmp_path, monkeypatch):
    samples = (0.1 * np.sin(np.arange(16_000 * 2) * 0.05)).astype("<f4").tobytes()
    raw = tmp_path / "pcm.f32"
    raw.write_bytes(samples)
    _fake_tools(tmp_path / "bin", f"cat {raw}")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    clip = tmp_path / "voice.m4a"
    clip.write_bytes(b"\x00\x00\x00\x18ftypM4A " + bytes(2000))
    x = np.concatenate(list(audio.stream(clip)))
    assert len(x) == 32_000


def test_the_flac_mutation_lands_in_streaminfo(tmp_path):
    """The mutation above really lands in STREAMINFO: libsndfile reads back the claimed count."""
    p = tmp_path / "claims.flac"
    _flac_with_total_samples(p, 123_456)
    assert sf.info(str(p)).frames == 123_456


def _damaged_mp3s(folder: Path) -> list[Path]:
    whole = folder / "whole.mp3"
    sf.write(whole, speechlike(8.0), 16_000, format="MP3")
    data = whole.read_bytes()
    cut = folder / "cut.mp3"
    cut.write_bytes(data[: len(data) // 3])  # libmpg123: "Warning: Xing stream size off by more than 1%"
    flipped = bytearray(data)
    for i in np.random.default_rng(3).integers(2000, len(data), 40):
        flipped[i] ^= 0xFF  # libmpg123: "[src/libmpg123/layer3.c:...] error: dequantization failed!"
    damaged = folder / "flipped.mp3"
    damaged.write_bytes(bytes(flipped))
    return [cut, damaged]


def test_decoder_messages_never_reach_the_terminal(tmp_path, tiny_model_file):
    import subprocess
    import sys

    clips = _damaged_mp3s(tmp_path)
    run = [sys.executable, "-m", "fakecheck", "scan", *map(str, clips), "--model", str(tiny_model_file), "--jsonl", "-"]
    quiet = subprocess.run(run, capture_output=True, text=True, timeout=300)
    assert quiet.returncode in (0, 1), quiet.stderr
    for text in (quiet.stdout, quiet.stderr):
        assert "libmpg123" not in text and "Xing stream" not in text
    rows = {Path(r["path"]).name: r for r in map(__import__("json").loads, quiet.stdout.splitlines())}
    assert info.DAMAGED in rows["flipped.mp3"]["warnings"]  # error lines mean damage: said on the row
    assert info.DAMAGED not in rows["cut.mp3"]["warnings"] and "truncated" in rows["cut.mp3"]["warnings"]
    verbose = subprocess.run([*run, "--verbose"], capture_output=True, text=True, timeout=300)
    assert "decoder: " in verbose.stderr and "libmpg123" in verbose.stderr  # kept for --verbose


def test_verbose_shows_decoder_lines_for_its_own_run_only(tmp_path, tiny_model_file):
    """In one process (a library user, a test runner), --verbose must not leave its handler behind: a later scan
    shows no decoder lines, and no logging error from a stream that is gone."""
    from typer.testing import CliRunner

    from fakecheck.cli import app

    clips = [str(p) for p in _damaged_mp3s(tmp_path)]
    first = CliRunner().invoke(app, ["scan", *clips, "--model", str(tiny_model_file), "--verbose"])
    assert first.exit_code in (0, 1) and "decoder: " in first.stderr, first.output
    later = CliRunner().invoke(app, ["scan", *clips, "--model", str(tiny_model_file)])
    assert later.exit_code in (0, 1), later.output
    assert "decoder: " not in later.output and "Logging error" not in later.output and "Traceback" not in later.output
