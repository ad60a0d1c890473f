"""torch threads 1 vs 2, alone and beside competing CPU-bound processes.

    python benchmarks/threads.py                  # 3 interleaved rounds x 5 timed steps per setting
    python benchmarks/threads.py --quick          # 1 round x 3 steps
    python benchmarks/threads.py --competitors 0 1 2 --threads 1 2 4

Reported in the brief: "one training step was seen to take 5x longer with 2 threads than
with 1 when other work ran beside it".  Measured here, per setting, in a fresh process:
  train step: Whisper features + SpoofTransformer forward + BCE + backward + grad clip + AdamW,
              on a batch of 32 speech-like 4 s windows (as fakecheck.training.train does);
  inference:  Whisper features + forward under inference_mode on 32 windows (as Detector.score_windows).
Competitors are `python -c "while True: pass"` processes started beside the measuring
process (one busy core each).  Rows marked OMP_WAIT_POLICY=PASSIVE test whether the
slowdown comes from OpenMP threads spinning while they wait for a descheduled peer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, Synth, machine_info, med, note, result, table  # noqa: E402


def worker(threads: int, steps: int) -> None:
    import numpy as np
    import torch
    import torch.nn.functional as F

    from fakecheck.audio.constants import SAMPLE_RATE, WINDOW_SAMPLES
    from fakecheck.model.features import FeatureConfig, extract
    from fakecheck.model.transformer import ModelConfig, SpoofTransformer

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    syn = Synth(SAMPLE_RATE, 32 * WINDOW_SAMPLES / SAMPLE_RATE, seed=5)
    x = torch.from_numpy(syn.block(32 * WINDOW_SAMPLES)[:, 0].reshape(32, WINDOW_SAMPLES).copy())
    y = torch.from_numpy((np.arange(32) % 2).astype(np.float32))
    fcfg = FeatureConfig()
    model = SpoofTransformer(ModelConfig(n_features=fcfg.n_features))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)

    def train_step() -> float:
        model.train()
        t0 = time.perf_counter()
        loss = F.binary_cross_entropy_with_logits(model(extract(x, fcfg)).score, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return time.perf_counter() - t0

    def infer() -> float:
        model.eval()
        t0 = time.perf_counter()
        with torch.inference_mode():
            model(extract(x, fcfg)).score.numpy()
        return time.perf_counter() - t0

    for _ in range(2):  # warm-up: allocator, thread pool, first-call dispatch
        train_step()
        infer()
    out = {"train": [train_step() for _ in range(steps)], "infer": [infer() for _ in range(steps)],
           "threads_reported": torch.get_num_threads()}
    print(json.dumps(out))


def run_setting(threads: int, competitors: int, steps: int, passive: bool) -> dict[str, list[float]]:
    env = {**os.environ}
    if passive:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    busy = [subprocess.Popen([PY, "-c", "while True: pass"]) for _ in range(competitors)]
    try:
        time.sleep(0.3 if busy else 0)
        p = subprocess.run([PY, __file__, "--worker", str(threads), "--steps", str(steps)], env=env,
                           capture_output=True, text=True)
    finally:
        for b in busy:  # only the processes started here, by their own handle
            b.kill()
            b.wait()
    if p.returncode:
        raise SystemExit(f"worker failed: {p.stderr[-1500:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def _range_ms(xs: list[float]) -> list[float]:
    return [round(1000 * min(xs), 1), round(1000 * max(xs), 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--competitors", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    ap.add_argument("--steps", type=int, default=None, help="timed steps per round (default 5, quick 3)")
    ap.add_argument("--no-passive", action="store_true", help="skip the OMP_WAIT_POLICY=PASSIVE rows")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    steps = args.steps or (3 if args.quick else 5)
    if args.worker:
        worker(args.worker, steps)
        return
    rounds = args.rounds or (1 if args.quick else 3)
    info = machine_info()
    settings = [(t, c, False) for c in args.competitors for t in args.threads]
    if not args.no_passive:
        settings += [(t, c, True) for c in args.competitors for t in args.threads if t > 1]
    data: dict[tuple[int, int, bool], dict[str, list[float]]] = {s: {"train": [], "infer": []} for s in settings}
    for r in range(rounds):
        for s in settings:
            note(f"round {r + 1}/{rounds}: threads {s[0]}, competitors {s[1]}{', passive' if s[2] else ''}")
            out = run_setting(s[0], s[1], steps=steps, passive=s[2])
            data[s]["train"] += out["train"]
            data[s]["infer"] += out["infer"]

    def m(s: tuple[int, int, bool], k: str) -> float:
        return med(data[s][k])

    rows, figs = [], []
    for s in settings:
        t, c, passive = s
        one = (1, c, False)
        alone = (t, 0, passive) if (t, 0, passive) in data else None
        tr, inf = m(s, "train"), m(s, "infer")
        rows.append([f"{t}{' passive' if passive else ''}", c, tr * 1000, inf * 1000,
                     f"{tr / m(one, 'train'):.2f}" if one in data else "-",
                     f"{inf / m(one, 'infer'):.2f}" if one in data else "-",
                     f"{tr / m(alone, 'train'):.2f}" if alone else "-"])
        figs.append({"threads": t, "competitors": c, "omp_wait_passive": passive,
                     "train_step_ms": round(tr * 1000, 1), "infer_32_ms": round(inf * 1000, 1),
                     "train_range_ms": _range_ms(data[s]["train"]), "infer_range_ms": _range_ms(data[s]["infer"])})
    print(f"\nmedian over {rounds} rounds x {steps} steps; batch 32 x 4 s windows; {os.cpu_count()} CPUs; "
          f"load at start {info['loadavg_start']} (background work counts as extra competitors)")
    print(table(["threads", "competitors", "train step ms", "infer 32 ms", "train vs 1 thr", "infer vs 1 thr",
                 "train vs alone"], rows))

    verdict = []
    for c in args.competitors:
        for k in ("train", "infer"):
            best = min(args.threads, key=lambda t: m((t, c, False), k))
            verdict.append(f"{k} with {c} competitor(s): fastest at {best} thread(s)")
    worst = max((m((t, c, False), "train") / m((1, c, False), "train"), t, c)
                for t in args.threads for c in args.competitors if t > 1)
    print("\n" + "\n".join(verdict))
    print(f"worst slowdown of more threads vs 1 (train): {worst[0]:.1f}x at {worst[1]} threads, "
          f"{worst[2]} competitor(s)")
    result("threads", {"rounds": rounds, "steps": steps, "settings": figs, "fastest": verdict,
                       "worst_train_slowdown": {"factor": round(worst[0], 2), "threads": worst[1],
                                                "competitors": worst[2]}}, info)


if __name__ == "__main__":
    main()
