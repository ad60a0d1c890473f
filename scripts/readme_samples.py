"""Regenerate every sample output in README.md from real runs on examples/.

    python scripts/readme_samples.py           # rewrite the samples in README.md
    python scripts/readme_samples.py --check   # exit 1 and show a diff if any sample is stale

Each sample sits between `<!-- sample: NAME -->` and `<!-- /sample -->` markers and is a fenced block
that starts with `$ COMMAND`.  The command runs in a scratch folder holding a copy of `examples/` and the
folders SETUP builds from it (a tone, a broken file, the real clip through a phone band, small labelled
sets), through this checkout's `python -m fakecheck`, with stdout and stderr merged as a terminal shows
them and a fixed width (COLUMNS=100, NO_COLOR=1).

tests/test_readme_samples.py runs the commands again and compares after `normalise`, which masks only
what changes from run to run: wall times, real-time factors and epoch seconds.  Scores, hashes and
everything else must match.  So a hand edit of a sample fails the test, and so does a new model until this
script is re-run (the model's figures are then re-recorded, which is the point of a model swap).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
WIDTH = 100


@dataclass(frozen=True)
class Sample:
    name: str
    command: str  # as shown after "$ " and run by bash (with `fakecheck` meaning this checkout)


SAMPLES = [
    Sample("scan", 'fakecheck scan examples/ clips/ --csv out.csv; echo "exit $?"'),
    Sample("explain", "fakecheck explain examples/fake_arctic_a0007_world.wav --width 72"),
    Sample("train", "fakecheck train labelled/ --out my.pt --epochs 2 --clips-per-epoch 8 --batch-size 4 --seed 0"),
    Sample("evaluate", "fakecheck evaluate labelled/"),
    Sample("info", "fakecheck info"),
    Sample("quick-start", 'fakecheck scan examples/; echo "exit $?"'),
]

# Run-to-run and machine-to-machine variation: masked on both sides before comparing.  Training picks
# bfloat16 on CPUs that have it natively (fakecheck/model/precision.py), so the train sample's precision, losses
# and EERs depend on the CPU; nothing else is masked.
_VOLATILE = [
    (re.compile(r"\b\d+(\.\d+)? s wall, (\d+) s audio, \d+x real time"), r"<T> s wall, \2 s audio, <N>x real time"),
    (re.compile(r"^decoded in \d+ s;", re.M), "decoded in <T> s;"),
    (re.compile(r"^epoch (\d+): loss \d+\.\d+, val EER \d+\.\d+%, \d+ s( \*)?$", re.M),
     r"epoch \1: loss <L>, val EER <E>, <T> s"),
    (re.compile(r" on (cpu|cuda\S*|mps) in \w+( \(native bf16 on this CPU\))?,"), r" on \1 in <precision>,"),
    (re.compile(r"^best validation EER \d+\.\d+%, minDCF \d+\.\d+ ->", re.M), "best validation EER <E>, minDCF <D> ->"),
]


def normalise(text: str) -> str:
    """The sample with run-to-run figures masked and trailing spaces dropped."""
    for pattern, repl in _VOLATILE:
        text = pattern.sub(repl, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


def setup(work: Path) -> None:
    """examples/ and the folders the samples use, made from it."""
    import numpy as np
    import soundfile as sf
    import soxr

    shutil.copytree(REPO / "examples", work / "examples")
    clips = work / "clips"
    clips.mkdir()
    t = np.arange(32_000) / 16_000
    sf.write(clips / "beep.wav", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 16_000)
    (clips / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40)
    real, rate = sf.read(REPO / "examples" / "real_arctic_a0007.wav", dtype="float32")
    phone = soxr.resample(soxr.resample(real, rate, 8_000), 8_000, rate).astype(np.float32)
    sf.write(clips / "real_arctic_phone.wav", phone, rate)
    (clips / "README.txt").write_text("test clips\n")
    labelled = work / "labelled"
    for sub, name in (("real", "real_arctic_a0007.wav"), ("fake/world", "fake_arctic_a0007_world.wav"),
                      ("fake/piper", "fake_piper_joe.wav")):
        (labelled / sub).mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "examples" / name, labelled / sub / name)
    shutil.copy(clips / "real_arctic_phone.wav", labelled / "real" / "real_arctic_phone.wav")
    world8k = soxr.resample(sf.read(REPO / "examples" / "fake_arctic_a0007_world.wav", dtype="float32")[0], rate,
                            8_000)
    sf.write(labelled / "fake" / "world" / "fake_arctic_a0007_world_8k.wav", world8k.astype(np.float32), 8_000)


def run(sample: Sample, work: Path) -> str:
    """The sample block's text: `$ command` and what it printed (stdout and stderr merged)."""
    env = {**os.environ, "COLUMNS": str(WIDTH), "NO_COLOR": "1", "PYTHONPATH": str(REPO), "FAKECHECK_THREADS": "2"}
    env.pop("FORCE_COLOR", None)
    script = f'fakecheck() {{ "{sys.executable}" -m fakecheck "$@"; }}\n{sample.command}\n'
    proc = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=False, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)
    return f"$ {sample.command}\n{proc.stdout.rstrip()}"


def generate(names: list[str] | None = None) -> dict[str, str]:
    """{sample name: block text} from fresh runs, in the order of SAMPLES."""
    with tempfile.TemporaryDirectory(prefix="fakecheck-readme-") as tmp:
        work = Path(tmp)
        setup(work)
        return {s.name: run(s, work) for s in SAMPLES if names is None or s.name in names}


_BLOCK = re.compile(r"(<!-- sample: (?P<name>[\w-]+) -->\n```\n)(?P<body>.*?)(\n```\n<!-- /sample -->)", re.S)


def readme_samples(text: str) -> dict[str, str]:
    """{sample name: block text} as README.md has them."""
    return {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}


def rewrite(text: str, fresh: dict[str, str]) -> str:
    return _BLOCK.sub(lambda m: m.group(1) + fresh.get(m.group("name"), m.group("body")) + m.group(4), text)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare only; exit 1 when a sample is stale")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    have = readme_samples(text)
    missing = [s.name for s in SAMPLES if s.name not in have]
    if missing:
        sys.exit(f"README.md has no markers for: {', '.join(missing)}")
    fresh = generate()
    stale = [n for n in fresh if normalise(fresh[n]) != normalise(have[n])]
    if args.check:
        for n in stale:
            sys.stdout.writelines(difflib.unified_diff(normalise(have[n]).splitlines(True),
                                                       normalise(fresh[n]).splitlines(True), f"README {n}", "run"))
            print()
        print(f"{len(stale)} of {len(fresh)} samples stale" + (f": {', '.join(stale)}" if stale else ""))
        sys.exit(1 if stale else 0)
    README.write_text(rewrite(text, fresh), encoding="utf-8")
    print(f"rewrote {len(fresh)} samples ({len(stale)} had changed: {', '.join(stale) or 'none'})")


if __name__ == "__main__":
    main()
