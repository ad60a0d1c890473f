"""The training-data build (scripts/data/): split rules, the committed manifest, builder and skips."""

from __future__ import annotations

import csv
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import SHARED, speechlike

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "data" / "training-manifest.csv"


def _module(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "data" / f"{name}.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


M = _module("manifest")


def clip(path, label, system, source, speaker="", dur=2.0):
    return M.Clip(path, label, system, source, speaker, "en", dur)


# -- split rules ---------------------------------------------------------------------------------
def test_sources_systems_and_speakers_never_straddle_the_split() -> None:
    clips = [
        clip("a1", "bonafide", "vctk", "repoA", "p1"), clip("a2", "spoof", "hifigan", "repoA"),
        clip("a3", "spoof", "newtts", "repoA"),
        clip("b1", "bonafide", "vctk", "repoB", "p1"), clip("b2", "spoof", "hifigan", "repoB"),
        clip("b3", "spoof", "hifigan", "repoB"), clip("b4", "bonafide", "vctk", "repoB", "p2"),
        clip("c1", "spoof", "world", "repoC"),
    ]
    res = M.assign_splits(clips, validation_sources={"repoA"}, held_out_systems={"world"}, validation_speakers={},
                          max_source_share=1.0)
    split = {c.path: c.split for c in res.clips}
    assert split["a3"] == "validation"  # only seen in a validation source
    assert "a2" not in split  # hifigan: 2 training clips beat 1 validation clip
    assert split["b2"] == split["b3"] == "train"
    assert split["a1"] == "validation" and "b1" not in split  # speaker vctk:p1: a 1-1 tie goes to validation
    assert split["b4"] == "train"
    assert "c1" not in split  # a held-out system in a training source is excluded
    assert {c.path for c, _ in res.excluded} == {"a2", "b1", "c1"}
    assert M.leaks(res.clips) == {"system": set(), "source": set(), "speaker": set()}


def test_tie_goes_to_validation_and_reasons_are_given() -> None:
    clips = [clip("a", "spoof", "x", "val"), clip("b", "spoof", "x", "train")]
    res = M.assign_splits(clips, validation_sources={"val"}, held_out_systems=(), validation_speakers={})
    assert [c.path for c in res.clips] == ["a"]
    assert "belongs to validation" in res.excluded[0][1]


def test_speaker_split_corpus_sends_the_first_speakers_by_hash_to_validation() -> None:
    clips = [clip(f"s{k}_{i}", "bonafide", "oneSource", "repoS", f"spk{k}") for k in range(6) for i in range(3)]
    clips += [clip("t1", "spoof", "tts", "repoT"), clip("v1", "spoof", "vc", "repoV")]
    res = M.assign_splits(clips, validation_sources={"repoV"}, held_out_systems=(),
                          validation_speakers={"oneSource": 2}, max_source_share=1.0)
    val_speakers = {c.speaker for c in res.clips if c.split == "validation" and c.label == "bonafide"}
    assert len(val_speakers) == 2 and not res.excluded
    train_speakers = {c.speaker for c in res.clips if c.split == "train" and c.label == "bonafide"}
    assert not val_speakers & train_speakers and len(train_speakers) == 4
    # the choice depends on names only: shuffling the rows changes nothing
    again = M.assign_splits(clips[::-1], validation_sources={"repoV"}, held_out_systems=(),
                            validation_speakers={"oneSource": 2}, max_source_share=1.0)
    assert {c.path: c.split for c in again.clips} == {c.path: c.split for c in res.clips}


def test_source_cap_keeps_every_validation_source_under_its_share() -> None:
    assert M.source_cap([600, 100, 80, 60, 50, 40], 0.2) <= 0.2 * sum(min(n, M.source_cap([600, 100, 80, 60, 50, 40],
                                                                                         0.2)) for n in
                                                                     [600, 100, 80, 60, 50, 40])
    clips = [clip(f"w{i}", "bonafide", "wake", "big", f"w{i}") for i in range(50)]
    clips += [clip(f"o{k}_{i}", "bonafide", f"c{k}", f"src{k}", f"o{k}") for k in range(5) for i in range(5)]
    res = M.assign_splits(clips, validation_sources={"big", *(f"src{k}" for k in range(5))}, held_out_systems=(),
                          validation_speakers={})
    counts: dict[str, int] = {}
    for c in res.clips:
        counts[c.source] = counts.get(c.source, 0) + 1
    assert max(counts.values()) <= 0.2 * sum(counts.values()) + 1e-9
    assert counts["big"] < 50 and all(counts[f"src{k}"] == 5 for k in range(5))
    assert all("validation cap" in why for _, why in res.excluded)


def test_leaks_finds_a_shared_system() -> None:
    clips = [M.Clip("a", "spoof", "x", "s1", "", "en", 1, split="train"),
             M.Clip("b", "spoof", "x", "s2", "", "en", 1, split="validation")]
    assert M.leaks(clips)["system"] == {"x"}


def test_system_names_are_normalised() -> None:
    assert M.normalise_system("Glow-TTS") == M.normalise_system("glowtts") == "glowtts"
    assert M.normalise_system("Tacotron2+HiFi-GAN") == "tacotron2+hifigan"


@pytest.mark.parametrize(("system", "path", "lang"), [
    ("mls", "audios/mls/mls_dutch_3034_2211_000142_gt.wav", "nl"),
    ("css10", "audio/crosslingual/German/serapion_1717.wav", "de"),
    ("fleurs", "miipher2/fleurs/ru_ru_001633540429756.wav", "ru"),
    ("aishell", "data/S0913/BAC009S0913W0300.wav", "zh"),
    ("vctk", "wavs/p225_001.wav", "en"),
])
def test_language_is_inferred_from_names(system: str, path: str, lang: str) -> None:
    assert M.infer_language(system, "", path) == lang


# -- the committed manifest ------------------------------------------------------------------------
def test_committed_manifest_columns_targets_and_no_leaks() -> None:
    clips = M.read_manifest(str(COMMITTED))
    with COMMITTED.open(newline="", encoding="utf-8") as f:
        assert next(csv.reader(f)) == M.COLUMNS
    assert {c.split for c in clips} == {"train", "validation"}
    assert {c.label for c in clips} == {"bonafide", "spoof"}
    assert all(not Path(c.path).is_absolute() and ".." not in Path(c.path).parts for c in clips)
    assert M.leaks(clips) == {"system": set(), "source": set(), "speaker": set()}
    s = M.summary(clips)
    assert s["hours"] >= 20 and s["hours_bonafide"] >= 8
    assert s["bonafide_speakers"] >= 300 and s["spoof_systems"] >= 150 and s["languages"] >= 8
    by_source = [c for c in clips if c.system not in M.VALIDATION_SPEAKERS]  # the others are split by speaker
    val_bona_sources = {c.source for c in by_source if c.split == "validation" and c.label == "bonafide"}
    assert sum(c.split == "validation" and c.label == "bonafide" for c in clips) >= 500
    assert not val_bona_sources & {c.source for c in by_source if c.split == "train"}


def test_committed_validation_sees_six_kinds_of_real_speech_none_above_its_share() -> None:
    """Issue 18: studio read speech, audiobooks, spontaneous, non-native, phone-band and device recordings."""
    clips = [c for c in M.read_manifest(str(COMMITTED)) if c.split == "validation" and c.label == "bonafide"]
    corpora = {c.system for c in clips}
    assert {"vctk", "libritts"} <= corpora  # studio read speech (demo pages' ground truth)
    assert {"librispeech", "mls"} <= corpora  # audiobooks
    assert "mfa_test_recordings" in corpora  # spontaneous: laughter, fillers, creaky voice
    assert "speechocean762" in corpora  # non-native English
    assert any(c.system == "pyaudioanalysis_samples" and "3_class" in c.path for c in clips)  # 8 kHz phone band
    assert "picovoice_wakeword" in corpora  # device recordings
    counts: dict[str, int] = {}
    for c in clips:
        counts[c.source] = counts.get(c.source, 0) + 1
    assert max(counts.values()) <= M.MAX_VALIDATION_SOURCE_SHARE * len(clips)


def test_committed_manifest_is_what_the_split_rules_give() -> None:
    """Re-splitting the committed rows with the rules in manifest.py changes nothing."""
    clips = M.read_manifest(str(COMMITTED))
    res = M.assign_splits(clips)
    assert not res.excluded
    assert {c.path: c.split for c in res.clips} == {c.path: c.split for c in clips}


# -- the builder -----------------------------------------------------------------------------------
def _git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                   env={"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t", "HOME": str(cwd), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_build_corpus_from_a_tiny_repository(tmp_path: Path) -> None:
    tool = SHARED / "tools" / "build_corpus.py"
    if not tool.is_file():
        pytest.skip(f"{tool} not found (../shared is missing)")
    work = tmp_path / "work"
    (work / "wavs").mkdir(parents=True)
    sf.write(work / "wavs" / "real.wav", speechlike(1.5, rate=22050), 22050)
    sf.write(work / "wavs" / "fake.flac", speechlike(1.2, seed=1), 16000)
    _git("init", "-q", cwd=work)
    _git("add", ".", cwd=work)
    _git("commit", "-q", "-m", "audio", cwd=work)
    mirror = tmp_path / "mirror" / "me+demo"
    mirror.parent.mkdir()
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(mirror / "repo")], check=True)
    man = tmp_path / "m.csv"
    man.write_text("label,system,speaker,source_repo,source_path,duration_s,sample_rate,license_note,git_ref\n"
                   "bonafide,vctk,p1,me/demo,wavs/real.wav,1.5,22050,CC,\n"
                   "spoof,sometts,,me/demo,wavs/fake.flac,1.2,16000,CC,\n"
                   "spoof,sometts,,me/demo,wavs/missing.wav,1.0,16000,CC,\n"
                   "spoof,sometts,,other/repo,x.wav,1.0,16000,CC,\n")
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, str(tool), str(tmp_path / "mirror"), str(out), str(man)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "2 of 4 files" in p.stdout and "fetch these first: other/repo" in p.stdout
    rows = list(csv.DictReader(open(out / "manifest.csv")))
    assert [r["label"] for r in rows] == ["bonafide", "spoof"]
    y, sr = sf.read(out / rows[0]["path"])
    assert sr == 16000 and abs(len(y) / sr - 1.5) < 0.01  # resampled from 22.05 kHz, same length
    clips = [M.clip_from_manifest_row(r, "more", "more") for r in rows]
    assert clips[0].path.startswith("more/bonafide/vctk/") and clips[1].system == "sometts"


