"""The one feature extractor: waveforms (batch, samples) -> (batch, time_steps, features).

The front end is the encoder of OpenAI's Whisper tiny.en, frozen (fakecheck/whisper.py):

    level normalised per window -> Whisper log-mel (80 bins, 10 ms)
    -> convolutional stem (20 ms frames) -> 4 transformer blocks
    -> the hidden states of all 5 stages, each frame averaged with its neighbour (40 ms)
    -> stages side by side: features = 5 x 384 = 1920 per 40 ms frame

The model (fakecheck/model.py) mixes the 5 stages with learned weights before its embedding.

Fine-tuned models (detector v3) split the encoder in two.  This module runs the frozen lower part,
the stem and the first `frozen_blocks` blocks, and returns their stages at Whisper's own 20 ms
(`pool_frames` 1); the top 4 - frozen_blocks blocks and the final norm are trainable layers of the
model (model.EncoderTop), which ship inside the checkpoint.  Features end where the frozen weights
end.
Whisper learned these representations from 680 k hours of speech; on our held-out generator
families they beat LFCC by 5 and a log spectrogram by 10 points of EER (docs/experiments.md).

Its configuration is stored in every checkpoint (FeatureConfig.to_dict), with the SHA-256 of
the encoder weights, and the model refuses features of another configuration.

`extract_views` yields both views of a batch (issue 27): these features and the level-normalised samples
under them, for a model with a raw-waveform branch (model/raw_view.py).  Every path that runs a model
(training, scoring, explanations) calls it, so no path can give a two-view model only one.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.model import whisper
from fakecheck.model.settings import Settings


@dataclass(frozen=True)
class FeatureConfig(Settings):
    KIND = "feature"

    frontend: str = "whisper-tiny.en-encoder"
    weights_sha256: str = whisper.WEIGHTS_SHA256
    sample_rate: int = SAMPLE_RATE
    n_stages: int = whisper.N_STAGES  # the stem's output and each of the 4 blocks'
    stage_width: int = whisper.WIDTH
    pool_frames: int = 2  # Whisper's 20 ms frames averaged in pairs: one frame per 40 ms
    frozen_blocks: int = whisper.N_LAYERS  # encoder blocks run here; the rest are fine-tuned in the model

    @classmethod
    def for_finetuning(cls, encoder_blocks: int) -> FeatureConfig:
        """The frozen lower encoder under a model that fine-tunes the top `encoder_blocks` blocks:
        20 ms frames (the model's blocks need Whisper's own frame rate) of the stem and lower blocks."""
        if encoder_blocks == 0:
            return cls()
        frozen = whisper.N_LAYERS - encoder_blocks
        return cls(n_stages=frozen + 1, pool_frames=1, frozen_blocks=frozen)

    @property
    def n_features(self) -> int:
        return self.n_stages * self.stage_width

    @property
    def hop_samples(self) -> int:
        """Samples per feature frame (640 = 40 ms)."""
        return 2 * whisper.HOP * self.pool_frames

    def n_frames(self, n_samples: int) -> int:
        """Frames for n_samples: Whisper's 10 ms mel frames (the last dropped), halved by its stride-2
        convolution (rounding up), then pooled in pairs (rounding down).  100 for a 4 s window."""
        return (n_samples // whisper.HOP + 1) // 2 // self.pool_frames

    def check_compatible(self) -> None:
        """Raise ValueError unless these are the features this release's front end computes."""
        if (self.frontend, self.n_stages, self.stage_width, self.sample_rate) != (
                FeatureConfig.frontend, self.frozen_blocks + 1, whisper.WIDTH, SAMPLE_RATE) or not (
                0 <= self.frozen_blocks <= whisper.N_LAYERS and self.pool_frames in (1, 2)):
            raise ValueError(f"features of another front end ({self.frontend}, {self.n_stages} x {self.stage_width})")
        if self.weights_sha256 != whisper.WEIGHTS_SHA256:
            raise ValueError("this checkpoint was trained on another Whisper encoder file")

    def check_encoder(self) -> None:
        """check_compatible, then load (and SHA-256 verify) the bundled encoder once, so a broken
        install fails when the model loads, not at the first window."""
        self.check_compatible()
        try:
            whisper.load_encoder()
        except whisper.WhisperWeightsError as exc:
            raise ValueError(str(exc)) from None


def extract(waveforms: torch.Tensor, cfg: FeatureConfig = FeatureConfig(),
            encoder: torch.nn.Module | None = None) -> torch.Tensor:
    """(batch, samples) float waveforms at 16 kHz -> (batch, cfg.n_frames(samples), cfg.n_features) features.

    `encoder` replaces the bundled fp32 encoder with a converted copy of it (fakecheck.precision:
    bf16 weights or int8 linears); it must return the same (B, S, T20, W) stages."""
    if waveforms.ndim == 1:
        waveforms = waveforms[None]
    assert waveforms.ndim == 2, f"expected (batch, samples), got {tuple(waveforms.shape)}"
    cfg.check_compatible()
    enc = encoder if encoder is not None else whisper.on_device(whisper.load_encoder(), waveforms.device)
    with torch.no_grad():
        h = enc(waveforms.float(), cfg.frozen_blocks)  # (B, S, T20, W)
    B, S, T, W = h.shape
    n = T // cfg.pool_frames
    h = h[:, :, : n * cfg.pool_frames].reshape(B, S, n, cfg.pool_frames, W).mean(dim=3)
    return h.permute(0, 2, 1, 3).reshape(B, n, S * W)


@dataclass(frozen=True)
class Views:
    """The model's input for a batch of windows: two views of the same samples."""

    features: torch.Tensor  # (B, T, n_features): the frozen Whisper stages, as `extract` returns them
    # (B, T * hop_samples): the samples under the T frames, level-normalised as Whisper's input is, so
    # loudness is no cue in either view; None when only features were given (a single-view model needs no more)
    waveforms: torch.Tensor | None = None

    def to(self, dtype: torch.dtype) -> Views:
        return Views(self.features.to(dtype), None if self.waveforms is None else self.waveforms.to(dtype))

    def samples_under(self, frames: int) -> torch.Tensor:
        """(B, frames * hop_samples): the waveform under the first `frames` feature frames."""
        assert self.waveforms is not None, "no waveform in these views: make them with features.extract_views"
        hop = self.waveforms.shape[1] // self.features.shape[1]  # exact: extract_views fits the samples to the frames
        return self.waveforms[:, : frames * hop]


def extract_views(waveforms: torch.Tensor, cfg: FeatureConfig = FeatureConfig(),
                  encoder: torch.nn.Module | None = None) -> Views:
    """(batch, samples) float waveforms at 16 kHz -> Views: `extract`'s features and the level-normalised
    samples cut or zero-padded to the frames' span (Whisper's last frame reaches past the end of the audio)."""
    if waveforms.ndim == 1:
        waveforms = waveforms[None]
    features = extract(waveforms, cfg, encoder)
    span = features.shape[1] * cfg.hop_samples
    samples = whisper.normalise_level(waveforms.float())[:, :span]
    return Views(features, F.pad(samples, (0, span - samples.shape[1])))
