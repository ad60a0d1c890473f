"""fakecheck.vad: silero-vad in plain torch, against silero's own TorchScript model.

tests/data/silero_vad_reference.npz holds silero's per-chunk probabilities (scripts/make_vad_reference.py).
Two comparisons, because silero-vad 6.2.3's safetensors file is not the same weights as its TorchScript
model (a sibling training; their conv and LSTM weights differ by 20-30 %, relative):

* the port itself, given the TorchScript model's own weights, reproduces silero to float rounding
  (measured max abs diff 5.4e-7; asserted < 5e-6);
* the product, with the shipped safetensors weights, agrees with silero's speech/non-speech
  decisions (> 0.5) on >= 99.2 % of chunks, mean abs diff <= 8.1e-3 and max 0.33 (one chunk of the
  WORLD clip; 0.065 on the others), per input (asserted: 98 %, 0.015, 0.4).
"""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from fakecheck.audio import vad
from fakecheck.model.features import FeatureConfig

DATA = Path(__file__).parent / "data" / "silero_vad_reference.npz"
REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
CLIPS = ("real_arctic_a0007", "fake_piper_joe", "fake_arctic_a0007_world")
SR = vad.SAMPLE_RATE


# The reference's synthetic inputs, made by the reference script's own tone() and noise() (SHA-256 checked below).
_spec = importlib.util.spec_from_file_location("make_vad_reference", REPO / "scripts" / "make_vad_reference.py")
assert _spec is not None and _spec.loader is not None
_reference_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_reference_script)
tone, noise = _reference_script.tone, _reference_script.noise


def clip(name: str) -> np.ndarray:
    x, sr = sf.read(EXAMPLES / f"{name}.wav", dtype="float32")
    assert sr == SR and x.ndim == 1  # the reference script resamples otherwise; these are 16 kHz mono
    return x


@pytest.fixture(scope="module")
def ref() -> dict[str, np.ndarray]:
    with np.load(DATA) as d:
        return {k: d[k] for k in d.files}


@pytest.fixture(scope="module")
def inputs(ref: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    xs = {name: clip(name) for name in CLIPS}
    xs["tone"], xs["noise"] = tone(), noise()
    for name, x in xs.items():
        digest = hashlib.sha256(x.tobytes()).hexdigest()
        assert digest == str(ref[f"sha256/{name}"]), f"{name} is not the reference input"
    return xs


# silero's TorchScript module names for the tensors of the safetensors file.
_JIT_NAMES = {
    "stft_conv.weight": "stft.forward_basis_buffer",
    **{f"conv{i + 1}.{p}": f"encoder.{i}.reparam_conv.{p}" for i in range(4) for p in ("weight", "bias")},
    **{f"lstm_cell.{p}": f"decoder.rnn.{p}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")},
    "final_conv.weight": "decoder.decoder.2.weight",
    "final_conv.bias": "decoder.decoder.2.bias",
}


@pytest.fixture(scope="module")
def port_with_jit_weights() -> vad.SileroVAD:
    """Our network holding the weights of silero's TorchScript model.  Test-only: reading them means
    torch.jit.load of the pinned package's file, which the product never does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch 2.13: "torch.jit.load is deprecated"
        jit = torch.jit.load(str(vad.weights_path().parent / "silero_vad.jit"), map_location="cpu")
    state = jit._model.state_dict()
    net = vad.SileroVAD()
    net.load_silero({ours: state[theirs] for ours, theirs in _JIT_NAMES.items()})
    return net.eval()


def test_reference_file_is_small_and_from_the_pinned_release(ref: dict[str, np.ndarray]) -> None:
    assert DATA.stat().st_size < 16_000
    assert str(ref["silero_vad_version"]) == "6.2.3"


def test_port_reproduces_silero_exactly_with_its_weights(ref, inputs, port_with_jit_weights) -> None:
    """Context, reflect padding, STFT, encoder, LSTM and head are silero's: same numbers to float rounding."""
    for name, x in inputs.items():
        n = len(x) // vad.CHUNK_SAMPLES
        with torch.inference_mode():
            ours = port_with_jit_weights(torch.from_numpy(x)[None])[0].numpy()
        theirs = ref[f"probs/{name}"][:n]  # silero also scores a zero-padded partial last chunk
        assert ours.shape == (n,)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=5e-6, err_msg=name)


def test_shipped_weights_agree_with_silero(ref, inputs) -> None:
    """The product (safetensors weights) against silero's TorchScript model: same decisions, close values."""
    for name, x in inputs.items():
        ours = vad.speech_probs(x[None])[0]
        theirs = ref[f"probs/{name}"][: len(ours)]
        diff = np.abs(ours - theirs)
        assert diff.mean() < 0.015, (name, diff.mean())
        assert diff.max() < 0.4, (name, diff.max())
        assert np.mean((ours > 0.5) == (theirs > 0.5)) >= 0.98, name


