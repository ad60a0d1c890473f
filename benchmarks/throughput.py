"""Scan throughput on a folder of mixed clips, against decoding alone.

    python benchmarks/throughput.py            # >= 20 min of audio, median of 3
    python benchmarks/throughput.py --quick    # ~4 min of audio, median of 1 (development)
    python benchmarks/throughput.py --profile  # also profile one default scan (py-spy, else pyinstrument)

The folder (generated in a temp dir): 31 clips from 1 s to 5 min, WAV/FLAC/MP3/OGG,
8/16/22.05/44.1/48 kHz, mono and stereo, mostly speech-like, plus one tone, one noise,
one chirp and one silent clip.

Measured, interleaved round by round so every figure sees the same load:
  1. `fakecheck scan DIR --quiet` (subprocess) for --jobs 1,2 x FAKECHECK_THREADS 1,2;
  2. decode-only baseline: a subprocess running fakecheck.audio.stream over every file
     (same interpreter, same startup, no torch);
  3. in-process (one worker process, startup excluded): decode only, decode + window
     cutting (iter_windows), Detector.analyse_files for the same four settings, the model
     alone (score_windows on 32-window batches, scaled to the folder's window count) and,
     within it, the Whisper front end alone.
Figures: wall seconds (median), x real time (audio seconds / wall second), ratio to decode-only.
Goals: >= 500x real time, scan <= 2x decode-only.
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
from _common import (  # noqa: E402
    PY,
    bench_parser,
    cpu_of,
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

JOBS = (1, 2)
THREADS = (1, 2)
DEFAULT = (2, 1)  # scan's defaults: --jobs 2, FAKECHECK_THREADS unset -> 1


def folder_spec(quick: bool) -> list[tuple[str, float, int, int, str]]:
    """(name, seconds, rate, channels, kind); long clips are cut tenfold under --quick."""
    scale = 0.1 if quick else 1.0
    long = [
        ("long_48k_stereo.wav", 300, 48000, 2), ("long_44k_stereo.flac", 240, 44100, 2),
        ("long_16k_mono.wav", 180, 16000, 1), ("long_22k_mono.flac", 180, 22050, 1),
        ("long_44k_stereo.mp3", 120, 44100, 2), ("long_16k_mono.ogg", 120, 16000, 1),
        ("long_8k_mono.wav", 90, 8000, 1),
    ]
    spec = [(n, s * scale, r, c, "speech") for n, s, r, c in long]
    exts = [".wav", ".flac", ".mp3", ".ogg"]
    rates = [8000, 16000, 22050, 44100, 48000]
    durations = [1, 2, 3, 5, 8, 10, 15, 30]
    kinds = {3: "tone", 9: "noise", 14: "chirp", 20: "silence"}
    for i in range(24):
        ext, rate, sec = exts[i % 4], rates[i % 5], durations[i % 8]
        if ext == ".mp3" and rate == 22050:
            rate = 24000
        ch = 2 if i % 3 == 0 else 1
        spec.append((f"clip{i:02d}_{sec}s_{rate}_{ch}ch{ext}", sec, rate, ch, kinds.get(i, "speech")))
    return spec


def make_folder(root: Path, quick: bool) -> float:
    total = 0.0
    for seed, (name, sec, rate, ch, kind) in enumerate(folder_spec(quick)):
        sub = root / ("long" if name.startswith("long") else "short")
        sub.mkdir(exist_ok=True)
        total += write_clip(sub / name, sec, rate, ch, seed=seed, kind=kind)
    return total


DECODE_ONLY = r"""
import os, sys
from fakecheck import audio
n = 0
for root, dirs, files in sorted(os.walk(sys.argv[1])):
    for f in sorted(files):
        for b in audio.stream(os.path.join(root, f)):
            n += len(b)
