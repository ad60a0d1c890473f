"""Peak memory of scanning a 1-hour 16 kHz FLAC against `python -c "import torch"`.

    python benchmarks/memory.py            # 1 h file (and a 10 min one), 3 runs each
    python benchmarks/memory.py --quick    # 10 min and 2 min files, 1 run each

Peak RSS is resource.getrusage(RUSAGE_CHILDREN).ru_maxrss, read in a fresh wrapper
process per run (the value is a maximum over all children ever waited for, so each
measurement needs its own parent).  The file is generated and encoded in 60 s blocks,
so the benchmark itself never holds the hour in memory.  A second, shorter file shows
whether the peak grows with duration (streaming should keep it flat).
Goal: scan peak <= import-torch peak + 200 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PY, fakecheck_cmd, machine_info, med, note, result, table, tempdir, write_clip  # noqa: E402

WRAPPER = r"""
import json, resource, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "maxrss_kib": ru.ru_maxrss, "wall_s": wall,
                  "cpu_s": ru.ru_utime + ru.ru_stime, "err": p.stderr.decode("utf-8", "replace")[-300:]}))
"""


def measure(argv: list[str], ok: tuple[int, ...] = (0, 1)) -> dict[str, float]:
    out = subprocess.run([PY, "-c", WRAPPER, *argv], capture_output=True, text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    if r["rc"] not in ok:
        raise SystemExit(f"{' '.join(argv)} exited {r['rc']}: {r['err']}")
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="10 min + 2 min files, one run each")
    ap.add_argument("-n", "--repeats", type=int, default=None)
    args = ap.parse_args()
    n = args.repeats or (1 if args.quick else 3)
    long_s, short_s = (600.0, 120.0) if args.quick else (3600.0, 600.0)
    info = machine_info()
    fc = fakecheck_cmd()
    with tempdir("memory") as td:
        big, small = Path(td) / "long_16k.flac", Path(td) / "short_16k.flac"
        t0 = time.perf_counter()
        write_clip(big, long_s, 16000, 1, seed=7)
        write_clip(small, short_s, 16000, 1, seed=8)
        note(f"generated {long_s / 60:.0f} min + {short_s / 60:.0f} min FLAC "
              f"({big.stat().st_size / 2**20:.0f} + {small.stat().st_size / 2**20:.0f} MiB) "
              f"in {time.perf_counter() - t0:.1f} s")
        cases = {
            'python -c "import torch"': [PY, "-c", "import torch"],
            f"scan {long_s / 60:.0f} min FLAC (--jobs 2, default)": [*fc, "scan", str(big), "--quiet"],
            f"scan {long_s / 60:.0f} min FLAC --jobs 1": [*fc, "scan", str(big), "--quiet", "--jobs", "1"],
            f"scan {short_s / 60:.0f} min FLAC (--jobs 2, default)": [*fc, "scan", str(small), "--quiet"],
            # what-if: the batch of 32 windows (STFT of 32 x 64 000 samples) sets most of the peak
            f"what-if: scan {long_s / 60:.0f} min FLAC --batch-size 8":
                [*fc, "scan", str(big), "--quiet", "--batch-size", "8"],
        }
        runs: dict[str, list[dict[str, float]]] = {k: [] for k in cases}
        for i in range(n):
            for k, argv in cases.items():
                note(f"run {i + 1}/{n}: {k}")
                runs[k].append(measure(argv, (0,) if "import torch" in k else (0, 1)))

    base_key = 'python -c "import torch"'
    base = med([r["maxrss_kib"] for r in runs[base_key]]) / 1024
    rows, figs = [], {}
    for k, rs in runs.items():
        peak = med([r["maxrss_kib"] for r in rs]) / 1024
        wall = med([r["wall_s"] for r in rs])
        rows.append([k, peak, peak - base, wall, max(r["maxrss_kib"] for r in rs) / 1024])
        figs[k] = {"peak_rss_mib": round(peak, 1), "over_import_torch_mib": round(peak - base, 1),
                   "wall_s": round(wall, 2), "runs_mib": [round(r["maxrss_kib"] / 1024, 1) for r in rs]}
    print(f"\npeak RSS (ru_maxrss of children), median of {n}; load at start {info['loadavg_start']}")
    print(table(["command", "peak MiB", "over torch MiB", "wall s", "max MiB"], rows))
    main_key = f"scan {long_s / 60:.0f} min FLAC (--jobs 2, default)"
    diff = figs[main_key]["over_import_torch_mib"]
    print(f"\nscan of the {long_s / 60:.0f} min file: {figs[main_key]['peak_rss_mib']:.0f} MiB peak, "
          f"+{diff:.0f} MiB over import torch ({base:.0f} MiB) (goal <= +200 MB)")
    result("memory", {"repeats": n, "long_file_s": long_s, "import_torch_peak_mib": round(base, 1),
                      "scan_long_peak_mib": figs[main_key]["peak_rss_mib"], "scan_long_over_torch_mib": diff,
                      "cases": figs}, info)


if __name__ == "__main__":
    main()
