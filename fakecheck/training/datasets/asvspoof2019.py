"""The `asvspoof2019` layout: ASVspoof 2019 LA/PA CM protocols `SPEAKER FILE - SYSTEM KEY`."""

from __future__ import annotations

from pathlib import Path

from fakecheck.training.datasets.rows import (
    _2019_ID,
    _2019_NAME,
    DatasetError,
    Row,
    _is_header,
    _protocol_label,
    _protocol_system,
    _raise_problems,
    _read_columns,
)

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