def test_generators_skip_with_a_reason_when_tools_are_missing(tmp_path: Path, monkeypatch) -> None:
    B = _module("build")
    shared = tmp_path / "shared"
    (shared / "tools" / "neural_tts_pypi").mkdir(parents=True)
    (shared / "tools" / "sentences.txt").write_text("one\ntwo\n")
    b = B.Build(tmp_path / "data", tmp_path / "mirror", shared, tmp_path / "no-venv" / "bin" / "python")
    assert b.piper() is None and b.kokoro() is None
    assert any("no TTS environment" in s for s in b.skipped)
    monkeypatch.setitem(sys.modules, "ai_edge_litert", None)  # import fails
    assert b.lyra() is None
    assert any(s.startswith("lyra: ai-edge-litert") for s in b.skipped)


def test_builder_resumes_from_done_markers(tmp_path: Path, capsys) -> None:
    B = _module("build")
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    (shared / "corpus" / "manifest.csv").write_text("path,label,system,speaker,source_repo,source_path,duration_s\n")
    root = tmp_path / "data"
    assert B.main(["--root", str(root), "--shared", str(shared), "--only", "corpus"]) == 0
    assert (root / ".done" / "corpus").exists() and (root / "corpus").is_symlink()
    b = B.Build(root, tmp_path, shared, tmp_path / "py")
    assert b.done("corpus") and not b.done("more")


