"""The `wavefake` layout: WaveFake `generated_audio/<generator>/` with LJSpeech and/or JSUT as the real side."""

from __future__ import annotations

from pathlib import Path

from fakecheck.evaluation.labels import BONAFIDE, SPOOF
from fakecheck.training.datasets.rows import DatasetError, Row, _audio_files, _subdirs

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