print(n)
"""


# -- in-process worker (runs in its own process so torch stays out of the driver) -------------
def worker(folder: str, n: int, warmup: int) -> None:
    import numpy as np
    import torch

    from fakecheck import audio
    from fakecheck.analysis.detector import DEFAULT_BATCH_SIZE, Detector
    from fakecheck.analysis.inputs import iter_inputs

    paths, _ = iter_inputs([folder])
    det = Detector.load()

    def decode() -> float:
        t0 = time.perf_counter()
        for p in paths:
            for _ in audio.stream(p):
                pass
        return time.perf_counter() - t0

    def windows() -> float:
        t0 = time.perf_counter()
        for p in paths:
            for _ in audio.iter_windows(audio.stream(p)):
                pass
        return time.perf_counter() - t0

    n_windows = 0

    def analyse(jobs: int, threads: int) -> float:
        nonlocal n_windows
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        vs = list(det.analyse_files(paths, jobs=jobs))
        dt = time.perf_counter() - t0
        n_windows = sum(len(v.windows) for v in vs)
        return dt

    rng = np.random.default_rng(0)
    batch = (0.1 * rng.standard_normal((DEFAULT_BATCH_SIZE, audio.WINDOW_SAMPLES))).astype(np.float32)

    def model(threads: int) -> float:
        torch.set_num_threads(threads)
        reps = 5
        t0 = time.perf_counter()
        for _ in range(reps):
            det.score_windows(batch)
        return (time.perf_counter() - t0) / reps  # seconds per 32 windows

    from fakecheck.model.features import extract

    xb = torch.from_numpy(batch)

    def features(threads: int) -> float:
        torch.set_num_threads(threads)
        reps = 5
        t0 = time.perf_counter()
        with torch.inference_mode():
            for _ in range(reps):
                extract(xb, det.features)
        return (time.perf_counter() - t0) / reps

    def fast_mixdown(x: np.ndarray) -> np.ndarray:
        """What-if for audio._mixdown: add the two columns of stereo instead of x.mean(axis=1),
        which numpy runs as a slow strided reduction over a length-2 axis.  Same values."""
        if x.shape[1] != 2:
            return orig_mixdown(x)
        with np.errstate(over="ignore", invalid="ignore"):
            return (x[:, 0] + x[:, 1]) * np.float32(0.5)

    orig_mixdown = audio._mixdown

    def patched(fn):  # run fn with audio._mixdown replaced
        def run() -> float:
            audio._mixdown = fast_mixdown
            try:
                return fn()
            finally:
                audio._mixdown = orig_mixdown
        return run

    cases = {"decode": decode, "decode+windows": windows,
             "what-if: decode, fast mixdown": patched(decode),
             "what-if: analyse_files j2 t1, fast mixdown": patched(lambda: analyse(2, 1))}
    for j in JOBS:
        for t in THREADS:
            cases[f"analyse_files j{j} t{t}"] = lambda j=j, t=t: analyse(j, t)
    for t in THREADS:
        cases[f"model t{t}"] = lambda t=t: model(t)
        cases[f"features t{t}"] = lambda t=t: features(t)
    times = interleaved(cases, n, warmup=warmup)
    print(json.dumps({"times": times, "n_windows": n_windows, "batch": DEFAULT_BATCH_SIZE}))


# -- profiling --------------------------------------------------------------------------------
def profile(folder: Path, tmp: Path) -> dict[str, object]:
    """py-spy over all threads of one default scan; pyinstrument (main thread) if py-spy fails."""
    import shutil

    scan = [*fakecheck_cmd(), "scan", str(folder), "--quiet"]
    spy = shutil.which("py-spy")
    if spy:
        raw = tmp / "scan.collapsed"
        p = subprocess.run([spy, "record", "--rate", "200", "--format", "raw", "-o", str(raw), "--", *scan],
                           capture_output=True, text=True)
        if raw.is_file() and raw.stat().st_size:
            return {"tool": "py-spy (all threads, idle excluded)", **_collapsed_top(raw)}
        note(f"py-spy failed ({p.stderr.strip()[-200:]}); trying pyinstrument")
    try:
        import pyinstrument  # noqa: F401
    except ImportError:
        return {"tool": "none (pip install py-spy or pyinstrument)"}
    out = tmp / "scan.pyinstrument.txt"
    subprocess.run([PY, "-m", "pyinstrument", "-r", "text", "--show-all", "-o", str(out), "-m", "fakecheck",
                    "scan", str(folder), "--quiet"], capture_output=True)
    text = out.read_text() if out.is_file() else ""
    return {"tool": "pyinstrument (main thread only)", "text": text[:6000]}


def _collapsed_top(raw: Path, k: int = 15) -> dict[str, object]:
    self_t: dict[str, int] = {}
    incl: dict[str, int] = {}
    cats: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        c = int(count)
        total += c
        frames = [_short_frame(f) for f in stack.split(";")]
        cat = _category(frames)
        cats[cat] = cats.get(cat, 0) + c
        self_t[frames[-1]] = self_t.get(frames[-1], 0) + c
        for f in set(frames):
            incl[f] = incl.get(f, 0) + c
    top_self = sorted(self_t.items(), key=lambda kv: -kv[1])[:k]
    top_incl = sorted(((f, c) for f, c in incl.items() if "(fakecheck/" in f or "soundfile" in f or "soxr" in f
                       or "torch" in f), key=lambda kv: -kv[1])[:k]
    return {"samples": total,
            "categories": [(k, round(100 * c / total, 1)) for k, c in sorted(cats.items(), key=lambda kv: -kv[1])],
            "self": [(f, round(100 * c / total, 1)) for f, c in top_self],
            "inclusive": [(f, round(100 * c / total, 1)) for f, c in top_incl]}


CATEGORIES = (  # first match, searched from the leaf towards the root of each sampled stack
    ("model: features + transformer (score_windows)", ("score_windows (fakecheck/analysis/detector.py",)),
    ("decode: soundfile + mixdown + soxr (audio.stream)", ("stream (fakecheck/audio/decode.py",)),
    ("windows: iter_windows (concat, copy, has_speech)", ("iter_windows (fakecheck/audio/windows.py",)),
    ("probe (sf.info)", ("probe (fakecheck/audio/decode.py",)),
    ("batch assembly / verdicts", ("_score_batch (", "_verdict (")),
    ("model load (checkpoint)", ("load (fakecheck/model/checkpoint.py", "Detector.load (")),
    ("imports", ("_find_and_load (", "_call_with_frames_removed (")),
    ("queue / thread waits", ("Condition.wait (", "Queue.get (", "Queue.put (")),
)


def _category(frames: list[str]) -> str:
    for f in reversed(frames):
        for name, keys in CATEGORIES:
            if any(k in f for k in keys):
                return name
    return "other"


def _short_frame(f: str) -> str:
    # "func (/long/path/to/pkg/module.py:123)" -> "func (pkg/module.py:123)"
    if " (" in f and f.endswith(")"):
        name, loc = f[:-1].split(" (", 1)
        parts = loc.split("/")
        return f"{name} ({'/'.join(parts[-2:])})"
    return f


# -- driver -----------------------------------------------------------------------------------
def main() -> None:
    ap = bench_parser(__doc__)
    ap.add_argument("--profile", action="store_true", help="also profile one default scan")
    ap.add_argument("--no-inprocess", action="store_true", help="skip the in-process measurements")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    n = timed_repeats(args)
    if args.worker:
        worker(args.worker, n, args.warmup)
        return
    info = machine_info()
    with tempdir("throughput") as td:
        tmp = Path(td)
        folder = tmp / "clips"
        folder.mkdir()
        t0 = time.perf_counter()
        audio_s = make_folder(folder, args.quick)
        n_files = sum(1 for _ in folder.rglob("*.*"))
        note(f"generated {n_files} files, {audio_s / 60:.1f} min of audio in {time.perf_counter() - t0:.1f} s")

        # sanity: every clip gets a row and none is an ERROR
        out = tmp / "rows.jsonl"
        run_timed([*fakecheck_cmd(), "scan", str(folder), "--quiet", "--jsonl", str(out)])
        rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if "verdict" in r]
        verdicts: dict[str, int] = {}
        for r in rows:
            verdicts[r["verdict"]] = verdicts.get(r["verdict"], 0) + 1
        if verdicts.get("ERROR") or len(rows) != n_files:
            raise SystemExit(f"scan gave {verdicts} for {n_files} files: {[r.get('error') for r in rows][:5]}")

        cases = {"decode-only (subprocess)": lambda: run_timed([PY, "-c", DECODE_ONLY, str(folder)], ok_codes=(0,))}
        for j in JOBS:
            for t in THREADS:
                cases[f"scan --jobs {j} threads {t}"] = lambda j=j, t=t: run_timed(
                    [*fakecheck_cmd(), "scan", str(folder), "--quiet", "--jobs", str(j)],
                    env={"FAKECHECK_THREADS": str(t)})
        # what-if: OpenMP threads sleep instead of spinning while they wait (see threads.py)
        cases["what-if: scan --jobs 2 threads 2, OMP_WAIT_POLICY=PASSIVE"] = lambda: run_timed(
            [*fakecheck_cmd(), "scan", str(folder), "--quiet", "--jobs", "2"],
            env={"FAKECHECK_THREADS": "2", "OMP_WAIT_POLICY": "PASSIVE"})
        note(f"timing {len(cases)} subprocess cases x {n} (+1 warm-up) ...")
        sub = interleaved(cases, n, warmup=args.warmup)

        inproc = None
        if not args.no_inprocess:
            note("timing in-process stages ...")
            p = subprocess.run([PY, __file__, "--worker", str(folder), "-n", str(n), "--warmup", str(args.warmup)],
                               capture_output=True, text=True)
            if p.returncode:
                raise SystemExit(f"in-process worker failed: {p.stderr[-2000:]}")
            inproc = json.loads(p.stdout.strip().splitlines()[-1])

        prof = profile(folder, tmp) if args.profile else None

    dec = med(sub["decode-only (subprocess)"])
    dec_cpu = med(cpu_of(sub["decode-only (subprocess)"]))
    rows_out = []
    figures: dict[str, object] = {"audio_s": round(audio_s, 1), "files": n_files, "repeats": n, "verdicts": verdicts,
                                  "subprocess": {}, "inprocess": {}}
    for k, xs in sub.items():
        m, c = med(xs), med(cpu_of(xs))
        rows_out.append([k, m, spread(xs), audio_s / m, m / dec, c, c / dec_cpu])
        figures["subprocess"][k] = {"median_s": round(m, 3), "x_realtime": round(audio_s / m, 1),
                                    "vs_decode_only": round(m / dec, 2), "runs": [round(x, 3) for x in xs],
                                    "cpu_s": round(c, 3), "cpu_vs_decode_only": round(c / dec_cpu, 2)}
    print(f"\nfolder: {n_files} files, {audio_s:.0f} s of audio ({audio_s / 60:.1f} min); median of {n}; "
          f"{os.cpu_count()} CPUs, load at start {info['loadavg_start']}")
    print("\n[1,2] subprocess wall time (startup included)")
    print(table(["case", "median s", "range s", "x real time", "vs decode-only", "CPU s", "CPU vs decode-only"],
                rows_out))
    print("(CPU s: user + system time of the process, all threads; less sensitive to other load than wall time)")
    d = med(sub[f"scan --jobs {DEFAULT[0]} threads {DEFAULT[1]}"])
    figures["default_scan_s"] = round(d, 3)
    figures["default_x_realtime"] = round(audio_s / d, 1)
    figures["default_vs_decode_only"] = round(d / dec, 2)

    if inproc:
        t = inproc["times"]
        nw, bs = inproc["n_windows"], inproc["batch"]
        idec = med(t["decode"])
        rows_in = []
        for k, xs in t.items():
            if k.startswith(("model", "features")):
                per_batch = med(xs)
                m = per_batch * nw / bs
                label = f"{k} (x{nw} windows, est.)"
                rows_in.append([label, m, "-", audio_s / m, m / idec])
                figures["inprocess"][k] = {"per_32_windows_s": round(per_batch, 4), "folder_est_s": round(m, 3)}
            else:
                m = med(xs)
                rows_in.append([k, m, spread(xs), audio_s / m, m / idec])
                figures["inprocess"][k] = {"median_s": round(m, 3), "x_realtime": round(audio_s / m, 1),
                                           "vs_decode": round(m / idec, 2)}
        figures["n_windows"] = nw
        print(f"\n[3] in-process, startup and model load excluded ({nw} windows of 4 s, hop 2 s)")
        print(table(["stage", "median s", "range s", "x real time", "vs decode"], rows_in))

    print("\ngoals: >= 500x real time; scan <= 2x decode-only")
    print(f"default scan (--jobs 2, 1 thread): {audio_s / d:.0f}x real time, {d / dec:.2f}x decode-only "
          f"({d:.2f} s vs {dec:.2f} s)")
    if prof:
        figures["profile"] = prof
        print(f"\nprofile of one default scan: {prof['tool']}")
        if "self" in prof:
            print(table(["where the samples fall", "% samples"], prof["categories"]))
            print()
            print(table(["self time (function)", "% samples"], prof["self"]))
            print()
            print(table(["inclusive (fakecheck/soundfile/soxr/torch)", "% samples"], prof["inclusive"]))
        elif "text" in prof:
            print(prof["text"])
    result("throughput", figures, info)


if __name__ == "__main__":
    main()
