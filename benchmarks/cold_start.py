"""Cold start: `fakecheck scan one.wav` on a 5 s clip against `python -c "import torch"`.

    python benchmarks/cold_start.py          # median of 5, interleaved
    python benchmarks/cold_start.py -n 9

Also prints where the time of one scan goes (a separate in-process breakdown, median of
the same number of runs): interpreter, imports, model load (SHA-256 + torch.load), decoding
and scoring.  Goal: scan <= 1.3x import torch.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    PY,
    cpu_of,
    fakecheck_cmd,
    import_profile,
    interleaved,
    machine_info,
    med,
    note,
    pyc_cache_env,
    pyenv_shim,
    result,
    run_timed,
    spread,
    table,
    tempdir,
    write_clip,
)

BREAKDOWN = r"""
import time, json, sys
t = {"start": time.perf_counter()}
import typer; t["import typer"] = time.perf_counter()
import fakecheck.cli; t["import fakecheck.cli"] = time.perf_counter()
import rich.progress, rich.console; t["import rich (progress, console)"] = time.perf_counter()
import numpy; t["import numpy"] = time.perf_counter()
import torch; t["import torch"] = time.perf_counter()
import fakecheck.analysis.detector; t["import fakecheck.analysis.detector (rest)"] = time.perf_counter()
import soundfile, soxr; t["import soundfile, soxr"] = time.perf_counter()
from fakecheck.model import checkpoint
p = checkpoint.bundled_model_path(); checkpoint.sha256_file(p); t["model sha256"] = time.perf_counter()
data = checkpoint.read_data(p); t["model torch.load"] = time.perf_counter()
ck = checkpoint.from_dict(data, p); t["model build + load_state_dict"] = time.perf_counter()
det = fakecheck.analysis.detector.Detector(ck); t["Detector()"] = time.perf_counter()
v = det.analyse_file(sys.argv[1]); t["analyse_file (5 s clip)"] = time.perf_counter()
keys = list(t); print(json.dumps({k: t[k] - t[p] for p, k in zip(keys, keys[1:])}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="same as -n 3")
    args = ap.parse_args()
    n = 3 if args.quick and args.repeats == 5 else args.repeats
    info = machine_info()
    with tempdir("cold") as td:
        clip = Path(td) / "one.wav"
        write_clip(clip, 5.0, 16000, 1, seed=1)
        fc = fakecheck_cmd()
        scan = [*fc, "scan", str(clip)]
        pyc = pyc_cache_env(Path(td) / "pyc")
        cases = {
            'python -c "import torch"': lambda: run_timed([PY, "-c", "import torch"], ok_codes=(0,)),
            "fakecheck scan one.wav": lambda: run_timed(scan),
            'python -c "pass"': lambda: run_timed([PY, "-c", "pass"], ok_codes=(0,)),
            # what-if rows, not part of the ratio
            "what-if: scan, bytecode cached": lambda: run_timed(scan, env=pyc),
            'what-if: "import torch", bytecode cached': lambda: run_timed([PY, "-c", "import torch"], env=pyc,
                                                                          ok_codes=(0,)),
        }
        shim_fc, shim_py = pyenv_shim("fakecheck"), pyenv_shim("python")
        if shim_fc and shim_py:
            cases['via pyenv shim: python -c "import torch"'] = lambda: run_timed([shim_py, "-c", "import torch"],
                                                                                  ok_codes=(0,))
            cases["via pyenv shim: fakecheck scan one.wav"] = lambda: run_timed([shim_fc, "scan", str(clip)])
        note(f"timing {len(cases)} commands x {n} (+1 warm-up) ...")
        times = interleaved(cases, n, warmup=1)
        imports = import_profile(scan, top=12)
        steps: dict[str, list[float]] = {}
        import subprocess

        for _ in range(n):
            out = subprocess.run([PY, "-c", BREAKDOWN, str(clip)], capture_output=True, text=True, check=True).stdout
            for k, v in json.loads(out.strip().splitlines()[-1]).items():
                steps.setdefault(k, []).append(v)

    base = med(times['python -c "import torch"'])
    scan = med(times["fakecheck scan one.wav"])
    rows = [[k, med(xs), spread(xs), med(xs) / base, med(cpu_of(xs))] for k, xs in times.items()]
    print(f"\nmedian of {n}, interleaved; load at start {info['loadavg_start']}")
    print(table(["command", "median s", "range s", "vs import torch", "CPU s"], rows))
    print(f"\nratio scan / import torch = {scan / base:.2f} (goal <= 1.3); "
          f"scan - import torch = {scan - base:.3f} s")
    print(f"\nscript: {fc[0]}")
    print("self import time per top-level package in one scan (python -X importtime): "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in imports))
    print("\nbreakdown of one scan, in-process, cumulative order (median s):")
    srows = [[k, med(xs)] for k, xs in steps.items()]
    print(table(["step", "median s"], srows))
    result("cold_start", {
        "repeats": n,
        "import_torch_s": round(base, 3),
        "scan_one_wav_s": round(scan, 3),
        "python_pass_s": round(med(times['python -c "pass"']), 3),
        "ratio_scan_vs_import_torch": round(scan / base, 3),
        "extra_over_import_torch_s": round(scan - base, 3),
        "runs": {k: [round(x, 3) for x in xs] for k, xs in times.items()},
        "import_ms_by_package": {k: round(v * 1000, 1) for k, v in imports},
        "breakdown_s": {k: round(med(xs), 4) for k, xs in steps.items()},
    }, info)


if __name__ == "__main__":
    main()
