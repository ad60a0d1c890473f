"""Tests of fakecheck.training.datasets: one tiny fixture per layout, built in tmp_path at test time.

Audio is 0.1 s of sine written with soundfile; no corpus audio is copied.
Convention under test: label 1 = spoof, 0 = bona fide.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fakecheck.evaluation.labels import parse_label
from fakecheck.training.datasets.detect import FORMATS, detect_format, load_dataset, validate
from fakecheck.training.datasets.rows import DatasetError, Row

SR = 16_000
CORPUS_MANIFEST = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "manifest.csv"


def tone(path: Path, freq: float = 440.0) -> Path:
    """Write 0.1 s of sine to ``path`` (format from the extension), creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(0.1 * SR)) / SR
    sf.write(path, (0.1 * np.sin(2 * np.pi * freq * t)).astype(np.float32), SR)
    return path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def labels_and_systems(rows: list[Row]) -> tuple[Counter[int], Counter[str]]:
    return Counter(r.label for r in rows), Counter(r.system for r in rows)


# --------------------------------------------------------------------------- fixtures, one per layout


def make_folder(root: Path) -> Path:
    tone(root / "real" / "a.wav")
    tone(root / "real" / "vctk" / "b.flac")
    tone(root / "fake" / "melgan" / "c.wav")
    tone(root / "fake" / "melgan" / "deeper" / "d.wav")
    tone(root / "fake" / "e.wav")
    write(root / "real" / "notes.txt", "not audio")
    write(root / "fake" / "._e.wav", "macOS resource fork")
    return root


def make_csv(root: Path) -> Path:
    tone(root / "audio" / "r1.wav")
    tone(root / "audio" / "r2.flac")
    tone(root / "audio" / "f1.wav")
    tone(root / "audio" / "f2.wav")
    return write(
        root / "list.csv",
        "path,label,system,source_repo\n"
        "audio/r1.wav,Bona-Fide,vctk,someone/vctk-demo\n"
        "audio/r2.flac,0,,\n"
        "audio/f1.wav,FAKE,melgan,someone/melgan\n"
        "audio/f2.wav,synthetic,,\n",
    )


def make_asvspoof2019(root: Path) -> Path:
    protocols = root / "ASVspoof2019_LA_cm_protocols"
    write(
        protocols / "ASVspoof2019.LA.cm.train.trn.txt",
        "LA_0079 LA_T_1000001 - - bonafide\nLA_0079 LA_T_1000002 - A01 spoof\nLA_0080 LA_T_1000003 - A02 spoof\n",
    )
    write(
        protocols / "ASVspoof2019.LA.cm.dev.trl.txt",
        "LA_0069 LA_D_1000001 - - bonafide\nLA_0069 LA_D_1000002 - A05 spoof\n",
    )
    for name in ("LA_T_1000001", "LA_T_1000002", "LA_T_1000003"):
        tone(root / "ASVspoof2019_LA_train" / "flac" / f"{name}.flac")
    for name in ("LA_D_1000001", "LA_D_1000002"):
        tone(root / "ASVspoof2019_LA_dev" / "flac" / f"{name}.flac")
    return root


def make_asvspoof2021(root: Path) -> Path:
    write(
        root / "keys" / "LA" / "CM" / "trial_metadata.txt",
        "LA_0009 LA_E_9332881 alaw ita_tx A07 spoof notrim eval\n"
        "LA_0020 LA_E_7294490 g722 loc_tx bonafide bonafide notrim eval\n"
        "LA_0021 LA_E_1000001 alaw ita_tx - bonafide notrim progress\n",
    )
    write(
        root / "keys" / "DF" / "CM" / "trial_metadata.txt",
        "LA_0023 DF_E_2000011 nocodec asvspoof A14 spoof notrim progress traditional_vocoder - - - -\n"
        "LA_0024 DF_E_2000012 nocodec asvspoof bonafide bonafide notrim eval bonafide - - - -\n",
    )
    for name in ("LA_E_9332881", "LA_E_7294490", "LA_E_1000001"):
        tone(root / "ASVspoof2021_LA_eval" / "flac" / f"{name}.flac")
    for name in ("DF_E_2000011", "DF_E_2000012"):
        tone(root / "ASVspoof2021_DF_eval" / "flac" / f"{name}.flac")
    return root


