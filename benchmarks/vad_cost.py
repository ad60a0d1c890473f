"""Cost of speech detection: `vad.speech_probs` against the Whisper front end on the same batch.

    python benchmarks/vad_cost.py          # median of 7, interleaved
    python benchmarks/vad_cost.py --quick  # median of 3

In-process, after loading both models: a batch of 8 random 4 s windows (64 000 samples each) through
`fakecheck.audio.vad.speech_probs` (silero-vad in plain torch) and through `fakecheck.model.features.extract`
(the Whisper tiny.en encoder, which every scored window already pays for).  The ratio is VAD time /
features time, for 1 and 2 torch threads.  A `what-if:` row times the 8 windows one call each,
the cost of not batching.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import interleaved, machine_info, med, note, result, spread, table  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="3 repeats instead of 7 (development only)")
    ap.add_argument("--threads", default="1,2", help="torch thread counts to sweep (the product's default is 2)")
    args = ap.parse_args()

    import numpy as np
    import torch

    from fakecheck.audio import vad
    from fakecheck.model import features

    batch = 8
    windows = torch.from_numpy(np.random.default_rng(0).uniform(-0.5, 0.5, (batch, 64_000)).astype(np.float32))
    note("loading models ...")
    vad.load_vad()
    features.extract(windows[:1])

    def timed(fn: Callable[[], object]) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    base_case, vad_case, what_if = ("features.extract (Whisper encoder), batch 8", "vad.speech_probs, batch 8",
                                    "what-if: vad.speech_probs, 8 calls of 1")
    cases = {
        base_case: lambda: timed(lambda: features.extract(windows)),
        vad_case: lambda: timed(lambda: vad.speech_probs(windows)),
        what_if: lambda: timed(lambda: [vad.speech_probs(w[None]) for w in windows]),
    }
    n = 3 if args.quick else 7
    rows, figures = [], {}
    for threads in (int(t) for t in args.threads.split(",")):
        torch.set_num_threads(threads)
        note(f"{threads} torch thread(s): {len(cases)} cases x {n} (interleaved, one warm-up round) ...")
        times = interleaved(cases, n)
        base = med(times[base_case])
        rows += [[f"{k} [{threads} thr]", med(v), spread(v), med(v) / base] for k, v in times.items()]
        figures[f"threads_{threads}"] = {"ratio_vad_over_features": round(med(times[vad_case]) / base, 4),
                                         "vad_s": round(med(times[vad_case]), 4), "features_s": round(base, 4),
                                         "unbatched_s": round(med(times[what_if]), 4)}
    print(table(["case", "median s", "range s", "x features"], rows))
    for key, f in figures.items():
        print(f"{key}: speech_probs costs {f['ratio_vad_over_features']:.3f}x the Whisper front end on the same "
              f"batch ({f['vad_s'] * 1000:.1f} ms vs {f['features_s'] * 1000:.1f} ms for {batch} x 4 s)")
    result("vad_cost", {**figures, "batch": batch, "repeats": n}, machine_info())


if __name__ == "__main__":
    main()
