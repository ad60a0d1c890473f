"""Detector v3 experiments: fine-tune Whisper's top blocks with `fakecheck.training.train` on the committed split.

    python benchmarks/experiments/finetune.py DATA OUT.pt [--encoder-blocks K] [--encoder-lr LR] [--lr LR]
        [--epochs N] [--clips-per-epoch N] [--patience N] [--matched-share S] [--threads T] [--token-head]
        [--raw-view]

DATA is the built data root (scripts/data/build.sh); its training-manifest.csv fixes the split
(validation: docs/data.md).  Resumable: re-running the same command continues from OUT.pt.state
(saved every 100 steps and after every epoch).  Prints one line per epoch and the best epoch's
validation figures; `benchmarks/validation.py` then scores the result under codecs and per source.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

from fakecheck.training import datasets
from fakecheck.training import train as training
from fakecheck.training.augment import AugmentConfig


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--encoder-blocks", type=int, default=2)
    ap.add_argument("--encoder-lr", type=float, default=3e-5)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--clips-per-epoch", type=int, default=6000)
    ap.add_argument("--patience", type=int, default=1)
    ap.add_argument("--matched-share", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--token-head", action="store_true")
    ap.add_argument("--raw-view", action="store_true", help="add the raw-waveform branch (issue 27)")
    ap.add_argument("--channel", type=float, default=0.0, help="p of a Vorbis/mu-law/narrowband/packet-loss channel")
    ap.add_argument("--rawboost", type=float, default=0.0, help="p of RawBoost-style distortion")
    ap.add_argument("--val-windows", type=int, default=3, help="windows per validation clip when choosing epochs")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rows = datasets.load_dataset(a.data / "training-manifest.csv")
    train_rows = [r for r in rows if r.split == "train"]
    val_rows = [r for r in rows if r.split == "validation"]
    fcfg, mcfg = training.configs_for(a.encoder_blocks, raw_view=a.raw_view, token_head=a.token_head)
    cfg = training.TrainConfig(epochs=a.epochs, clips_per_epoch=a.clips_per_epoch, patience=a.patience, lr=a.lr,
                               encoder_lr=a.encoder_lr, matched_bonafide_share=a.matched_share, seed=a.seed,
                               num_workers=a.workers, val_windows=a.val_windows,
                               augment=AugmentConfig(p_channel=a.channel, p_rawboost=a.rawboost))
    state = a.out.with_name(a.out.name + ".state")
    t0 = time.time()

    def hook(e: dict) -> None:
        if e["event"] in ("start", "decoded", "resumed", "done"):
            print(json.dumps({k: v for k, v in e.items() if k != "errors"}), file=sys.stderr, flush=True)
        elif e["event"] == "epoch":
            print(f"epoch {e['epoch']}: loss {e['train_loss']:.3f} val EER {e['val_eer']:.2%} "
                  f"({e['epoch_seconds']:.0f} s training, {time.time() - t0:.0f} s so far)"
                  f"{' *' if e['improved'] else ''}", flush=True)
        elif e["event"] == "step" and e["step"] % 50 == 0:
            print(f"  epoch {e['epoch']} step {e['step']}/{e['steps']} loss {e['loss']:.3f} "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)

    ckpt = training.train(train_rows, val_rows, a.out, cfg, mcfg, fcfg, resume=state.exists(), hook=hook,
                          provenance={"recipe": "benchmarks/experiments/finetune.py", "argv": sys.argv[1:],
                                      "data": ["training-manifest.csv"],
                                      "val_kind": "the committed validation split (docs/data.md)"})
    m = ckpt.metrics
    print("RESULT " + json.dumps({"out": str(a.out), "epoch": ckpt.provenance.get("epoch"), "eer": m.get("eer"),
                                  "min_dcf": m.get("min_dcf"), "minutes": round((time.time() - t0) / 60, 1)}))


if __name__ == "__main__":
    main()
