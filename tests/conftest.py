"""Shared fixtures: tiny audio made at test time, a tiny model, a pinned terminal width."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("COLUMNS", "120")  # Rich and Typer render at a fixed width in tests
os.environ.setdefault("FAKECHECK_THREADS", "1")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "corpus"


def tone(seconds: float = 1.0, rate: int = 16_000, freq: float = 440.0, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def speechlike(seconds: float = 3.0, rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """A harmonic, syllable-modulated chirp with noise: enough energy structure to count as speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(np.sin(k * phase) / k for k in range(1, 20))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
    return (0.1 * x * envelope + 0.005 * rng.standard_normal(len(t))).astype(np.float32)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "manifest.csv").is_file():
        pytest.skip(f"../shared/corpus not found at {CORPUS}: corpus tests skipped")
    return CORPUS


@pytest.fixture
def tiny_checkpoint():
    """A small random model with the real feature extractor: fast end-to-end runs."""
    import torch

    from fakecheck.checkpoint import Checkpoint
    from fakecheck.features import FeatureConfig
    from fakecheck.model import ModelConfig, SpoofTransformer

    torch.manual_seed(0)
    fcfg = FeatureConfig()
    return Checkpoint(SpoofTransformer(ModelConfig(n_features=fcfg.n_features, d_model=32, n_heads=2, n_layers=2,
                                                   d_ff=64)), fcfg)


@pytest.fixture
def tiny_model_file(tmp_path, tiny_checkpoint) -> Path:
    from fakecheck.checkpoint import save

    path = tmp_path / "tiny.pt"
    save(tiny_checkpoint, path)
    return path
