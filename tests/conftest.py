"""Shared fixtures: tiny audio made at test time, a tiny model, a pinned terminal width."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("COLUMNS", "120")  # Rich and Typer render at a fixed width in tests
os.environ.setdefault("FAKECHECK_THREADS", "1")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"


def tone(seconds: float = 1.0, rate: int = 16_000, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _speech_bank() -> np.ndarray:
    """A committed example clip's speech, silence trimmed: speech that silero-vad accepts."""
    import soundfile as sf

    from fakecheck.audio.levels import trim_silence

    parts = [trim_silence(sf.read(EXAMPLES / name, dtype="float32")[0])
             for name in ("fake_piper_joe.wav",)]  # 99% of its tokens are speech to silero-vad
    return np.concatenate(parts)


def speechlike(seconds: float = 3.0, rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """`seconds` of real speech at `rate`: the example clips from a seeded offset, tiled, with a seeded
    gain and a little noise.  Speech detection is part of every verdict, so test audio must be speech."""
    rng = np.random.default_rng(seed)
    bank = _speech_bank()
    n = int(round(seconds * 16_000))
    x = np.roll(bank, -int(rng.integers(len(bank))))
    x = np.tile(x, int(np.ceil(n / len(x))))[:n].astype(np.float64)
    if rate != 16_000:
        import soxr

        x = soxr.resample(x, 16_000, rate)[: int(round(seconds * rate))]
    x = x * 10 ** (rng.uniform(-3, 3) / 20) + 0.002 * rng.standard_normal(len(x))
    return x.astype(np.float32)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "manifest.csv").is_file():
        pytest.skip(f"../shared/corpus not found at {CORPUS}: corpus tests skipped")
    return CORPUS


@pytest.fixture
def tiny_checkpoint():
    """A small random model with the real feature extractor: fast end-to-end runs."""
    import torch

    from fakecheck.model.checkpoint import Checkpoint
    from fakecheck.model.features import FeatureConfig
    from fakecheck.model.transformer import ModelConfig, SpoofTransformer

    torch.manual_seed(0)
    fcfg = FeatureConfig()
    return Checkpoint(SpoofTransformer(ModelConfig(n_features=fcfg.n_features, d_model=32, n_heads=2, n_layers=2,
                                                   d_ff=64)), fcfg)


@pytest.fixture
def tiny_model_file(tmp_path, tiny_checkpoint) -> Path:
    from fakecheck.model.checkpoint import save

    path = tmp_path / "tiny.pt"
    save(tiny_checkpoint, path)
    return path


def crude_vocoder(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """A 'fake': the STFT magnitude kept, every frame's phase random (speech to silero-vad, but rough)."""
    from scipy.signal import istft, stft

    rng = np.random.default_rng(seed)
    _, _, z = stft(x, nperseg=512)
    y = istft(np.abs(z) * np.exp(1j * rng.uniform(0, 2 * np.pi, z.shape)), nperseg=512)[1][: len(x)]
    return y.astype(np.float32)