def make_asvspoof5(root: Path) -> Path:
    write(
        root / "ASVspoof5.train.tsv",
        "T_4850 T_0000000000 F - - - AC3 A05 spoof -\nT_3734 T_0000000011 F - - - - bonafide bonafide -\n",
    )
    write(
        root / "ASVspoof5.dev.track_1.tsv",
        "D_4461 D_0000000169 F - - - AC1 A14 spoof -\nD_0461 D_0000000190 M - - - - bonafide bonafide -\n",
    )
    write(root / "ASVspoof5.dev.track_2.enroll.tsv", "D_0461 D_0000000001,D_0000000002\n")  # SASV list: skipped
    tone(root / "flac_T" / "T_0000000000.flac")  # beside the protocol
    tone(root / "flac_T" / "T_0000000011.flac")
    tone(root / "ASVspoof5_dev" / "flac_D" / "D_0000000169.flac")  # one level down
    tone(root / "ASVspoof5_dev" / "flac_D" / "D_0000000190.flac")
    return root


def make_itw(root: Path) -> Path:
    folder = root / "release_in_the_wild"
    write(
        folder / "meta.csv",
        "file,speaker,label\n0.wav,Alec Guinness,spoof\n1.wav,Alec Guinness,bona-fide\n2.wav,Ayn Rand,spoof\n",
    )
    for i in range(3):
        tone(folder / f"{i}.wav")
    return folder


def make_wavefake(root: Path) -> Path:
    tone(root / "generated_audio" / "ljspeech_melgan" / "LJ001-0001_gen.wav")
    tone(root / "generated_audio" / "ljspeech_melgan" / "LJ001-0002_gen.wav")
    tone(root / "generated_audio" / "jsut_parallel_wavegan" / "BASIC5000_0001_gen.wav")
    tone(root / "LJSpeech-1.1" / "wavs" / "LJ001-0001.wav")
    tone(root / "corpora" / "jsut_ver1.1" / "basic5000" / "wav" / "BASIC5000_0001.wav")
    write(root / "LJSpeech-1.1" / "metadata.csv", "LJ001-0001|text|text\n")
    return root


def make_for(root: Path) -> Path:
    for split, n_fake, n_real in (("training", 2, 2), ("validation", 1, 1), ("testing", 1, 2)):
        for i in range(n_fake):
            tone(root / "for-norm" / split / "fake" / f"file{i}.wav")
        for i in range(n_real):
            tone(root / "for-norm" / split / "real" / f"file{i}.wav")
    return root


# format -> fixture maker; what the maker returns is the path a user would give as DATA
CASES: dict[str, Callable[[Path], Path]] = {
    "folder": make_folder,
    "csv": make_csv,
    "asvspoof2019": make_asvspoof2019,
    "asvspoof2021": make_asvspoof2021,
    "asvspoof5": make_asvspoof5,
    "itw": make_itw,
    "wavefake": make_wavefake,
    "for": make_for,
}


# --------------------------------------------------------------------------- per-layout loading


def test_formats_constant() -> None:
    assert FORMATS == ("folder", "csv", "asvspoof2019", "asvspoof2021", "asvspoof5", "itw", "wavefake", "for")
    assert set(CASES) == set(FORMATS)


def test_folder(tmp_path: Path) -> None:
    rows = load_dataset(make_folder(tmp_path / "ds"))
    labels, systems = labels_and_systems(rows)
    assert labels == {0: 2, 1: 3}
    assert systems == {"bonafide": 2, "melgan": 2, "spoof": 1}
    assert {r.source for r in rows if r.label == 0} == {"bonafide", "vctk"}
    assert [str(r.path) for r in rows] == sorted(str(r.path) for r in rows)
    validate(rows)


def test_csv(tmp_path: Path) -> None:
    manifest = make_csv(tmp_path)
    rows = load_dataset(manifest)
    by_name = {r.path.name: r for r in rows}
    assert by_name["r1.wav"] == Row(tmp_path / "audio" / "r1.wav", 0, "vctk", "someone/vctk-demo")
    assert by_name["r2.flac"] == Row(tmp_path / "audio" / "r2.flac", 0, "bonafide", "bonafide")
    assert by_name["f1.wav"] == Row(tmp_path / "audio" / "f1.wav", 1, "melgan", "someone/melgan")
    assert by_name["f2.wav"].label == 1 and by_name["f2.wav"].system == "spoof"
    validate(rows)


