"""The bundled Whisper tiny.en encoder: conversion, checksum, mel filters and shapes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from fakecheck.model import whisper as W

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "whisper_ct2_reference.npz"


def reference_input() -> np.ndarray:
    """The 30 s chirp-plus-noise input the stored ctranslate2 activations were computed from."""
    rng = np.random.default_rng(0)
    t = np.arange(30 * 16000) / 16000
    return (0.1 * np.sin(2 * np.pi * (200 + 100 * t) * t) + 0.02 * rng.standard_normal(len(t))).astype(np.float32)


def test_bundled_weights_match_the_recorded_checksum() -> None:
    path = W.default_weights_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == W.WEIGHTS_SHA256


def test_a_tampered_weights_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / W.WEIGHTS_FILE
    data = bytearray(W.default_weights_path().read_bytes())
    data[-1] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(W.WhisperWeightsError, match="not the Whisper encoder file"):
        W.load_encoder(str(bad))


def test_conversion_reproduces_ctranslate2_activations() -> None:
    """ctranslate2's own encode() of reference_input() (float32 compute), every 50th frame, last stage.
    The reference was computed on the log-mel of the raw input, so normalise_level is bypassed."""
    ref = np.load(REFERENCE)
    x = torch.from_numpy(reference_input())[None]
    enc = W.load_encoder()
    with torch.no_grad():
        feats = W.log_mel(x)
        h = enc.stages_from_log_mel(feats)
    ours = h[0, -1, ref["frames"]].numpy()
    assert ours.shape == ref["last_stage"].shape == (30, W.WIDTH)
    assert np.abs(ours - ref["last_stage"]).max() < 2e-3
    assert np.abs(ours - ref["last_stage"]).mean() < 1e-4


def test_mel_filters_match_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    ref = librosa.filters.mel(sr=16000, n_fft=W.N_FFT, n_mels=W.N_MELS)
    assert np.abs(W.mel_filters().numpy() - ref).max() < 1e-6


def test_shapes_one_frame_per_20_ms_and_five_stages() -> None:
    with torch.no_grad():
        h = W.load_encoder()(torch.zeros(2, 64000))
    assert h.shape == (2, W.N_STAGES, 200, W.WIDTH)
    assert torch.isfinite(h).all()


def test_log_mel_ignores_gain_up_to_the_floor() -> None:
    x = torch.from_numpy(reference_input()[:32000])[None]
    a, b = W.log_mel(x), W.log_mel(4 * x)
    # log10 of 16x the power shifts every bin by log10(16) / 4 after Whisper's scaling
    assert torch.allclose(b - a, torch.full_like(a, np.log10(16) / 4), atol=1e-3)


def test_level_normalisation_makes_the_encoder_gain_invariant() -> None:
    x = torch.from_numpy(reference_input()[:64000])[None]
    with torch.no_grad():
        enc = W.load_encoder()
        a, b = enc(x), enc(0.05 * x)
    assert torch.allclose(a, b, atol=1e-3)
