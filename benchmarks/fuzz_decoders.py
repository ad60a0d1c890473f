"""Decoder fuzzing: mutated WAV, FLAC, MP3, Ogg Vorbis, Ogg Opus, M4A and AMR files through fakecheck's
probe and decoder (`fakecheck.audio`), many more cases than the test suite runs.

    python benchmarks/fuzz_decoders.py                 # 20 000 cases, seed 0
    python benchmarks/fuzz_decoders.py --cases 200000 --seed 7 --keep /tmp/fuzz-failures

Every case must end in audio (finite float32 blocks), or one clean `AudioLoadError` whose message is one
line, within `--limit` seconds, with the process's peak RSS under `--rss-mb`.  Anything else (another
exception, a case over the limit, a multi-line message) is a failure: the mutated file is kept under
--keep and the case printed.  A case that hangs is stopped by faulthandler after --limit seconds, which
dumps the stacks and exits 1 (the file being decoded is then in --keep as `current.*`).

The mutations (`mutate`) are shared with tests/test_fuzz.py, which runs 2,000 of them under hypothesis:
    truncate   keep the first k bytes
    header     overwrite 1-8 bytes inside the first 128 (magic, sizes, rates, channel counts)
    field      set a 2- or 4-byte little- or big-endian field in the first 128 bytes to 0, 1, max or a
               random value (the sizes and counts a header carries)
    flip       xor random bytes anywhere
    splice     delete or duplicate a stretch of the file
The seed files are made at run time from the committed Piper example (1.5 s): nothing is downloaded.
"""

from __future__ import annotations

import argparse
import faulthandler
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
MUTATIONS = ("truncate", "header", "field", "flip", "splice")
CASE_LIMIT_S = 10.0  # the bound: no case may take longer


# -- seed files --------------------------------------------------------------------------------------
def make_seeds(folder: Path, seconds: float = 1.5) -> dict[str, Path]:
    """Real encodings of real speech: {format name: path}.  M4A and AMR need ffmpeg (skipped without it)."""
    import soundfile as sf

    x, rate = sf.read(REPO / "examples" / "fake_piper_joe.wav", dtype="float32")
    x = x[int(0.3 * rate): int((0.3 + seconds) * rate)]
    seeds: dict[str, Path] = {}
    for name, fmt, subtype, sr in (("wav", "WAV", "PCM_16", 16_000), ("flac", "FLAC", "PCM_16", 16_000),
                                   ("mp3", "MP3", "MPEG_LAYER_III", 16_000), ("ogg", "OGG", "VORBIS", 16_000),
                                   ("opus", "OGG", "OPUS", 48_000)):
        y = x if sr == rate else _resample(x, rate, sr)
        path = folder / f"seed.{name}"
        sf.write(path, y, sr, format=fmt, subtype=subtype)
        seeds[name] = path
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg:
        src = folder / "seed.wav"
        m4a = folder / "seed.m4a"
        subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(src), "-c:a", "aac", "-b:a", "32k",
                        "-movflags", "+faststart", str(m4a)], check=True, timeout=60)
        seeds["m4a"] = m4a
        amr = folder / "seed.amr"  # AMR-NB by hand (ffmpeg here decodes AMR but cannot encode it)
        rng = np.random.default_rng(0)
        amr.write_bytes(b"#!AMR\n" + b"".join(b"\x3c" + rng.bytes(31) for _ in range(50)))
        seeds["amr"] = amr
    return seeds


def _resample(x: np.ndarray, a: int, b: int) -> np.ndarray:
    import soxr

    return soxr.resample(x, a, b).astype(np.float32)


# -- mutations ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Mutation:
    kind: str  # one of MUTATIONS
    where: float  # position as a share of the file (or of its first 128 bytes for header/field)
    size: int  # bytes touched, field width, or stretch length
    value: int  # the random material: a seed for the bytes written


def mutate(data: bytes, m: Mutation) -> bytes:
    """The seed file's bytes with one mutation applied."""
    n = len(data)
    rng = np.random.default_rng(m.value)
    if m.kind == "truncate":
        return data[: int(m.where * n)]
    if m.kind == "header":
        at = int(m.where * min(n, 128))
        size = max(1, m.size % 9)
        return data[:at] + rng.bytes(size) + data[at + size:]
    if m.kind == "field":
        width = 4 if m.size % 2 else 2
        at = int(m.where * max(1, min(n, 128) - width))
        choice = m.size % 4
        top = (1 << (8 * width)) - 1
        number = (0, 1, top, int(rng.integers(0, top, endpoint=True)))[choice]
        order = "little" if m.value % 2 else "big"
        return data[:at] + number.to_bytes(width, order) + data[at + width:]
    if m.kind == "flip":
        out = bytearray(data)
        for _ in range(max(1, m.size % 17)):
            i = int(rng.integers(0, n))
            out[i] ^= int(rng.integers(1, 256))
        return bytes(out)
    if m.kind == "splice":
        at = int(m.where * n)
        length = max(1, m.size % 4096)
        if m.value % 2:
            return data[:at] + data[at + length:]
        return data[:at] + data[at: at + length] * 2 + data[at + length:]
    raise ValueError(f"unknown mutation {m.kind!r}")


