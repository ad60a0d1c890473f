#!/usr/bin/env python3
"""Train and score one detector candidate on the feature cache (docs/experiments.md).

    python benchmarks/experiments/train_cached.py CACHE --frontend whisper|lfcc|logspec|fusion \
        [--epochs 12] [--seed 0] [--out run.pt] [--json result.json]

Every candidate feeds the same compact transformer (fakecheck.model.SpoofTransformer); only the
front end before it differs.  Training draws windows with fakecheck.train.sampling_weights (each
class half the time, a system or corpus with n clips weighs sqrt(n)).  The epoch with the best
clean validation EER is kept; the figures printed are that epoch's:
validation EER overall and per held-out family, and EER on each re-encoded copy.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts" / "data"))

import manifest as data_manifest  # noqa: E402

from fakecheck.metrics import compute_eer  # noqa: E402
from fakecheck.model import ModelConfig, Output, SpoofTransformer  # noqa: E402
from fakecheck.train import sampling_weights  # noqa: E402


class StageMix(nn.Module):
    """Learned softmax-weighted sum of the Whisper stages, each layer-normalised first."""

    def __init__(self, n_stages: int = 5, width: int = 384):
        super().__init__()
        self.logits = nn.Parameter(torch.zeros(n_stages))
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, S, T, D) -> (B, T, D)
        x = F.layer_norm(x, (self.width,))
        return torch.einsum("s,bstd->btd", self.logits.softmax(0), x)


class SpecStem(nn.Module):
    """Two strided 2-D convolutions over a (time, frequency) log spectrogram -> (B, T/2, 32*64)."""

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, stride=(1, 2), padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, stride=(2, 2), padding=1)
        self.norm = nn.BatchNorm2d(16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 401, 257)
        y = F.gelu(self.c2(F.gelu(self.norm(self.c1(x[:, None])))))  # (B, 32, 201, 65)
        return y[:, :, :200, :64].permute(0, 2, 1, 3).flatten(2)  # (B, 200, 2048)


class Candidate(nn.Module):
    def __init__(self, frontend: str, d_model: int = 64, dropout: float = 0.1):
        super().__init__()
        self.frontend = frontend
        self.mix = StageMix() if frontend == "fusion" else None
        self.stem = SpecStem() if frontend in ("logspec", "fusion") else None
        if frontend == "whisper":  # exactly the shipped model: the stage mix lives in SpoofTransformer
            cfg = ModelConfig(n_features=5 * 384, frames_per_token=1, n_stages=5)
        elif frontend == "lfcc":  # the 0.1 model's configuration
            cfg = ModelConfig(n_features=60, frames_per_token=4, n_stages=1)
        elif frontend == "logspec":
            cfg = ModelConfig(n_features=2048, frames_per_token=2, n_stages=1)
        else:
            cfg = ModelConfig(n_features=384 + 2 * 2048, frames_per_token=1, n_stages=1)
        cfg = replace(cfg, d_model=d_model, d_ff=2 * d_model, dropout=dropout)
        self.net = SpoofTransformer(cfg)

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.output(batch).score

    def output(self, batch: dict[str, torch.Tensor]) -> Output:
        if self.frontend == "whisper":
            x = batch["whisper"].permute(0, 2, 1, 3).flatten(2)  # (B, 100, 5 * 384), stages side by side
        elif self.frontend == "lfcc":
            x = batch["lfcc"]
        elif self.frontend == "logspec":
            x = self.stem(batch["logspec"])
        else:
            s = self.stem(batch["logspec"])  # (B, 200, 2048) -> pair to 40 ms tokens
            x = torch.cat([self.mix(batch["whisper"]), s.reshape(s.shape[0], 100, -1)], dim=2)
        return self.net(x)


NEEDS = {"whisper": ["whisper"], "lfcc": ["lfcc"], "logspec": ["logspec"], "fusion": ["whisper", "logspec"]}


def family_of(row: dict[str, str]) -> str:
    if row["system"] in data_manifest.HELD_OUT_SYSTEMS:
        return data_manifest.HELD_OUT_SYSTEMS[row["system"]]
    return data_manifest.VALIDATION_SOURCES.get(row["source"], "other")


def evaluate(scores: np.ndarray, rows: list[dict[str, str]]) -> dict[str, object]:
    out: dict[str, object] = {}
    labels = np.array([r["label"] == "spoof" for r in rows])
    cond = np.array([r["condition"] for r in rows])
    for c in sorted(set(cond)):
        m = cond == c
        out[f"eer_{c}"] = compute_eer(scores[m & ~labels], scores[m & labels])[0]
    clean = cond == "clean"
    fams: dict[str, float] = {}
    for fam in sorted({family_of(r) for r, y in zip(rows, labels, strict=True) if y}):
        m = clean & labels & np.array([family_of(r) == fam for r in rows])
        fams[fam] = compute_eer(scores[clean & ~labels], scores[m])[0]
    out["eer_by_family"] = fams
    return out


def load_splices(path: Path) -> dict[str, object]:
    """The splice cache in memory: features, token labels, kinds and the train/calibration item lists."""
    index = list(csv.DictReader(open(path / "index.csv", newline="", encoding="utf-8")))
    done = {int(p.name) for p in (path / "done").iterdir()}
    bad = {i for p in (path / "done").iterdir() for i in json.loads(p.read_text())["bad"]}
    ok = [int(r["item"]) for r in index if int(r["item"]) // 128 in done and int(r["item"]) not in bad]
    return {"whisper": np.ascontiguousarray(np.load(path / "whisper.npy", mmap_mode="r")),
            "labels": np.load(path / "token_labels.npy"), "kind": [r["kind"] for r in index],
            "train": np.array([i for i in ok if index[i]["part"] == "train"]),
            "calibration": np.array([i for i in ok if index[i]["part"] == "calibration"])}


def clear_tokens(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of clearly real (share <= 0.1) and clearly fake (>= 0.9) tokens; crossfade tokens are left out."""
    return labels <= 0.1, labels >= 0.9