def test_csv_two_columns(tmp_path: Path) -> None:
    tone(tmp_path / "x.wav")
    tone(tmp_path / "y.wav")
    rows = load_dataset(write(tmp_path / "m.csv", "Path,Label\nx.wav,real\ny.wav,deepfake\n"))
    assert [(r.path.name, r.label, r.system) for r in rows] == [("x.wav", 0, "bonafide"), ("y.wav", 1, "spoof")]


def test_asvspoof2019(tmp_path: Path) -> None:
    root = make_asvspoof2019(tmp_path)
    rows = load_dataset(root)  # the LA root: every protocol found
    labels, systems = labels_and_systems(rows)
    assert labels == {0: 2, 1: 3}
    assert systems == {"bonafide": 2, "A01": 1, "A02": 1, "A05": 1}
    assert (root / "ASVspoof2019_LA_dev" / "flac" / "LA_D_1000002.flac") in {r.path for r in rows}
    validate(rows)
    # The protocol file alone: only its part.
    train = load_dataset(root / "ASVspoof2019_LA_cm_protocols" / "ASVspoof2019.LA.cm.train.trn.txt")
    assert len(train) == 3 and all(r.path.parent == root / "ASVspoof2019_LA_train" / "flac" for r in train)


def test_asvspoof2021(tmp_path: Path) -> None:
    root = make_asvspoof2021(tmp_path)
    rows = load_dataset(root)  # both tracks
    labels, systems = labels_and_systems(rows)
    assert labels == {0: 3, 1: 2}
    assert systems == {"bonafide": 3, "A07": 1, "A14": 1}
    validate(rows)
    df = load_dataset(root / "keys" / "DF" / "CM" / "trial_metadata.txt")
    assert {r.path for r in df} == {
        root / "ASVspoof2021_DF_eval" / "flac" / "DF_E_2000011.flac",
        root / "ASVspoof2021_DF_eval" / "flac" / "DF_E_2000012.flac",
    }


def test_asvspoof5(tmp_path: Path) -> None:
    root = make_asvspoof5(tmp_path)
    rows = load_dataset(root)
    labels, systems = labels_and_systems(rows)
    assert labels == {0: 2, 1: 2}
    assert systems == {"bonafide": 2, "A05": 1, "A14": 1}
    validate(rows)
    dev = load_dataset(root / "ASVspoof5.dev.track_1.tsv")
    assert {r.path.parent for r in dev} == {root / "ASVspoof5_dev" / "flac_D"}


def test_itw(tmp_path: Path) -> None:
    folder = make_itw(tmp_path)
    for target in (folder, folder / "meta.csv"):
        rows = load_dataset(target)
        labels, systems = labels_and_systems(rows)
        assert labels == {0: 1, 1: 2}
        assert systems == {"itw-bonafide": 1, "itw-spoof": 2}
        assert {r.source for r in rows} == {"Alec Guinness", "Ayn Rand"}
        validate(rows)


def test_wavefake(tmp_path: Path) -> None:
    root = make_wavefake(tmp_path)
    rows = load_dataset(root)
    labels, systems = labels_and_systems(rows)
    assert labels == {0: 2, 1: 3}
    assert systems == {"ljspeech_melgan": 2, "jsut_parallel_wavegan": 1, "ljspeech": 1, "jsut": 1}
    validate(rows)
    assert len(load_dataset(root / "generated_audio")) == 5  # pointing at generated_audio/ works too


def test_wavefake_without_real_side(tmp_path: Path) -> None:
    tone(tmp_path / "generated_audio" / "melgan" / "a.wav")
    with pytest.raises(DatasetError, match="LJSpeech-1.1"):
        load_dataset(tmp_path)


def test_for(tmp_path: Path) -> None:
    root = make_for(tmp_path)
    rows = load_dataset(root)  # all splits, found one level down (for-norm/)
    labels, systems = labels_and_systems(rows)
    assert labels == {0: 5, 1: 4}
    assert systems == {"for-bonafide": 5, "for-spoof": 4}
    validate(rows)
    testing = load_dataset(root / "for-norm" / "testing")  # one split only
    assert Counter(r.label for r in testing) == {0: 2, 1: 1}


