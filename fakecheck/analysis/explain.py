"""Where in time the model looked: attention per layer and head, rollout, occlusion, mapped to seconds.

Token i of a window is feature frame i, i.e. samples [start + 640 i, start + 640 (i + 1)) of the
file (40 ms per token; `start` already counts the leading silence that was trimmed).  The
Whisper front end sees the whole 4 s window, so a token's vector also carries context from
its neighbours: the maps say where the model's pooled evidence sits, at 40 ms resolution.
Window maps are stitched onto one 40 ms grid over the whole clip.

Maps (each a distribution over the tokens of a window, seen from the pooled output):
    rollout  pool_weights @ R, R = prod over layers of (0.5 * mean_heads(A_l) + 0.5 * I):
             attention rollout (Abnar & Zuidema 2020) with the residual path counted.
    last     pool_weights @ mean_heads(A_last)
    layer:N  pool_weights @ mean_heads(A_N)   (N counts from 1)
Window maps are weighted by each window's P(fake), so the clip map says where the
evidence for FAKE was.  Attention says where the model looked, not what is fake: the P(fake)
timeline of the token head (Verdict.timeline, the same 40 ms grid) and the fake segments
read from it (fakecheck.segments) say that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from fakecheck import audio
from fakecheck.analysis import segments
from fakecheck.analysis.detector import Detector
from fakecheck.analysis.verdict import Verdict
from fakecheck.audio.constants import SAMPLE_RATE
from fakecheck.audio.windows import Window
from fakecheck.model.features import extract_views

TOP_SEGMENTS = 5


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    attention: float  # share of the clip's map mass (attention, or occlusion drop) inside the segment


@dataclass(frozen=True)
class Explanation:
    verdict: Verdict
    mode: str
    token_seconds: float  # width of one token on the grid
    attention: np.ndarray  # (tokens,) the chosen map over the whole clip, sums to 1
    layers: np.ndarray  # (n_layers, tokens) per-layer maps (rows normalised to max 1 for display)
    heads: np.ndarray  # (n_layers, n_heads, tokens)
    energy_db: np.ndarray  # (tokens,) level of the audio under each token
    segments: tuple[Segment, ...] = field(default=())
    token_head: bool = True  # False: the model's timeline repeats each window's score (2 s steps)

    def resolution(self, short: bool = False) -> str:
        """What one step of the P(fake) timeline is, in words (for legends)."""
        from fakecheck.analysis.assessment import resolution

        return resolution(self.token_head, self.token_seconds, audio.WINDOW_HOP_SECONDS, audio.WINDOW_SECONDS, short)

    @property
    def map_name(self) -> str:
        """What the map holds: occlusion is a score drop, not attention."""
        return "occlusion" if self.mode == "occlusion" else "attention"

    def tokens(self) -> list[dict[str, Any]]:
        """One entry per 40 ms token: its span, map value, calibrated P(fake) and speech flag."""
        w = self.token_seconds
        tl = self.verdict.timeline
        out = []
        for i, a in enumerate(self.attention):
            d: dict[str, Any] = {"start_s": round(i * w, 3), "end_s": round((i + 1) * w, 3), self.map_name: float(a)}
            if tl is not None and i < len(tl.p_fake):
                d["p_fake"] = round(float(tl.p_fake[i]), 4)
                d["speech"] = bool(tl.speech[i])
            out.append(d)
        return out

    def to_dict(self) -> dict[str, Any]:
        v = self.verdict.to_dict()
        return {"schema_version": 2, "path": v["path"], "verdict": v["verdict"], "p_fake": v["p_fake"],
                "confidence": v["confidence"], "warnings": v["warnings"], "threshold": v["threshold"],
                "duration_s": v["duration_s"], "error": v["error"], "mode": self.mode, "map": self.map_name,
                "fake_fraction": v["fake_fraction"], "fake_segments": v["fake_segments"],
                "tokens": self.tokens(), "windows": v["windows"],
                "top_segments": [{"start_s": s.start_s, "end_s": s.end_s, f"{self.map_name}_share": s.attention}
                                 for s in self.segments],
                "suspicious_start_s": v["suspicious_start_s"], "suspicious_end_s": v["suspicious_end_s"]}


def parse_mode(mode: str, n_layers: int) -> tuple[str, int]:
    """'rollout' | 'last' | 'layer:N' | 'occlusion' -> (kind, layer index)."""
    if mode in ("rollout", "occlusion"):
        return mode, -1
    if mode == "last":
        return "layer", n_layers - 1
    if mode.startswith("layer:") and mode[6:].isdigit() and 1 <= int(mode[6:]) <= n_layers:
        return "layer", int(mode[6:]) - 1
    raise ValueError(f"mode must be rollout, last, occlusion or layer:N with N in 1..{n_layers}; got {mode!r}")


def rollout(attn: list[torch.Tensor], pool: torch.Tensor) -> torch.Tensor:
    """Residual-aware attention rollout seen from the pooled output: (B, N)."""
    B, _, N, _ = attn[0].shape
    eye = torch.eye(N).expand(B, N, N)
    R = eye.clone()
    for A in attn:
        a = 0.5 * A.mean(dim=1) + 0.5 * eye
        R = (a / a.sum(-1, keepdim=True)) @ R
    return torch.einsum("bn,bnm->bm", pool, R)


@torch.inference_mode()
def window_maps(det: Detector, samples: np.ndarray) -> dict[str, np.ndarray]:
    """Scores and attention maps for a batch of windows (B, WINDOW_SAMPLES)."""
    out = det.model(extract_views(torch.from_numpy(samples).to(det.device), det.features), return_attention=True)
    assert out.attention is not None
    attn = [a.float().cpu() for a in out.attention]
    pool = out.pool_weights.float().cpu()
    per_head = torch.stack([torch.einsum("bn,bhnm->bhm", pool, a) for a in attn], dim=1)  # (B, L, H, N)
    return {"score": out.score.float().cpu().numpy(), "rollout": rollout(attn, pool).numpy(),
            "heads": per_head.numpy(), "layers": per_head.mean(dim=2).numpy()}


def occlusion_map(det: Detector, samples: np.ndarray, span_tokens: int = 5) -> np.ndarray:
    """Perturbation baseline: score drop when each span of tokens is silenced, (B, N), clipped at 0."""
    base = det.score_windows(samples)
    tok = det.token_samples
    n = audio.WINDOW_SAMPLES // tok
    drops = np.zeros((len(samples), n))
    for s in range(0, n, span_tokens):
        occluded = samples.copy()
        occluded[:, s * tok:(s + span_tokens) * tok] = 0.0
        drops[:, s:s + span_tokens] = (base - det.score_windows(occluded))[:, None]
    drops = np.clip(drops, 0, None)
    return drops / np.maximum(drops.sum(axis=1, keepdims=True), 1e-12)


def _windows(path: str | os.PathLike[str]) -> tuple[audio.AudioInfo, Iterator[Window]]:
    info = audio.probe(path)
    return info, audio.iter_windows(audio.stream(path, info))


def explain_file(det: Detector, path: str | os.PathLike[str], mode: str = "rollout",
                 batch_size: int = 16) -> Explanation:
    """Verdict plus attention over the whole file (all windows stitched onto one 40 ms grid).

    `mode` is "rollout", "last", "layer:N" (N from 1) or "occlusion" (see the module
    docstring); ValueError for anything else.  ERROR and INCONCLUSIVE verdicts give empty maps.

    >>> from fakecheck import Detector
    >>> from fakecheck.explain import explain_file
    >>> ex = explain_file(Detector.load(), "clip.wav")            # doctest: +SKIP
    >>> ex.verdict.verdict, [(s.start_s, s.end_s) for s in ex.segments[:2]]  # doctest: +SKIP
    ('FAKE', [(3.2, 3.72), (5.04, 5.56)])
    >>> ex.attention.sum(), len(ex.attention) * ex.token_seconds   # doctest: +SKIP
    (1.0, 8.04)
    """
    kind, layer = parse_mode(mode, det.model.cfg.n_layers)
    verdict = det.analyse_file(path)
    cfg = det.model.cfg
    tok = det.token_samples
    n_tok = audio.WINDOW_SAMPLES // tok
    if verdict.verdict in ("ERROR", "INCONCLUSIVE") or verdict.duration_s is None:  # nothing judged: no maps
        empty = np.zeros(0)
        return Explanation(verdict, mode, tok / SAMPLE_RATE, empty, np.zeros((cfg.n_layers, 0)),
                           np.zeros((cfg.n_layers, cfg.n_heads, 0)), empty, token_head=bool(cfg.token_head))
    # The same grid as the P(fake) timeline, cell for cell.
    n_grid = len(verdict.timeline.p_fake) if verdict.timeline is not None else \
        segments.grid_size(verdict.duration_s, tok / SAMPLE_RATE)
    acc = np.zeros(n_grid)
    acc_layers = np.zeros((cfg.n_layers, n_grid))
    acc_heads = np.zeros((cfg.n_layers, cfg.n_heads, n_grid))
    cover = np.zeros(n_grid)  # how many windows (fractionally) cover each grid cell
    energy = np.full(n_grid, -120.0)
    _, wins = _windows(path)
    pending: list[Window] = []

    def flush() -> None:
        batch = np.stack([w.samples for w in pending])
        maps = window_maps(det, batch)
        chosen = occlusion_map(det, batch) if kind == "occlusion" else (
            maps["rollout"] if kind == "rollout" else maps["layers"][:, layer])
        weights = det.p_fake(maps["score"])
        for b, w in enumerate(pending):
            valid = min(n_tok, max(1, w.length // tok))  # drop repeat-padded tokens of short clips
            # A window starts at an arbitrary sample (the trimmed silence), so its tokens straddle
            # two grid cells: split each token between them in proportion to the overlap.
            g0, frac = divmod(w.start, tok)
            k = min(valid, n_grid - g0)
            if k <= 0:
                continue
            m = chosen[b, :k] / max(chosen[b, :k].sum(), 1e-12)
            for shift, share in ((0, 1 - frac / tok), (1, frac / tok)):
                hi = min(n_grid, g0 + shift + k)
                n = hi - (g0 + shift)
                if share <= 0 or n <= 0:
                    continue
                sl = slice(g0 + shift, hi)
                acc[sl] += share * weights[b] * m[:n]
                acc_layers[:, sl] += share * maps["layers"][b, :, :n]
                acc_heads[:, :, sl] += share * maps["heads"][b, :, :, :n]
                cover[sl] += share
            frames = w.samples[: k * tok].reshape(k, tok).astype(np.float64)
            energy[g0:g0 + k] = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
        pending.clear()

    for w in wins:
        pending.append(w)
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    covered = np.where(cover > 0, cover, 1.0)
    attention = acc / covered
    attention = attention / attention.sum() if attention.sum() > 0 else attention
    layers = acc_layers / covered
    heads = acc_heads / covered
    return Explanation(verdict, mode, tok / SAMPLE_RATE, attention, layers, heads, energy,
                       top_segments(attention, tok / SAMPLE_RATE), token_head=bool(cfg.token_head))


def top_segments(attention: np.ndarray, token_s: float, k: int = TOP_SEGMENTS,
                 span_s: float = 0.5) -> tuple[Segment, ...]:
    """The k most-attended non-overlapping spans of about span_s seconds."""
    if attention.size == 0:
        return ()
    span = max(1, int(round(span_s / token_s)))
    if len(attention) >= span:
        mass = np.convolve(attention, np.ones(span), mode="valid")
    else:
        mass = attention[:1] * 0 + attention.sum()
    taken = np.zeros(len(attention), dtype=bool)
    out: list[Segment] = []
    for start in np.argsort(-mass, kind="stable"):
        if len(out) == k or mass[start] <= 0:
            break  # a span nobody attended to (a silent clip) is not a "most-attended" segment
        if taken[start:start + span].any():
            continue
        taken[start:start + span] = True
        out.append(Segment(round(start * token_s, 3), round(min(len(attention), start + span) * token_s, 3),
                           float(mass[start])))
    return tuple(out)


def bin_to_width(values: np.ndarray, width: int, how: str = "mean") -> np.ndarray:
    """Resample a (..., tokens) array to `width` columns by averaging (or max) within bins."""
    n = values.shape[-1]
    if n == 0:
        return values
    edges = np.linspace(0, n, min(width, n) + 1).astype(int)
    reduce = np.max if how == "max" else np.mean
    return np.stack([reduce(values[..., a:max(b, a + 1)], axis=-1) for a, b in zip(edges[:-1], edges[1:], strict=True)],
                    axis=-1)