def token_report(scores: np.ndarray, labels: np.ndarray, kinds: list[str]) -> dict[str, float]:
    """Token EER over calibration splices, and how often the peak token of a real host lies in its fake piece."""
    real, fake = clear_tokens(labels)
    hits = [labels[k, int(np.argmax(scores[k]))] >= 0.5 for k, kind in enumerate(kinds)
            if kind == "real_host_fake_piece"]
    return {"eer_token": compute_eer(scores[real], scores[fake])[0], "peak_hit": float(np.mean(hits))}


def fit_token_calibration(scores: np.ndarray, labels: np.ndarray) -> object:
    from fakecheck import calibration

    real, fake = clear_tokens(labels)
    s = np.concatenate([scores[real], scores[fake]])
    y = np.concatenate([np.zeros(int(real.sum())), np.ones(int(fake.sum()))])
    return calibration.fit(s, y)


def export(model: Candidate, scores: np.ndarray, rows: list[dict[str, str]], result: dict[str, object],
           args: argparse.Namespace, token_calibration: object = None) -> None:
    """The best epoch as a fakecheck checkpoint, calibrated on the clean validation windows."""
    from fakecheck import calibration, metrics
    from fakecheck.checkpoint import Checkpoint, save
    from fakecheck.features import FeatureConfig

    assert model.frontend == "whisper", "only the Whisper candidate maps onto the product's front end"
    clean = np.array([r["condition"] == "clean" for r in rows])
    s = scores[clean]
    y = np.array([r["label"] == "spoof" for r in rows])[clean].astype(int)
    systems = [r["system"] for r, c in zip(rows, clean, strict=True) if c]
    cal = calibration.fit(s, y)
    ck = Checkpoint(model.net, FeatureConfig(), cal, token_calibration=token_calibration)  # type: ignore[arg-type]
    ck.metrics = metrics.summary(s, y, systems, cal.llr(s), cal.score_at(ck.threshold))
    ck.metrics["reencoded_eer"] = {k: v for k, v in result.items() if k.startswith("eer_") and isinstance(v, float)
                                   and k not in ("eer_clean", "eer_token")}
    ck.metrics["eer_by_family"] = result["eer_by_family"]
    for key in ("eer_token", "peak_hit"):
        if key in result:
            ck.metrics[f"calibration_splices_{key}"] = result[key]
    ck.provenance = {"command": "python " + " ".join(sys.argv), "data": ["data/training-manifest.csv"],
                     "val_kind": "the committed family split (data/training-manifest.csv)",
                     "n_train": int(result["n_train_windows"]), "n_val": int(clean.sum()),
                     "epoch": result["epoch"], "seed": args.seed, "params": model.net.n_params(),
                     "train_recipe": {"epochs": args.epochs, "draws": args.draws, "batch": args.batch, "lr": args.lr,
                                      "d_model": args.d_model, "dropout": args.dropout,
                                      "weight_decay": args.weight_decay,
                                      "splices": "benchmarks/experiments/cache_splices.py" if args.splices else None,
                                      "splice_batch": args.splice_batch, "token_weight": args.token_weight,
                                      "cache": "benchmarks/experiments/cache_features.py"}}
    save(ck, args.export)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cache", type=Path)
    ap.add_argument("--frontend", choices=list(NEEDS), required=True)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--draws", type=int, default=12000, help="windows per epoch")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--splices", type=Path, help="cache_splices.py output: also train and score the token head")
    ap.add_argument("--splice-batch", type=int, default=32, help="spliced windows added to each batch")
    ap.add_argument("--token-weight", type=float, default=1.0, help="weight of the per-token loss")
    ap.add_argument("--token-dump", type=Path, help="write the best epoch's calibration-splice token scores (.npz)")
    ap.add_argument("--export", type=Path,
                    help="whisper only: write the best epoch as a calibrated fakecheck checkpoint")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rows = list(csv.DictReader(open(a.cache / "index.csv", newline="", encoding="utf-8")))
    done = {int(p.name) for p in (a.cache / "done").iterdir()}
    block = 256
    ok = np.array([int(r["item"]) // block in done for r in rows])
    # Held in memory (the Whisper cache is about 10 GB as float16): random batches from a memmap
    # would re-read the disk every epoch.
    arrays = {k: np.ascontiguousarray(np.load(a.cache / f"{k}.npy", mmap_mode="r")) for k in NEEDS[a.frontend]}
    tr = np.where(ok & np.array([r["split"] == "train" for r in rows]))[0]
    va = np.where(ok & np.array([r["split"] == "validation" for r in rows]))[0]
    labels = np.array([r["label"] == "spoof" for r in rows], dtype=np.float32)
    w = sampling_weights(labels[tr].astype(int), [rows[i]["system"] for i in tr])
    model = Candidate(a.frontend, a.d_model, a.dropout)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps = a.epochs * (a.draws // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.1)

    def batch_of(idx: np.ndarray) -> dict[str, torch.Tensor]:
        order = np.sort(idx)  # memmap reads in file order
        return {k: torch.from_numpy(np.asarray(v[order], dtype=np.float32)) for k, v in arrays.items()}, order

    def score(idx: np.ndarray) -> np.ndarray:
        model.eval()
        out = np.zeros(len(idx))
        with torch.no_grad():
            for s in range(0, len(idx), 256):
                b, order = batch_of(idx[s:s + 256])
                out[s:s + 256] = model(b).numpy()  # idx is sorted, so order == idx slice
        return out

    sp = load_splices(a.splices) if a.splices else None

    def splice_batch(idx: np.ndarray) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        assert sp is not None
        order = np.sort(idx)
        return ({"whisper": torch.from_numpy(sp["whisper"][order].astype(np.float32))},
                torch.from_numpy(sp["labels"][order].astype(np.float32)))

    def score_tokens(idx: np.ndarray) -> np.ndarray:
        model.eval()
        out = np.zeros((len(idx), 100))
        with torch.no_grad():
            for s in range(0, len(idx), 256):
                b, _ = splice_batch(idx[s:s + 256])
                ts = model.output(b).token_scores
                assert ts is not None
                out[s:s + 256] = ts.numpy()
        return out

    rng = np.random.default_rng(a.seed)
    best: dict[str, object] = {"eer_clean": 1.0, "select": 2.0}
    t0 = time.time()
    for epoch in range(a.epochs):
        model.train()
        losses = []
        draws = rng.choice(tr, size=a.draws, p=w)
        for s in range(0, a.draws - a.batch + 1, a.batch):
            b, order = batch_of(draws[s:s + a.batch])
            y = torch.from_numpy(labels[order])
            if sp is None:
                loss = F.binary_cross_entropy_with_logits(model(b), y)
            else:
                sb, ty = splice_batch(rng.choice(sp["train"], size=a.splice_batch))
                out, sout = model.output(b), model.output(sb)
                assert out.token_scores is not None and sout.token_scores is not None
                clip_y = torch.cat([y, (ty.max(dim=1).values >= 0.5).float()])
                token_y = torch.cat([y[:, None].expand(-1, 100), ty])
                loss = F.binary_cross_entropy_with_logits(torch.cat([out.score, sout.score]), clip_y) + \
                    a.token_weight * F.binary_cross_entropy_with_logits(
                        torch.cat([out.token_scores, sout.token_scores]), token_y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            losses.append(float(loss))
        vs = score(va)
        res = evaluate(vs, [{**rows[i]} for i in va])
        res["select"] = res["eer_clean"]
        if sp is not None:
            ts = score_tokens(sp["calibration"])
            res.update(token_report(ts, sp["labels"][sp["calibration"]].astype(np.float64),
                                    [sp["kind"][i] for i in sp["calibration"]]))
            res["select"] = (res["eer_clean"] + res["eer_token"]) / 2  # both heads matter
        print(f"epoch {epoch + 1}: loss {np.mean(losses):.3f}  " + "  ".join(
            f"{k} {v:.3f}" for k, v in res.items() if k.startswith(("eer_", "peak")) and isinstance(v, float))
            + f"  ({time.time() - t0:.0f} s)", flush=True)
        if res["select"] < best["select"]:
            best = {**res, "epoch": epoch + 1}
            best_state, best_scores = copy.deepcopy(model.state_dict()), vs
            best_tokens = ts if sp is not None else None
            if a.out:
                torch.save(model.state_dict(), a.out)
    best.update({"frontend": a.frontend, "params_trainable": sum(p.numel() for p in model.parameters()),
                 "n_train_windows": len(tr), "n_val_windows": len(va), "train_seconds": round(time.time() - t0)})
    print("RESULT " + json.dumps(best))
    if sp is not None and best_tokens is not None and a.token_dump:
        np.savez_compressed(a.token_dump, scores=best_tokens, labels=sp["labels"][sp["calibration"]],
                            kind=np.array([sp["kind"][i] for i in sp["calibration"]]))
    if a.export:
        model.load_state_dict(best_state)
        tcal = None
        if sp is not None and best_tokens is not None:
            tcal = fit_token_calibration(best_tokens, sp["labels"][sp["calibration"]].astype(np.float64))
        export(model, best_scores, [rows[i] for i in va], best, a, tcal)
    if a.json:
        a.json.write_text(json.dumps(best, indent=1))


if __name__ == "__main__":
    main()
