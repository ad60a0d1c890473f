"""Which number format the CPU runs fast, decided at run time.

bf16 matmuls ran 6.5x faster than fp32 on this project's AMX / AVX-512 BF16 CPUs, but on a CPU
without those instructions torch emulates bf16 and it is slower than fp32.  So bf16 is used only
where the CPU flags say it is native; everywhere else training and scoring stay fp32.

Scoring (issue 19) offers fp32, bf16 and int8 paths (`Scorer`), and `resolve` turns
--precision auto into the fastest path that runs natively here and passed the accuracy rule.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch

NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # /proc/cpuinfo flags of native bf16 matrix instructions


@lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags Linux reports (empty elsewhere: then nothing is assumed native)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def native_bf16(flags: frozenset[str] | None = None) -> bool:
    """True when the CPU has native bf16 matrix instructions (AMX-BF16 or AVX-512 BF16)."""
    return any(f in (cpu_flags() if flags is None else flags) for f in NATIVE_BF16_FLAGS)


def training_dtype(device: torch.device, flags: frozenset[str] | None = None) -> torch.dtype:
    """bf16 autocast on a CPU that runs it natively, and on CUDA devices that support it; fp32 otherwise."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float32
    if device.type == "cpu" and native_bf16(flags):
        return torch.bfloat16
    return torch.float32


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """torch.autocast for bf16; nothing for fp32."""
    if dtype == torch.float32:
        yield
        return
    with torch.autocast(device.type, dtype=dtype):
        yield


# -- inference precision (issue 19) ------------------------------------------------------------
# Scoring can run in three number formats.  The log-mel front end and the clip/token scores stay
# fp32 in every path; what changes is the arithmetic of the Whisper encoder and the model.
#   fp32  the reference: the weights as trained.
#   bf16  copies of the encoder and the model with bf16 weights (AMX / AVX-512 BF16 tiles).
#   int8  the Linear layers of both dynamically quantised (int8 weights, activations quantised per
#         batch at run time: VNNI / AMX-INT8).  A window's int8 score depends a little on the other
#         windows of its batch, so int8 scores are deterministic for one batch size, not across them.
PRECISIONS = ("auto", "fp32", "bf16", "int8")
NATIVE_INT8_FLAGS = ("amx_int8", "avx512_vnni", "avx_vnni")  # int8 dot products in hardware

# The accuracy rule: on the validation split (benchmarks/precision_accuracy.py), a faster path may
# move the EER by at most 0.3 points and flip at most 1% of verdicts against fp32.  `auto` only
# chooses among AUTO_CANDIDATES, the paths that passed it with the shipped model (README,
# "Performance"); re-run the script and update this tuple whenever the bundled model changes.
MAX_EER_SHIFT = 0.003  # absolute EER (0.3 percentage points)
MAX_FLIP_FRACTION = 0.01
AUTO_CANDIDATES: tuple[str, ...] = ("bf16",)  # fastest first; fp32 is always the fallback


def passes_accuracy_rule(eer_shift: float, flips: int, n: int) -> bool:
    """True when a path moved the EER by <= MAX_EER_SHIFT and flipped <= MAX_FLIP_FRACTION of n verdicts."""
    return abs(eer_shift) <= MAX_EER_SHIFT + 1e-12 and flips <= MAX_FLIP_FRACTION * n


def runs_natively(path: str, flags: frozenset[str] | None = None) -> bool:
    """Whether this CPU has instructions for `path` (fp32 always; bf16 and int8 by /proc/cpuinfo flags)."""
    if path == "fp32":
        return True
    if path == "bf16":
        return native_bf16(flags)
    if path == "int8":
        return any(f in (cpu_flags() if flags is None else flags) for f in NATIVE_INT8_FLAGS)
    raise ValueError(f"unknown precision {path!r}; use one of {', '.join(PRECISIONS)}")


def resolve(precision: str | None, device: torch.device, flags: frozenset[str] | None = None) -> str:
    """The concrete path for a --precision value: `auto` (or None) becomes the first AUTO_CANDIDATE
    that this CPU runs natively, else fp32.  Non-CPU devices run fp32 (the paths are CPU kernels)."""
    precision = precision or "auto"
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    if device.type != "cpu":
        if precision not in ("auto", "fp32"):
            raise ValueError(f"--precision {precision} is a CPU path; on {device.type} use fp32 or auto")
        return "fp32"
    if precision == "auto":
        return next((p for p in AUTO_CANDIDATES if runs_natively(p, flags)), "fp32")
    return precision


class _CastEncoder(torch.nn.Module):
    """A frozen Whisper encoder whose blocks run in `dtype`: log-mel and its level normalisation stay
    fp32 (a log of small powers), the stages come back as fp32 for the feature pooling."""

    def __init__(self, encoder: Any, dtype: torch.dtype):  # a whisper.WhisperEncoder
        super().__init__()
        self.inner, self.dtype = encoder, dtype

    def forward(self, waveforms: torch.Tensor, n_blocks: int) -> torch.Tensor:
        from fakecheck.model import whisper

        mel = whisper.log_mel(whisper.normalise_level(waveforms))
        return self.inner.stages_from_log_mel(mel.to(self.dtype), n_blocks).float()


def _quantised(module: torch.nn.Module) -> torch.nn.Module:
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():  # torch >= 2.9 announces a move of this API to torchao
        warnings.simplefilter("ignore")
        return quantize_dynamic(module, {torch.nn.Linear}, dtype=torch.qint8)


class Scorer:
    """Waveform windows -> model Output in one precision path, for any checkpoint (frozen encoder
    plus classifier, or one that fine-tunes Whisper's top blocks).  The fp32 path runs the
    checkpoint's own model; the others run converted copies, so the checkpoint (and `explain`,
    which reads attention from it) is untouched."""

    def __init__(self, model: torch.nn.Module, features: Any, path: str, device: torch.device):
        import copy

        from fakecheck.model import whisper

        self.path, self.features = path, features
        self.encoder: torch.nn.Module | None
        if path == "fp32":
            self.encoder, self.model, self.dtype = None, model, torch.float32
        elif path == "bf16":
            enc = copy.deepcopy(whisper.load_encoder()).to(device=device, dtype=torch.bfloat16)
            self.encoder = _CastEncoder(enc, torch.bfloat16)
            self.model, self.dtype = copy.deepcopy(model).to(torch.bfloat16).eval(), torch.bfloat16
        elif path == "int8":
            self.encoder = _quantised(copy.deepcopy(whisper.load_encoder()).to(device))
            self.model, self.dtype = _quantised(copy.deepcopy(model).eval()), torch.float32
        else:
            raise ValueError(f"unknown precision path {path!r}")

    def __call__(self, windows: torch.Tensor) -> Any:
        """(B, samples) fp32 windows -> the model's Output (its tensors in the path's dtype)."""
        from fakecheck.model.features import extract_views

        return self.model(extract_views(windows, self.features, encoder=self.encoder).to(self.dtype))
