from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike, tone

from fakecheck import audio
from fakecheck.audio import ffmpeg

FORMATS = [  # (suffix, soundfile format, subtype)
    (".wav", "WAV", "PCM_16"),
    (".wav", "WAV", "PCM_24"),
    (".wav", "WAV", "PCM_32"),
    (".wav", "WAV", "FLOAT"),
    (".flac", "FLAC", "PCM_16"),
    (".ogg", "OGG", "VORBIS"),
    (".opus", "OGG", "OPUS"),
    (".mp3", "MP3", "MPEG_LAYER_III"),
]


@pytest.mark.parametrize("suffix,fmt,subtype", FORMATS)
def test_load_formats(tmp_path, suffix, fmt, subtype):
    rate = 48_000 if subtype == "OPUS" else 16_000
    x = tone(2.0, rate)
    path = tmp_path / f"clip{suffix}"
    sf.write(path, x, rate, format=fmt, subtype=subtype)
    y = audio.load(path)
    assert y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) / audio.SAMPLE_RATE - 2.0) < 0.1, len(y)
    assert 0.15 < np.sqrt(np.mean(y**2)) < 0.25  # tone RMS 0.3/sqrt(2) = 0.21 survives the codec


@pytest.mark.parametrize("rate", [8_000, 11_025, 22_050, 44_100, 48_000, 96_000, 192_000])
def test_resampling_keeps_duration_and_blocks_aliasing(tmp_path, rate):
    t = np.arange(rate) / rate
    passband = 0.3 * np.sin(2 * np.pi * 1000 * t)
    above_nyquist = 0.3 * np.sin(2 * np.pi * min(rate / 2 - 100, 12_000) * t) if rate > 16_000 else 0
    path = tmp_path / "r.wav"
    sf.write(path, (passband + above_nyquist).astype(np.float32), rate, subtype="FLOAT")
    y = audio.load(path)
    assert abs(len(y) - audio.SAMPLE_RATE) <= 2
    spec = np.abs(np.fft.rfft(y[2000:-2000] * np.hanning(len(y) - 4000)))
    freqs = np.fft.rfftfreq(len(y) - 4000, 1 / audio.SAMPLE_RATE)
    peak = spec[np.abs(freqs - 1000) < 20].max()
    elsewhere = spec[np.abs(freqs - 1000) > 200].max()
    assert elsewhere < peak * 0.01, "content above the new Nyquist must be filtered, not folded back"


@pytest.mark.parametrize("channels", [2, 6, 8])
def test_any_channel_count_becomes_mono(tmp_path, channels):
    x = np.stack([tone(1.0, freq=300 + 50 * c) for c in range(channels)], axis=1)
    path = tmp_path / "multi.wav"
    sf.write(path, x, 16_000)
    info = audio.probe(path)
    assert info.channels == channels
    assert np.allclose(audio.load(path), x.mean(axis=1), atol=1e-4)


def test_rates_outside_range_are_refused(tmp_path):
    path = tmp_path / "low.wav"
    sf.write(path, tone(1.0, 4000), 4000)
    with pytest.raises(audio.AudioLoadError, match="outside the supported"):
        audio.probe(path)


@pytest.mark.parametrize("content,reason", [(b"", "empty"), (b"not audio at all" * 10, "not decodable")])
def test_bad_files_give_one_line_errors(tmp_path, content, reason):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(audio.AudioLoadError, match=reason):
        audio.load(path)


def test_nan_samples_are_refused(tmp_path):
    x = tone(1.0)
    x[100] = np.nan
    path = tmp_path / "nan.wav"
    sf.write(path, x, 16_000, subtype="FLOAT")
    with pytest.raises(audio.AudioLoadError, match="NaN"):
        audio.load(path)


def test_m4a_without_ffmpeg_names_the_decoder(tmp_path, monkeypatch):
    path = tmp_path / "clip.m4a"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A ")
    monkeypatch.setattr(ffmpeg.shutil, "which", lambda name: None)
    with pytest.raises(audio.AudioLoadError, match="ffmpeg"):
        audio.probe(path)


def test_windows_cover_long_audio_and_end_flush():
    x = speechlike(9.0)
    wins = list(audio.iter_windows(iter(np.array_split(x, 7))))
    starts = [w.start for w in wins]
    assert starts[:4] == [0, 32_000, 64_000, 80_000]  # hop 2 s, then one flush with the end (9 s - 4 s)
    assert all(len(w.samples) == audio.WINDOW_SAMPLES for w in wins)
    assert np.array_equal(wins[-1].samples, x[-audio.WINDOW_SAMPLES:])


def test_short_audio_is_repeat_padded_and_leading_silence_dropped():
    x = np.concatenate([np.zeros(16_000, np.float32), speechlike(1.0)])
    (w,) = list(audio.iter_windows(iter([x])))
    assert w.start == 16_000 and w.length == 16_000
    assert np.array_equal(w.samples[16_000:32_000], w.samples[:16_000])


