"""How often do the P(fake) timeline, attention rollout and occlusion point at a spliced-in fake?

    python benchmarks/splice_faithfulness.py [--model M] [--splices 30]

Each trial: 8 s of real speech + a 4-6 s synthetic segment + 8 s of real speech,
all from the model's validation sources (never training data).  Two kinds of fake:
  corpus  a spoofed clip of a generator held out from training;
  gl      Griffin-Lim resynthesis of another real clip (a vocoder the model knows).
Per trial we record: does the most suspicious window overlap the splice by half
or more (timeline hit), and which share of the top-decile attention mass lies in
the splice, for rollout and for occlusion.  Chance for the attention share is the
splice's share of the clip's length (about 25%).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from fakecheck import audio, datasets
from fakecheck.explain import explain_file
from fakecheck.inference import Detector

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "manifest.csv"
SR = audio.SAMPLE_RATE


def griffin_lim(x: np.ndarray) -> np.ndarray:
    import librosa

    mag = np.abs(librosa.stft(x, n_fft=512, hop_length=128))
    return librosa.griffinlim(mag, n_iter=32, hop_length=128, random_state=0, length=len(x)).astype(np.float32)


def fill(x: np.ndarray, seconds: float) -> np.ndarray:
    return np.tile(x, int(np.ceil(seconds * SR / len(x))))[: int(seconds * SR)]


def top_decile_share(att: np.ndarray, token_s: float, lo: float, hi: float) -> float:
    order = np.argsort(-att)[: max(1, len(att) // 10)]
    t = order * token_s
    return float(att[order][(t >= lo) & (t < hi)].sum() / max(att[order].sum(), 1e-12))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--splices", type=int, default=30, help="trials per kind of fake")
    args = ap.parse_args()
    det = Detector.load(args.model)
    held_out = set(det.checkpoint.provenance.get("val_sources", []))
    rows = [r for r in datasets.load_dataset(CORPUS) if r.source in held_out]
    real = [r for r in rows if r.label == 0]
    spoof = [r for r in rows if r.label == 1]
    rng = np.random.default_rng(0)
    stats: dict[str, dict[str, list[float]]] = {}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("corpus", "gl"):
            s = stats.setdefault(kind, {"hit": [], "rollout": [], "occlusion": [], "p_fake": []})
            for k in range(args.splices):
                picks = rng.choice(len(real), 3, replace=False)
                a, b, c = (audio.trim_silence(audio.load(real[i].path)) for i in picks)
                src = audio.load(spoof[rng.integers(len(spoof))].path) if kind == "corpus" else griffin_lim(c)
                fake = fill(audio.trim_silence(src) if kind == "corpus" else src, float(rng.uniform(4, 6)))
                x = np.concatenate([fill(a, 8), fake, fill(b, 8)])
                lo, hi = 8.0, 8.0 + len(fake) / SR
                path = Path(tmp) / f"{kind}{k}.wav"
                sf.write(path, x, SR)
                ro = explain_file(det, path, "rollout")
                oc = explain_file(det, path, "occlusion")
                peak = max(ro.verdict.windows, key=lambda w: w.p_fake)
                s["hit"].append(float(min(peak.end_s, hi) - max(peak.start_s, lo) >= 0.5 * (peak.end_s - peak.start_s)))
                s["rollout"].append(top_decile_share(ro.attention, ro.token_seconds, lo, hi))
                s["occlusion"].append(top_decile_share(oc.attention, oc.token_seconds, lo, hi))
                s["p_fake"].append(ro.verdict.p_fake or 0.0)
    print(f"{'fake kind':10s} {'trials':>6s} {'timeline hit':>13s} {'rollout share':>14s} {'occlusion share':>16s}"
          f" {'rollout>50%':>12s} {'occl>50%':>9s}")
    result = {}
    for kind, s in stats.items():
        r = {"trials": len(s["hit"]), "timeline_hit": float(np.mean(s["hit"])),
             "rollout_share": float(np.mean(s["rollout"])), "occlusion_share": float(np.mean(s["occlusion"])),
             "rollout_majority": float(np.mean(np.array(s["rollout"]) > 0.5)),
             "occlusion_majority": float(np.mean(np.array(s["occlusion"]) > 0.5)),
             "mean_clip_p_fake": float(np.mean(s["p_fake"]))}
        result[kind] = r
        print(f"{kind:10s} {r['trials']:6d} {r['timeline_hit']:13.0%} {r['rollout_share']:14.0%} "
              f"{r['occlusion_share']:16.0%} {r['rollout_majority']:12.0%} {r['occlusion_majority']:9.0%}")
    print(f"chance share ~ {5 / 21:.0%}; {time.time() - t0:.0f} s")
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
