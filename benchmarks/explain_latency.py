"""`fakecheck explain` latency: rollout on a 10-minute file, occlusion on a 1-minute file.

    python benchmarks/explain_latency.py          # median of 3, interleaved
    python benchmarks/explain_latency.py --quick  # 2 min / 20 s files, one run

Baselines timed beside them: `fakecheck scan` of the same files and `python -c "import torch"`.
Then an in-process breakdown (startup excluded): the verdict pass (analyse_file), the whole
explain_file, JSON building + dumping, and the terminal view.  Goal: a few seconds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PY,
    bench_parser,
    fakecheck_cmd,
    interleaved,
    machine_info,
    med,
    note,
    result,
    run_timed,
    spread,
    table,
    tempdir,
    timed_repeats,
    write_clip,
)

BREAKDOWN = r"""
import json, sys, time
from fakecheck import Detector
from fakecheck.analysis import explain as ex
from fakecheck.evidence import render
det = Detector.load()
out = {}
def timed(key, fn):
    t0 = time.perf_counter(); r = fn(); out[key] = time.perf_counter() - t0; return r
long, short = sys.argv[1], sys.argv[2]
det.analyse_file(short)  # warm-up
timed("long: analyse_file (the verdict pass)", lambda: det.analyse_file(long))
res = timed("long: explain_file rollout (incl. its verdict pass)", lambda: ex.explain_file(det, long, "rollout"))
d = timed("long: to_dict", res.to_dict)
timed("long: json.dumps(indent=2)", lambda: json.dumps(d, indent=2, ensure_ascii=False))
timed("long: terminal view (render.explanation_view)", lambda: render.explanation_view(res, 80, False, False))
timed("short: analyse_file", lambda: det.analyse_file(short))
timed("short: explain_file occlusion", lambda: ex.explain_file(det, short, "occlusion"))
out["long: tokens in JSON"] = len(d["tokens"])
print(json.dumps(out))
"""


def _label(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def main() -> None:
    args = bench_parser(__doc__).parse_args()
    n = timed_repeats(args)
    long_s, short_s = (120.0, 20.0) if args.quick else (600.0, 60.0)
    info = machine_info()
    fc = fakecheck_cmd()
    with tempdir("explain") as td:
        ten, one = Path(td) / "ten_min.wav", Path(td) / "one_min.wav"
        write_clip(ten, long_s, 16000, 1, seed=3)
        write_clip(one, short_s, 16000, 1, seed=4)
        lk, sk = _label(long_s), _label(short_s)
        ok = (0, 1)
        cases = {
            f"explain {lk} --json /dev/null (rollout)":
                lambda: run_timed([*fc, "explain", str(ten), "--json", "/dev/null"], ok_codes=ok),
            f"explain {sk} --mode occlusion --json /dev/null":
                lambda: run_timed([*fc, "explain", str(one), "--mode", "occlusion", "--json", "/dev/null"],
                                  ok_codes=ok),
            f"baseline: scan {lk} --quiet": lambda: run_timed([*fc, "scan", str(ten), "--quiet"], ok_codes=ok),
            f"baseline: scan {sk} --quiet": lambda: run_timed([*fc, "scan", str(one), "--quiet"], ok_codes=ok),
            'baseline: python -c "import torch"': lambda: run_timed([PY, "-c", "import torch"], ok_codes=(0,)),
        }
        note(f"timing {len(cases)} commands x {n} (+{args.warmup} warm-up) ...")
        times = interleaved(cases, n, warmup=args.warmup)
        steps: dict[str, list[float]] = {}
        for _ in range(n):
            out = subprocess.run([PY, "-c", BREAKDOWN, str(ten), str(one)], capture_output=True, text=True,
                                 check=True).stdout
            for k, v in json.loads(out.strip().splitlines()[-1]).items():
                steps.setdefault(k, []).append(v)

    torch_s = med(times['baseline: python -c "import torch"'])
    rows = [[k, med(xs), spread(xs), med(xs) - torch_s] for k, xs in times.items()]
    print(f"\nmedian of {n}, interleaved; load at start {info['loadavg_start']}")
    print(table(["command", "median s", "range s", "minus import torch s"], rows))
    rollout = med(times[f"explain {lk} --json /dev/null (rollout)"])
    occl = med(times[f"explain {sk} --mode occlusion --json /dev/null"])
    scan_long = med(times[f"baseline: scan {lk} --quiet"])
    scan_short = med(times[f"baseline: scan {sk} --quiet"])
    print(f"\nexplain {lk}: {rollout:.2f} s ({rollout / scan_long:.2f}x scan of the same file); "
          f"occlusion {sk}: {occl:.2f} s ({occl / scan_short:.2f}x scan). Goal: a few seconds.")
    print("\nin-process breakdown (startup and model load excluded), median s:")
    print(table(["step", "median"], [[k, med(v)] for k, v in steps.items()]))
    result("explain_latency", {
        "repeats": n, "long_s": long_s, "short_s": short_s,
        "explain_rollout_long_s": round(rollout, 3), "explain_occlusion_short_s": round(occl, 3),
        "scan_long_s": round(scan_long, 3), "scan_short_s": round(scan_short, 3), "import_torch_s": round(torch_s, 3),
        "ratio_explain_vs_scan_long": round(rollout / scan_long, 2),
        "ratio_occlusion_vs_scan_short": round(occl / scan_short, 2),
        "runs": {k: [round(x, 3) for x in xs] for k, xs in times.items()},
        "breakdown": {k: round(med(v), 4) for k, v in steps.items()},
    }, info)


if __name__ == "__main__":
    main()
