"""Which number format the CPU runs fast, decided at run time.

bf16 matmuls ran 6.5x faster than fp32 on this project's AMX / AVX-512 BF16 CPUs, but on a CPU
without those instructions torch emulates bf16 and it is slower than fp32.  So bf16 is used only
where the CPU flags say it is native; everywhere else training and scoring stay fp32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

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