def random_mutation(rng: np.random.Generator) -> Mutation:
    return Mutation(str(rng.choice(MUTATIONS)), float(rng.random()), int(rng.integers(0, 1 << 16)),
                    int(rng.integers(0, 1 << 31)))


# -- one case ----------------------------------------------------------------------------------------
def decode_case(path: Path) -> tuple[str, float, int]:
    """(outcome, seconds, samples) of probing and decoding `path`: outcome "audio", "empty" or
    "error: <kind>".  Any exception other than AudioLoadError propagates: that is a finding."""
    from fakecheck import audio

    t0 = time.perf_counter()
    samples = 0
    try:
        info = audio.probe(path)
        notes: set[str] = set()
        for block in audio.stream(path, info, notes):
            if block.dtype != np.float32 or block.ndim != 1 or not np.isfinite(block).all():
                raise AssertionError(f"bad block from the decoder: {block.dtype} {block.shape}")
            samples += len(block)
        outcome = ("audio" if samples else "empty") + (" truncated" if notes else "")
    except audio.AudioLoadError as exc:
        message = str(exc)
        if "\n" in message or not message:
            raise AssertionError(f"error message is not one line: {message!r}") from None
        outcome = "error: " + message.split(" (")[0].split(":")[0]
    return outcome, time.perf_counter() - t0, samples


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=float, default=CASE_LIMIT_S, help="seconds one case may take")
    ap.add_argument("--rss-mb", type=float, default=1500.0, help="peak RSS the whole run may reach")
    ap.add_argument("--keep", type=Path, default=None, help="folder for failing cases (default: a temp folder)")
    args = ap.parse_args()

    sys.path.insert(0, str(REPO))
    work = Path(tempfile.mkdtemp(prefix="fakecheck-fuzz-"))
    keep = args.keep or work / "failures"
    keep.mkdir(parents=True, exist_ok=True)
    seeds = make_seeds(work)
    data = {name: p.read_bytes() for name, p in seeds.items()}
    rng = np.random.default_rng(args.seed)
    outcomes: Counter[str] = Counter()
    failures, slowest = 0, (0.0, "")
    t_start = time.perf_counter()
    for case in range(args.cases):
        name = list(data)[case % len(data)]
        m = random_mutation(rng)
        path = keep / f"current.{name}"
        path.write_bytes(mutate(data[name], m))
        faulthandler.dump_traceback_later(args.limit + 5, exit=True)  # a hang: stacks, then exit 1
        try:
            outcome, seconds, _ = decode_case(path)
        except Exception as exc:  # a finding: keep the file
            failures += 1
            kept = keep / f"case{case}.{name}"
            shutil.copy(path, kept)
            print(f"FAIL case {case} {name} {m}: {type(exc).__name__}: {exc} -> {kept}", flush=True)
            continue
        finally:
            faulthandler.cancel_dump_traceback_later()
        outcomes[f"{name}: {outcome}"] += 1
        if seconds > slowest[0]:
            slowest = (seconds, f"case {case} {name} {m}")
        if seconds > args.limit:
            failures += 1
            shutil.copy(path, keep / f"slow{case}.{name}")
            print(f"SLOW case {case} {name} {m}: {seconds:.1f} s", flush=True)
        if (case + 1) % 1000 == 0:
            print(f"{case + 1} cases, {failures} failures, {time.perf_counter() - t_start:.0f} s, "
                  f"peak RSS {peak_rss_mb():.0f} MB", flush=True)
    for key, n in sorted(outcomes.items()):
        print(f"{n:7d}  {key}")
    rss = peak_rss_mb()
    print(f"slowest: {slowest[0]:.2f} s ({slowest[1]})")
    print(f"peak RSS {rss:.0f} MB; {args.cases} cases in {time.perf_counter() - t_start:.0f} s; {failures} failures")
    if rss > args.rss_mb:
        print(f"FAIL: peak RSS {rss:.0f} MB over --rss-mb {args.rss_mb:.0f}")
        failures += 1
    print("RESULT " + __import__("json").dumps({"benchmark": "fuzz_decoders", "cases": args.cases, "seed": args.seed,
                                                 "failures": failures, "slowest_s": round(slowest[0], 3),
                                                 "peak_rss_mb": round(rss)}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