def test_for_two_versions_side_by_side(tmp_path: Path) -> None:
    make_for(tmp_path)
    tone(tmp_path / "for-2sec" / "for-2seconds" / "training" / "fake" / "x.wav")
    tone(tmp_path / "for-2sec" / "for-2seconds" / "training" / "real" / "y.wav")
    assert len(load_dataset(tmp_path / "for-2sec")) == 2  # nested two levels
    with pytest.raises(DatasetError, match="several Fake-or-Real"):
        load_dataset(tmp_path)


# --------------------------------------------------------------------------- detection and override


@pytest.mark.parametrize("fmt", FORMATS)
def test_detect_format(tmp_path: Path, fmt: str) -> None:
    assert detect_format(CASES[fmt](tmp_path)) == fmt


@pytest.mark.parametrize(
    ("fmt", "make", "rel"),
    [
        ("csv", make_csv, "."),
        ("asvspoof2019", make_asvspoof2019, "ASVspoof2019_LA_cm_protocols/ASVspoof2019.LA.cm.train.trn.txt"),
        ("asvspoof2019", make_asvspoof2019, "ASVspoof2019_LA_cm_protocols"),
        ("asvspoof2021", make_asvspoof2021, "keys/LA/CM/trial_metadata.txt"),
        ("asvspoof2021", make_asvspoof2021, "keys"),
        ("asvspoof5", make_asvspoof5, "ASVspoof5.train.tsv"),
        ("itw", make_itw, "meta.csv"),
        ("wavefake", make_wavefake, "generated_audio"),
        ("for", make_for, "for-norm"),
        ("for", make_for, "for-norm/training"),
    ],
)
def test_detect_format_files_and_subfolders(tmp_path: Path, fmt: str, make: Callable[[Path], Path], rel: str) -> None:
    base = make(tmp_path)
    target = base if rel == "." else (base if base.is_dir() else base.parent) / rel
    assert detect_format(target) == fmt
    assert load_dataset(target)  # and it loads


def test_manifest_beats_folder_layout(tmp_path: Path) -> None:
    # ../shared/corpus looks like this: bonafide/ + spoof/ sub-folders and a manifest.
    tone(tmp_path / "bonafide" / "libritts" / "a.flac")
    tone(tmp_path / "spoof" / "melgan" / "b.flac")
    write(
        tmp_path / "manifest.csv",
        "path,label,system,source_repo\nbonafide/libritts/a.flac,bonafide,libritts,x/y\nspoof/melgan/b.flac,spoof,melgan,x/z\n",
    )
    assert detect_format(tmp_path) == "csv"
    assert {r.source for r in load_dataset(tmp_path)} == {"x/y", "x/z"}
    folder = load_dataset(tmp_path, fmt="folder")  # explicit override
    assert {(r.system, r.source) for r in folder} == {("bonafide", "libritts"), ("melgan", "melgan")}


def test_fmt_override(tmp_path: Path) -> None:
    split = make_folder(tmp_path / "training")  # a folder layout that is named like a Fake-or-Real split
    assert detect_format(split) == "for"
    assert {r.system for r in load_dataset(split, fmt="for")} == {"for-spoof", "for-bonafide"}
    assert "melgan" in {r.system for r in load_dataset(split, fmt="folder")}
    with pytest.raises(DatasetError, match="unknown dataset format"):
        load_dataset(split, fmt="nope")
    with pytest.raises(DatasetError, match="WaveFake"):
        load_dataset(split, fmt="wavefake")


def test_unknown_layout_lists_supported(tmp_path: Path) -> None:
    tone(tmp_path / "somewhere" / "x.wav")
    with pytest.raises(DatasetError, match="Supported: .*Fake-or-Real") as info:
        detect_format(tmp_path)
    assert "\n" not in str(info.value)  # one paragraph
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(tmp_path / "missing")
    with pytest.raises(DatasetError, match="cannot tell"):
        detect_format(write(tmp_path / "notes.txt", "a b c\n"))


# --------------------------------------------------------------------------- errors


