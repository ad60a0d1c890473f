"""Speech probability per 32 ms chunk: silero-vad's network in plain torch.

fakecheck must not give REAL/FAKE verdicts to tones, noise, music or clicks, so it asks silero-vad
(MIT, the `silero-vad` package on PyPI) how likely each stretch of a window is to be speech.

Why a port instead of `silero_vad.load_silero_vad()`:

* **Model files are data, never code.**  silero ships TorchScript (`silero_vad.jit`, run by
  `torch.jit.load`, which executes code from the file) and ONNX.  We build the network here and load
  only `silero_vad_16k.safetensors` from the installed package, after checking its SHA-256.
* **Batched per window.**  silero's TorchScript model is stateful and takes one 512-sample chunk per
  call.  Here the convolutional encoder sees every chunk of every window at once, and the LSTM runs
  over the chunks in order with batch B, each window from a fresh state, so B windows cost one pass.

The processing is silero's: each 512-sample chunk is preceded by the 64 samples before it (zeros for
the first chunk), reflect-padded by 64 on the right, and turned into a 129-bin magnitude spectrum
(256-point STFT as a fixed convolution, hop 128); four convolutions, an LSTM cell, ReLU, a 1x1
convolution and a sigmoid give the chunk's probability.  silero has no level normalisation, and its
answers depend on level (speech turned down by 12 dB lost its verdict), so `token_speech` first
brings each window's loud frames to VAD_LEVEL_DBFS (`normalise_level`); `speech_probs` stays silero's.

Note: the package's safetensors weights are not the same numbers as its TorchScript/ONNX model
(a sibling training of v6).  Given the TorchScript model's own weights this network reproduces it to
1e-6 (tests/test_vad.py); with the shipped safetensors its probabilities differ from silero's by
0.001-0.008 on average, up to 0.33 on single chunks near the threshold, and the speech/non-speech
decisions agree on 99-100 % of chunks (docs/decisions.md).
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fakecheck.audio.constants import DIGITAL_SILENCE_DBFS, HOP_LENGTH, LOUD_PERCENTILE, SAMPLE_RATE

__all__ = ["CHUNK_SAMPLES", "CONTEXT_SAMPLES", "SAMPLE_RATE", "TOKEN_SAMPLES", "VAD_LEVEL_DBFS", "WEIGHTS_SHA256",
           "SileroVAD", "VADWeightsError", "load_vad", "normalise_level", "speech_probs", "token_speech",
           "weights_path"]

CHUNK_SAMPLES = 512  # 32 ms: one probability per chunk
CONTEXT_SAMPLES = 64  # the previous chunk's last 64 samples, prepended to each chunk
TOKEN_SAMPLES = 640  # 40 ms: the detector's token (fakecheck.features.FeatureConfig.hop_samples)
# Where a window's loud 10 ms frames (their 95th percentile) are put before silero sees them: the level of
# the committed examples' speech (-14.6 to -17.3 dBFS), so audio at a normal level is hardly changed.
VAD_LEVEL_DBFS = -15.0

N_FFT = 256
STFT_HOP = 128
N_BINS = N_FFT // 2 + 1  # 129
HIDDEN = 128

WEIGHTS_PACKAGE = "silero_vad"
WEIGHTS_FILE = "data/silero_vad_16k.safetensors"  # inside the silero_vad package of silero-vad==6.2.3
WEIGHTS_SHA256 = "c59271c284ae9c8335d795d60e0bfdb71aaaceec578d9bd9ffc1b8153c319ea1"


class VADWeightsError(Exception):
    """silero-vad's weights are missing or not the file this release was tested with."""


