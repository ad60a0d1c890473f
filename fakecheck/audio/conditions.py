"""Conditions measured on the input that make a verdict less trustworthy, as short warnings.

Each warning comes from one measurement, accumulated over the scored windows of a file
(`ConditionStats.add`) and read once at the end (`warnings`):

    band-limited       the highest frequency within BAND_DROP_DB of the speech band's level is
                       below BAND_LIMIT_HZ (phone audio: about 3.9 kHz), or the file's own rate
                       is below 16 kHz
    heavily compressed the decoded speech has spectral holes, the mark of a low-bitrate codec: at least
                       HOLE_SHARE of the 300-7000 Hz cells of loud frames sit HOLE_DB under their
                       neighbours (the median of HOLE_NEIGHBOURS bins around them); or a lossy
                       file's average bitrate is under COMPRESSED_KBPS
    clipped            at least CLIPPED_SHARE of the samples sit at full scale
    short speech       less than SHORT_SPEECH_S of detected speech
    mostly non-speech  speech in less than half of the sound (music, noise, tones under speech)
    noisy              the speech is less than NOISY_SNR_DB above the pauses: below the 10-40 dB
                       SNR range the model's noise augmentation covered (fakecheck.augment)

The band limit was set on the committed example clips and their re-encoded copies (full band reaches
7-8 kHz, MP3 at 32 kbit/s 7.2 kHz, an 8 kHz round trip 3.9 kHz, 11 kHz 5.3 kHz).  Codec holes are counted in
speech frames only, and only where a bin is a hole in neither neighbouring frame (`codec_holes`): a codec zeroes
different weak bands frame by frame, while music or tones under the speech leave gaps that last (issue 26).
The hole share was measured on the same clips (joined, 25 s, at 44.1 kHz) through ffmpeg: uncompressed 0.65%,
MP3 64k 0.76%, Vorbis at its default quality 1.00%, speech over synthetic chords 0.86%; MP3 32k 1.51%, and
after re-encoding it to AAC 128k 1.52%; Vorbis q0 1.67%.  So a 32 kbit/s MP3 stays warned after re-encoding,
which the container's bitrate alone cannot see.  Opus fills its holes with noise, so a bitrate floor (32 kbit/s,
any lossy codec) stays for it.  The other thresholds are fixed by what they name (full scale, the training SNR
range) and were not tuned.  tests/test_conditions.py
checks each one.  They describe the audio, not the model's score.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.audio.info import AudioInfo
from fakecheck.audio.levels import frame_dbfs, silence_dbfs

FRAME = 512  # samples per spectrum frame (32 ms)
BAND_DROP_DB = 50.0  # "energy" at a frequency: within this many dB of the 150-3000 Hz level
BAND_LIMIT_HZ = 6_000.0  # full-band 16 kHz speech reaches 7-8 kHz; an 8 kHz round trip stops at 3.9 kHz
COMPRESSED_KBPS = 32.0  # average bitrate below which any lossy codec counts as heavily compressed
HOLE_DB = 20.0  # a spectral hole: this far under the median of its neighbours in the same frame
HOLE_NEIGHBOURS = 15  # bins (470 Hz) the neighbours' median is taken over
HOLE_BAND_HZ = (300.0, 7000.0)  # below the 7.2 kHz low-pass of low-rate MP3, above the hum
HOLE_SHARE = 0.012  # share of cells that are codec holes: 1.03% at most uncompressed, 1.48% at least after MP3 32k
CLIPPED_LEVEL = 0.999
CLIPPED_SHARE = 0.001
SHORT_SPEECH_S = 3.0
MIN_SPEECH_SHARE = 0.5
NOISY_SNR_DB = 10.0
LOSSY_SUBTYPES = frozenset({"MPEG_LAYER_I", "MPEG_LAYER_II", "MPEG_LAYER_III", "OPUS", "VORBIS", "GSM610",
                            "G721_32", "G723_24", "G723_40", "ULAW", "ALAW", "VOX_ADPCM", "IMA_ADPCM", "MS_ADPCM"})


@dataclass
class ConditionStats:
    """Running sums over the windows of one file."""

    power: np.ndarray = field(default_factory=lambda: np.zeros(FRAME // 2 + 1))
    frames: int = 0
    samples: int = 0
    clipped: int = 0
    speech_energy: float = 0.0
    speech_tokens: int = 0
    pause_energy: float = 0.0
    pause_tokens: int = 0
    sound_tokens: int = 0
    hole_cells: int = 0  # codec holes (`codec_holes`) in the speech frames' spectra
    band_cells: int = 0  # the cells they were looked for in

    def add(self, x: np.ndarray, token_speech: np.ndarray, token_samples: int) -> None:
        """Add one window's real samples `x` (16 kHz) and its per-token speech flags."""
        self.samples += len(x)
        self.clipped += int(np.count_nonzero(np.abs(x) >= CLIPPED_LEVEL))
        n = len(x) // FRAME
        if n:
            fr = x[: n * FRAME].reshape(n, FRAME).astype(np.float64)
            levels = frame_dbfs(x, FRAME)
            loud = levels > silence_dbfs(levels)
            if loud.any():
                spec = np.abs(np.fft.rfft(fr[loud] * np.hanning(FRAME), axis=1)) ** 2
                self.power += spec.sum(axis=0)
                self.frames += int(loud.sum())
                # Codec traces are read in speech only: music or noise alone has no speech spectrum to judge.
                centre_token = (np.arange(n) * FRAME + FRAME // 2) // token_samples
                in_speech = token_speech[np.minimum(centre_token, len(token_speech) - 1)] if len(token_speech) else \
                    np.zeros(n, dtype=bool)
                speech_frames = in_speech[loud]
                if speech_frames.any():
                    self.hole_cells += int(codec_holes(hole_mask(spec[speech_frames])).sum())
                    self.band_cells += int(speech_frames.sum() * HOLE_BAND.sum())
        k = min(len(token_speech), len(x) // token_samples)
        if k:
            db = frame_dbfs(x[: k * token_samples], token_samples)
            energy = 10 ** (db / 10)
            sp = token_speech[:k]
            self.speech_energy += float(energy[sp].sum())
            self.speech_tokens += int(sp.sum())
            self.pause_energy += float(energy[~sp].sum())
            self.pause_tokens += int((~sp).sum())
            self.sound_tokens += int(np.count_nonzero(db > silence_dbfs(db)))


def bandwidth_hz(power: np.ndarray) -> float:
    """Highest frequency whose mean power is within BAND_DROP_DB of the 150-3000 Hz level."""
    db = 10 * np.log10(power + 1e-20)
    hz = np.arange(len(power)) * SAMPLE_RATE / FRAME
    ref = float(np.percentile(db[(hz >= 150) & (hz <= 3000)], 90))
    above = np.nonzero(db > ref - BAND_DROP_DB)[0]
    return float(hz[above.max()]) if len(above) else 0.0


HOLE_BAND = (np.arange(FRAME // 2 + 1) * SAMPLE_RATE / FRAME >= HOLE_BAND_HZ[0]) & \
    (np.arange(FRAME // 2 + 1) * SAMPLE_RATE / FRAME <= HOLE_BAND_HZ[1])


def hole_mask(power: np.ndarray) -> np.ndarray:
    """(frames, bins) bool of (frames, FRAME // 2 + 1) power spectra: cells in HOLE_BAND_HZ that sit HOLE_DB under
    the median of the HOLE_NEIGHBOURS bins around them.  Codecs quantise weak bins to zero; recorded
    speech, even clean, keeps a noise floor in them."""
    db = 10 * np.log10(power + 1e-20)
    half = HOLE_NEIGHBOURS // 2
    padded = np.pad(db, ((0, 0), (half, half)), mode="edge")
    # The middle value of each sliding window (HOLE_NEIGHBOURS is odd): the same numbers as np.median, at a
    # quarter of its cost (this stage was 11.5% of a profiled scan, 5.4% after).
    neighbours = np.partition(np.lib.stride_tricks.sliding_window_view(padded, HOLE_NEIGHBOURS, axis=1),
                              half, axis=2)[..., half]
    return (db < neighbours - HOLE_DB) & HOLE_BAND


def spectral_holes(power: np.ndarray) -> tuple[int, int]:
    """(holes, cells) in HOLE_BAND_HZ of (frames, FRAME // 2 + 1) power spectra (see `hole_mask`)."""
    return int(np.count_nonzero(hole_mask(power))), int(power.shape[0] * HOLE_BAND.sum())


def codec_holes(holes: np.ndarray) -> np.ndarray:
    """The holes of a (frames, bins) `hole_mask` that are holes in neither the frame before nor the one after.
    A codec decides frame by frame which weak bands to zero, so its holes come and go; the gaps of the sound
    itself (between the partials of a synthetic chord under the speech) last as long as the note (issue 26:
    the warning fired on uncompressed speech over music).  Measured (isolated holes, share of cells): the
    joined examples 0.66%, MP3 64k 0.75%, Vorbis default 1.03%, speech over synthetic chords 0.86-0.95%; MP3 32k
    1.48%, MP3 32k then AAC 128k 1.51%, Vorbis q0 1.65%."""
    before = np.zeros_like(holes)
    before[1:] = holes[:-1]
    after = np.zeros_like(holes)
    after[:-1] = holes[1:]
    return holes & ~before & ~after


def hole_share(stats: ConditionStats) -> float:
    return stats.hole_cells / stats.band_cells if stats.band_cells else 0.0


def lossy_kbps(info: AudioInfo) -> float | None:
    """Average bitrate of a lossy file in kbit/s, from its probe and its size; None for lossless files,
    memory input, or a file that vanished."""
    # ffmpeg's containers here (MP4/M4A, WebM, ADTS) carry AAC or Opus in practice.
    lossy = info.decoder == "ffmpeg" or info.codec in LOSSY_SUBTYPES
    if not lossy or info.duration_s <= 0:
        return None
    try:
        return os.path.getsize(info.path) * 8 / info.duration_s / 1000
    except OSError:
        return None


# Which way a condition pushes the bundled model's P(fake), where `python benchmarks/codec_bias.py` (160 validation
# clips, first 4 s, v3, 2026-12-07) found one direction for both classes: the 8 kHz phone band moved scores down
# (mean -0.025 bona fide, -0.039 spoof; spoofs flagged 61% -> 52%), Opus (the `opus_16k` condition: libsndfile's
# default rate, about 30 kbit/s in the file) moved 96-97% of clips up (+0.033, +0.060).  MP3 at 32 kbit/s moved
# them +0.006 (half up, half down), so its warning names no direction.
# Re-measure with that script when the bundled model changes.
TOWARDS_REAL = "pushes scores towards REAL"
TOWARDS_FAKE = "pushes scores towards FAKE"
OPUS_CODECS = frozenset({"OPUS"})  # libsndfile's subtype name


def warnings(stats: ConditionStats, source_rate: int | None, kbps: float | None, speech_s: float,
             codec: str = "") -> list[str]:
    """Short, plain warnings for the conditions in the module docstring, most serious first; `codec` is the file's
    libsndfile subtype ("" when unknown)."""
    out = []
    if source_rate is not None and source_rate < SAMPLE_RATE:
        out.append(f"band-limited: recorded at {source_rate / 1000:g} kHz (no energy above "
                   f"{source_rate / 2000:g} kHz; {TOWARDS_REAL})")
    elif stats.frames:
        bw = bandwidth_hz(stats.power / stats.frames)
        if bw < BAND_LIMIT_HZ:
            out.append(f"band-limited: no energy above {bw / 1000:.1f} kHz (phone or low-rate audio; {TOWARDS_REAL})")
    holes = hole_share(stats)
    low_rate = kbps is not None and kbps < COMPRESSED_KBPS
    if holes >= HOLE_SHARE or low_rate:
        found = [f"about {kbps:.0f} kbit/s"] if low_rate else []
        found += [f"codec traces (spectral holes in {holes:.1%} of the speech spectrum)"] if holes >= HOLE_SHARE else []
        bias = f" (low-rate Opus {TOWARDS_FAKE})" if codec in OPUS_CODECS else ""
        out.append("heavily compressed: " + ", ".join(found) + bias)
    if stats.samples and stats.clipped / stats.samples >= CLIPPED_SHARE:
        out.append(f"clipped: {stats.clipped / stats.samples:.1%} of samples at full scale")
    if stats.sound_tokens and stats.speech_tokens / stats.sound_tokens < MIN_SPEECH_SHARE:
        out.append(f"mostly non-speech: speech in {stats.speech_tokens / stats.sound_tokens:.0%} of the sound")
    if stats.speech_tokens and stats.pause_tokens:
        snr = 10 * np.log10((stats.speech_energy / stats.speech_tokens + 1e-20)
                            / (stats.pause_energy / stats.pause_tokens + 1e-20))
        if snr < NOISY_SNR_DB:
            out.append(f"noisy: speech only {int(round(snr))} dB above the background")  # never "-0 dB"
    if speech_s < SHORT_SPEECH_S:
        out.append(f"short: {speech_s:.1f} s of speech")
    return out