def test_rows_are_independent(inputs) -> None:
    speech, t, n = inputs["real_arctic_a0007"], inputs["tone"], inputs["noise"]
    both = vad.speech_probs(np.stack([speech, t, n]))
    assert both.shape == (3, 64_000 // vad.CHUNK_SAMPLES)
    for row, x in zip(both, (speech, t, n), strict=True):
        np.testing.assert_allclose(row, vad.speech_probs(x[None])[0], rtol=0, atol=1e-5)  # measured 1.8e-7
    # and a row's probabilities do not depend on what came before it in the batch
    np.testing.assert_allclose(vad.speech_probs(np.stack([t, speech]))[1], both[0], rtol=0, atol=1e-5)


def test_tone_and_noise_are_not_speech_and_speech_is(inputs) -> None:
    tokens = {k: vad.token_speech(x[None])[0] for k, x in inputs.items()}
    for k in ("tone", "noise"):
        assert tokens[k].shape == (100,)
        assert tokens[k].max() < 0.2, (k, tokens[k].max())  # measured: tone 0.007, noise 0.032
        assert tokens[k].mean() < 0.05, (k, tokens[k].mean())  # measured: tone 0.0002, noise 0.013
    # The arctic clips open and close with silence; piper's is speech throughout.
    # Measured share of tokens above 0.5: arctic 0.78 (real) and 0.79 (WORLD copy), piper 0.99.
    for k, share in (("real_arctic_a0007", 0.7), ("fake_arctic_a0007_world", 0.7), ("fake_piper_joe", 0.9)):
        assert np.mean(tokens[k] > 0.5) >= share, (k, np.mean(tokens[k] > 0.5))


def test_inputs_and_shapes() -> None:
    x = noise()[: 3 * vad.CHUNK_SAMPLES + 100]
    p = vad.speech_probs(x[None])
    assert p.shape == (1, 3) and p.dtype == np.float32
    np.testing.assert_allclose(vad.speech_probs(torch.from_numpy(x)[None]), p, atol=1e-6)  # torch or numpy
    np.testing.assert_allclose(vad.speech_probs(x[None].astype(np.float64)), p, atol=1e-6)
    assert vad.speech_probs(x[None, :100]).shape == (1, 0)
    with pytest.raises(ValueError, match="batch, samples"):
        vad.speech_probs(np.zeros((1, 1, 512), np.float32))


def test_token_speech_takes_the_max_of_overlapping_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    assert vad.TOKEN_SAMPLES == FeatureConfig().hop_samples  # the detector's 40 ms token
    chunk = vad.CHUNK_SAMPLES
    probs = np.array([[0.1, 0.9, 0.2, 0.3, 0.0, 0.6, 0.4, 0.05]], np.float32)  # 8 chunks, 256 ms
    monkeypatch.setattr(vad, "speech_probs", lambda w: probs[:, : w.shape[1] // chunk])
    w = np.zeros((1, 8 * chunk), np.float32)
    f32 = np.float32
    # 40 ms tokens: [0, 640) touches chunks 0-1, [640, 1280) 1-2, [1280, 1920) 2-3, ..., [3200, 3840) 6-7
    np.testing.assert_array_equal(vad.token_speech(w), f32([[0.9, 0.9, 0.3, 0.3, 0.6, 0.4]]))
    # tokens of one chunk each; 75 ms tokens touch three or four chunks ([2400, 3600) touches 4-7)
    np.testing.assert_array_equal(vad.token_speech(w, token_samples=chunk), probs)
    np.testing.assert_array_equal(vad.token_speech(w, token_samples=1200), f32([[0.9, 0.3, 0.6]]))
    np.testing.assert_array_equal(vad.token_speech(w[:, :1000]), probs[:, :1])  # chunk 1 is partial: unscored
    np.testing.assert_array_equal(vad.token_speech(w[:, :600]), np.zeros((1, 0), np.float32))


def test_tampered_weights_fail_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "silero_vad_16k.safetensors"
    shutil.copyfile(vad.weights_path(), bad)
    raw = bytearray(bad.read_bytes())
    raw[-1] ^= 1
    bad.write_bytes(bytes(raw))
    monkeypatch.setattr(vad, "weights_path", lambda: bad)
    vad.load_vad.cache_clear()
    try:
        with pytest.raises(vad.VADWeightsError, match=r"silero_vad_16k\.safetensors fails its SHA-256 check"):
            vad.load_vad()
    finally:
        vad.load_vad.cache_clear()


def test_missing_package_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vad.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(vad.VADWeightsError, match=r"pip install silero-vad==6\.2\.3"):
        vad.weights_path()


def test_loading_leaves_torch_threads_and_help_path_alone() -> None:
    """Importing silero_vad runs torch.set_num_threads(1); loading our port must not import it.
    And the CLI module (the --help path) must not import fakecheck.audio.vad."""
    code = ("import sys, fakecheck.cli; assert 'fakecheck.audio.vad' not in sys.modules, 'cli imported vad'; "
            "import torch; torch.set_num_threads(2); from fakecheck.audio import vad; vad.load_vad(); "
            "assert 'silero_vad' not in sys.modules, 'silero_vad imported'; "
            "assert torch.get_num_threads() == 2, torch.get_num_threads()")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
