"""The second view: a learnable filterbank on the raw waveform, one embedding per transformer token (issue 27).

Whisper's log-mel keeps 80 bands of power and drops the phase and the fine structure inside a band; vocoder
artefacts live partly there.  This branch, as in RawNet2 and AASIST, learns its own filters on the samples:

    waveform (B, S), level-normalised by the extractor (features.extract_views), 16 kHz
    -> Conv1d filterbank: n_filters band-pass filters of `taps` taps, every `stride` samples  (B, n_filters, S / 8)
    -> log magnitude -> BatchNorm -> max-pool FIRST_POOL                 (B, n_filters, S / 40): 2.5 ms frames
    -> 1x1 Conv to `channels`
    -> n_blocks gated residual blocks, max-pooled by BLOCK_POOLS first   (B, channels, S / 320): 20 ms frames
    -> adaptive average pooling to the token count                       (B, channels, N)
    -> LayerNorm -> Linear                                               (B, N, d_model)

The model adds these vectors to the Whisper tokens' embeddings (transformer.SpoofTransformer), so attention,
the token head and explanations work on one 40 ms token grid.  The filters start as mel-spaced sinc band-passes
(SincNet's start) and every tap then learns freely.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from fakecheck.audio.constants import SAMPLE_RATE

LOWEST_BAND_HZ = 50.0  # the filterbank's lowest edge: below it is hum and DC, not voice
LOG_FLOOR = 1e-5  # added to the band magnitudes before the log, so digital silence gives a finite floor
FIRST_POOL = 5  # the filterbank's 0.5 ms frames (stride 8) max-pooled to 2.5 ms, as RawNet2 pools after its sinc layer
# Max-pooling before each gated block: 5, 10, 20, 20, 20 ms frames with the default stride, two per 40 ms token.
# Part of the architecture: a checkpoint's weights were trained with these (they hold no parameters of their own).
BLOCK_POOLS = (2, 2, 2, 1, 1)


def mel_sinc_filters(n_filters: int, taps: int, sample_rate: int = SAMPLE_RATE) -> torch.Tensor:
    """(n_filters, taps) Hamming-windowed sinc band-pass filters whose edges are mel-spaced (HTK's mel scale,
    as SincNet) from LOWEST_BAND_HZ to Nyquist.  A band wider than the taps resolve passes at unit gain; narrower
    low bands peak lower, an offset of their log magnitude that the BatchNorm after it removes."""
    def mel(hz: float) -> float:
        return 2595.0 * math.log10(1.0 + hz / 700.0)

    mels = torch.linspace(mel(LOWEST_BAND_HZ), mel(sample_rate / 2), n_filters + 1, dtype=torch.float64)
    edges = 700.0 * (10 ** (mels / 2595.0) - 1.0) / sample_rate  # in cycles per sample, 0.5 = Nyquist
    n = torch.arange(taps, dtype=torch.float64) - (taps - 1) / 2

    def low_pass(f: torch.Tensor) -> torch.Tensor:  # (n_filters, 1) cut-offs -> (n_filters, taps) ideal low-passes
        return 2 * f * torch.sinc(2 * f * n)

    band = low_pass(edges[1:, None]) - low_pass(edges[:-1, None])
    return (band * torch.hamming_window(taps, periodic=False, dtype=torch.float64)).float()


class GatedBlock(nn.Module):
    """x + mix(GLU(conv(norm(x)))): a pre-norm residual convolution whose output each channel gates by a sigmoid
    of its own (gated CNNs, Dauphin et al. 2017), so a block can pass an artefact's band through or shut it."""

    def __init__(self, channels: int):
        super().__init__()
        self.norm = nn.BatchNorm1d(channels)
        self.conv = nn.Conv1d(channels, 2 * channels, kernel_size=3, padding=1)  # values and gates
        self.mix = nn.Conv1d(channels, channels, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mix(F.glu(self.conv(self.norm(x)), dim=1))  # (B, C, L)


class RawView(nn.Module):
    """(B, S) waveform -> (B, n_tokens, d_model): the raw view's embedding of each of n_tokens equal spans."""

    def __init__(self, n_filters: int, taps: int, stride: int, channels: int, n_blocks: int, d_model: int):
        super().__init__()
        assert taps % 2 == 1, "the filterbank needs an odd number of taps, so each frame centres on a sample"
        assert n_blocks <= len(BLOCK_POOLS), f"at most {len(BLOCK_POOLS)} gated blocks"
        # Padded by half a filter, so frame j centres on sample j * stride and a token's frames lie under it.
        self.filterbank = nn.Conv1d(1, n_filters, taps, stride=stride, padding=taps // 2, bias=False)
        with torch.no_grad():
            self.filterbank.weight.copy_(mel_sinc_filters(n_filters, taps)[:, None])
        self.band_norm = nn.BatchNorm1d(n_filters)
        self.stem = nn.Conv1d(n_filters, channels, kernel_size=1)
        self.blocks = nn.ModuleList(GatedBlock(channels) for _ in range(n_blocks))
        self.pools = BLOCK_POOLS[:n_blocks]
        self.norm = nn.LayerNorm(channels)
        self.proj = nn.Linear(channels, d_model)

    def forward(self, waveforms: torch.Tensor, n_tokens: int) -> torch.Tensor:
        x = self.filterbank(waveforms[:, None])  # (B, n_filters, S / stride)
        x = torch.log(x.abs() + LOG_FLOOR)  # magnitudes span decades: compress them as a log-mel does
        x = F.max_pool1d(self.band_norm(x), FIRST_POOL, ceil_mode=True)
        x = self.stem(x)  # (B, channels, L)
        for pool, block in zip(self.pools, self.blocks, strict=True):
            x = block(F.max_pool1d(x, pool, ceil_mode=True) if pool > 1 else x)
        x = F.adaptive_avg_pool1d(x, n_tokens)  # (B, channels, n_tokens): the frames under each token averaged
        return self.proj(self.norm(x.transpose(1, 2)))  # (B, n_tokens, d_model)