def test_silence_is_not_speech():
    assert not audio.has_speech(np.zeros(64_000, np.float32))
    assert audio.has_speech(speechlike(4.0))


# -- formats by content, not by extension ------------------------------------------------------------
FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed: the M4A/AAC/WebM/MP4 tests need it")


def ffmpeg_encode(tmp_path, name: str, fmt: str, codec: str, seconds: float = 2.0) -> Path:
    """A tone encoded by ffmpeg into container `fmt` with `codec`, written to tmp_path / name."""
    wav = tmp_path / "src.wav"
    sf.write(wav, tone(seconds, 16_000), 16_000)
    out = tmp_path / name
    proc = subprocess.run([FFMPEG, "-v", "error", "-y", "-i", wav, "-c:a", codec, "-f", fmt, out],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return out


@needs_ffmpeg
@pytest.mark.parametrize("name,fmt,codec", [
    ("clip.m4a", "ipod", "aac"),
    ("clip.mp4", "mp4", "aac"),
    ("clip.aac", "adts", "aac"),
    ("clip.webm", "webm", "libopus"),
    ("m4a_named.wav", "ipod", "aac"),  # the extension lies: the bytes say MP4
    ("webm_named.flac", "webm", "libopus"),
])
def test_ffmpeg_containers_are_found_by_content(tmp_path, name, fmt, codec):
    path = ffmpeg_encode(tmp_path, name, fmt, codec)
    info = audio.probe(path)
    assert info.decoder == "ffmpeg", info
    y = audio.load(path)
    assert abs(len(y) / audio.SAMPLE_RATE - 2.0) < 0.15, len(y)  # raw AAC keeps its priming frames: +0.11 s
    assert 0.15 < np.sqrt(np.mean(y**2)) < 0.25


def test_native_formats_are_found_by_content_whatever_the_extension(tmp_path):
    path = tmp_path / "really_a_wav.m4a"
    sf.write(path, tone(1.0), 16_000, format="WAV")
    assert audio.probe(path).decoder == "libsndfile"
    assert abs(len(audio.load(path)) - 16_000) <= 1


@needs_ffmpeg
def test_undecodable_files_name_the_decoders_tried(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_text("this is a text file, not audio\n" * 40)
    with pytest.raises(audio.AudioLoadError, match=r"not decodable audio \(libsndfile:") as info:
        audio.probe(junk)
    assert "\n" not in str(info.value)
    broken = tmp_path / "broken.m4a"
    broken.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2" + b"\x00" * 500)
    with pytest.raises(audio.AudioLoadError, match=r"not decodable audio \(ffmpeg:") as info:
        audio.load(broken)
    assert "\n" not in str(info.value)


def test_mp4_content_without_ffmpeg_names_the_missing_decoder(tmp_path, monkeypatch):
    path = tmp_path / "renamed.wav"
    path.write_bytes(b"\x00\x00\x00\x18ftypM4A \x00\x00\x02\x00isomiso2" + b"\x00" * 500)
    monkeypatch.setattr(ffmpeg.shutil, "which", lambda name: None)
    with pytest.raises(audio.AudioLoadError, match="MP4/M4A.*needs the ffmpeg decoder"):
        audio.probe(path)


def test_folder_scans_pick_up_ffmpeg_extensions(tmp_path):
    from fakecheck.analysis.inputs import iter_inputs

    for name in ("a.webm", "b.m4a", "c.aac", "d.mp4", "e.mka", "f.weba", "g.m4b", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    found, skipped = iter_inputs([tmp_path])
    assert sorted(p.name for p in found) == ["a.webm", "b.m4a", "c.aac", "d.mp4", "e.mka", "f.weba", "g.m4b"]
    assert skipped == 1


@needs_ffmpeg
@pytest.mark.parametrize("name,fmt,codec", [("m4a_named.wav", "ipod", "aac"), ("clip.webm", "webm", "libopus")])
def test_a_renamed_m4a_and_a_webm_get_verdicts(tmp_path, tiny_checkpoint, name, fmt, codec):
    """Issue 14's target: speech in these containers is decoded by content and judged, not refused."""
    from fakecheck.analysis.detector import Detector
    from fakecheck.analysis.verdict import SCORED

    wav = tmp_path / "speech.wav"
    sf.write(wav, speechlike(4.0), 16_000)
    out = tmp_path / name
    proc = subprocess.run([FFMPEG, "-v", "error", "-y", "-i", wav, "-c:a", codec, "-f", fmt, out],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    v = Detector(tiny_checkpoint, device="cpu", threads=1).analyse_file(out)
    assert v.verdict in SCORED and v.error == "", (v.verdict, v.error)
