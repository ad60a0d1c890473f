"""The `asvspoof5` layout: ASVspoof 5 protocols `ASVspoof5.*.tsv`."""

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
    _subdirs,
)

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
