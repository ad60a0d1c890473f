"""Where a folder scan's time goes, stage by stage, and what a second thread buys.

    python benchmarks/scan_profile.py --real 100 [-n 3]   # 100 corpus clips in mixed formats (needs ../shared)
    python benchmarks/scan_profile.py [--quick]           # throughput.py's generated folder

The folder: with --real N, N clips of the labelled corpus written in turn as WAV, MP3, FLAC and Ogg at 16-48 kHz,
mono and stereo (_common.real_folder); else throughput.py's generated folder.  Everything runs in this one
process with the model loaded once (startup is cold_start.py's concern).

1. **Stage table.** Detector.analyse_files on one torch thread with one decoder thread, under cProfile. cProfile
   sees the main thread, so decoding (in the decoder thread) is timed on its own in the same process, and the main
   thread's wait for the decoder is its own row.  Writing the rows is json.dumps of every verdict.
2. **Threads.** analyse_files, interleaved round by round, on 2 torch threads (the default) and on 1; x real time
   and the ratio.  (Two windows side by side, each on one torch thread, was tried for issue 25 and lost: 0.89x
   the default on 2 cores, docs/experiments.md.)
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    bench_parser,
    interleaved,
    machine_info,
    med,
    note,
    real_folder,
    result,
    spread,
    table,
    tempdir,
    timed_repeats,
)
from throughput import make_folder  # noqa: E402

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI sets it before torch loads (fakecheck/cli/app.py)

# stage -> (file suffix, function) whose cumulative time is the stage's
STAGES = {
    "speech detection (silero-vad per window)": ("fakecheck/audio/vad.py", "token_speech"),
    "features (level, log-mel, frozen Whisper part)": ("fakecheck/model/features.py", "extract_views"),
    "signal conditions (warnings)": ("fakecheck/audio/conditions.py", "add"),
    "verdict, timeline and segments": ("fakecheck/analysis/detector.py", "_verdict_safely"),
    "waiting for the decoder thread": ("queue.py", "get"),
}
SCORER = ("fakecheck/model/precision.py", "__call__")  # features + model: the model is the difference


def cumulative(stats: pstats.Stats, where: tuple[str, str]) -> float:
    suffix, name = where
    return sum(v[3] for (f, _, fn), v in stats.stats.items()  # type: ignore[attr-defined]
               if f.endswith(suffix) and fn == name)


def stage_table(det, paths: list[str]) -> tuple[list[list[object]], float]:
    """[stage, seconds, share] rows of one single-threaded scan, and its wall seconds."""
    import torch

    from fakecheck import audio

    torch.set_num_threads(1)
    det.threads = 1
    t0 = time.perf_counter()
    for p in paths:
        for _ in audio.stream(p):
            pass
    decode = time.perf_counter() - t0
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    verdicts = list(det.analyse_files(paths, jobs=1))
    profiler.disable()
    wall = time.perf_counter() - t0
    t0 = time.perf_counter()
    for v in verdicts:
        json.dumps(v.to_dict())
    output = time.perf_counter() - t0
    stats = pstats.Stats(profiler)
    stages = {k: cumulative(stats, w) for k, w in STAGES.items()}
    features = stages["features (level, log-mel, frozen Whisper part)"]
    stages["model (fine-tuned Whisper blocks, transformer, heads)"] = cumulative(stats, SCORER) - features
    stages["other (windows, bookkeeping)"] = wall - sum(stages.values())
    stages["writing the rows (json.dumps of each verdict)"] = output
    ranked = sorted(stages.items(), key=lambda kv: -kv[1])
    rows: list[list[object]] = [[k, s, f"{100 * s / wall:.1f}%"] for k, s in ranked]
    rows.append(["decoding and resampling (in the decoder thread, timed alone)", decode, f"{100 * decode / wall:.1f}%"])
    return rows, wall


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--real", type=int, default=0, metavar="N", help="N clips of ../shared/corpus in mixed formats")
    args = ap.parse_args()
    n = timed_repeats(args)
    info = machine_info()
    import torch

    from fakecheck import Detector
    from fakecheck.analysis.inputs import iter_inputs

    with tempdir("scan-profile") as td:
        folder = Path(td)
        audio_s = real_folder(folder, args.real) if args.real else make_folder(folder, args.quick)
        paths = [str(p) for p in iter_inputs([str(folder)])[0]]
        note(f"{len(paths)} files, {audio_s:.0f} s of audio")
        det = Detector.load()
        note(f"precision {det.precision}; stage table (one thread, cProfile) ...")
        list(det.analyse_files(paths[:3]))  # warm-up
        stages, wall = stage_table(det, paths)

        def scan(threads: int, env: dict[str, str] | None = None) -> float:
            torch.set_num_threads(threads)
            t0 = time.perf_counter()
            list(det.analyse_files(paths, jobs=2))
            return time.perf_counter() - t0

        cases = {"2 threads (the default)": lambda: scan(2), "1 thread": lambda: scan(1)}
        note(f"timing {len(cases)} cases x {n} ...")
        times = interleaved(cases, n, warmup=args.warmup)

    before = med(times["1 thread"])
    print(f"\nfolder: {len(paths)} files, {audio_s:.0f} s of audio; precision {det.precision}; "
          f"load at start {info['loadavg_start']}")
    print(f"\n[1] where the time goes: one thread, one decoder thread, {wall:.2f} s wall "
          f"({audio_s / wall:.0f}x real time)")
    print(table(["stage", "seconds", "share of the scan"], stages))
    print(f"\n[2] in-process scans, median of {n}")
    rows = [[k, med(xs), spread(xs), audio_s / med(xs), before / med(xs)] for k, xs in times.items()]
    print(table(["case", "median s", "range s", "x real time", "speed vs 1 thread"], rows))
    result("scan_profile", {"files": len(paths), "audio_s": round(audio_s, 1), "precision": det.precision,
                            "stages_s": {str(r[0]): round(float(r[1]), 3) for r in stages},  # type: ignore[arg-type]
                            "cases": {k: {"median_s": round(med(xs), 3), "x_realtime": round(audio_s / med(xs), 1),
                                          "vs_1_thread": round(before / med(xs), 2)} for k, xs in times.items()}}, info)


if __name__ == "__main__":
    main()
