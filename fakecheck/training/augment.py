"""Waveform augmentation of what a forger (or an ordinary upload pipeline) changes for free.

Applied to bona fide and spoofed clips alike, so that none of these can become a
shortcut: loudness, silence padding, band-limiting/resampling, lossy codecs
(MP3, Opus), additive noise and reverberation.  Without codec round trips on both
classes a model trained on lossless corpora learns that "compressed means real".
All randomness comes from the numpy Generator passed in, so runs are reproducible.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from fakecheck.audio.constants import SAMPLE_RATE, WINDOW_SAMPLES
from fakecheck.audio.windows import fit_window
from fakecheck.model.settings import Settings


@dataclass(frozen=True)
class AugmentConfig(Settings):
    KIND = "augmentation"

    p_gain: float = 0.8  # random gain in +-gain_db
    gain_db: float = 12.0
    p_silence: float = 0.2  # pad up to max_silence_s of near-silence before or after
    max_silence_s: float = 1.0
    p_band: float = 0.3  # resampling round trip through a lower rate (band-limits)
    band_rates: tuple[int, ...] = (8_000, 11_025, 12_000, 22_050, 44_100)
    p_codec: float = 0.3  # MP3 or Opus round trip
    mp3_kbps: tuple[int, ...] = (32, 48, 64, 96, 128)
    p_noise: float = 0.25  # white or brown noise at snr_db
    snr_db: tuple[float, float] = (10.0, 40.0)
    p_reverb: float = 0.15  # synthetic exponential-decay room response
    rt60_s: tuple[float, float] = (0.1, 0.6)
    # Issue 18 levers (0 = off, the default until a run on the validation split says they help):
    p_channel: float = 0.0  # Vorbis, G.711 mu-law, narrowband (AMR-like) phone channel or packet loss
    p_rawboost: float = 0.0  # RawBoost-style convolutive + impulsive + coloured stationary noise



def gain(x: np.ndarray, db: float) -> np.ndarray:
    return (x * 10 ** (db / 20)).astype(np.float32)


def pad_silence(x: np.ndarray, seconds: float, before: bool, rng: np.random.Generator) -> np.ndarray:
    pad = (rng.standard_normal(int(seconds * SAMPLE_RATE)) * 1e-5).astype(np.float32)
    return np.concatenate([pad, x] if before else [x, pad])


def resample_round_trip(x: np.ndarray, rate: int) -> np.ndarray:
    import soxr

    down = soxr.resample(x, SAMPLE_RATE, rate, quality="HQ")
    return soxr.resample(down, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)[: len(x)]


# libsndfile sets MP3 bitrate through compression_level; measured at 16 kHz mono (CBR):
_MP3_LEVELS = (0.0, 0.3, 0.5, 0.7, 0.8, 0.9)
_MP3_KBPS_16K = (162.0, 113.0, 81.0, 57.0, 40.0, 24.0)


def mp3_kbps_to_level(kbps: int) -> float:
    """libsndfile's compression_level that gives about `kbps` for 16 kHz mono MP3."""
    return float(np.interp(kbps, _MP3_KBPS_16K[::-1], _MP3_LEVELS[::-1]))


def codec_round_trip(x: np.ndarray, codec: str, kbps: int = 64) -> np.ndarray:
    """Encode and decode through MP3 or Opus with libsndfile, keeping the length."""
    import soundfile as sf

    buf = io.BytesIO()
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    y = x / peak * 0.9 if peak > 0.99 else x  # avoid encoder clipping
    if codec == "mp3":
        sf.write(buf, y, SAMPLE_RATE, format="MP3", bitrate_mode="CONSTANT",
                 compression_level=mp3_kbps_to_level(kbps))
    elif codec == "opus":
        sf.write(buf, y, SAMPLE_RATE, format="OGG", subtype="OPUS")
    else:
        raise ValueError(f"unknown codec {codec!r}")
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    if len(out) == 0:
        return x
    out = out if out.ndim == 1 else out.mean(axis=1)
    if peak > 0.99:
        out = out * (peak / 0.9)
    return fit_window(out.astype(np.float32), len(x)) if len(out) < len(x) else out[: len(x)]


# The re-encodings every validation figure is given for.  mp3_32k_24k is how the external set's Tortoise clones
# were published (32 kbit/s MP3 at 24 kHz, issue 27): resampled up, encoded, decoded and resampled back.
CONDITIONS = ("clean", "mp3_32k", "opus_16k", "phone_8k", "mp3_32k_24k")
MP3_24K_RATE = 24_000
MP3_24K_LEVEL_32K = 0.85  # libsndfile's compression_level for 32 kbit/s CBR at 24 kHz mono (measured: 32.1)


