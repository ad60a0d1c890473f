"""A compact transformer that turns per-frame features into a real/fake score.

    features (B, T, F)                      T = 100 frames of 40 ms, F = 5 Whisper stages x 384
    [fine-tuned models: T = 200 frames of 20 ms, F = the frozen stages; EncoderTop runs Whisper's
     top encoder_blocks blocks (trainable) on the last one and adds their stages: 5 x 384 again]
    -> stage mix: LayerNorm each stage, softmax-weighted sum     (B, T, 384)
    -> stack FRAMES_PER_TOKEN frames        (B, N, 384), N = T tokens of 40 ms
    -> linear embedding                          (B, N, d_model)
       [raw_view: + the raw-waveform branch's embedding of the same 40 ms (raw_view.RawView)]
    -> + sinusoidal positions                    (B, N, d_model)
    -> n_layers x Block: x + Attention(LN(x)); x + FeedForward(LN(x))
    -> final LayerNorm -> attention pooling over time -> Linear -> score (B,)
                       + per token: Linear -> token_scores (B, N)   (token_head)

The input is the extractor's `features.Views` (or only its features, for a model without a raw view).
The score is a logit: higher means more likely spoof (see LABEL_CONVENTION).
Attention has a fast path (F.scaled_dot_product_attention) and an explicit path
that returns the softmax weights; explanations switch to the explicit one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from fakecheck.model.features import Views
from fakecheck.model.raw_view import RawView
from fakecheck.model.settings import Settings

LABEL_CONVENTION = "score is a logit of P(spoof): higher = more likely synthetic; p_fake = sigmoid(a * score + b)"


@dataclass(frozen=True)
class ModelConfig(Settings):
    KIND = "model"

    n_features: int = 1920  # per-frame feature size; must equal FeatureConfig.n_features (5 stages x 384)
    frames_per_token: int = 1  # one 40 ms feature frame per token: 100 tokens per 4 s window
    d_model: int = 64  # width of every token vector
    n_heads: int = 4  # attention heads; head size = d_model // n_heads = 16
    n_layers: int = 3  # transformer blocks
    d_ff: int = 128  # hidden width of each feed-forward layer
    dropout: float = 0.1  # on attention weights, residual branches and the embedding
    max_tokens: int = 1024  # longest sequence the positional table covers
    n_stages: int = 5  # stages mixed by learned weights: the input's, plus one per fine-tuned encoder block
    encoder_blocks: int = 0  # Whisper's top blocks fine-tuned inside this model (0: the encoder is all frozen)
    token_head: bool = True  # one spoof logit per token (partial-fake localisation) beside the clip head
    # The second view (issue 27): a learnable filterbank on the waveform, its per-token embedding added to
    # the Whisper tokens'.  Off in every checkpoint saved before it, which load without the fields.
    raw_view: bool = False
    raw_filters: int = 48  # band-pass filters of the learnable filterbank
    raw_taps: int = 251  # filter length: 15.7 ms, about 64 Hz of frequency resolution at 16 kHz
    raw_stride: int = 8  # samples between filterbank frames (0.5 ms)
    raw_channels: int = 64  # width of the gated convolution blocks
    raw_blocks: int = 5  # gated convolution blocks

    RAW_FIELDS: ClassVar[tuple[str, ...]] = ("raw_view", "raw_filters", "raw_taps", "raw_stride", "raw_channels",
                                             "raw_blocks")

    @property
    def head_size(self) -> int:
        return self.d_model // self.n_heads

    @property
    def input_stages(self) -> int:
        """Stages the feature extractor supplies side by side in each input frame."""
        return self.n_stages - self.encoder_blocks

    @property
    def stage_width(self) -> int:
        return self.n_features // self.input_stages

    def to_dict(self) -> dict[str, Any]:
        # A single-view model is saved without the raw-view fields, so its file (and `fakecheck info`) reads
        # exactly as before the branch existed; the sizes describe nothing without the branch.
        d = super().to_dict()
        return d if self.raw_view else {k: v for k, v in d.items() if k not in self.RAW_FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelConfig:
        # Checkpoints written before the token head existed have no such weights; raw_view defaults to off.
        return super().from_dict({"token_head": False, **d})


class EncoderTop(nn.Module):
    """Whisper's top `encoder_blocks` blocks and its final LayerNorm, as trainable layers.

    They start as the bundled encoder's weights (load_whisper_top) and are fine-tuned with a lower
    learning rate than the rest; the checkpoint carries them, so the model file alone says what
    they became.  Input: the last frozen stage (B, T20, 384); output: one stage per block."""

    def __init__(self, n_blocks: int, width: int):
        super().__init__()
        from fakecheck.model.whisper import Block as WhisperBlock  # torch-only module, no weights loaded here

        self.blocks = nn.ModuleList(WhisperBlock() for _ in range(n_blocks))
        self.norm = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        stages = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            stages.append(self.norm(x) if i == len(self.blocks) - 1 else x)  # as Whisper: norm after the last
        return stages


class SelfAttention(nn.Module):
    """Multi-head self-attention with explicit queries, keys and values."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        assert cfg.d_model % cfg.n_heads == 0, "d_model must be divisible by n_heads"
        self.n_heads, self.head_size = cfg.n_heads, cfg.head_size
        self.query = nn.Linear(cfg.d_model, cfg.d_model)
        self.key = nn.Linear(cfg.d_model, cfg.d_model)
        self.value = nn.Linear(cfg.d_model, cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.dropout_p = cfg.dropout

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        B, N, D = x.shape
        # (B, N, D) -> (B, heads, N, head_size)
        q = self.query(x).view(B, N, self.n_heads, self.head_size).transpose(1, 2)
        k = self.key(x).view(B, N, self.n_heads, self.head_size).transpose(1, 2)
        v = self.value(x).view(B, N, self.n_heads, self.head_size).transpose(1, 2)
        weights = None
        if return_weights:
            scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_size)  # (B, heads, N, N)
            weights = scores.softmax(dim=-1)  # each row sums to 1: how much token i takes from each j
            y = self.attn_dropout(weights) @ v
        else:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout_p if self.training else 0.0)
        y = y.transpose(1, 2).reshape(B, N, D)  # concatenate heads
        return self.proj(y), weights


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.d_ff)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down(F.gelu(self.up(x)))


