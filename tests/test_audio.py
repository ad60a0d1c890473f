from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike, tone

from fakecheck import audio

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
    monkeypatch.setattr(audio.shutil, "which", lambda name: None)
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