def mp3_at_24k(x: np.ndarray) -> np.ndarray:
    """x (16 kHz) resampled to 24 kHz, MP3-coded at 32 kbit/s CBR, decoded and resampled back; same length."""
    import soundfile as sf
    import soxr

    up = soxr.resample(x, SAMPLE_RATE, MP3_24K_RATE, quality="HQ")
    peak = float(np.max(np.abs(up))) if len(up) else 0.0
    scale = 0.9 / peak if peak > 0.99 else 1.0  # avoid encoder clipping, as codec_round_trip does
    buf = io.BytesIO()
    sf.write(buf, up * scale, MP3_24K_RATE, format="MP3", bitrate_mode="CONSTANT", compression_level=MP3_24K_LEVEL_32K)
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    if len(out) == 0:
        return x
    out = out if out.ndim == 1 else out.mean(axis=1)
    back = (soxr.resample(out, MP3_24K_RATE, SAMPLE_RATE, quality="HQ") / scale).astype(np.float32)
    return fit_window(back, len(x)) if len(back) < len(x) else back[: len(x)]


def condition(x: np.ndarray, name: str) -> np.ndarray:
    """One validation condition, the same for both classes: MP3 32 kbit/s, Opus 16 kbit/s, an 8 kHz phone band, or
    MP3 32 kbit/s at 24 kHz."""
    if name == "mp3_32k":
        return codec_round_trip(x, "mp3", 32)
    if name == "opus_16k":
        return codec_round_trip(x, "opus", 16)
    if name == "phone_8k":
        return resample_round_trip(x, 8000)
    if name == "mp3_32k_24k":
        return mp3_at_24k(x)
    if name != "clean":
        raise ValueError(f"unknown condition {name!r}")
    return x


