"""Whisper tiny.en's encoder as a frozen speech front end, in plain torch.

    waveform (B, samples) at 16 kHz
    -> level normalised to -20 dBFS per window (gain cannot move the features)
    -> log-mel (B, 80, frames): Whisper's own recipe (400-point FFT, 10 ms hop, 80 Slaney mels,
       log10, floored 8 decades below the window's peak, scaled (x + 4) / 4)
    -> conv1 (k3) + GELU -> conv2 (k3, stride 2) + GELU: one frame per 20 ms
    -> + sinusoidal positions (the first T of Whisper's 1500)
    -> 4 pre-norm blocks, 6 heads, width 384 -> final LayerNorm
    -> hidden states of all 5 stages (B, 5, T, 384)

The weights come from models/whisper-tiny-en-encoder.safetensors (float16; scripts/convert_whisper.py
made it; its SHA-256 is checked on load).  Whisper learned its stages on 680 k hours of speech,
which is why a small classifier on top generalises to generators it has not seen far better
than hand-made features do (docs/experiments.md).
"""

from __future__ import annotations

import hashlib
import math
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from fakecheck.model.files import bundled_file

N_MELS = 80
N_FFT = 400
HOP = 160
WIDTH = 384
N_HEADS = 6
N_LAYERS = 4
N_STAGES = N_LAYERS + 1  # the convolutional stem's output and each block's
FRAME_SECONDS = 0.02  # after conv2's stride of 2
WEIGHTS_FILE = "whisper-tiny-en-encoder.safetensors"
WEIGHTS_SHA256 = "d0c8f93464e404aa1bc7ab484649e0daa35af0457592eba0147e14a42840d74e"


class WhisperWeightsError(Exception):
    """The encoder weights are missing or not the file this release was tested with."""


def _hz_to_mel(f: torch.Tensor) -> torch.Tensor:
    """Slaney's mel scale (librosa's default, which Whisper uses): linear to 1 kHz, then log."""
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = math.log(6.4) / 27.0
    lin = f / f_sp
    return torch.where(f >= min_log_hz, min_log_hz / f_sp + torch.log(f.clamp(min=1e-10) / min_log_hz) / logstep, lin)


