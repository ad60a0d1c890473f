"""Issue 21: phone voice memos in folders, skipped files named, and damaged files scored on what decodes."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import speechlike
from typer.testing import CliRunner

from fakecheck import audio
from fakecheck.cli.app import app

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="ffmpeg is not installed: 3GP and AMR need it")


def encode(src: Path, out: Path, *args: str) -> Path:
    proc = subprocess.run([FFMPEG, "-v", "error", "-y", "-i", str(src), *args, str(out)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return out


def amr_file(path: Path, wideband: bool = False, frames: int = 150, seed: int = 0) -> Path:
    """An RFC 4867 AMR file by hand (this ffmpeg decodes AMR but cannot encode it): 12.2 kbit/s NB frames
    (TOC 0x3C + 31 bytes) or 23.85 kbit/s WB frames (TOC 0x44 + 60 bytes) of seeded random payload."""
    rng = np.random.default_rng(seed)
    magic, toc, size = (b"#!AMR-WB\n", b"\x44", 60) if wideband else (b"#!AMR\n", b"\x3c", 31)
    path.write_bytes(magic + b"".join(toc + rng.bytes(size) for _ in range(frames)))
    return path


@pytest.fixture
def memos(tmp_path) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    wav = tmp_path / "speech.wav"
    sf.write(wav, speechlike(4.0, seed=3), 16_000)
    encode(wav, folder / "memo.3gp", "-c:a", "aac", "-f", "3gp")
    encode(wav, folder / "memo8k.3g2", "-ar", "8000", "-c:a", "aac", "-f", "3g2")
    amr_file(folder / "call.amr")
    amr_file(folder / "call.awb", wideband=True)
    (folder / "notes.txt").write_text("not audio")
    (folder / "cover.jpg").write_bytes(b"\xff\xd8\xff")
    return folder


@needs_ffmpeg
def test_voice_memos_in_a_folder_are_scanned_and_skipped_files_named(memos, tiny_model_file, tmp_path):
    out = tmp_path / "rows.json"
    result = CliRunner().invoke(app, ["scan", str(memos), "--model", str(tiny_model_file), "--json", str(out),
                                      "--verbose"])
    assert result.exit_code in (0, 1), result.output
    import json

    rows = {Path(r["path"]).name: r for r in json.loads(out.read_text())["results"]}
    assert set(rows) == {"memo.3gp", "memo8k.3g2", "call.amr", "call.awb"}
    for name in ("memo.3gp", "memo8k.3g2"):  # speech: a verdict
        assert rows[name]["verdict"] in ("REAL", "FAKE", "PARTIAL"), rows[name]
    for name in ("call.amr", "call.awb"):  # random AMR frames decode to noise: no error, no verdict on speech
        assert rows[name]["verdict"] != "ERROR", rows[name]
    assert rows["memo8k.3g2"]["sample_rate"] == 8000
    skipped = sorted(line for line in result.stderr.splitlines() if line.startswith("skipped"))
    assert skipped == [f"skipped (not an audio extension): {memos / 'cover.jpg'}",
                       f"skipped (not an audio extension): {memos / 'notes.txt'}"]
    assert "2 non-audio skipped" in result.stderr
    quiet_run = CliRunner().invoke(app, ["scan", str(memos), "--model", str(tiny_model_file), "--json",
                                         str(tmp_path / "r2.json")])
    assert "skipped (not" not in quiet_run.stderr  # named only with --verbose; the count is always there


@needs_ffmpeg
def test_amr_is_found_by_content_and_decoded(tmp_path):
    for wideband, name in ((False, "x.amr"), (True, "x.awb")):
        path = amr_file(tmp_path / ("renamed_" + name + ".wav"), wideband)  # the extension lies
        info = audio.probe(path)
        assert (info.decoder, info.demuxer) == ("ffmpeg", "amr")
        assert info.source_rate == (16_000 if wideband else 8_000)
        notes: set[str] = set()
        y = np.concatenate(list(audio.stream(path, info, notes)))
        assert abs(len(y) / audio.SAMPLE_RATE - 3.0) < 0.05  # 150 frames of 20 ms
        assert not notes  # an estimated duration is no reason to call a file truncated


# -- damaged files --------------------------------------------------------------------------------------
def decode(path: Path) -> tuple[float, set[str]]:
    notes: set[str] = set()
    y = list(audio.stream(path, audio.probe(path), notes))
    return sum(len(b) for b in y) / audio.SAMPLE_RATE, notes


@pytest.fixture
def clip(tmp_path) -> np.ndarray:
    return speechlike(6.0, seed=5)


def test_intact_files_are_not_called_truncated(tmp_path, clip):
    for suffix, fmt, subtype in ((".wav", "WAV", "PCM_16"), (".flac", "FLAC", "PCM_16"), (".ogg", "OGG", "VORBIS"),
                                 (".mp3", "MP3", "MPEG_LAYER_III")):
        path = tmp_path / f"ok{suffix}"
        sf.write(path, clip, 16_000, format=fmt, subtype=subtype)
        seconds, notes = decode(path)
        assert abs(seconds - 6.0) < 0.1 and not notes, (suffix, seconds, notes)
    # a chunk after the data (LIST/INFO, as many recorders write) is not a disagreement
    listed = tmp_path / "listed.wav"
    sf.write(listed, clip, 16_000)
    listed.write_bytes(listed.read_bytes() + b"LIST" + (10).to_bytes(4, "little") + b"INFOISFT\x01\x00")
    assert decode(listed)[1] == set()


def test_a_wav_whose_header_claims_half_is_scored_on_what_decodes_with_a_warning(tmp_path, clip):
    path = tmp_path / "half.wav"
    sf.write(path, clip, 16_000, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    at = raw.index(b"data") + 4
    raw[at:at + 4] = (int.from_bytes(raw[at:at + 4], "little") // 2).to_bytes(4, "little")
    path.write_bytes(bytes(raw))
    seconds, notes = decode(path)
    assert abs(seconds - 3.0) < 0.05 and notes == {audio.TRUNCATED}
    cut = tmp_path / "cut.wav"  # the other way round: the header claims more than the file holds
    sf.write(cut, clip, 16_000, subtype="PCM_16")
    cut.write_bytes(cut.read_bytes()[: 44 + 2 * 16_000 * 2])
    seconds, notes = decode(cut)
    assert abs(seconds - 2.0) < 0.05 and notes == {audio.TRUNCATED}


@pytest.mark.parametrize("fmt,subtype,suffix", [("FLAC", "PCM_16", ".flac"), ("MP3", "MPEG_LAYER_III", ".mp3")])
def test_a_truncated_flac_or_mp3_yields_what_decodes_before_the_damage(tmp_path, clip, fmt, subtype, suffix):
    whole = tmp_path / f"whole{suffix}"
    sf.write(whole, clip, 16_000, format=fmt, subtype=subtype)
    data = whole.read_bytes()
    for keep in (0.5, 0.15):  # libsndfile decodes whole FLAC frames (4096 samples): a cut keeps the complete ones
        cut = tmp_path / f"cut{suffix}"
        cut.write_bytes(data[: int(len(data) * keep)])
        seconds, notes = decode(cut)
        assert 0.1 < seconds < 6.0 * keep + 0.5, (keep, seconds)
        assert notes == {audio.TRUNCATED}


def test_a_flac_cut_inside_its_header_says_so(tmp_path, clip):
    path = tmp_path / "meta.flac"
    sf.write(path, clip, 16_000, format="FLAC")
    path.write_bytes(path.read_bytes()[:60])  # inside STREAMINFO and the blocks after it
    with pytest.raises(audio.AudioLoadError, match="truncated: the FLAC file ends inside its header"):
        audio.probe(path)


def test_the_verdict_carries_the_truncated_warning(tmp_path, tiny_checkpoint, clip):
    from fakecheck.analysis.detector import Detector

    path = tmp_path / "half.wav"
    sf.write(path, clip, 16_000, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[: 44 + 4 * 16_000 * 2])
    det = Detector(tiny_checkpoint, device="cpu", threads=1)
    v = det.analyse_file(path)
    assert v.verdict in ("REAL", "FAKE", "PARTIAL") and "truncated" in v.warnings, v
    sf.write(path, clip, 16_000, subtype="PCM_16")
    assert "truncated" not in det.analyse_file(path).warnings
