"""Synthetic partial fakes (PartialSpoof-style splices) with per-sample labels.

Used to train the per-token head (fakecheck.train)
and to build the splice benchmark (benchmarks/partial_fakes.py).  A splice replaces a
stretch of a host recording with a piece of another one:

    real host + fake piece   -> the piece's tokens are fake, the rest real
    fake host + real piece   -> the reverse
    real host + real piece   -> all real: a seam alone must never mean "fake"
    fake host + fake piece   -> all fake

The piece is level-matched to the host around the seam and cross-faded with a length
drawn from CROSSFADES_S (0 ms: a hard cut), so neither a level step nor a click at the
seam can give the answer.  Labels are the per-sample share of fake audio (the crossfade
ramps are fractional); `token_labels` turns them into one label per model token.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fakecheck.audio.constants import SAMPLE_RATE

CROSSFADES_S = (0.0, 0.005, 0.02, 0.05)  # hard cut .. 50 ms
SEGMENT_S = (0.3, 4.0)  # fake segment lengths trained on (issue 13); drawn log-uniformly
KINDS = ("real_host_fake_piece", "fake_host_real_piece", "real_real", "fake_fake")
KIND_SHARES = (0.4, 0.2, 0.25, 0.15)  # seam-only negatives (real_real) are a quarter of splices


@dataclass(frozen=True)
class Spliced:
    samples: np.ndarray  # float32 waveform at SAMPLE_RATE
    fake: np.ndarray  # float32 per-sample share of synthetic audio, 0..1, same length


def rms(x: np.ndarray) -> float:
    """Root mean square over the louder half of 10 ms frames: pauses do not dilute the level."""
    n = len(x) // 160
    if n == 0:
        return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0
    power = np.mean(x[: n * 160].reshape(n, 160).astype(np.float64) ** 2, axis=1)
    loud = np.sort(power)[n // 2:]
    return float(np.sqrt(np.mean(loud)))


def match_level(piece: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Scale `piece` to the level of `reference` (both measured by `rms`)."""
    p, r = rms(piece), rms(reference)
    if p <= 1e-9 or r <= 1e-9:
        return piece.astype(np.float32)
    return (piece * (r / p)).astype(np.float32)


def fade_mask(length: int, fade: int) -> np.ndarray:
    """Weight of the piece over its `length` samples: linear ramps of `fade` samples at both ends."""
    m = np.ones(length, dtype=np.float32)
    fade = min(fade, length // 2)
    if fade > 0:
        ramp = (np.arange(fade, dtype=np.float32) + 0.5) / fade
        m[:fade] = ramp
        m[length - fade:] = ramp[::-1]
    return m


def replace(host: np.ndarray, host_fake: np.ndarray, piece: np.ndarray, piece_is_fake: bool,
            at: int, fade_s: float) -> Spliced:
    """Replace host[at : at + len(piece)] with `piece`, level-matched and cross-faded.

    `host_fake` is the host's per-sample fake share (all 0 for a real host); the result's
    labels mix host and piece labels with the crossfade weights.
    """
    n = len(piece)
    if at < 0 or at + n > len(host):
        raise ValueError(f"piece of {n} samples at {at} does not fit a host of {len(host)}")
    context = host[max(0, at - SAMPLE_RATE // 2): at + n + SAMPLE_RATE // 2]  # the host around the seam
    piece = match_level(piece, context)
    m = fade_mask(n, int(round(fade_s * SAMPLE_RATE)))
    out = host.astype(np.float32).copy()
    out[at:at + n] = (1 - m) * out[at:at + n] + m * piece
    fake = host_fake.astype(np.float32).copy()
    fake[at:at + n] = (1 - m) * fake[at:at + n] + m * float(piece_is_fake)
    return Spliced(np.clip(out, -1.0, 1.0), fake)


def join(x: np.ndarray, y: np.ndarray, fade: int) -> np.ndarray:
    """x then y, overlapping by `fade` samples with a linear crossfade (0: a plain cut)."""
    fade = min(fade, len(x), len(y))
    if fade == 0:
        return np.concatenate([x, y]).astype(np.float32)
    r = (np.arange(fade, dtype=np.float32) + 0.5) / fade
    return np.concatenate([x[:-fade], x[-fade:] * (1 - r) + y[:fade] * r, y[fade:]]).astype(np.float32)


def insert(host: np.ndarray, piece: np.ndarray, piece_is_fake: bool, at: int, fade_s: float) -> Spliced:
    """Insert `piece` into a real `host` at sample `at` (the host goes on after it), level-matched
    to the host around `at` and cross-faded at both seams.  The result is len(host) + len(piece)
    samples minus the two overlaps."""
    if not 0 <= at <= len(host):
        raise ValueError(f"insert position {at} is outside a host of {len(host)} samples")
    piece = match_level(piece, host[max(0, at - SAMPLE_RATE): at + SAMPLE_RATE])
    fade = int(round(fade_s * SAMPLE_RATE))
    zeros = np.zeros(len(host), np.float32)
    lab = np.full(len(piece), float(piece_is_fake), np.float32)
    samples = join(join(host[:at], piece, fade), host[at:], fade)
    fake = join(join(zeros[:at], lab, fade), zeros[at:], fade)
    return Spliced(np.clip(samples, -1.0, 1.0), fake)


def token_labels(fake: np.ndarray, token_samples: int) -> np.ndarray:
    """Per-token fake share (mean of the per-sample labels), shape (len(fake) // token_samples,)."""
    n = len(fake) // token_samples
    return fake[: n * token_samples].reshape(n, token_samples).mean(axis=1)


def random_splice(host: np.ndarray, host_is_fake: bool, piece_source: np.ndarray, piece_is_fake: bool,
                  rng: np.random.Generator, max_fraction: float = 0.75) -> Spliced:
    """One random replacement inside `host` with a piece cut from `piece_source`.

    The piece is 0.3-4 s (log-uniform, at most `max_fraction` of the host and no longer
    than the source), placed uniformly, with a crossfade drawn from CROSSFADES_S.
    """
    lo, hi = SEGMENT_S
    longest = min(hi, max_fraction * len(host) / SAMPLE_RATE, len(piece_source) / SAMPLE_RATE)
    seconds = float(np.exp(rng.uniform(np.log(lo), np.log(max(lo, longest))))) if longest > lo else longest
    n = max(1, min(int(seconds * SAMPLE_RATE), len(host), len(piece_source)))
    src = int(rng.integers(0, len(piece_source) - n + 1))
    at = int(rng.integers(0, len(host) - n + 1))
    host_fake = np.full(len(host), float(host_is_fake), dtype=np.float32)
    fade = float(rng.choice(CROSSFADES_S))
    return replace(host, host_fake, piece_source[src:src + n], piece_is_fake, at, fade)


def draw_kind(rng: np.random.Generator) -> str:
    return str(rng.choice(KINDS, p=KIND_SHARES))


def draw_kind_for(host_is_fake: bool, rng: np.random.Generator) -> str:
    """A splice kind whose host has the given label, in the proportions of KIND_SHARES."""
    kinds = [k for k in KINDS if kind_labels(k)[0] == host_is_fake]
    shares = np.array([KIND_SHARES[KINDS.index(k)] for k in kinds])
    return str(rng.choice(kinds, p=shares / shares.sum()))


def kind_labels(kind: str) -> tuple[bool, bool]:
    """(host is fake, piece is fake) for a splice kind."""
    return {"real_host_fake_piece": (False, True), "fake_host_real_piece": (True, False),
            "real_real": (False, False), "fake_fake": (True, True)}[kind]
