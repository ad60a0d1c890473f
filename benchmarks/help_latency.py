"""--help and shell-completion latency against `python -c "import typer"`.

    python benchmarks/help_latency.py        # median of 7, interleaved
    python benchmarks/help_latency.py -n 15

The completion request is what bash sends on TAB after `fakecheck sc`:
    _FAKECHECK_COMPLETE=complete_bash COMP_WORDS='fakecheck sc' COMP_CWORD=1 fakecheck
It must answer `scan` (checked before timing).  Also lists the modules each command
imports beyond `import typer` (torch, numpy, rich ... must not be among them).
Goal: each <= 2x import typer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
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
)

COMPLETE_ENV = {"_FAKECHECK_COMPLETE": "complete_bash", "COMP_WORDS": "fakecheck sc", "COMP_CWORD": "1"}

# Which heavy modules does the CLI pull in before it answers?  Run the console script's
# entry point under the same conditions and list sys.modules at exit.
MODULES = r"""
import atexit, json, os, sys
before = set(sys.modules)
import typer
after_typer = set(sys.modules)
def dump():
    heavy = sorted({m.split('.')[0] for m in set(sys.modules) - after_typer})
    sys.__stderr__.write("MODULES " + json.dumps({"count_beyond_typer": len(set(sys.modules) - after_typer),
                                                  "top_level": heavy}) + "\n")
atexit.register(dump)
sys.argv = ["fakecheck"] + sys.argv[1:]
from fakecheck.cli import main
main()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="same as -n 3")
    args = ap.parse_args()
    n = 3 if args.quick and args.repeats == 7 else args.repeats
    info = machine_info()
    fc = fakecheck_cmd()

    p = subprocess.run(fc, env={**os.environ, **COMPLETE_ENV}, capture_output=True, text=True)
    if "scan" not in p.stdout:
        raise SystemExit(f"completion request did not answer 'scan': rc={p.returncode} out={p.stdout!r} "
                         f"err={p.stderr[-300:]!r}")
    completion_answer = p.stdout.strip().splitlines()

    cases = {
        'python -c "import typer"': lambda: run_timed([PY, "-c", "import typer"], ok_codes=(0,)),
        "fakecheck --help": lambda: run_timed([*fc, "--help"], ok_codes=(0,)),
        "completion 'fakecheck sc<TAB>'": lambda: run_timed(fc, env=COMPLETE_ENV, ok_codes=(0,)),
        'python -c "pass"': lambda: run_timed([PY, "-c", "pass"], ok_codes=(0,)),
    }
    # What-if rows (not part of the ratios): how much each known cost is worth.
    cache = tempdir("pyc")
    pyc = pyc_cache_env(Path(cache.name))
    whatif = {
        "what-if: --help, TYPER_USE_RICH=0 (plain click help)":
            lambda: run_timed([*fc, "--help"], env={"TYPER_USE_RICH": "0"}, ok_codes=(0,)),
        "what-if: --help, bytecode cached": lambda: run_timed([*fc, "--help"], env=pyc, ok_codes=(0,)),
        "what-if: completion, bytecode cached": lambda: run_timed(fc, env={**COMPLETE_ENV, **pyc}, ok_codes=(0,)),
        'what-if: python -c "import typer", bytecode cached':
            lambda: run_timed([PY, "-c", "import typer"], env=pyc, ok_codes=(0,)),
    }
    shim_fc, shim_py = pyenv_shim("fakecheck"), pyenv_shim("python")
    if shim_fc and shim_py:
        whatif['via pyenv shim: python -c "import typer"'] = lambda: run_timed([shim_py, "-c", "import typer"],
                                                                                 ok_codes=(0,))
        whatif["via pyenv shim: fakecheck --help"] = lambda: run_timed([shim_fc, "--help"], ok_codes=(0,))
    note(f"timing {len(cases) + len(whatif)} commands x {n} (+1 warm-up) ...")
    times = interleaved({**cases, **whatif}, n, warmup=1)
    cache.cleanup()

    mods = {}
    for label, argv, env in (("fakecheck --help", ["--help"], {}), ("completion", [], COMPLETE_ENV)):
        q = subprocess.run([PY, "-c", MODULES, *argv], env={**os.environ, **env}, capture_output=True, text=True)
        line = [x for x in q.stderr.splitlines() if x.startswith("MODULES ")]
        mods[label] = json.loads(line[-1][8:]) if line else {"error": q.stderr[-300:]}

    imports = {"--help": import_profile([*fc, "--help"]), "completion": import_profile(fc, env=COMPLETE_ENV)}

    base = med(times['python -c "import typer"'])
    rows = [[k, med(xs), spread(xs), med(xs) / base, med(cpu_of(xs))] for k, xs in times.items()]
    print(f"\nmedian of {n}, interleaved; load at start {info['loadavg_start']}; script {fc[0]}")
    print(table(["command", "median s", "range s", "vs import typer", "CPU s"], rows))
    print("\nself import time per top-level package (python -X importtime, one run):")
    for label, prof in imports.items():
        print(f"  {label:<11} " + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in prof))
    h, c = med(times["fakecheck --help"]), med(times["completion 'fakecheck sc<TAB>'"])
    print(f"\nratios: --help {h / base:.2f}, completion {c / base:.2f} (goal <= 2)")
    for label, m in mods.items():
        print(f"modules imported beyond typer by {label}: {m.get('count_beyond_typer')} "
              f"(top level: {', '.join(m.get('top_level', []))})")
    heavy = sorted({x for m in mods.values() for x in m.get("top_level", [])} & {"torch", "numpy", "librosa",
                                                                                 "soundfile", "soxr", "scipy"})
    if heavy:
        print(f"WARNING: heavy modules imported: {heavy}")
    result("help_latency", {
        "repeats": n,
        "import_typer_s": round(base, 3),
        "help_s": round(h, 3),
        "completion_s": round(c, 3),
        "python_pass_s": round(med(times['python -c "pass"']), 3),
        "ratio_help_vs_import_typer": round(h / base, 3),
        "ratio_completion_vs_import_typer": round(c / base, 3),
        "completion_answer": completion_answer,
        "modules": mods,
        "import_ms_by_package": {k: {p: round(v * 1000, 1) for p, v in prof} for k, prof in imports.items()},
        "runs": {k: [round(x, 3) for x in xs] for k, xs in times.items()},
    }, info)


if __name__ == "__main__":
    main()