def _mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    logstep = math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    return torch.where(m >= min_log_mel, min_log_hz * torch.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=2)
def mel_filters(sample_rate: int = 16000, n_fft: int = N_FFT, n_mels: int = N_MELS) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) Slaney-normalised triangular filters, as librosa.filters.mel."""
    fft_freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    mel_pts = _mel_to_hz(torch.linspace(float(_hz_to_mel(torch.tensor(0.0, dtype=torch.float64))),
                                        float(_hz_to_mel(torch.tensor(sample_rate / 2, dtype=torch.float64))),
                                        n_mels + 2, dtype=torch.float64))
    fdiff = mel_pts[1:] - mel_pts[:-1]
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = torch.clamp(torch.minimum(lower, upper), min=0)
    weights *= (2.0 / (mel_pts[2:n_mels + 2] - mel_pts[:n_mels]))[:, None]
    return weights.float()


TARGET_RMS = 0.1  # -20 dBFS: every window is brought to this level first


def normalise_level(waveforms: torch.Tensor) -> torch.Tensor:
    """Scale each window to TARGET_RMS, so loudness cannot move the features (Whisper's log-mel
    shifts with gain).  Near-silent windows are scaled by at most 1000x (60 dB)."""
    rms = waveforms.float().pow(2).mean(dim=1, keepdim=True).sqrt()
    scale = TARGET_RMS / rms.clamp(min=TARGET_RMS / 1000)
    # Samples so large that their power overflows (corrupt float data) must not be scaled into
    # plausible audio: NaN propagates to a non-finite score, which the detector reports as ERROR.
    return waveforms * torch.where(torch.isfinite(rms), scale, torch.full_like(scale, float("nan")))


def log_mel(waveforms: torch.Tensor) -> torch.Tensor:
    """(B, samples) -> (B, 80, samples // 160) Whisper log-mel spectrogram."""
    window = torch.hann_window(N_FFT, device=waveforms.device)
    spec = torch.stft(waveforms.float(), N_FFT, HOP, window=window, return_complex=True)
    power = spec[..., :-1].abs() ** 2  # Whisper drops the last frame
    mel = mel_filters().to(waveforms.device) @ power
    logm = torch.log10(mel.clamp(min=1e-10))
    logm = torch.maximum(logm, logm.amax(dim=(1, 2), keepdim=True) - 8.0)
    return (logm + 4.0) / 4.0


class Block(nn.Module):
    """One pre-norm Whisper encoder block (also the model's fine-tuned layers, model.EncoderTop)."""

    def __init__(self) -> None:
        super().__init__()
        self.attn_norm = nn.LayerNorm(WIDTH)
        self.qkv = nn.Linear(WIDTH, 3 * WIDTH)  # fused queries, keys and values
        self.out = nn.Linear(WIDTH, WIDTH)
        self.ffn_norm = nn.LayerNorm(WIDTH)
        self.up = nn.Linear(WIDTH, 4 * WIDTH)
        self.down = nn.Linear(4 * WIDTH, WIDTH)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, D = x.shape
        q, k, v = self.qkv(self.attn_norm(x)).view(B, T, 3, N_HEADS, D // N_HEADS).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, T, D)
        x = x + self.out(a)
        return x + self.down(F.gelu(self.up(self.ffn_norm(x))))


# Our block's parameter names -> CTranslate2's, within one encoder layer.
_BLOCK_NAMES = {
    "attn_norm.weight": "self_attention.layer_norm.gamma", "attn_norm.bias": "self_attention.layer_norm.beta",
    "qkv.weight": "self_attention.linear_0.weight", "qkv.bias": "self_attention.linear_0.bias",
    "out.weight": "self_attention.linear_1.weight", "out.bias": "self_attention.linear_1.bias",
    "ffn_norm.weight": "ffn.layer_norm.gamma", "ffn_norm.bias": "ffn.layer_norm.beta",
    "up.weight": "ffn.linear_0.weight", "up.bias": "ffn.linear_0.bias",
    "down.weight": "ffn.linear_1.weight", "down.bias": "ffn.linear_1.bias",
}


class WhisperEncoder(nn.Module):
    """Frozen Whisper tiny.en encoder returning every stage's hidden states."""

    positions: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(N_MELS, WIDTH, 3, padding=1)
        self.conv2 = nn.Conv1d(WIDTH, WIDTH, 3, stride=2, padding=1)
        self.register_buffer("positions", torch.zeros(1500, WIDTH), persistent=False)
        self.blocks = nn.ModuleList(Block() for _ in range(N_LAYERS))
        self.norm = nn.LayerNorm(WIDTH)

    def forward(self, waveforms: torch.Tensor, n_blocks: int = N_LAYERS) -> torch.Tensor:
        """(B, samples) -> (B, n_blocks + 1, ceil((samples // 160) / 2), 384).

        `n_blocks` < N_LAYERS stops after the lower blocks: the model fine-tunes the rest
        (fakecheck.model.EncoderTop), so they run there, with gradients, and not here."""
        return self.stages_from_log_mel(log_mel(normalise_level(waveforms)), n_blocks)

    def stages_from_log_mel(self, mel: torch.Tensor, n_blocks: int = N_LAYERS) -> torch.Tensor:
        x = F.gelu(self.conv2(F.gelu(self.conv1(mel))))  # (B, 384, T)
        x = x.transpose(1, 2)
        x = x + self.positions[: x.shape[1]]
        stages = [x]
        for i, block in enumerate(self.blocks[:n_blocks]):
            x = block(x)
            stages.append(self.norm(x) if i == N_LAYERS - 1 else x)
        return torch.stack(stages, dim=1)

    def load_ct2_names(self, tensors: dict[str, torch.Tensor]) -> None:
        """Load tensors named as in scripts/convert_whisper.py (CTranslate2's names)."""
        t = {k: v.float() for k, v in tensors.items()}
        names = {"conv1.weight": "conv1.weight", "conv1.bias": "conv1.bias", "conv2.weight": "conv2.weight",
                 "conv2.bias": "conv2.bias", "norm.weight": "layer_norm.gamma", "norm.bias": "layer_norm.beta"}
        for i in range(N_LAYERS):
            names.update({f"blocks.{i}.{ours}": f"layer_{i}.{theirs}" for ours, theirs in _BLOCK_NAMES.items()})
        sd = {ours: t[theirs] for ours, theirs in names.items()}
        self.load_state_dict(sd)
        self.positions.copy_(t["position_encodings.encodings"])


def default_weights_path() -> Path:
    path = bundled_file(WEIGHTS_FILE)
    if path.is_file():
        return path
    raise WhisperWeightsError(f"{WEIGHTS_FILE} not found next to the package; reinstall fakecheck")


def on_device(module: nn.Module, device: torch.device) -> nn.Module:
    """`module` on `device`, moved only if it is elsewhere: `.to` walks every parameter (2.5% of a scan's time when
    called per window) and reassigns them, which must not happen while another thread runs the module."""
    return module if next(module.parameters()).device == device else module.to(device)


@lru_cache(maxsize=2)
def load_encoder(path: str | None = None, verify: bool = True) -> WhisperEncoder:
    """The frozen encoder in eval mode; its file's SHA-256 must match WEIGHTS_SHA256."""
    from safetensors.torch import load

    p = Path(path) if path else default_weights_path()
    raw = p.read_bytes()
    if verify and hashlib.sha256(raw).hexdigest() != WEIGHTS_SHA256:
        raise WhisperWeightsError(f"{p} is not the Whisper encoder file this release was tested with")
    enc = WhisperEncoder()
    enc.load_ct2_names(load(raw))  # the very bytes that were hashed
    enc.eval().requires_grad_(False)
    return enc
