"""Folder-scan speed ratios measured in one run: each --precision against fp32, fakecheck against
AASIST-L on the same files, and `scan --ray` (a local 2-CPU Ray cluster) against a plain scan.

    python benchmarks/compare_speed.py [--quick] [-n 3] [--aasist DIR] [--no-ray]

The folder is throughput.py's (31 clips, 1 s to 5 min; --quick cuts the long ones tenfold), or with --real N, N
clips of the labelled corpus written as WAV, MP3, FLAC and Ogg at 16-48 kHz (needs ../shared).
Every case is a fresh subprocess (startup and model load included, as a user sees it), the cases
taking turns round by round so that each sees the same machine load; medians are printed with
x real time and the ratio to the fp32 scan.

AASIST-L (clovaai/aasist, MIT licence: `git clone https://github.com/clovaai/aasist`, pass its
folder as --aasist) is run on the same files, decoded by the same fakecheck.audio.stream: each file
is cut into consecutive 64 600-sample windows (AASIST's 4.04 s input; the last one repeat-padded)
and scored in batches of 8 with its published AASIST-L.pth weights, 2 torch threads.  That is
fewer windows than fakecheck's half-overlapping ones, so the ratio favours AASIST-L.

CPU seconds are the child's own rusage (its threads and waited-for children): for `--ray` they miss
the Ray workers, which are not its children, so compare the ray case by wall time only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PY,
    bench_parser,
    cpu_of,
    fakecheck_cmd,
    interleaved,
    machine_info,
    med,
    note,
    real_folder,
    result,
    run_timed,
    spread,
    table,
    tempdir,
    timed_repeats,
    write_clip,  # noqa: E402
)
from throughput import folder_spec  # noqa: E402

AASIST = r"""
import json, os, sys, time
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from models.AASIST import Model
from fakecheck import audio
from fakecheck.analysis.inputs import iter_inputs
torch.set_num_threads(2)
conf = json.load(open(os.path.join(sys.argv[1], "config", "AASIST-L.conf")))["model_config"]
model = Model(conf)
model.load_state_dict(torch.load(os.path.join(sys.argv[1], "models", "weights", "AASIST-L.pth"), map_location="cpu"))
model.eval()
N = conf["nb_samp"]
paths, _ = iter_inputs([sys.argv[2]])
def windows(x):
    if len(x) < N:
        x = np.tile(x, N // max(1, len(x)) + 1)
    n = max(1, -(-len(x) // N))
    x = np.concatenate([x, x[: n * N - len(x)]]) if n * N > len(x) else x
    return x[: n * N].reshape(n, N)
with torch.inference_mode():
    for p in paths:
        x = np.concatenate(list(audio.stream(p)))
        w = torch.from_numpy(windows(x).astype(np.float32))
        for i in range(0, len(w), 8):
            model(w[i:i + 8])
"""


def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--aasist", type=Path, default=None, help="a clone of clovaai/aasist (skipped when absent)")
    ap.add_argument("--no-ray", action="store_true")
    ap.add_argument("--max-files", type=int, default=None, help="only the first N clips of the folder (a busy machine)")
    ap.add_argument("--precisions", default="fp32,bf16,int8,auto")
    ap.add_argument("--real", type=int, default=0, metavar="N",
                    help="N clips of ../shared/corpus in mixed formats (_common.real_folder), not the generated folder")
    args = ap.parse_args()
    n = timed_repeats(args)
    info = machine_info()
    with tempdir("compare") as td:
        folder = Path(td) / "clips"
        folder.mkdir()
        if args.real:
            audio_s = real_folder(folder, args.real)
        else:
            spec = folder_spec(args.quick)[: args.max_files]
            audio_s = sum(write_clip(folder / name, sec, rate, ch, seed=seed, kind=kind)
                          for seed, (name, sec, rate, ch, kind) in enumerate(spec))
        note(f"{audio_s / 60:.1f} min of audio")
        env = {"FAKECHECK_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"}
        cases = {f"scan --precision {p}": lambda p=p: run_timed(
            [*fakecheck_cmd(), "--precision", p, "scan", str(folder), "--quiet"], env=env)
            for p in args.precisions.split(",")}
        if args.aasist and (args.aasist / "models" / "AASIST.py").is_file():
            cases["AASIST-L (same files, same decoder)"] = lambda: run_timed(
                [PY, "-c", AASIST, str(args.aasist), str(folder)], env=env, ok_codes=(0,))
        if not args.no_ray:
            cases["scan --ray (local cluster, 2 CPUs)"] = lambda: run_timed(
                [*fakecheck_cmd(), "scan", str(folder), "--quiet", "--ray"],
                env={**env, "FAKECHECK_THREADS": "1"})
        note(f"timing {len(cases)} cases x {n} (+{args.warmup} warm-up) ...")
        times = interleaved(cases, n, warmup=args.warmup)
    base = med(times["scan --precision fp32"])
    base_cpu = med(cpu_of(times["scan --precision fp32"]))  # CPU seconds: less moved by other load than wall
    rows, figures = [], {"audio_s": round(audio_s, 1), "repeats": n, "cases": {}}
    for k, xs in times.items():
        m, c = med(xs), med(cpu_of(xs))
        rows.append([k, m, spread(xs), audio_s / m, base / m, c, base_cpu / c])
        figures["cases"][k] = {"median_s": round(m, 3), "x_realtime": round(audio_s / m, 1),
                               "speed_vs_fp32_scan": round(base / m, 2), "cpu_s": round(c, 3),
                               "cpu_speed_vs_fp32_scan": round(base_cpu / c, 2)}
    print(f"\n{audio_s:.0f} s of audio; median of {n}; {os.cpu_count()} CPUs, load at start {info['loadavg_start']}")
    print(table(["case", "median s", "range s", "x real time", "speed vs fp32 scan", "CPU s", "CPU speed vs fp32"],
                rows))
    aasist = figures["cases"].get("AASIST-L (same files, same decoder)")
    if aasist:
        for k, v in figures["cases"].items():
            if k.startswith("scan --precision"):
                print(f"fakecheck {k} vs AASIST-L: {aasist['median_s'] / v['median_s']:.2f}x faster "
                      f"(CPU seconds: {aasist['cpu_s'] / v['cpu_s']:.2f}x)")
    result("compare_speed", figures, info)


if __name__ == "__main__":
    main()