def add_noise(x: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    noise = rng.standard_normal(len(x))
    if rng.random() < 0.5:  # brown noise: more low-frequency hum-like energy
        noise = np.cumsum(noise)
        noise -= np.linspace(noise[0], noise[-1], len(noise))
    p_sig = float(np.mean(x.astype(np.float64) ** 2)) + 1e-12
    p_noise = float(np.mean(noise**2)) + 1e-12
    return (x + noise * np.sqrt(p_sig / p_noise / 10 ** (snr_db / 10))).astype(np.float32)


def fft_convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Full linear convolution (len(x) + len(h) - 1 samples) through NumPy's real FFT: what
    scipy.signal.fftconvolve computes, without making SciPy a dependency of the runtime."""
    n = len(x) + len(h) - 1
    size = 1 << max(0, (n - 1).bit_length())  # a power of two >= n: no circular wrap-around
    return np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(h, size), size)[:n]


def reverb(x: np.ndarray, rt60: float, rng: np.random.Generator) -> np.ndarray:
    n = int(rt60 * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    rir = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    rir[0] = 1.0
    y = fft_convolve(x, rir / np.sqrt(np.sum(rir**2)))[: len(x)]
    return (y * (np.std(x) / (np.std(y) + 1e-12))).astype(np.float32)


MU = 255.0  # G.711 mu-law


def mu_law_round_trip(x: np.ndarray) -> np.ndarray:
    """8-bit mu-law companding and back (the G.711 telephone codec's quantisation)."""
    y = np.sign(x) * np.log1p(MU * np.abs(np.clip(x, -1, 1))) / np.log1p(MU)
    q = np.round((y + 1) * 127.5) / 127.5 - 1
    return (np.sign(q) * np.expm1(np.abs(q) * np.log1p(MU)) / MU).astype(np.float32)


def packet_loss(x: np.ndarray, rng: np.random.Generator, frame_s: float = 0.02, rate: float = 0.05) -> np.ndarray:
    """Zero random 20 ms frames, as a VoIP call without concealment drops lost packets."""
    n = int(frame_s * SAMPLE_RATE)
    y = x.copy()
    for k in np.nonzero(rng.random(len(x) // n) < rate)[0]:
        y[k * n:(k + 1) * n] = 0.0
    return y


def vorbis_round_trip(x: np.ndarray) -> np.ndarray:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.clip(x, -0.99, 0.99), SAMPLE_RATE, format="OGG", subtype="VORBIS")
    buf.seek(0)
    out, _ = sf.read(buf, dtype="float32")
    return fit_window(out, len(x)) if len(out) < len(x) else out[: len(x)]


def channel(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One transmission channel beyond MP3/Opus: Vorbis, mu-law, a narrowband phone line, or packet loss."""
    kind = int(rng.integers(4))
    if kind == 0:
        return vorbis_round_trip(x)
    if kind == 1:
        return mu_law_round_trip(x)
    if kind == 2:  # AMR-NB-like: 8 kHz band and mu-law quantisation (no AMR encoder is available to libsndfile)
        return mu_law_round_trip(resample_round_trip(x, 8000))
    return packet_loss(x, rng)


def low_pass(taps: int, cutoff: float) -> np.ndarray:
    """Hamming-windowed sinc low-pass FIR, `cutoff` as a fraction of Nyquist, unit gain at 0 Hz."""
    n = np.arange(taps) - (taps - 1) / 2
    h = cutoff * np.sinc(cutoff * n) * np.hamming(taps)
    return h / h.sum()


def band_pass(taps: int, lo: float, hi: float) -> np.ndarray:
    """Windowed-sinc band-pass FIR between `lo` and `hi` (fractions of Nyquist): the difference of two low-passes."""
    n = np.arange(taps) - (taps - 1) / 2
    return (hi * np.sinc(hi * n) - lo * np.sinc(lo * n)) * np.hamming(taps)


def rawboost(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """RawBoost-style distortion (Tak et al., 2022), its series mode 1+2+3 simplified: a random FIR
    notch/peak filter with a mild polynomial non-linearity, impulsive signal-dependent noise on a few
    percent of samples, and stationary noise coloured by a random filter at 10-40 dB SNR."""
    n_bands = int(rng.integers(1, 4))
    h = np.zeros(65)
    for _ in range(n_bands):
        lo = float(rng.uniform(0.02, 0.8))
        h += band_pass(65, lo, min(0.98, lo + float(rng.uniform(0.05, 0.2)))) * rng.uniform(-1, 1)
    h[32] += 1.0
    y = fft_convolve(x, h)[: len(x)]
    y = y + float(rng.uniform(0, 0.1)) * y**2 * np.sign(y)
    hits = rng.random(len(y)) < float(rng.uniform(0.005, 0.03))
    y = y + hits * y * rng.uniform(-1, 1, len(y)) * 2
    colour = low_pass(33, float(rng.uniform(0.1, 0.9)))
    noise = fft_convolve(rng.standard_normal(len(y)), colour)[: len(y)]
    snr = float(rng.uniform(10, 40))
    y = y + noise * np.sqrt((np.mean(y**2) + 1e-12) / (np.mean(noise**2) + 1e-12) / 10 ** (snr / 10))
    return (y * (np.std(x) / (np.std(y) + 1e-12))).astype(np.float32)


def augment(x: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """One random chain over a waveform at SAMPLE_RATE; the output has the input's length."""
    n = len(x)
    if rng.random() < cfg.p_reverb:
        x = reverb(x, float(rng.uniform(*cfg.rt60_s)), rng)
    if rng.random() < cfg.p_band:
        x = resample_round_trip(x, int(rng.choice(cfg.band_rates)))
    if rng.random() < cfg.p_noise:
        x = add_noise(x, float(rng.uniform(*cfg.snr_db)), rng)
    if rng.random() < cfg.p_codec:
        codec, kbps = ("opus" if rng.random() < 0.15 else "mp3"), int(rng.choice(cfg.mp3_kbps))
        try:
            x = codec_round_trip(x, codec, kbps)
        except Exception:  # libsndfile refuses some settings: skip this augmentation, not the run
            pass
    if cfg.p_channel and rng.random() < cfg.p_channel:
        x = channel(x, rng)
    if cfg.p_rawboost and rng.random() < cfg.p_rawboost:
        x = rawboost(x, rng)
    if rng.random() < cfg.p_silence:
        x = pad_silence(x, float(rng.uniform(0.1, cfg.max_silence_s)), bool(rng.random() < 0.5), rng)[:n]
    if rng.random() < cfg.p_gain:
        x = gain(x, float(rng.uniform(-cfg.gain_db, cfg.gain_db)))
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def random_crop(x: np.ndarray, rng: np.random.Generator, length: int = WINDOW_SAMPLES) -> np.ndarray:
    """A random window of `length` samples; shorter clips are repeat-padded as at inference."""
    if len(x) <= length:
        return fit_window(x, length)
    start = int(rng.integers(0, len(x) - length + 1))
    return x[start : start + length]