class Block(nn.Module):
    """Pre-norm transformer block: two residual lines."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.ff = FeedForward(cfg)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        a, weights = self.attn(self.norm1(x), return_weights)
        x = x + self.dropout(a)
        x = x + self.dropout(self.ff(self.norm2(x)))
        return x, weights


def sinusoidal_positions(n: int, d: int) -> torch.Tensor:
    """The fixed sin/cos table of Vaswani et al., shape (n, d)."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    table = torch.zeros(n, d)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


@dataclass
class Output:
    score: torch.Tensor  # (B,) spoof logit
    pool_weights: torch.Tensor  # (B, N) attention pooling over tokens, rows sum to 1
    token_scores: torch.Tensor | None  # (B, N) spoof logit per token; None without a token head
    attention: list[torch.Tensor] | None  # per layer (B, heads, N, N) when asked for


class SpoofTransformer(nn.Module):
    positions: torch.Tensor  # (max_tokens, d_model) buffer, not saved in checkpoints

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        assert 0 <= cfg.encoder_blocks < cfg.n_stages, "encoder_blocks must leave at least one input stage"
        assert cfg.n_features % cfg.input_stages == 0, "n_features must be input_stages equal parts"
        self.encoder_top = EncoderTop(cfg.encoder_blocks, cfg.stage_width) if cfg.encoder_blocks else None
        # One logit per front-end stage; softmax makes them a weighted average (all equal at start).
        self.stage_logits = nn.Parameter(torch.zeros(cfg.n_stages)) if cfg.n_stages > 1 else None
        self.embed = nn.Linear(cfg.stage_width * cfg.frames_per_token, cfg.d_model)
        self.raw_view = RawView(cfg.raw_filters, cfg.raw_taps, cfg.raw_stride, cfg.raw_channels, cfg.raw_blocks,
                                cfg.d_model) if cfg.raw_view else None
        self.register_buffer("positions", sinusoidal_positions(cfg.max_tokens, cfg.d_model), persistent=False)
        self.embed_dropout = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = nn.LayerNorm(cfg.d_model)
        self.pool = nn.Linear(cfg.d_model, 1)  # one relevance score per token
        self.head = nn.Linear(cfg.d_model, 1)  # pooled vector -> spoof logit
        self.token_head = nn.Linear(cfg.d_model, 1) if cfg.token_head else None  # each token -> spoof logit
        self.apply(self._init_weights)

    def load_whisper_top(self, encoder: Any) -> None:
        """Start the fine-tuned blocks from the frozen encoder's (whisper.WhisperEncoder) top blocks and norm."""
        if self.encoder_top is None:
            return
        k = self.cfg.encoder_blocks
        for mine, theirs in zip(self.encoder_top.blocks, list(encoder.blocks)[-k:], strict=True):
            mine.load_state_dict(theirs.state_dict())
        self.encoder_top.norm.load_state_dict(encoder.norm.state_dict())

    def encoder_parameters(self) -> list[nn.Parameter]:
        """The fine-tuned Whisper weights (trained with a lower learning rate than the head)."""
        return list(self.encoder_top.parameters()) if self.encoder_top is not None else []

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            nn.init.zeros_(module.bias)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def mix_stages(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, n_stages * W) -> (B, T, W): each stage layer-normalised, then the learned weighted sum."""
        if self.stage_logits is None:
            return features
        B, T, _ = features.shape
        stages = F.layer_norm(features.view(B, T, self.cfg.n_stages, self.cfg.stage_width), (self.cfg.stage_width,))
        return torch.einsum("s,btsw->btw", self.stage_logits.softmax(0), stages)

    def stage_weights(self) -> torch.Tensor:
        """The softmax weight of each front-end stage (all 1 for a single-stage front end)."""
        return self.stage_logits.softmax(0) if self.stage_logits is not None else torch.ones(1)

    def all_stages(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, input_stages * W) -> (B, T, n_stages * W): the fine-tuned blocks' stages appended."""
        if self.encoder_top is None:
            return features
        top = self.encoder_top(features[..., -self.cfg.stage_width:])
        return torch.cat([features, *[t.to(features.dtype) for t in top]], dim=-1)

    def tokens(self, features: torch.Tensor) -> torch.Tensor:
        """(B, T, F) -> (B, T // frames_per_token, frames_per_token * W); leftover frames are dropped."""
        B, T, Fdim = features.shape
        assert Fdim == self.cfg.n_features, f"expected {self.cfg.n_features} features per frame, got {Fdim}"
        features = self.all_stages(features)
        n = T // self.cfg.frames_per_token
        assert 0 < n <= self.cfg.max_tokens, f"{T} frames give {n} tokens; allowed 1..{self.cfg.max_tokens}"
        return self.mix_stages(features[:, : n * self.cfg.frames_per_token]).reshape(B, n, -1)

    def forward(self, inputs: Views | torch.Tensor, return_attention: bool = False) -> Output:
        """`inputs`: features.extract_views' Views, or its features alone (B, T, n_features) for a model
        without a raw view."""
        views = inputs if isinstance(inputs, Views) else Views(inputs)
        x = self.embed(self.tokens(views.features))  # (B, N, d_model)
        if self.raw_view is not None:
            # Fused before the blocks: each token's vector holds both views of its 40 ms, so attention, the
            # token head and explain's maps keep the one token grid.
            n = x.shape[1]
            assert views.waveforms is not None, "this model has a raw-waveform view: give it features.extract_views"
            x = x + self.raw_view(views.samples_under(n * self.cfg.frames_per_token), n)
        x = self.embed_dropout(x + self.positions[: x.shape[1]])
        maps = []
        for block in self.blocks:
            x, w = block(x, return_attention)
            if w is not None:
                maps.append(w)
        x = self.norm(x)
        pool_weights = self.pool(x).squeeze(-1).softmax(dim=-1)  # (B, N)
        pooled = torch.einsum("bn,bnd->bd", pool_weights, x)
        score = self.head(pooled).squeeze(-1)
        token_scores = self.token_head(x).squeeze(-1) if self.token_head is not None else None
        return Output(score, pool_weights, token_scores, maps if return_attention else None)