def test_generated_clip_rows_keep_their_source_for_the_split(tmp_path: Path) -> None:
    """A resynthesised clip inherits the bona fide clip's source and speaker, so a pair never straddles."""
    B = _module("build")
    root = tmp_path / "data"
    src = root / "gen" / "src"
    src.mkdir(parents=True)
    (src / "index.csv").write_text("group,path,source,speaker,language\nworld,more/bonafide/x/a.flac,repoA,p1,de\n")
    out = root / "gen" / "resynth" / "resynth" / "world" / "more" / "bonafide" / "x"
    out.mkdir(parents=True)
    sf.write(out / "a.flac", np.zeros(16000 * 2, np.float32), 16000)
    (root / "gen" / "resynth" / "manifest.csv").write_text(
        "path,label,system,source_path,text\n"
        f"resynth/world/more/bonafide/x/a.flac,spoof,world,{src}/world/more/bonafide/x/a.flac,\n")
    b = B.Build(root, tmp_path, tmp_path, tmp_path / "py")
    [c] = b.generated_clips()
    assert (c.system, c.source, c.speaker, c.language) == ("resynth-world", "repoA", "p1", "de")
    assert c.duration_s == pytest.approx(2.0)


def test_a_step_that_skipped_work_is_not_marked_done(tmp_path: Path) -> None:
    """Piper without its venv skips; the next run must try it again, and combine always runs again."""
    B = _module("build")
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    (shared / "corpus" / "manifest.csv").write_text("path,label,system,speaker,source_repo,source_path,duration_s\n")
    (shared / "tools").mkdir()
    (shared / "tools" / "sentences.txt").write_text("one\n")
    root = tmp_path / "data"
    assert B.main(["--root", str(root), "--shared", str(shared), "--only", "corpus", "piper",
                   "--with-generated"]) == 0
    assert (root / ".done" / "corpus").exists() and not (root / ".done" / "piper").exists()


