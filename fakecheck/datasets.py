"""Labelled audio datasets: read the common anti-spoofing layouts into one list of rows.

Label convention of fakecheck: label 1 = spoof (fake), label 0 = bona fide (real).  Each dataset
becomes a list of :class:`Row` (path, label, system, source), sorted by path so that every run sees
the same order.  ``system`` names the generator of a spoofed clip (an ASVspoof attack id, a WaveFake
vocoder, ...) or the corpus of a bona fide one; ``source`` is the origin used to group rows when
splitting (a manifest's ``source_repo``, an In-the-Wild speaker, a folder), so that clips of one
origin never land on both sides of a split.

Supported layouts (``FORMATS``), detected automatically by :func:`detect_format`:

* ``folder``: ``real/`` or ``bonafide/`` plus ``fake/`` or ``spoof/`` sub-folders of audio files;
* ``csv``: a manifest with a ``path,label[,system]`` header (more columns allowed);
* ``asvspoof2019``: ASVspoof 2019 LA/PA CM protocols ``SPEAKER FILE - SYSTEM KEY``;
* ``asvspoof2021``: ASVspoof 2021 LA/DF keys ``keys/{LA,DF}/CM/trial_metadata.txt``;
* ``asvspoof5``: ASVspoof 5 protocols ``ASVspoof5.*.tsv``;
* ``itw``: In-the-Wild (``meta.csv`` with ``file,speaker,label``);
* ``wavefake``: WaveFake ``generated_audio/<generator>/`` with LJSpeech and/or JSUT as the real side;
* ``for``: Fake-or-Real ``training|validation|testing/{fake,real}/``.

:func:`load_dataset` parses (unknown labels and malformed lines are reported while parsing) but does
not touch the audio files; :func:`validate` checks that files exist and that both classes are there.
Every failure is a :class:`DatasetError` with a one-paragraph message meant for users.  Nothing here
prints or exits.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .audio import AUDIO_EXTENSIONS

__all__ = [
    "FORMATS",
    "DatasetError",
    "Row",
    "detect_format",
    "load_dataset",
    "parse_label",
    "validate",
]

FORMATS = ("folder", "csv", "asvspoof2019", "asvspoof2021", "asvspoof5", "itw", "wavefake", "for")

BONAFIDE, SPOOF = 0, 1
_BONAFIDE_WORDS = frozenset({"bonafide", "bona-fide", "bona_fide", "bona fide", "real", "genuine", "0"})
_SPOOF_WORDS = frozenset({"spoof", "fake", "synthetic", "deepfake", "1"})
_REAL_DIRS = ("real", "bonafide")
_FAKE_DIRS = ("fake", "spoof")
_FOR_SPLITS = ("training", "validation", "testing")
_SHOWN = 5  # offending rows quoted in an error message; the rest are counted

_LAYOUTS = (
    "a folder with real/ (or bonafide/) and fake/ (or spoof/) sub-folders; "
    "a CSV manifest with a path,label[,system] header; "
    "ASVspoof 2019 LA (ASVspoof2019.LA.cm.*.txt protocols or the LA root); "
    "ASVspoof 2021 LA/DF (keys/{LA,DF}/CM/trial_metadata.txt or their root); "
    "ASVspoof 5 (ASVspoof5.*.tsv or their folder); "
    "In-the-Wild (meta.csv or its folder); "
    "WaveFake (a root with generated_audio/ and LJSpeech-1.1/ or jsut_ver1.1/); "
    "Fake-or-Real (training/, validation/, testing/ with fake/ and real/)"
)


class DatasetError(Exception):
    """A dataset could not be read or is unusable; the message is one paragraph meant for users."""


@dataclass(frozen=True)
class Row:
    """One labelled clip.

    path: the audio file; label: 1 spoof, 0 bona fide; system: generator (spoof) or corpus
    (bona fide); source: the origin used to group rows for splits; speaker: the speaker when the
    layout names one ("" otherwise), used to group rows when there is no usable source.
    """

    path: Path
    label: int
    system: str
    source: str
    split: str = ""  # "train" or "validation" when the manifest fixes the split (a `split` column)
    speaker: str = ""  # a manifest's `speaker` column, an ASVspoof protocol's first column, In-the-Wild's speaker


# --------------------------------------------------------------------------- helpers


def parse_label(text: str) -> int | None:
    """1 for a spoof word (spoof, fake, synthetic, deepfake, 1), 0 for a bona fide word
    (bonafide, bona-fide, bona_fide, real, genuine, 0), None otherwise.  Case-insensitive."""
    word = text.strip().lower()
    if word in _BONAFIDE_WORDS:
        return BONAFIDE
    if word in _SPOOF_WORDS:
        return SPOOF
    return None


def _listing(problems: Sequence[str]) -> str:
    """The first few problems joined into one sentence, plus a count of the others."""
    shown = "; ".join(problems[:_SHOWN])
    more = len(problems) - _SHOWN
    return shown + (f"; and {more} more" if more > 0 else "")


def _raise_problems(where: Path, problems: Sequence[str], hint: str) -> None:
    if problems:
        raise DatasetError(f"{where}: {len(problems)} line(s) could not be read: {_listing(problems)}. {hint}")


def _hidden(path: Path, root: Path) -> bool:
    """True for dot files and files inside dot folders (macOS '._x.wav' resource forks, .git...)."""
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _audio_files(folder: Path) -> list[Path]:
    """Audio files under ``folder`` (recursive, by extension), sorted; hidden files skipped."""
    return sorted(
        p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS and not _hidden(p, folder) and p.is_file()
    )


def _subdirs(folder: Path) -> list[Path]:
    """Visible sub-folders of ``folder``, sorted.  scandir avoids a stat per entry on big folders."""
    try:
        with os.scandir(folder) as entries:
            return sorted(Path(e.path) for e in entries if not e.name.startswith(".") and e.is_dir())
    except OSError:
        return []


def _child(folder: Path, names: Iterable[str]) -> list[Path]:
    """Sub-folders of ``folder`` whose lower-cased name is one of ``names``."""
    wanted = set(names)
    return [d for d in _subdirs(folder) if d.name.lower() in wanted]


def _read_columns(path: Path) -> list[tuple[int, list[str]]]:
    """(1-based line number, whitespace-split columns) of each non-blank, non-# line."""
    try:
        with path.open(encoding="utf-8") as f:
            return [(i, cols) for i, line in enumerate(f, 1) if (cols := line.split()) and not cols[0].startswith("#")]
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}. Check that the file is a plain-text protocol.") from exc


