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
    length     set one length or size field that the container's structure names (`length_fields`: FLAC
               STREAMINFO total samples and block and frame sizes; RIFF, fmt, data and fact chunk sizes; MP3
               Xing/Info and VBRI frame and byte counts; Ogg granule positions; MP4 mdhd duration, stts and
               stsz counts) to an extreme: 0, 1, 2^31-1, 2^32-1 or 2^63-1, cut to the field's width (issue 25)
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
MUTATIONS = ("truncate", "header", "field", "flip", "splice", "length")
EXTREMES = (0, 1, 2**31 - 1, 2**32 - 1, 2**63 - 1)  # the values a lying length field is set to
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
    float_wav = folder / "seed.wavf"  # IEEE float WAV: the one with a `fact` chunk
    sf.write(float_wav, x, rate, format="WAV", subtype="FLOAT")
    seeds["wavf"] = float_wav
    vbri = folder / "seed.vbri"  # the MP3 seed with its Xing header replaced by a VBRI one (Fraunhofer's)
    vbri.write_bytes(_with_vbri(seeds["mp3"].read_bytes()))
    seeds["vbri"] = vbri
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


SUFFIXES = {"wavf": "wav", "vbri": "mp3"}  # seeds whose name is not their file extension


def suffix(name: str) -> str:
    """The file extension of seed `name` (folder scans take audio extensions only)."""
    return SUFFIXES.get(name, name)


def _with_vbri(mp3: bytes) -> bytes:
    """The MP3's first (Xing) frame carrying a VBRI header instead: version 1, the same frame and byte counts,
    a one-entry table.  The frame keeps its length, so the audio frames after it are untouched."""
    at = mp3.find(b"Xing")
    frames = int.from_bytes(mp3[at + 8: at + 12], "big")
    vbri = (b"VBRI" + (1).to_bytes(2, "big") + (0).to_bytes(2, "big") + (75).to_bytes(2, "big")
            + len(mp3).to_bytes(4, "big") + frames.to_bytes(4, "big") + (1).to_bytes(2, "big")
            + (1).to_bytes(2, "big") + (2).to_bytes(2, "big") + frames.to_bytes(2, "big") + (0).to_bytes(2, "big"))
    return mp3[:at] + vbri + mp3[at + len(vbri):]


@dataclass(frozen=True)
class LengthField:
    """A length, size or count field of a container: `width` bytes at `offset`, of which the low `bits` bits
    are the field (FLAC packs its 36-bit sample count beside other fields)."""

    name: str
    offset: int
    width: int
    order: str  # "big" or "little"
    bits: int = 0  # 0: all width * 8 bits

    def set(self, data: bytes, value: int) -> bytes:
        bits = self.bits or 8 * self.width
        old = int.from_bytes(data[self.offset: self.offset + self.width], self.order)  # type: ignore[arg-type]
        mask = (1 << bits) - 1
        new = (old & ~mask) | (value & mask)
        end = self.offset + self.width
        return data[: self.offset] + new.to_bytes(self.width, self.order) + data[end:]  # type: ignore[arg-type]


def length_fields(data: bytes) -> list[LengthField]:
    """Every length, size and count field the container's structure names, found by walking it."""
    fields: list[LengthField] = []
    if data[:4] == b"fLaC" and len(data) >= 42:
        info = 8  # STREAMINFO: after the marker and its 4-byte block header
        fields += [LengthField("flac min block size", info, 2, "big"),
                   LengthField("flac max block size", info + 2, 2, "big"),
                   LengthField("flac min frame size", info + 4, 3, "big"),
                   LengthField("flac max frame size", info + 7, 3, "big"),
                   LengthField("flac total samples", info + 13, 5, "big", bits=36)]
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        fields.append(LengthField("riff size", 4, 4, "little"))
        at = 12
        while at + 8 <= len(data):
            chunk, size = data[at: at + 4], int.from_bytes(data[at + 4: at + 8], "little")
            if chunk in (b"fmt ", b"data", b"fact"):
                fields.append(LengthField(f"wav {chunk.decode().strip()} chunk size", at + 4, 4, "little"))
            if chunk == b"fact":
                fields.append(LengthField("wav fact sample count", at + 8, 4, "little"))
            at += 8 + size + size % 2
    for tag in (b"Xing", b"Info"):
        at = data.find(tag, 0, 200)
        if at >= 0 and len(data) >= at + 16:
            flags = int.from_bytes(data[at + 4: at + 8], "big")
            at += 8
            if flags & 1:
                fields.append(LengthField("mp3 xing frames", at, 4, "big"))
                at += 4
            if flags & 2:
                fields.append(LengthField("mp3 xing bytes", at, 4, "big"))
    at = data.find(b"VBRI", 0, 200)
    if at >= 0:
        fields += [LengthField("mp3 vbri bytes", at + 10, 4, "big"), LengthField("mp3 vbri frames", at + 14, 4, "big")]
    at = data.find(b"OggS")
    while 0 <= at and at + 14 <= len(data):
        fields.append(LengthField(f"ogg granule at {at}", at + 6, 8, "little"))
        at = data.find(b"OggS", at + 4)
    at = data.find(b"mdhd")
    if at >= 0:
        v1 = data[at + 4] == 1
        fields.append(LengthField("mp4 mdhd duration", at + (28 if v1 else 20), 8 if v1 else 4, "big"))
    for tag, names in ((b"stts", ("entry count", "first sample count", "first sample delta")),
                       (b"stsz", ("sample size", "sample count"))):
        at = data.find(tag)
        if at >= 0:
            fields += [LengthField(f"mp4 {tag.decode()} {n}", at + 8 + 4 * k, 4, "big") for k, n in enumerate(names)]
    return [f for f in fields if f.offset + f.width <= len(data)]


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
    if m.kind == "length":
        fields = length_fields(data)
        if not fields:  # AMR carries no length: a random field mutation instead
            return mutate(data, Mutation("field", m.where, m.size, m.value))
        field = fields[min(len(fields) - 1, int(m.where * len(fields)))]
        return field.set(data, EXTREMES[m.size % len(EXTREMES)])
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
        path = keep / f"current.{suffix(name)}"
        path.write_bytes(mutate(data[name], m))
        faulthandler.dump_traceback_later(args.limit + 5, exit=True)  # a hang: stacks, then exit 1
        try:
            outcome, seconds, _ = decode_case(path)
        except Exception as exc:  # a finding: keep the file
            failures += 1
            kept = keep / f"case{case}.{suffix(name)}"
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
            shutil.copy(path, keep / f"slow{case}.{suffix(name)}")
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