def test_generated_parts_are_built_only_when_asked(tmp_path: Path) -> None:
    """The default build (the default model's data) runs no TTS engine and no vocoder."""
    B = _module("build")
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    (shared / "corpus" / "manifest.csv").write_text("path,label,system,speaker,source_repo,source_path,duration_s\n")
    (shared / "tools").mkdir()
    root = tmp_path / "data"
    assert B.main(["--root", str(root), "--shared", str(shared), "--only", "corpus", "piper", "resynth"]) == 0
    report = (root / "build-report.json").read_text()
    assert "piper" not in report and "resynth" not in report and (root / ".done" / "corpus").exists()
    assert "combine" in B.ALWAYS_RERUN and "select" in B.ALWAYS_RERUN


def test_the_build_report_gives_clip_counts_per_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """build-report.json counts clips, not exit codes (issue 21)."""
    B = _module("build")
    shared = tmp_path / "shared"
    (shared / "corpus").mkdir(parents=True)
    (shared / "corpus" / "manifest.csv").write_text("path,label,system,speaker,source_repo,source_path,duration_s\n"
                                                    "a.flac,bonafide,bonafide,s1,r/x,a.flac,2.0\n")
    (shared / "tools").mkdir()
    (shared / "tools" / "sentences.txt").write_text("one\n" * 200)
    root = tmp_path / "data"
    assert B.main(["--root", str(root), "--shared", str(shared), "--only", "corpus"]) == 0
    report = json.loads((root / "build-report.json").read_text())
    assert report["clips"] == {"corpus": 1} and report["steps"]["corpus"]["clips"] == 1
    b = B.Build(root, tmp_path, shared, tmp_path / "py")
    monkeypatch.setattr(b, "_make_fakes", lambda args, out: 0)  # the engines are not needed to count
    (root / "gen" / "classic").mkdir(parents=True)
    (root / "gen" / "classic" / "manifest.csv").write_text("path,system\nx1.flac,espeak\nx2.flac,flite\n")
    assert b.classic() == {"clips": 2}
    (root / "gen" / "resynth").mkdir(parents=True)
    (root / "gen" / "resynth" / "manifest.csv").write_text(
        "path,system,source_path\nw1.flac,world,a\nw2.flac,world,b\nl1.flac,lpc,c\n")
    info = b.resynth()
    assert info["clips"] == 3 and info["per_vocoder"]["world"] == 2 and info["per_vocoder"]["lpc"] == 1
    assert "rc" not in info and "exit_codes" not in info
