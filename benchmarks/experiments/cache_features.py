#!/usr/bin/env python3
"""Feature cache for the detector experiments (docs/experiments.md): decode once, train in minutes.

    python benchmarks/experiments/cache_features.py DATA_ROOT CACHE [--shard K/N] [--limit N]

For every clip of DATA_ROOT/training-manifest.csv it takes one 4 s window, trimmed of silence
like training does, and stores three front ends of the same window side by side:

    whisper   (5, 100, 384)  Whisper tiny.en stages, frames paired to 40 ms          float16
    lfcc      (401, 60)      the shipped LFCC front end                               float16
    logspec   (401, 257)     log power spectrogram 0-8 kHz, per-window mean removed    float16

Training windows are cropped at a seeded random place and augmented (fakecheck.augment, both
classes alike: gain, silence, band-limiting, MP3/Opus, noise, reverb).  Validation windows are
the middle 4 s, in four conditions: clean, MP3 32 kbit/s, Opus 16 kbit/s, 8 kHz phone band.
Work is written in blocks with a done marker per block, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from lfcc import FeatureConfig, lfcc  # noqa: E402

from fakecheck import audio  # noqa: E402
from fakecheck.augment import AugmentConfig, augment, codec_round_trip, resample_round_trip  # noqa: E402
from fakecheck.features import extract  # noqa: E402

CONDITIONS = ["clean", "mp3_32k", "opus_16k", "phone_8k"]
BLOCK = 256
SHAPES = {"whisper": (5, 100, 384), "lfcc": (401, 60), "logspec": (401, 257)}


def seed_of(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "little")


def condition(x: np.ndarray, name: str) -> np.ndarray:
    if name == "mp3_32k":
        return codec_round_trip(x, "mp3", 32)
    if name == "opus_16k":
        return codec_round_trip(x, "opus", 16)
    if name == "phone_8k":
        return resample_round_trip(x, 8000)
    return x


def window_of(x: np.ndarray, split: str, key: str) -> np.ndarray:
    n = audio.WINDOW_SAMPLES
    if len(x) <= n:
        return audio.fit_window(x)
    if split == "validation":
        start = (len(x) - n) // 2
    else:
        start = int(np.random.default_rng(seed_of("crop", key)).integers(0, len(x) - n + 1))
    return x[start:start + n]


def logspec(x: torch.Tensor) -> torch.Tensor:
    spec = torch.stft(x, 512, 160, 400, window=torch.hann_window(400), return_complex=True).abs() ** 2
    logp = torch.log(spec + 1e-10).transpose(1, 2)  # (B, 401, 257)
    return logp - logp.mean(dim=(1, 2), keepdim=True)  # gain moves every bin alike


def features(windows: np.ndarray) -> dict[str, np.ndarray]:
    x = torch.from_numpy(windows)
    with torch.no_grad():
        w = extract(x)  # the product's front end: (B, 100, 5 * 384), stages side by side
        w = w.view(w.shape[0], 100, 5, 384).transpose(1, 2)  # stored stage-major: (B, 5, 100, 384)
        return {"whisper": w.half().numpy(), "lfcc": lfcc(x, FeatureConfig()).half().numpy(),
                "logspec": logspec(x).half().numpy()}


def items(rows: list[dict[str, str]]) -> list[tuple[int, str]]:
    """(row index, condition) for every window to cache."""
    out = []
    for i, r in enumerate(rows):
        for c in (CONDITIONS if r["split"] == "validation" else ["train"]):
            out.append((i, c))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("cache", type=Path)
    ap.add_argument("--shard", default="0/1")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--init-only", action="store_true", help="create the index and empty arrays, then stop")
    a = ap.parse_args()
    torch.set_num_threads(1)
    rows = list(csv.DictReader(open(a.data / "training-manifest.csv", newline="", encoding="utf-8")))
    todo = items(rows)
    if a.limit:
        todo = todo[:a.limit]
    a.cache.mkdir(parents=True, exist_ok=True)
    index = a.cache / "index.csv"
    if not index.exists():
        with open(index, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["item", "row", "condition", "path", "label", "system", "source", "split"])
            for k, (i, c) in enumerate(todo):
                r = rows[i]
                w.writerow([k, i, c, r["path"], r["label"], r["system"], r["source"], r["split"]])
    n = len(todo)
    maps = {name: np.lib.format.open_memmap(a.cache / f"{name}.npy", mode="r+" if (a.cache / f"{name}.npy").exists()
                                            else "w+", dtype=np.float16, shape=(n, *shape))
            for name, shape in SHAPES.items()}
    if a.init_only:
        return
    k, nshards = map(int, a.shard.split("/"))
    aug = AugmentConfig()
    done_dir = a.cache / "done"
    done_dir.mkdir(exist_ok=True)
    decoded: dict[int, np.ndarray] = {}
    n_blocks = (n + BLOCK - 1) // BLOCK
    first_val = next((j for j, (i, _) in enumerate(todo) if rows[i]["split"] == "validation"), n) // BLOCK
    # Validation blocks first: every candidate needs all of them, while training can start on part.
    order = list(range(first_val, n_blocks)) + list(range(first_val))
    for b in order[k::nshards]:
        if (done_dir / str(b)).exists():
            continue
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        wins = np.zeros((hi - lo, audio.WINDOW_SAMPLES), np.float32)
        bad = []
        for j, (i, c) in enumerate(todo[lo:hi]):
            r = rows[i]
            try:
                if i not in decoded:
                    decoded = {i: audio.trim_silence(audio.load(a.data / r["path"]))}
                x = window_of(decoded[i], r["split"], r["path"])
                if c == "train":
                    x = augment(x, np.random.default_rng(seed_of("aug", r["path"])), aug)
                else:
                    x = condition(x, c)
                wins[j] = audio.fit_window(x.astype(np.float32))
            except Exception as exc:  # a clip that cannot be read stays zero and is listed
                bad.append(f"{r['path']}: {exc}")
        for s in range(0, len(wins), 16):
            f = features(wins[s:s + 16])
            for name in SHAPES:
                maps[name][lo + s:lo + s + len(f[name])] = f[name]
        for m in maps.values():
            m.flush()
        (done_dir / str(b)).write_text(json.dumps({"bad": bad}))
        print(f"block {b} ({hi}/{n}) done", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
