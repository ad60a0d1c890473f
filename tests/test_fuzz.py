"""Decoder fuzzing (issue 21): 2,000 mutated WAV, FLAC, MP3, Ogg Vorbis/Opus, M4A and AMR files through
`fakecheck.audio`'s probe and decoder, and a few through `scan` end to end.

Each case must give audio or one clean AudioLoadError, within 10 s, in bounded memory; a hang is stopped
by faulthandler (stacks printed, the run fails).  The mutations and the seed files are those of
benchmarks/fuzz_decoders.py, which runs many more cases.  derandomize=True: the same 2,000 cases on every
run, so CI is reproducible; the benchmark's --seed explores new ones.
"""

from __future__ import annotations

import faulthandler
import importlib.util
import json
import resource
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("fuzz_decoders", REPO / "benchmarks" / "fuzz_decoders.py")
assert _spec is not None and _spec.loader is not None
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_decoders"] = fuzz  # its dataclass looks its module up while the class is built
_spec.loader.exec_module(fuzz)

CASES = 2_000
RSS_GROWTH_MB = 300  # decoding is streamed: mutated headers must not make a decoder allocate without bound


@pytest.fixture(scope="module")
def seeds(tmp_path_factory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seeds")
    return {name: p.read_bytes() for name, p in fuzz.make_seeds(folder).items()}


mutations = st.builds(fuzz.Mutation, kind=st.sampled_from(fuzz.MUTATIONS), where=st.floats(0.0, 1.0),
                      size=st.integers(0, 1 << 16), value=st.integers(0, (1 << 31) - 1))


def test_mutated_files_decode_or_fail_cleanly(seeds, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cases")
    names = sorted(seeds)
    outcomes: dict[str, int] = {}
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    @settings(max_examples=CASES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(name=st.sampled_from(names), m=mutations)
    def case(name: str, m: fuzz.Mutation) -> None:
        path = folder / f"case.{fuzz.suffix(name)}"
        path.write_bytes(fuzz.mutate(seeds[name], m))
        faulthandler.dump_traceback_later(fuzz.CASE_LIMIT_S + 5, exit=True)  # a hang ends the run loudly
        try:
            outcome, seconds, _ = fuzz.decode_case(path)
        finally:
            faulthandler.cancel_dump_traceback_later()
        assert seconds < fuzz.CASE_LIMIT_S, (name, m, seconds)
        key = f"{name}: {outcome.split(':')[0]}"
        outcomes[key] = outcomes.get(key, 0) + 1

    case()
    assert sum(outcomes.values()) >= CASES  # hypothesis ran them all (shrinking would add more)
    for name in names:  # every format both decoded and failed somewhere: the mutations reach the decoders
        assert any(k.startswith(f"{name}: audio") for k in outcomes), outcomes
        assert outcomes.get(f"{name}: error", 0) > 0, outcomes
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss0
    assert growth < RSS_GROWTH_MB, f"peak RSS grew by {growth:.0f} MB"


def test_mutated_files_through_scan_get_a_row_each(seeds, tmp_path, tiny_model_file):
    """End to end: a verdict, INCONCLUSIVE or an ERROR row per file, no traceback, exit 0, 1 or 3."""
    import numpy as np

    rng = np.random.default_rng(21)
    folder = tmp_path / "mutated"
    folder.mkdir()
    for i in range(3):
        for name, data in seeds.items():
            (folder / f"{i}_{name}.{fuzz.suffix(name)}").write_bytes(fuzz.mutate(data, fuzz.random_mutation(rng)))
    out = tmp_path / "rows.json"
    result = CliRunner().invoke(__import__("fakecheck.cli", fromlist=["app"]).app,
                                ["scan", str(folder), "--model", str(tiny_model_file), "--json", str(out)])
    assert result.exit_code in (0, 1, 3), result.output
    assert "Traceback" not in result.output
    rows = json.loads(out.read_text())["results"]
    assert len(rows) == 3 * len(seeds)
    for row in rows:
        assert row["verdict"] in ("REAL", "FAKE", "PARTIAL", "INCONCLUSIVE", "ERROR"), row
        if row["verdict"] in ("INCONCLUSIVE", "ERROR"):
            assert row["error"] and "\n" not in row["error"], row


def _every_length_case(seeds: dict[str, bytes], folder: Path) -> list[tuple[str, str, int, Path]]:
    """Every length field of every seed set to every extreme value: (seed, field, value, file)."""
    cases = []
    for name, data in sorted(seeds.items()):
        for k, field in enumerate(fuzz.length_fields(data)):
            for j, value in enumerate(fuzz.EXTREMES):
                path = folder / f"{name}_{k}_{j}.{fuzz.suffix(name)}"
                path.write_bytes(field.set(data, value))
                cases.append((name, field.name, value, path))
    return cases


def test_the_length_fields_of_every_container_are_found(seeds):
    """The structure-aware mutation reaches each field the issue names (the seeds hold one of each)."""
    names = {f.name.split(" at ")[0] for data in seeds.values() for f in fuzz.length_fields(data)}
    for wanted in ("flac total samples", "flac max block size", "riff size", "wav data chunk size",
                   "wav fact chunk size", "mp3 xing frames", "mp3 xing bytes", "mp3 vbri frames", "mp3 vbri bytes",
                   "ogg granule"):
        assert wanted in names, wanted
    if "m4a" in seeds:  # made with ffmpeg
        assert {"mp4 mdhd duration", "mp4 stts first sample count", "mp4 stsz sample count"} <= names


def test_absurd_lengths_decode_or_fail_cleanly_in_bounded_memory(seeds, tmp_path):
    cases = _every_length_case(seeds, tmp_path)
    assert len(cases) >= 25 * len(fuzz.EXTREMES)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    outcomes: dict[str, int] = {}
    for name, field, value, path in cases:
        faulthandler.dump_traceback_later(fuzz.CASE_LIMIT_S + 5, exit=True)
        try:
            outcome, seconds, samples = fuzz.decode_case(path)
        finally:
            faulthandler.cancel_dump_traceback_later()
        assert seconds < fuzz.CASE_LIMIT_S, (name, field, value, seconds)
        assert samples <= 16_000 * 10, (name, field, value, samples)  # never more audio than the 1.5 s it holds
        outcomes[outcome.split(":")[0]] = outcomes.get(outcome.split(":")[0], 0) + 1
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss0
    assert growth < RSS_GROWTH_MB, f"peak RSS grew by {growth:.0f} MB"
    assert outcomes.get("audio", 0) + outcomes.get("audio truncated", 0) > 0 and outcomes.get("error", 0) > 0


def test_a_folder_of_absurd_lengths_gives_one_row_per_file(seeds, tmp_path, tiny_model_file):
    """The issue's done-when: a folder of mutated files with absurd header lengths, a row each, no traceback,
    exit 0, 1 or 3, and every scored row's duration no longer than the audio the seed holds."""
    folder = tmp_path / "absurd"
    folder.mkdir()
    cases = _every_length_case(seeds, folder)
    out = tmp_path / "rows.jsonl"
    result = CliRunner().invoke(__import__("fakecheck.cli", fromlist=["app"]).app,
                                ["scan", str(folder), "--model", str(tiny_model_file), "--jsonl", str(out)])
    assert result.exit_code in (0, 1, 3), result.output
    assert "Traceback" not in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(cases)
    for row in rows:
        assert row["verdict"] in ("REAL", "FAKE", "PARTIAL", "INCONCLUSIVE", "ERROR"), row
        if row["duration_s"] is not None:
            assert row["duration_s"] <= 2.0, row  # the seeds hold 1.5 s: a length from decoded audio
