"""Experiment front end (lost to Whisper; docs/experiments.md): waveforms -> LFCC (batch, time_steps, features).

This was fakecheck's front end up to version 0.1 and is kept as the baseline candidate of the
experiment protocol (benchmarks/experiments/cache_features.py).

Linear-frequency cepstral coefficients (LFCC) are the ASVspoof baseline front end.
Unlike mel filters, linear filters give the 4-8 kHz band as much resolution as
the low band, and that is where vocoder and codec artefacts live.  Steps:

    pre-emphasis -> STFT power (Hann, WIN_LENGTH, HOP_LENGTH, N_FFT)
    -> N_FILTERS triangular filters spaced linearly over 0..8 kHz
    -> log (floored relative to the window's mean power, so gain cannot move it)
    -> DCT-II (orthonormal), keep N_LFCC coefficients
    -> subtract the per-window mean of each coefficient (CMN: removes gain and channel tilt)
    -> append deltas and delta-deltas (regression over +/-2 frames).

Its configuration is stored in every checkpoint (FeatureConfig.to_dict) and the
model refuses features of another configuration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import torch

from fakecheck.audio import HOP_LENGTH, N_FFT, SAMPLE_RATE, WIN_LENGTH
from fakecheck.settings import Settings


@dataclass(frozen=True)
class FeatureConfig(Settings):
    KIND = "feature"

    sample_rate: int = SAMPLE_RATE
    n_fft: int = N_FFT
    win_length: int = WIN_LENGTH
    hop_length: int = HOP_LENGTH
    n_filters: int = 64  # linear triangular filters, centres ~123 Hz apart over 0-8 kHz
    n_lfcc: int = 20  # cepstral coefficients kept (c0..c19)
    deltas: bool = True  # append first and second time derivatives
    delta_width: int = 2  # regression half-width in frames for the deltas
    preemphasis: float = 0.97  # y[n] = x[n] - 0.97 x[n-1]: lifts the high band
    log_floor: float = 1e-6  # relative to the mean power of the window
    cmn: bool = True  # per-window cepstral mean normalisation

    @property
    def n_features(self) -> int:
        return self.n_lfcc * (3 if self.deltas else 1)

    def n_frames(self, n_samples: int) -> int:
        """Frames produced for n_samples (centred STFT): one per hop, plus one."""
        return 1 + n_samples // self.hop_length



def linear_filterbank(cfg: FeatureConfig) -> torch.Tensor:
    """Triangular filters with linearly spaced centres, shape (n_filters, n_fft // 2 + 1)."""
    return _cached_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_filters).clone()


def dct_matrix(n_out: int, n_in: int) -> torch.Tensor:
    """Orthonormal DCT-II matrix (n_out, n_in), the same as scipy.fft.dct(norm='ortho')."""
    return _cached_dct(n_out, n_in).clone()


@lru_cache(maxsize=8)
def _cached_filterbank(sample_rate: int, n_fft: int, n_filters: int) -> torch.Tensor:
    n_bins = n_fft // 2 + 1
    freqs = torch.linspace(0, sample_rate / 2, n_bins, dtype=torch.float64)
    edges = torch.linspace(0, sample_rate / 2, n_filters + 2, dtype=torch.float64)
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lo) / (mid - lo)
    falling = (hi - freqs) / (hi - mid)
    return torch.clamp(torch.minimum(rising, falling), min=0).float()


@lru_cache(maxsize=8)
def _cached_dct(n_out: int, n_in: int) -> torch.Tensor:
    n = torch.arange(n_in, dtype=torch.float64)
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    m = torch.cos(math.pi / n_in * (n + 0.5) * k) * math.sqrt(2.0 / n_in)
    m[0] /= math.sqrt(2.0)
    return m.float()


@lru_cache(maxsize=8)
def _cached_window(win_length: int) -> torch.Tensor:
    return torch.hann_window(win_length, periodic=True)


def deltas(x: torch.Tensor, width: int) -> torch.Tensor:
    """Regression deltas along time of (batch, frames, coeffs), edges repeated."""
    padded = torch.nn.functional.pad(x.transpose(1, 2), (width, width), mode="replicate").transpose(1, 2)
    frames = x.shape[1]
    terms = (n * (padded[:, width + n : width + n + frames] - padded[:, width - n : width - n + frames])
             for n in range(1, width + 1))
    num = cast(torch.Tensor, sum(terms))
    return num / (2 * sum(n * n for n in range(1, width + 1)))


def lfcc(waveforms: torch.Tensor, cfg: FeatureConfig = FeatureConfig()) -> torch.Tensor:
    """LFCC features of (batch, samples) float waveforms -> (batch, time_steps, features).

    time_steps = 1 + samples // hop_length (one per 10 ms); features = cfg.n_features.
    """
    if waveforms.ndim == 1:
        waveforms = waveforms[None]
    assert waveforms.ndim == 2, f"expected (batch, samples), got {tuple(waveforms.shape)}"
    x = waveforms.float()
    if cfg.preemphasis:
        x = torch.cat([x[:, :1], x[:, 1:] - cfg.preemphasis * x[:, :-1]], dim=1)
    spec = torch.stft(
        x, cfg.n_fft, cfg.hop_length, cfg.win_length, window=_cached_window(cfg.win_length).to(x.device),
        center=True, pad_mode="reflect", return_complex=True,
    )  # (B, bins, frames)
    power = spec.real**2 + spec.imag**2
    fbank = _cached_filterbank(cfg.sample_rate, cfg.n_fft, cfg.n_filters).to(x.device)
    energies = torch.einsum("fk,bkt->btf", fbank, power)  # (B, frames, filters)
    # Floor relative to the window's mean energy: scaling the waveform by g scales
    # both terms by g^2, so the log shifts by a constant that CMN removes exactly.
    floor = cfg.log_floor * energies.mean(dim=(1, 2), keepdim=True) + 1e-30
    logfb = torch.log(energies + floor)
    ceps = logfb @ _cached_dct(cfg.n_lfcc, cfg.n_filters).to(x.device).T  # (B, frames, n_lfcc)
    if cfg.cmn:
        ceps = ceps - ceps.mean(dim=1, keepdim=True)
    if cfg.deltas:
        d1 = deltas(ceps, cfg.delta_width)
        ceps = torch.cat([ceps, d1, deltas(d1, cfg.delta_width)], dim=2)
    return ceps