def test_parse_label() -> None:
    for word in ("bonafide", "Bona-Fide", "bona_fide", "REAL", "genuine", "0"):
        assert parse_label(word) == 0
    for word in ("spoof", "Fake", "synthetic", "DeepFake", "1"):
        assert parse_label(word) == 1
    assert parse_label("maybe") is None


def test_missing_files(tmp_path: Path) -> None:
    root = make_asvspoof2019(tmp_path)
    (root / "ASVspoof2019_LA_train" / "flac" / "LA_T_1000002.flac").unlink()
    rows = load_dataset(root)  # parsing does not look at audio
    with pytest.raises(DatasetError, match=r"1 of 5 audio files are missing: row \d+: .*LA_T_1000002\.flac"):
        validate(rows)
    validate(rows, check_files=False)


def test_missing_files_message_is_capped(tmp_path: Path) -> None:
    rows = [Row(tmp_path / f"gone{i}.wav", i % 2, "s", "s") for i in range(8)]
    with pytest.raises(DatasetError, match="8 of 8 audio files are missing") as info:
        validate(rows)
    assert "gone4.wav" in str(info.value) and "gone5.wav" not in str(info.value)
    assert "and 3 more" in str(info.value)


def test_unknown_labels_reported_while_parsing(tmp_path: Path) -> None:
    tone(tmp_path / "a.wav")
    manifest = write(tmp_path / "m.csv", "path,label\na.wav,bonafide\na.wav,maybe\na.wav,spoof\n")
    with pytest.raises(DatasetError, match=r"line 3: unknown label 'maybe' for a\.wav"):
        load_dataset(manifest)
    proto = write(tmp_path / "ASVspoof2019.LA.cm.train.trn.txt", "LA_1 LA_T_1 - - bonafide\nLA_1 LA_T_2 - A01 spooof\n")
    with pytest.raises(DatasetError, match=r"line 2: unknown key 'spooof'"):
        load_dataset(proto)
    meta = write(tmp_path / "itw" / "meta.csv", "file,speaker,label\n0.wav,A,fake-ish\n")
    with pytest.raises(DatasetError, match="line 2"):
        load_dataset(meta)


def test_malformed_protocol_lines(tmp_path: Path) -> None:
    proto = write(tmp_path / "ASVspoof5.train.tsv", "T_1 T_0000000001 F - - - - bonafide bonafide -\nT_1 T_2 spoof\n")
    with pytest.raises(DatasetError, match="line 2: expected 10 columns, found 3"):
        load_dataset(proto)


def test_csv_without_required_columns(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="'path' and 'label'"):
        load_dataset(write(tmp_path / "m.csv", "file,kind\na.wav,real\n"))


def test_single_class(tmp_path: Path) -> None:
    tone(tmp_path / "a.wav")
    tone(tmp_path / "b.wav")
    rows = load_dataset(write(tmp_path / "m.csv", "path,label\na.wav,real\nb.wav,genuine\n"))
    with pytest.raises(DatasetError, match=r"all 2 rows are bona fide \(label 0\), e\.g\. row 1: .*a\.wav"):
        validate(rows)


def test_empty_and_bad_label_rows(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="empty"):
        validate([])
    with pytest.raises(DatasetError, match="row 2: label 3"):
        validate([Row(tmp_path / "a.wav", 0, "s", "s"), Row(tmp_path / "b.wav", 3, "s", "s")], check_files=False)
    with pytest.raises(DatasetError, match="no labelled audio"):
        load_dataset(write(tmp_path / "m.csv", "path,label\n"))


# --------------------------------------------------------------------------- the shared corpus


@pytest.mark.corpus
def test_shared_corpus_manifest() -> None:
    if not CORPUS_MANIFEST.is_file():
        pytest.skip("../shared/corpus not found")
    rows = load_dataset(CORPUS_MANIFEST)
    # After the label audit (../shared/corpus/README.md, "Corrections"): 127 clips removed and
    # 24 AdaSpeech 4 "GT" clips (really GT mel + HiFi-GAN) relabelled spoof.
    assert len(rows) == 1802
    assert sum(r.label == 0 for r in rows) == 523
    assert all(r.source and r.system for r in rows)
    assert "/" in rows[0].source  # source_repo (owner/name) is the grouping key
    validate(rows)
    assert detect_format(CORPUS_MANIFEST.parent) == "csv"