def _csv_header(path: Path) -> list[str]:
    """Lower-cased, stripped column names of a CSV file's first line ([] if unreadable)."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            first = next(csv.reader(f), [])
    except (OSError, UnicodeDecodeError):
        return []
    return [c.strip().lower() for c in first]


def _is_itw_meta(path: Path) -> bool:
    return {"file", "speaker", "label"} <= set(_csv_header(path))


def _first_row_width(path: Path) -> int:
    """Number of whitespace-separated columns on the first non-blank line (0 if none)."""
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.split():
                    return len(line.split())
    except (OSError, UnicodeDecodeError):
        return 0
    return 0


def _is_header(cols: Sequence[str], key_index: int) -> bool:
    """True for a header line of a whitespace protocol (its key column says KEY or LABEL)."""
    return len(cols) > key_index and cols[key_index].lower() in {"key", "label"}


def _protocol_label(key: str) -> int | None:
    """Label of an ASVspoof KEY column: exactly bonafide or spoof (any case), else None."""
    return {"bonafide": BONAFIDE, "spoof": SPOOF}.get(key.lower())


def _protocol_system(label: int, attack: str) -> str:
    """System of an ASVspoof row: the attack id of a spoof, "bonafide" for bona fide.

    Bona fide rows carry "-" (2019) or "bonafide" (2021, ASVspoof 5) in the attack column.
    """
    if label == BONAFIDE:
        return "bonafide"
    return attack if attack not in {"-", "bonafide"} else "spoof"


def _sort_key(row: Row) -> tuple[str, int, str, str]:
    return (str(row.path), row.label, row.system, row.source)


# --------------------------------------------------------------------------- folder


def _load_folder(root: Path) -> list[Row]:
    """real|bonafide/ and fake|spoof/ trees.  The first sub-folder under fake/ names the system;
    under real/ it names the source (the bona fide system is always "bonafide")."""
    real, fake = _child(root, _REAL_DIRS), _child(root, _FAKE_DIRS)
    if not real or not fake:
        raise DatasetError(
            f"{root} is not a folder dataset: it needs a real/ (or bonafide/) and a fake/ (or spoof/) "
            f"sub-folder, found {', '.join(d.name + '/' for d in _subdirs(root)) or 'no sub-folders'}."
        )
    rows: list[Row] = []
    for label, class_dirs in ((BONAFIDE, real), (SPOOF, fake)):
        for class_dir in class_dirs:
            for f in _audio_files(class_dir):
                parts = f.relative_to(class_dir).parts
                group = parts[0] if len(parts) > 1 else None
                if label == SPOOF:
                    system = group or "spoof"
                    rows.append(Row(f, SPOOF, system, system))
                else:
                    rows.append(Row(f, BONAFIDE, "bonafide", group or "bonafide"))
    return rows


# --------------------------------------------------------------------------- CSV manifests


def _field(record: dict[str | None, str | None], columns: dict[str, str], name: str) -> str:
    """Stripped value of column ``name`` (lower-case) in a DictReader record; "" if absent or empty."""
    return (record.get(columns[name]) or "").strip() if name in columns else ""


def _manifest_in(folder: Path) -> Path:
    """The CSV manifest of a folder: manifest.csv, else the only *.csv there."""
    if (folder / "manifest.csv").is_file():
        return folder / "manifest.csv"
    found = sorted(folder.glob("*.csv"))
    if len(found) == 1:
        return found[0]
    raise DatasetError(
        f"{folder} has {'no' if not found else len(found)} CSV files and no manifest.csv; "
        "pass the manifest file itself as DATA."
    )


def _load_csv(path: Path) -> list[Row]:
    """CSV manifest with header ``path,label[,system][,source_repo,...]``; paths relative to the CSV."""
    if path.is_dir():
        path = _manifest_in(path)
    base = path.parent
    rows: list[Row] = []
    problems: list[str] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:  # -sig: Excel writes a BOM
            reader = csv.DictReader(f)
            columns = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
            if "path" not in columns or "label" not in columns:
                raise DatasetError(
                    f"{path}: a CSV manifest needs a header line with 'path' and 'label' columns "
                    f"(and optionally 'system'), found {', '.join(columns) or 'no header'}."
                )
            for record in reader:
                line = reader.line_num
                rel, raw_label = _field(record, columns, "path"), _field(record, columns, "label")
                label = parse_label(raw_label)
                if not rel:
                    problems.append(f"line {line}: empty path")
                    continue
                if label is None:
                    problems.append(f"line {line}: unknown label {raw_label!r} for {rel}")
                    continue
                system = _field(record, columns, "system") or ("spoof" if label == SPOOF else "bonafide")
                source = _field(record, columns, "source_repo") or _field(record, columns, "source") or system
                split = _field(record, columns, "split").lower()  # used by train only if all are train/validation
                rows.append(Row(base / rel, label, system, source, split, _field(record, columns, "speaker")))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {path}: {exc}. Check that it is a UTF-8 CSV file.") from exc
    _raise_problems(
        path, problems, "Labels must be bonafide/bona-fide/real/genuine/0 or spoof/fake/synthetic/deepfake/1."
    )
    return rows


# --------------------------------------------------------------------------- ASVspoof 2019

_2019_NAME = re.compile(r"ASVspoof2019\.(LA|PA)\.cm\.(train|dev|eval)\.", re.IGNORECASE)
_2019_ID = re.compile(r"^(LA|PA)_([TDE])_")
_PART_OF_LETTER = {"T": "train", "D": "dev", "E": "eval"}


def _find_2019_protocols(folder: Path) -> list[Path]:
    """CM protocols under an ASVspoof 2019 root (``ASVspoof2019_*_cm_protocols/``) or in the folder itself."""
    found: set[Path] = set()
    for proto_dir in [folder, *folder.glob("ASVspoof2019_*_cm_protocols")]:
        found.update(p for p in proto_dir.glob("ASVspoof2019.*.cm.*.txt") if p.is_file())
    return sorted(found)


def _2019_audio_dir(protocol: Path, scenario: str, part: str) -> Path:
    """``ASVspoof2019_<scenario>_<part>/flac`` next to the protocol or one level up (the standard layout).

    If neither exists the standard location is returned anyway, so :func:`validate` names the
    expected paths of the missing files.
    """
    name = f"ASVspoof2019_{scenario.upper()}_{part}"
    candidates = [protocol.parent / name / "flac", protocol.parent.parent / name / "flac"]
    return next((c for c in candidates if c.is_dir()), candidates[-1])


def _parse_2019(protocol: Path, problems: list[str]) -> list[Row]:
    """Rows of one 5-column protocol ``SPEAKER FILE - SYSTEM KEY``; bad lines go to ``problems``."""
    named = _2019_NAME.search(protocol.name)
    audio_dirs: dict[tuple[str, str], Path] = {}
    rows: list[Row] = []
    for line, cols in _read_columns(protocol):
        if _is_header(cols, 4):
            continue
        if len(cols) != 5:
            problems.append(f"{protocol.name} line {line}: expected 5 columns, found {len(cols)}")
            continue
        file_id, attack, key = cols[1], cols[3], cols[4]
        label = _protocol_label(key)
        if label is None:
            problems.append(f"{protocol.name} line {line}: unknown key {key!r} (expected bonafide or spoof)")
            continue
        by_id = _2019_ID.match(file_id)
        if named:
            scenario, part = named.group(1), named.group(2).lower()
        elif by_id:  # protocol renamed: the file id (LA_T_..., LA_D_..., LA_E_...) still tells the part
            scenario, part = by_id.group(1), _PART_OF_LETTER[by_id.group(2)]
        else:
            problems.append(f"{protocol.name} line {line}: cannot tell train/dev/eval for {file_id}")
            continue
        audio = audio_dirs.setdefault((scenario, part), _2019_audio_dir(protocol, scenario, part))
        system = _protocol_system(label, attack)
        rows.append(Row(audio / f"{file_id}.flac", label, system, system, speaker=cols[0]))
    return rows


def _load_asvspoof2019(path: Path) -> list[Row]:
    protocols = [path] if path.is_file() else _find_2019_protocols(path)
    if not protocols:
        raise DatasetError(
            f"no ASVspoof 2019 CM protocol (ASVspoof2019.LA.cm.*.txt) in {path} "
            "or its ASVspoof2019_LA_cm_protocols/ folder."
        )
    problems: list[str] = []
    rows = [row for protocol in protocols for row in _parse_2019(protocol, problems)]
    _raise_problems(path, problems, "An ASVspoof 2019 CM protocol line reads: SPEAKER FILE - SYSTEM KEY.")
    return rows


# --------------------------------------------------------------------------- ASVspoof 2021


def _find_2021_keys(folder: Path) -> list[Path]:
    """``trial_metadata.txt`` of the CM keys, from the root, keys/, keys/<track>/ or CM/ folder."""
    patterns = (
        "keys/*/CM/trial_metadata.txt",
        "*/CM/trial_metadata.txt",
        "CM/trial_metadata.txt",
        "trial_metadata.txt",
    )
    return sorted({p for pattern in patterns for p in folder.glob(pattern) if p.is_file()})


def _2021_audio_dir(keys_file: Path, track: str) -> Path:
    """``ASVspoof2021_<track>_eval/flac`` in a folder above the keys file (nearest first).

    Falls back to any ``ASVspoof2021_*<track>*/flac``, then to the standard location
    ``<root>/ASVspoof2021_<track>_eval/flac`` (root = the folder holding keys/) for :func:`validate`.
    """
    ancestors = list(keys_file.parents)[:5]
    for folder in ancestors:
        exact = folder / f"ASVspoof2021_{track}_eval" / "flac"
        if exact.is_dir():
            return exact
    for folder in ancestors:
        loose = sorted(d for d in folder.glob(f"ASVspoof2021_*{track}*/flac") if d.is_dir())
        if loose:
            return loose[0]
    root = keys_file.parents[3] if len(keys_file.parents) > 3 else keys_file.parent
    return root / f"ASVspoof2021_{track}_eval" / "flac"


def _parse_2021(keys_file: Path, problems: list[str]) -> list[Row]:
    """Rows of one trial_metadata.txt: key in column 6, attack in column 5 (1-based).

    The track (LA or DF) comes from the file id prefix (LA_E_..., DF_E_...).
    """
    audio_dirs: dict[str, Path] = {}
    rows: list[Row] = []
    for line, cols in _read_columns(keys_file):
        if _is_header(cols, 5):
            continue
        if len(cols) < 8:
            problems.append(f"{keys_file.name} line {line}: expected at least 8 columns, found {len(cols)}")
            continue
        file_id, attack, key = cols[1], cols[4], cols[5]
        label = _protocol_label(key)
        if label is None:
            problems.append(f"{keys_file.name} line {line}: unknown key {key!r} (expected bonafide or spoof)")
            continue
        track = file_id.split("_", 1)[0].upper()
        audio = audio_dirs.setdefault(track, _2021_audio_dir(keys_file, track))
        system = _protocol_system(label, attack)
        rows.append(Row(audio / f"{file_id}.flac", label, system, system, speaker=cols[0]))
    return rows


def _load_asvspoof2021(path: Path) -> list[Row]:
    keys = [path] if path.is_file() else _find_2021_keys(path)
    if not keys:
        raise DatasetError(f"no ASVspoof 2021 keys (keys/LA/CM/trial_metadata.txt or keys/DF/...) under {path}.")
    problems: list[str] = []
    rows = [row for keys_file in keys for row in _parse_2021(keys_file, problems)]
    _raise_problems(
        path, problems, "An ASVspoof 2021 LA/DF key line reads: SPEAKER FILE CODEC TRANSMISSION ATTACK KEY TRIM SUBSET."
    )
    return rows


# --------------------------------------------------------------------------- ASVspoof 5


def _find_asvspoof5_protocols(folder: Path) -> list[Path]:
    """Track 1 protocols ``ASVspoof5*.tsv`` in ``folder``; track 2 (SASV) lists have other columns."""
    return sorted(p for p in folder.glob("ASVspoof5*.tsv") if p.is_file() and "track_2" not in p.name.lower())


def _asvspoof5_audio_dir(protocol: Path, first_id: str) -> Path:
    """The ``flac*`` folder holding ``<first_id>.flac``: beside the protocol or one level down
    (``ASVspoof5_train/flac_T``).  If none holds it, the folder named after the id prefix
    (T -> flac_T, D -> flac_D, E -> flac_E*), else ``<protocol dir>/flac_<prefix>`` for validate."""
    base = protocol.parent

    def is_flac(d: Path) -> bool:
        return d.name.lower().startswith("flac")

    # Listed folder by folder, so a flac folder of 100k+ files is never listed itself.
    direct = [d for d in _subdirs(base) if is_flac(d)]
    nested = [dd for d in _subdirs(base) if not is_flac(d) for dd in _subdirs(d) if is_flac(dd)]
    candidates = direct + nested
    for d in candidates:
        if (d / f"{first_id}.flac").is_file():
            return d
    prefix = first_id.split("_", 1)[0]
    named = [d for d in candidates if d.name.lower().startswith(f"flac_{prefix.lower()}")]
    return named[0] if named else base / f"flac_{prefix}"


def _parse_asvspoof5(protocol: Path, problems: list[str]) -> list[Row]:
    """Rows of one 10-column ASVspoof 5 protocol: key in column 9, attack label in column 8 (1-based)."""
    audio_dirs: dict[str, Path] = {}
    rows: list[Row] = []
    for line, cols in _read_columns(protocol):
        if _is_header(cols, 8):
            continue
        if len(cols) != 10:
            problems.append(f"{protocol.name} line {line}: expected 10 columns, found {len(cols)}")
            continue
        file_id, attack, key = cols[1], cols[7], cols[8]
        label = _protocol_label(key)
        if label is None:
            problems.append(f"{protocol.name} line {line}: unknown key {key!r} (expected bonafide or spoof)")
            continue
        prefix = file_id.split("_", 1)[0]
        audio = audio_dirs.setdefault(prefix, _asvspoof5_audio_dir(protocol, file_id))
        system = _protocol_system(label, attack)
        rows.append(Row(audio / f"{file_id}.flac", label, system, system, speaker=cols[0]))
    return rows


def _load_asvspoof5(path: Path) -> list[Row]:
    protocols = [path] if path.is_file() else _find_asvspoof5_protocols(path)
    if not protocols:
        raise DatasetError(f"no ASVspoof 5 protocol (ASVspoof5.*.tsv) in {path}.")
    problems: list[str] = []
    rows = [row for protocol in protocols for row in _parse_asvspoof5(protocol, problems)]
    _raise_problems(
        path,
        problems,
        "An ASVspoof 5 protocol line reads: SPEAKER FILE GENDER CODEC CODEC_Q CODEC_SEED ATTACK_TAG ATTACK_LABEL KEY -",
    )
    return rows


# --------------------------------------------------------------------------- In-the-Wild


def _load_itw(path: Path) -> list[Row]:
    """In-the-Wild ``meta.csv`` (``file,speaker,label``), audio beside it; the speaker is the source."""
    meta = path / "meta.csv" if path.is_dir() else path
    if not meta.is_file() or not _is_itw_meta(meta):
        raise DatasetError(f"{meta} is not an In-the-Wild meta.csv: it needs a file,speaker,label header.")
    rows: list[Row] = []
    problems: list[str] = []
    try:
        with meta.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = {name.strip().lower(): name for name in reader.fieldnames or [] if name}
            for record in reader:
                name, speaker = _field(record, columns, "file"), _field(record, columns, "speaker")
                raw_label = _field(record, columns, "label")
                label = parse_label(raw_label)
                if not name or label is None:
                    problems.append(f"line {reader.line_num}: unknown label {raw_label!r} or empty file name")
                    continue
                system = "itw-spoof" if label == SPOOF else "itw-bonafide"
                rows.append(Row(meta.parent / name, label, system, speaker or system, speaker=speaker))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read {meta}: {exc}.") from exc
    _raise_problems(meta, problems, "In-the-Wild labels are bona-fide or spoof.")
    return rows


# --------------------------------------------------------------------------- WaveFake

# Real side of WaveFake: (system name, folder relative to a corpus root).
_WAVEFAKE_REAL = (("ljspeech", ("LJSpeech-1.1", "wavs")), ("jsut", ("jsut_ver1.1", "basic5000", "wav")))


def _load_wavefake(path: Path) -> list[Row]:
    """``generated_audio/<generator>/`` (system = generator folder) plus LJSpeech and/or JSUT,
    looked for in the root and in its direct sub-folders."""
    root = path.parent if path.name == "generated_audio" else path
    generated = root / "generated_audio"
    if not generated.is_dir():
        raise DatasetError(f"{root} is not a WaveFake root: it has no generated_audio/ folder.")
    rows = [Row(f, SPOOF, d.name, d.name) for d in _subdirs(generated) for f in _audio_files(d)]
    real_dirs: dict[Path, str] = {}
    for base in [root, *(d for d in _subdirs(root) if d != generated)]:
        for system, rel in _WAVEFAKE_REAL:
            candidate = base.joinpath(*rel)
            if candidate.is_dir():
                real_dirs.setdefault(candidate, system)
    if not real_dirs:
        raise DatasetError(
            f"WaveFake at {root}: no bona fide side found. Put LJSpeech-1.1/wavs/ and/or "
            "jsut_ver1.1/basic5000/wav/ in that folder (or one of its sub-folders) next to generated_audio/."
        )
    rows += [Row(f, BONAFIDE, system, system) for d, system in real_dirs.items() for f in _audio_files(d)]
    return rows


# --------------------------------------------------------------------------- Fake-or-Real


def _has_fake_real(folder: Path) -> bool:
    return (folder / "fake").is_dir() and (folder / "real").is_dir()


def _for_split_dirs(root: Path) -> list[Path]:
    """Split folders of a Fake-or-Real tree: ``root`` itself if it is one split, else the
    training/validation/testing folders found in ``root`` or up to two folders down
    (e.g. ``for-2sec/for-2seconds/``).  Two versions in one tree are an error: they hold the
    same recordings processed differently, and mixing them would leak between splits."""
    if root.name.lower() in _FOR_SPLITS and _has_fake_real(root):
        return [root]
    skip = {*_FOR_SPLITS, *_REAL_DIRS, *_FAKE_DIRS}
    hits: dict[Path, list[Path]] = {}
    level = [root]
    for depth in range(3):
        below: list[Path] = []
        for base in level:
            splits = [base / s for s in _FOR_SPLITS if _has_fake_real(base / s)]
            if splits:
                hits[base] = splits  # a version: do not look inside it for more
            elif depth < 2:
                below += [d for d in _subdirs(base) if d.name.lower() not in skip]
        level = below
    if len(hits) > 1:
        names = ", ".join(str(base.relative_to(root)) for base in hits)
        raise DatasetError(f"{root} holds several Fake-or-Real versions ({names}); point DATA at one of them.")
    return next(iter(hits.values()), [])


def _load_for(path: Path) -> list[Row]:
    """Fake-or-Real: every split found (or the one DATA points at); fake/ -> spoof, real/ -> bona fide."""
    splits = _for_split_dirs(path)
    if not splits and _has_fake_real(path):  # fmt="for" on a folder that is one split under another name
        splits = [path]
    if not splits:
        raise DatasetError(
            f"{path} is not a Fake-or-Real tree: no training/, validation/ or testing/ with fake/ and real/."
        )
    rows: list[Row] = []
    for split in splits:
        rows += [Row(f, SPOOF, "for-spoof", "for-spoof") for f in _audio_files(split / "fake")]
        rows += [Row(f, BONAFIDE, "for-bonafide", "for-bonafide") for f in _audio_files(split / "real")]
    return rows


# --------------------------------------------------------------------------- detection and entry points

_LOADERS: dict[str, Callable[[Path], list[Row]]] = {
    "folder": _load_folder,
    "csv": _load_csv,
    "asvspoof2019": _load_asvspoof2019,
    "asvspoof2021": _load_asvspoof2021,
    "asvspoof5": _load_asvspoof5,
    "itw": _load_itw,
    "wavefake": _load_wavefake,
    "for": _load_for,
}


def _detect_file(path: Path) -> str | None:
    name, suffix = path.name.lower(), path.suffix.lower()
    if suffix == ".csv":
        return "itw" if name == "meta.csv" and _is_itw_meta(path) else "csv"
    if suffix == ".tsv" and name.startswith("asvspoof5"):
        return "asvspoof5"
    if suffix == ".txt":
        width = _first_row_width(path)
        if width == 5:
            return "asvspoof2019"
        if width >= 8 and name == "trial_metadata.txt":
            return "asvspoof2021"
    return None


def _detect_dir(path: Path) -> str | None:
    """Layout of a folder.  Checks run cheapest and most specific first; the Fake-or-Real scan,
    which lists sub-folders, comes after the ASVspoof checks so it never lists a huge flac folder."""
    if (path / "meta.csv").is_file() and _is_itw_meta(path / "meta.csv"):
        return "itw"
    if (path / "generated_audio").is_dir() or path.name == "generated_audio":
        return "wavefake"
    if path.name.lower() in _FOR_SPLITS and _has_fake_real(path):
        return "for"
    if _find_2021_keys(path):
        return "asvspoof2021"
    if _find_2019_protocols(path):
        return "asvspoof2019"
    if _find_asvspoof5_protocols(path):
        return "asvspoof5"
    # A manifest beats the folder layout: it carries systems and sources (e.g. ../shared/corpus).
    if (path / "manifest.csv").is_file():
        return "csv"
    if _child(path, _REAL_DIRS) and _child(path, _FAKE_DIRS):
        return "folder"
    if _for_split_dirs(path):
        return "for"
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name of the layout of ``path`` (one of ``FORMATS``); DatasetError if it is none of them."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p} does not exist. Give a dataset folder, a CSV manifest or a protocol file.")
    fmt = _detect_file(p) if p.is_file() else _detect_dir(p)
    if fmt is None:
        raise DatasetError(
            f"cannot tell the dataset layout of {p}. Supported: {_LAYOUTS}. "
            f"Name the layout with the format option ({', '.join(FORMATS)}) if detection guessed wrong."
        )
    return fmt


def load_dataset(path: str | os.PathLike[str], fmt: str | None = None) -> list[Row]:
    """Rows of the dataset at ``path`` in layout ``fmt`` (detected when None), sorted by path.

    Parses only: labels and line formats are checked here, audio files are not (see :func:`validate`).
    Relative paths in manifests and protocols are resolved against the manifest's folder, and
    ``path`` is made absolute, so rows do not depend on the working directory.
    """
    p = Path(path).expanduser().absolute()
    if fmt is not None and fmt not in FORMATS:
        raise DatasetError(f"unknown dataset format {fmt!r}; choose one of {', '.join(FORMATS)}.")
    if not p.exists():
        raise DatasetError(f"{p} does not exist. Give a dataset folder, a CSV manifest or a protocol file.")
    layout = fmt or detect_format(p)
    rows = _LOADERS[layout](p)
    if not rows:
        raise DatasetError(f"no labelled audio found in {p} (read as {layout}).")
    return sorted(rows, key=_sort_key)


def validate(rows: Sequence[Row], check_files: bool = True) -> None:
    """Raise DatasetError if the rows cannot be used for training or evaluation.

    Checks, in order: not empty; every label is 0 or 1; (if ``check_files``) every path is an
    existing file; both classes present.  Messages quote up to 5 offending rows by 1-based
    position in ``rows`` and path.
    """
    if not rows:
        raise DatasetError("the dataset is empty: no labelled audio files were found.")
    bad = [f"row {i}: label {r.label!r} ({r.path})" for i, r in enumerate(rows, 1) if r.label not in (0, 1)]
    if bad:
        raise DatasetError(f"{len(bad)} row(s) have a label other than 0 (bona fide) or 1 (spoof): {_listing(bad)}.")
    if check_files:
        missing = [f"row {i}: {r.path}" for i, r in enumerate(rows, 1) if not r.path.is_file()]
        if missing:
            raise DatasetError(
                f"{len(missing)} of {len(rows)} audio files are missing: {_listing(missing)}. "
                "Check the dataset root and that the audio was fully extracted."
            )
    labels = {r.label for r in rows}
    if len(labels) < 2:
        only = "bona fide (label 0)" if labels == {0} else "spoof (label 1)"
        example = "; ".join(f"row {i}: {r.path}" for i, r in enumerate(rows[:_SHOWN], 1))
        raise DatasetError(
            f"all {len(rows)} rows are {only}, e.g. {example}. "
            "Training and EER-based evaluation need both bona fide and spoof audio."
        )
