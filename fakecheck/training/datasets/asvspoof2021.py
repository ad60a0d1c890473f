"""The `asvspoof2021` layout: ASVspoof 2021 LA/DF keys `keys/{LA,DF}/CM/trial_metadata.txt`."""

from __future__ import annotations

from pathlib import Path

from fakecheck.training.datasets.rows import (
    DatasetError,
    Row,
    _is_header,
    _protocol_label,
    _protocol_system,
    _raise_problems,
    _read_columns,
)

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
