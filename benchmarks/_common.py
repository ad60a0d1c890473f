"""Shared helpers for the benchmarks: synthetic audio, timing, tables, the RESULT line.

Every benchmark generates its audio at run time (nothing is read from ../shared),
times subprocesses with time.perf_counter, takes medians of interleaved repeats so a
ratio's two sides see the same machine load, and ends with one line

    RESULT {"benchmark": ..., ...}

that can be quoted or parsed (json.loads(line[7:])).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


# -- environment -----------------------------------------------------------------------------
def fakecheck_cmd() -> list[str]:
    """The `fakecheck` console script installed beside this interpreter (what pip/pipx users
    run), else the one on PATH, else `python -m fakecheck`."""
    direct = Path(sys.executable).parent / "fakecheck"
    if direct.is_file():
        return [str(direct)]
    found = shutil.which("fakecheck")
    return [found] if found else [PY, "-m", "fakecheck"]


def pyenv_shim(name: str) -> str | None:
    """$PYENV_ROOT/shims/<name> if this is a pyenv install: what an interactive shell starts.

    (Inside a process started through a shim, PATH already points past the shims.)  A shim is
    a bash script that runs `pyenv exec`, adding tens of milliseconds to every start."""
    root = os.environ.get("PYENV_ROOT")
    p = Path(root) / "shims" / name if root else None
    return str(p) if p and p.is_file() else None


def pyc_cache_env(cache_dir: Path) -> dict[str, str]:
    """What-if environment: bytecode cached (in cache_dir) even where PYTHONDONTWRITEBYTECODE is set.

    Without a cache, every start recompiles the modules that have no __pycache__ (an editable
    checkout, or any install under PYTHONDONTWRITEBYTECODE=1)."""
    return {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(cache_dir)}


def import_profile(argv: Sequence[str], env: dict[str, str] | None = None, top: int = 10) -> list[tuple[str, float]]:
    """`python -X importtime` of a Python script/command: self import time (s) summed per top-level package."""
    p = subprocess.run([PY, "-X", "importtime", *argv], env={**os.environ, **(env or {})},
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    per: dict[str, float] = {}
    for line in p.stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:"):].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        pkg = fields[2].strip().split(".")[0]
        per[pkg] = per.get(pkg, 0.0) + int(fields[0]) / 1e6
    return sorted(per.items(), key=lambda kv: -kv[1])[:top]


def machine_info() -> dict[str, object]:
    info: dict[str, object] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", "fakecheck"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["git"] = rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def tempdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=f"fakecheck-bench-{prefix}-")


# -- arguments --------------------------------------------------------------------------------
def bench_parser(doc: str | None, repeats: int = 3, quick_repeats: int = 1) -> argparse.ArgumentParser:
    """The arguments every timing benchmark takes: --quick, -n/--repeats and --warmup (its own go on top).
    `timed_repeats(args)` then gives the repeats: -n if given, else `quick_repeats` under --quick, else `repeats`."""
    ap = argparse.ArgumentParser(description=(doc or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="less audio and fewer repeats (development only)")
    ap.add_argument("-n", "--repeats", type=int, default=None,
                    help=f"timed repeats per case (default {repeats}, {quick_repeats} with --quick)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed rounds before the timed ones (default 1)")
    ap.set_defaults(default_repeats=(repeats, quick_repeats))
    return ap


def timed_repeats(args: argparse.Namespace) -> int:
    full, quick = args.default_repeats
    return int(args.repeats or (quick if args.quick else full))


# -- timing -----------------------------------------------------------------------------------
class Timing(float):
    """Wall seconds (the float value) plus the child's CPU seconds (user + system) in .cpu.

    CPU time is less sensitive than wall time to other work on a shared machine; both
    are reported where it matters (throughput)."""

    cpu: float

    def __new__(cls, wall: float, cpu: float) -> Timing:
        obj = super().__new__(cls, wall)
        obj.cpu = cpu
        return obj


def run_timed(argv: Sequence[str], env: dict[str, str] | None = None, ok_codes: Sequence[int] = (0, 1),
              stdout: int | None = subprocess.DEVNULL) -> Timing:
    """Wall (and CPU) seconds of one subprocess run; raise if its exit code is not in ok_codes."""
    full_env = {**os.environ, **(env or {})}
    with tempfile.TemporaryFile() as err_file:
        t0 = time.perf_counter()
        p = subprocess.Popen(list(argv), env=full_env, stdout=stdout, stderr=err_file)
        _, status, ru = os.wait4(p.pid, 0)  # this child's own rusage (its threads and waited-for children)
        dt = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode not in ok_codes:
            err_file.seek(0)
            err = err_file.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}: {' | '.join(err)}")
    return Timing(dt, ru.ru_utime + ru.ru_stime)


def cpu_of(xs: Sequence[float]) -> list[float]:
    return [getattr(x, "cpu", float("nan")) for x in xs]


def interleaved(cases: dict[str, Callable[[], float]], n: int, warmup: int = 1) -> dict[str, list[float]]:
    """Run each case n times, round-robin (A B C A B C ...), after `warmup` untimed rounds
    (fills the page cache and pyc caches, as on a machine that has run the tool before)."""
    for _ in range(warmup):
        for fn in cases.values():
            fn()
    out: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(n):
        for k, fn in cases.items():
            out[k].append(fn())
    return out


def med(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


def spread(xs: Sequence[float]) -> str:
    return f"{min(xs):.3f}-{max(xs):.3f}" if len(xs) > 1 else "-"


# -- output -----------------------------------------------------------------------------------
def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for j, r in enumerate(cells):
        padded = (c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        lines.append("  ".join(padded))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(c: object) -> str:
    if isinstance(c, float):
        return f"{c:.3f}" if abs(c) < 100 else f"{c:.1f}"
    return str(c)


def result(benchmark: str, figures: dict[str, object], info: dict[str, object]) -> None:
    info = {**info, "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    print("RESULT " + json.dumps({"benchmark": benchmark, **figures, "machine": info}, sort_keys=False), flush=True)


def note(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- synthetic audio --------------------------------------------------------------------------
class Synth:
    """Deterministic speech-like test signal, generated block by block with continuous phase.

    kind "speech": a harmonic series (glottal-like 1/k spectrum with two moving formant bumps)
    on a drifting, vibrato-modulated f0 of 90-220 Hz, gated by a random syllable envelope
    (~5 syllables/s, ~20% pauses) with noise bursts (fricatives) in some gaps, a weak tone
    and a noise floor; now and then a linear chirp.  Other kinds: "tone", "noise", "chirp",
    "silence".  Sines come from powers of one complex exponential, so a 48 kHz stereo hour
    is generated in seconds.
    """

    SEG = 0.1  # envelope resolution in seconds

    def __init__(self, rate: int, seconds: float, seed: int, kind: str = "speech", channels: int = 1):
        self.rate, self.kind, self.channels = rate, kind, channels
        self.n_total = int(round(seconds * rate))
        rng = np.random.default_rng(seed)
        self.rng = rng
        n_seg = int(seconds / self.SEG) + 3
        syll = rng.uniform(0.3, 1.0, n_seg) * (rng.random(n_seg) > 0.2)
        self.env_tab = syll.astype(np.float64)
        self.fric_tab = ((syll == 0) & (rng.random(n_seg) < 0.5)).astype(np.float64) * 0.08
        self.chirp_tab = (rng.random(n_seg) < 0.01).astype(np.float64)
        self.f0 = rng.uniform(90, 220)
        self.drift = rng.uniform(0, 2 * np.pi, 3)
        self.tone_hz = rng.choice([50.0, 60.0, 440.0, 1000.0])
        self.formants = rng.uniform([400, 1200], [900, 2500])
        self.gain = 10 ** (rng.uniform(-12, -3) / 20)
        self.pos = 0
        self.phase = 0.0

    def block(self, n: int) -> np.ndarray:
        """Next n samples as float32 (n, channels)."""
        n = min(n, self.n_total - self.pos)
        sr = self.rate
        t = (self.pos + np.arange(n)) / sr
        self.pos += n
        k = self.kind
        if k == "silence":
            x = np.zeros(n)
        elif k == "noise":
            x = 0.3 * self.rng.standard_normal(n)
        elif k == "tone":
            x = 0.5 * np.sin(2 * np.pi * self.tone_hz * t)
        elif k == "chirp":  # 3 s sweeps 100 Hz -> Nyquist/2, repeated
            tt = t % 3.0
            f_hi = sr / 4
            x = 0.5 * np.sin(2 * np.pi * (100 * tt + (f_hi - 100) / 6.0 * tt**2))
        else:
            x = self._speech(t)
        x = (x * self.gain).astype(np.float32)
        if self.channels == 1:
            return x[:, None]
        other = np.roll(x, 7) * 0.8 + (1e-3 * self.rng.standard_normal(n)).astype(np.float32)
        return np.stack([x, other.astype(np.float32)] + [x] * (self.channels - 2), axis=1)

    def _speech(self, t: np.ndarray) -> np.ndarray:
        sr, n = self.rate, len(t)
        d = self.drift
        f0 = self.f0 * (1 + 0.12 * np.sin(2 * np.pi * 0.31 * t + d[0]) + 0.05 * np.sin(2 * np.pi * 1.7 * t + d[1])
                        + 0.01 * np.sin(2 * np.pi * 5.5 * t + d[2]))
        phase = self.phase + 2 * np.pi * np.cumsum(f0) / sr
        self.phase = float(phase[-1] % (2 * np.pi)) if n else self.phase
        z = np.exp(1j * (phase % (2 * np.pi))).astype(np.complex64)
        zk = z.copy()
        voiced = np.zeros(n, dtype=np.float32)
        f0_max = self.f0 * 1.2
        # moving formants: the amplitude of harmonic k follows k*f0 against two formant centres;
        # computed on a 5 ms control grid and held (cheap), the sines at the full rate.
        step = max(1, sr // 200)
        tc, f0c = t[::step], f0[::step]
        mod = 1 + 0.2 * np.sin(2 * np.pi * 3.1 * tc)
        f1, f2 = self.formants[0] * mod, self.formants[1] * (2 - mod)
        for h in range(1, 25):
            if h * f0_max >= 0.45 * sr or h * self.f0 > 5000:
                break
            fk = h * f0c
            amp = (1.0 / h) * (1 + 2.5 * np.exp(-(((fk - f1) / 150) ** 2)) + 1.5 * np.exp(-(((fk - f2) / 250) ** 2)))
            voiced += np.repeat(amp.astype(np.float32), step)[:n] * zk.imag
            zk *= z
        seg = t / self.SEG
        env = np.interp(seg, np.arange(len(self.env_tab)), self.env_tab)
        fric = np.interp(seg, np.arange(len(self.fric_tab)), self.fric_tab)
        chirp_on = self.chirp_tab[np.minimum(seg.astype(np.int64), len(self.chirp_tab) - 1)]
        noise = self.rng.standard_normal(n).astype(np.float32)
        hiss = np.diff(noise, prepend=0.0)  # crude high-pass: fricative-like
        x = 0.25 * env * voiced + fric * hiss + 3e-4 * noise
        x += 0.01 * np.sin(2 * np.pi * self.tone_hz * t)
        if chirp_on.any():
            tt = t % 1.0
            x += 0.2 * chirp_on * np.sin(2 * np.pi * (200 * tt + (0.2 * sr - 200) / 2 * tt**2))
        return x


SUBTYPES = {".wav": "PCM_16", ".flac": "PCM_16", ".mp3": "MPEG_LAYER_III", ".ogg": "VORBIS"}
FORMATS = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3", ".ogg": "OGG"}


def write_clip(path: Path, seconds: float, rate: int, channels: int = 1, seed: int = 0, kind: str = "speech",
               block_seconds: float = 60.0) -> float:
    """Write a synthetic clip in blocks (flat memory for an hour-long file); returns its duration."""
    import soundfile as sf

    ext = path.suffix.lower()
    syn = Synth(rate, seconds, seed, kind, channels)
    block = int(block_seconds * rate)
    with sf.SoundFile(str(path), "w", samplerate=rate, channels=channels, format=FORMATS[ext],
                      subtype=SUBTYPES[ext]) as f:
        while syn.pos < syn.n_total:
            f.write(syn.block(block))
    return syn.n_total / rate


# -- real speech ------------------------------------------------------------------------------
CORPUS = REPO.parent / "shared" / "corpus"
# (extension, sample rate, channels) taken in turn: the mix of a folder people scan
REAL_FORMATS = [(".wav", 16000, 1), (".mp3", 44100, 2), (".flac", 48000, 1), (".ogg", 22050, 1),
                (".wav", 44100, 2), (".mp3", 24000, 1), (".flac", 16000, 1), (".ogg", 48000, 2)]


def real_folder(root: Path, n: int, corpus: Path = CORPUS) -> float:
    """Write `n` clips of the labelled corpus (../shared/corpus: real speech and fakes, every n-th row of its
    manifest so all sources and systems take part), each in the next of REAL_FORMATS, resampled by soxr;
    returns the seconds of audio.  Raises SystemExit with a clear reason when the corpus is missing."""
    import csv

    import soundfile as sf
    import soxr

    manifest = corpus / "manifest.csv"
    if not manifest.is_file():
        raise SystemExit(f"--real needs the labelled corpus at {corpus} (manifest.csv not found)")
    with open(manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    picked = rows[:: max(1, len(rows) // n)][:n]
    total = 0.0
    for k, row in enumerate(picked):
        x, rate = sf.read(corpus / row["path"], dtype="float32")
        ext, out_rate, channels = REAL_FORMATS[k % len(REAL_FORMATS)]
        y = soxr.resample(x, rate, out_rate) if out_rate != rate else x
        if channels == 2:
            y = np.stack([y, 0.9 * y], axis=1)
        sf.write(root / f"{k:03d}_{Path(row['path']).stem[:40]}{ext}", y, out_rate, format=FORMATS[ext],
                 subtype=SUBTYPES[ext])
        total += len(x) / rate
    return total