class SileroVAD(nn.Module):
    """silero-vad's 16 kHz network: (B, S) waveforms -> (B, S // CHUNK_SAMPLES) speech probabilities.

    Parameter names are those of the safetensors file, except the LSTM cell, which runs as a one-layer
    nn.LSTM (same gates, same weights) so the loop over chunks happens inside torch."""

    def __init__(self) -> None:
        super().__init__()
        self.stft_conv = nn.Conv1d(1, 2 * N_BINS, kernel_size=N_FFT, stride=STFT_HOP, bias=False)
        self.conv1 = nn.Conv1d(N_BINS, 128, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(128, 64, kernel_size=3, stride=2, padding=1)
        self.conv3 = nn.Conv1d(64, 64, kernel_size=3, stride=2, padding=1)
        self.conv4 = nn.Conv1d(64, HIDDEN, kernel_size=3, padding=1)
        self.lstm = nn.LSTM(HIDDEN, HIDDEN, batch_first=True)
        self.final_conv = nn.Conv1d(HIDDEN, 1, kernel_size=1)

    def load_silero(self, tensors: dict[str, torch.Tensor]) -> None:
        """Load the tensors of silero_vad_16k.safetensors (names as the file has them)."""
        names = {"weight_ih": "weight_ih_l0", "weight_hh": "weight_hh_l0", "bias_ih": "bias_ih_l0",
                 "bias_hh": "bias_hh_l0"}
        sd = {(f"lstm.{names[k[len('lstm_cell.'):]]}" if k.startswith("lstm_cell.") else k): v
              for k, v in tensors.items()}
        self.load_state_dict(sd)  # strict: a missing or extra tensor is an error

    def encode(self, chunks: torch.Tensor) -> torch.Tensor:
        """(N, CONTEXT_SAMPLES + CHUNK_SAMPLES) -> (N, HIDDEN): one feature vector per chunk."""
        x = F.pad(chunks, (0, CONTEXT_SAMPLES), mode="reflect").unsqueeze(1)  # (N, 1, 640)
        x = self.stft_conv(x)  # (N, 258, 4): real parts, then imaginary parts
        x = torch.sqrt(x[:, :N_BINS] ** 2 + x[:, N_BINS:] ** 2)
        for conv in (self.conv1, self.conv2, self.conv3, self.conv4):
            x = F.relu(conv(x))
        return x.squeeze(-1)  # time is 1 after the two stride-2 convolutions

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        B, S = windows.shape
        n = S // CHUNK_SAMPLES
        if n == 0:
            return windows.new_zeros(B, 0)
        x = F.pad(windows[:, : n * CHUNK_SAMPLES], (CONTEXT_SAMPLES, 0))  # first chunk's context: zeros
        chunks = x.unfold(1, CONTEXT_SAMPLES + CHUNK_SAMPLES, CHUNK_SAMPLES)  # (B, n, 576)
        feats = self.encode(chunks.reshape(B * n, -1)).reshape(B, n, HIDDEN)
        h, _ = self.lstm(feats)  # zero initial state per row: rows are independent
        out = self.final_conv(F.relu(h).reshape(B * n, HIDDEN, 1))
        return torch.sigmoid(out).reshape(B, n)


def weights_path() -> Path:
    """silero_vad_16k.safetensors in the installed silero-vad package.

    Found with importlib.util.find_spec, which locates the package without importing it:
    importing silero_vad (which importlib.resources.files("silero_vad.data") does) runs
    torch.set_num_threads(1) for the whole process."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise VADWeightsError("the silero-vad package is not installed (pip install silero-vad==6.2.3)")
    for location in spec.submodule_search_locations:
        p = Path(location) / WEIGHTS_FILE
        if p.is_file():
            return p
    raise VADWeightsError(f"{WEIGHTS_FILE} not found in the silero_vad package; reinstall silero-vad==6.2.3")


@lru_cache(maxsize=1)
def load_vad() -> nn.Module:
    """The network in eval mode, weights SHA-256 checked; loaded once per process, on the CPU."""
    from safetensors.torch import load

    p = weights_path()
    raw = p.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != WEIGHTS_SHA256:
        raise VADWeightsError(
            f"{p} fails its SHA-256 check (got {digest[:16]}..., expected {WEIGHTS_SHA256[:16]}...): it is not "
            "the silero-vad weights file this release was tested with (pip install silero-vad==6.2.3)")
    net = SileroVAD()
    net.load_silero(load(raw))  # the very bytes that were hashed
    return net.eval().requires_grad_(False)


def _as_windows(windows: torch.Tensor | np.ndarray) -> torch.Tensor:
    x = torch.as_tensor(windows, dtype=torch.float32)
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ValueError(f"expected (batch, samples) windows, got shape {tuple(x.shape)}")
    return x


def speech_probs(windows: torch.Tensor | np.ndarray) -> np.ndarray:
    """(B, S) float mono waveforms at 16 kHz -> (B, S // CHUNK_SAMPLES) speech probabilities, float32.

    Chunk j covers samples [512 j, 512 j + 512).  Each row starts from a fresh state, as silero does
    after reset_states(); a trailing partial chunk is not scored."""
    x = _as_windows(windows)
    net = load_vad()
    if next(net.parameters()).device != x.device:  # `.to` walks every parameter: not once per window
        net = net.to(x.device)
    with torch.inference_mode():
        return net(x).cpu().numpy()


def normalise_level(windows: torch.Tensor) -> torch.Tensor:
    """(B, S) -> (B, S), each row scaled so that its loud 10 ms frames (the LOUD_PERCENTILE of frame
    levels) sit at VAD_LEVEL_DBFS.  A row whose loud frames are under DIGITAL_SILENCE_DBFS is digital
    silence or dither and is left as it is: no gain turns it into something to listen to."""
    B, S = windows.shape
    n = S // HOP_LENGTH
    if n == 0:
        return windows
    power = windows[:, : n * HOP_LENGTH].double().reshape(B, n, HOP_LENGTH).pow(2).mean(-1)
    loud_db = 10 * torch.log10(torch.quantile(power, LOUD_PERCENTILE / 100, dim=1) + 1e-20)
    gain_db = torch.where(loud_db < DIGITAL_SILENCE_DBFS, torch.zeros_like(loud_db), VAD_LEVEL_DBFS - loud_db)
    return windows * (10 ** (gain_db / 20)).to(windows.dtype)[:, None]


def token_speech(windows: torch.Tensor | np.ndarray, token_samples: int = TOKEN_SAMPLES) -> np.ndarray:
    """(B, S) waveforms -> (B, S // token_samples): each token's speech probability.

    A token's probability is the largest of the chunks that overlap it (two for 40 ms tokens on
    32 ms chunks).  The max, not an interpolation, so that a token holding any speech silero found
    counts as speech: the gate this feeds should lose no speech at word edges, and the cost is at
    most one chunk (32 ms) of margin, less than silero's own temporal resolution.  The values stay
    silero's probabilities, so silero's thresholds (0.5) keep their meaning.  Each window is levelled
    first (`normalise_level`), so the answer does not depend on how loud the recording is."""
    if token_samples <= 0:
        raise ValueError("token_samples must be positive")
    x = normalise_level(_as_windows(windows))
    n_tokens = x.shape[1] // token_samples
    probs = speech_probs(x)
    n_chunks = probs.shape[1]
    if n_tokens == 0:
        return np.zeros((x.shape[0], 0), dtype=np.float32)
    if n_chunks == 0:
        raise ValueError(f"windows of {x.shape[1]} samples are shorter than one {CHUNK_SAMPLES}-sample chunk")
    starts = np.arange(n_tokens) * token_samples
    first = np.minimum(starts // CHUNK_SAMPLES, n_chunks - 1)
    last = np.minimum((starts + token_samples - 1) // CHUNK_SAMPLES, n_chunks - 1)  # a partial chunk is unscored
    out = probs[:, first]
    for k in range(1, int((last - first).max()) + 1):  # two chunks for 40 ms tokens; more for long tokens
        out = np.maximum(out, probs[:, np.minimum(first + k, last)])
    return out.astype(np.float32)
