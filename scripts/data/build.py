#!/usr/bin/env python3
"""Rebuild the default model's training data in one command (see docs/data.md).

    python scripts/data/build.py [--root DATA] [--mirror MIRROR] [--shared ../shared] [--only STEP ...]

Steps, in order; each writes ROOT/.done/STEP when it finishes without skipping anything and is
skipped after that (select and combine always run again), and every tool it calls skips files
that already exist, so an interrupted build resumes:

    corpus      link ../shared/corpus into ROOT/corpus
    more        build corpus-more/*.csv from the fetched repositories (tools/build_corpus.py)
    (the steps from select to fargan run only with --with-generated; the default model does not use them)
    select      choose the bona fide clips to resynthesise (training split; FARGAN: validation split)
    piper       Piper VITS, every voice, varied speed and noise           (validation family)
    kokoro      Kokoro-82M, every voice plus blends, varied speed          (training)
    classic     espeak-ng, MBROLA, flite, festival, pico, RHVoice, FreeTTS, SAM (training)
    resynth     WORLD, WORLD-MGC, Griffin-Lim, LPC and MLSA copy-synthesis (training)
    lyra        Lyra v2 neural codec at 3.2 and 9.2 kbit/s                 (training)
    fargan      FARGAN neural vocoder (Opus 1.5.2)                          (validation family)
    combine     one manifest with the committed split: ROOT/training-manifest.csv

A step whose tool is missing is skipped with its reason (and the build goes on); `scripts/data/setup.sh`
installs every tool.  Generated audio stays under ROOT, outside the repository.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import manifest as M  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
STEPS = ["corpus", "more", "select", "piper", "kokoro", "classic", "resynth", "lyra", "fargan", "combine"]
# Detector v3 trains on real recordings and demo-page fakes only: the generated DSP and classic-TTS
# fakes taught an easy definition of "fake" that made every neural family worse (issue 18, docs/
# experiments.md).  They are built only with --with-generated, and only then enter the manifest.
GENERATED_STEPS = {"select", "piper", "kokoro", "classic", "resynth", "lyra", "fargan"}
MIN_SECONDS = 1.0  # generated clips shorter than this are dropped (as in the corpus)
RESYNTH_PER_SOURCE = 6  # training bona fide clips per source fed to each DSP vocoder group
RESYNTH_VOCODERS = ["world", "world_mgc", "griffinlim", "lpc", "mlsa"]
LYRA_BITRATES = [3200, 9200]
FARGAN_PER_SOURCE = 25  # validation bona fide clips per source for FARGAN
# Lines of tools/sentences.txt per engine: disjoint slices, so engines do not share text.
TEXT_SLICES = {"piper": (0, 150), "kokoro": (150, 168), "classic": (168, 198)}
KOKORO_BLENDS = 3
# Cheap steps that depend on everything before them: always redone, so that a step finished in a later
# run (a tool installed, a repository fetched) reaches the selection and the combined manifest.
ALWAYS_RERUN = {"select", "combine"}
# Codec2 and the phase vocoder are left out on purpose: a traditional codec or a DSP round trip is
# not a deepfake, and calling it spoof would teach "band-limited or coded = fake" (docs/decisions.md).


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def stable_hash(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "little")


class Build:
    def __init__(self, root: Path, mirror: Path, shared: Path, tts_python: Path):
        self.root, self.mirror, self.shared, self.tts_python = root, mirror, shared, tts_python
        self.tools = shared / "tools"
        self.skipped: list[str] = []
        self.with_generated = False  # main() sets it from --with-generated
        (root / ".done").mkdir(parents=True, exist_ok=True)

    # -- bookkeeping
    def done(self, step: str) -> bool:
        return (self.root / ".done" / step).exists()

    def mark(self, step: str, info: dict[str, object]) -> None:
        (self.root / ".done" / step).write_text(json.dumps(info) + "\n")

    def skip(self, step: str, why: str) -> None:
        self.skipped.append(f"{step}: {why}")
        log(f"SKIP {step}: {why}")

    def run(self, cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
        log("run: " + " ".join(map(str, cmd))[:300])
        return subprocess.run([str(c) for c in cmd], text=True, **kw)  # type: ignore[call-overload]

    # -- steps
    def corpus(self) -> dict[str, object]:
        link = self.root / "corpus"
        if not link.exists():
            link.symlink_to((self.shared / "corpus").resolve())
        return {"clips": len(M.read_csv(str(link / "manifest.csv")))}

    def more(self) -> dict[str, object]:
        manifests = sorted((self.shared / "corpus-more").glob("*.csv"))
        repos = self.run([sys.executable, self.tools / "build_corpus.py", "--list-repos", *manifests],
                         capture_output=True, check=True).stdout.split()
        missing = [r for r in repos if not (self.mirror / r.replace("/", "+")).exists()]
        if missing:
            self.skip("more", f"{len(missing)} repositories not fetched (their rows are left out): "
                      + " ".join(missing))
        self.run([sys.executable, self.tools / "build_corpus.py", self.mirror, self.root / "more", *manifests,
                  "--jobs", "2"], check=True)
        return {"clips": len(M.read_csv(str(self.root / "more" / "manifest.csv"))), "missing_repos": missing}

    def base_clips(self) -> list[M.Clip]:
        clips = [M.clip_from_manifest_row(r, "corpus", "corpus")
                 for r in M.read_csv(str(self.root / "corpus" / "manifest.csv"))]
        more = self.root / "more" / "manifest.csv"
        if more.exists():
            clips += [M.clip_from_manifest_row(r, "more", "more") for r in M.read_csv(str(more))]
        return clips

    def select(self) -> dict[str, object]:
        """Link chosen bona fide clips into ROOT/gen/src/<group>/ (the vocoders walk folders)."""
        split = M.assign_splits(self.base_clips()).clips
        bona = [c for c in split if c.label == "bonafide" and c.duration_s >= 1.5]
        groups: dict[str, list[M.Clip]] = {}
        by_source: dict[tuple[str, str], list[M.Clip]] = {}
        for c in bona:
            by_source.setdefault((c.split, c.source), []).append(c)
        for (side, _source), cs in sorted(by_source.items()):
            cs = sorted(cs, key=lambda c: stable_hash("select", c.path))
            if side == M.TRAIN:
                per = RESYNTH_PER_SOURCE
                names = RESYNTH_VOCODERS + ["lyra"]
                for k, name in enumerate(names):  # disjoint clips per vocoder group
                    groups.setdefault(name, []).extend(cs[k * per:(k + 1) * per])
            else:
                groups.setdefault("fargan", []).extend(cs[:FARGAN_PER_SOURCE])
        index = []
        for name, cs in groups.items():
            for c in cs:
                dst = self.root / "gen" / "src" / name / c.path
                dst.parent.mkdir(parents=True, exist_ok=True)
                if not dst.is_symlink():
                    dst.symlink_to((self.root / c.path).resolve())
                index.append({"group": name, "path": c.path, "source": c.source, "speaker": c.speaker,
                              "language": c.language})
        with open(self.root / "gen" / "src" / "index.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["group", "path", "source", "speaker", "language"])
            w.writeheader()
            w.writerows(index)
        return {"clips": sum(len(cs) for cs in groups.values()),  # bona fide clips chosen as sources
                "per_group": {name: len(cs) for name, cs in groups.items()}}

    def _text(self, engine: str) -> Path:
        lo, hi = TEXT_SLICES[engine]
        lines = [s for s in (self.tools / "sentences.txt").read_text(encoding="utf-8").splitlines() if s.strip()]
        out = self.root / "gen" / "text" / f"{engine}.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(lines[lo:hi]) + "\n", encoding="utf-8")
        return out

    def _neural(self, engine: str, extra: list[str]) -> dict[str, object] | None:
        if not self.tts_python.exists():
            self.skip(engine, f"no TTS environment at {self.tts_python} (run scripts/data/setup.sh)")
            return None
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "KOKORO_JA_CACHE": str(self.root / "gen" / "kokoro_cache")}
        out = self.root / "gen" / engine
        p = self.run([self.tts_python, self.tools / "neural_tts_pypi" / "generate.py", self._text(engine), out,
                      "--engines", engine, "--all-voices", "--sr", "16000", "--trim", "--seed", "0", *extra],
                     env=env)
        if p.returncode != 0 or not (out / "metadata.csv").exists():
            self.skip(engine, f"generate.py exited {p.returncode}")
            return None
        return {"clips": len(M.read_csv(str(out / "metadata.csv")))}

    def piper(self) -> dict[str, object] | None:
        return self._neural("piper", [])

    def kokoro(self) -> dict[str, object] | None:
        return self._neural("kokoro", ["--kokoro-blends", str(KOKORO_BLENDS)])

    def _make_fakes(self, args: list[str], out: Path) -> int:
        if not shutil.which("espeak-ng") and "--text-file" in args:
            self.skip("classic", "espeak-ng and the other engines are not installed (run scripts/data/setup.sh)")
        p = self.run([sys.executable, self.tools / "make_fakes.py", *args, "--out", out, "--seed", "0",
                      "--workers", "2"])
        return p.returncode

    def classic(self) -> dict[str, object]:
        out = self.root / "gen" / "classic"
        rc = self._make_fakes(["--text-file", str(self._text("classic")), "--jitter"], out)
        if rc:
            self.skip("classic", f"make_fakes.py exited {rc}")
        return {"clips": count_rows(out / "manifest.csv"), **({"exit_code": rc} if rc else {})}

    def resynth(self) -> dict[str, object]:
        try:
            import pyworld  # noqa: F401
        except Exception as exc:  # pyworld needs pkg_resources: setuptools<81
            self.skip("resynth", f"world, world_mgc and lpc need pyworld ({exc})")
        rcs = {}
        for name in RESYNTH_VOCODERS:
            rcs[name] = self._make_fakes(["--resynth", str(self.root / "gen" / "src" / name),
                                          "--systems", f"^{name}$"], self.root / "gen" / "resynth")
            if rcs[name]:
                self.skip("resynth", f"make_fakes.py exited {rcs[name]} for {name}")
        made = self.root / "gen" / "resynth" / "manifest.csv"
        per = dict.fromkeys(RESYNTH_VOCODERS, 0)
        for r in M.read_csv(str(made)) if made.exists() else []:
            per[r["system"]] = per.get(r["system"], 0) + 1
        failed = {name: rc for name, rc in rcs.items() if rc}
        return {"clips": sum(per.values()), "per_vocoder": per, **({"exit_codes": failed} if failed else {})}

    def lyra(self) -> dict[str, object] | None:
        try:
            import ai_edge_litert  # noqa: F401
        except ImportError:
            self.skip("lyra", "ai-edge-litert is not installed (run scripts/data/setup.sh)")
            return None
        src = self.root / "gen" / "src" / "lyra"
        n = 0
        for i, f in enumerate(sorted(src.rglob("*.flac"))):
            rate = LYRA_BITRATES[i % len(LYRA_BITRATES)]
            dst = self.root / "gen" / "lyra" / f"lyra{rate}" / f.relative_to(src)
            if dst.exists():
                n += 1
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            tmp = dst.with_suffix(".part.wav")
            p = subprocess.run([sys.executable, self.tools / "neural" / "lyra_resynth.py",
                                self.tools / "neural" / "lyra_v2", f, tmp, str(rate)], capture_output=True, text=True)
            if p.returncode == 0:
                convert_to_flac(tmp, dst)
                n += 1
            else:
                self.skip("lyra", f"failed on {f}: {p.stderr.strip()[-200:]}")
        return {"clips": n}

    def fargan(self) -> dict[str, object] | None:
        binary = self.root / "tools" / "opus-1.5.2" / "fargan_demo"
        if not binary.exists():
            p = self.run(["bash", REPO / "scripts" / "data" / "build_fargan.sh", self.root / "tools"])
            if p.returncode != 0 or not binary.exists():
                self.skip("fargan", "could not build fargan_demo from the Opus 1.5.2 source (see log)")
                return None
        src = self.root / "gen" / "src" / "fargan"
        n = 0
        tmpd = self.root / "gen" / "fargan_tmp"
        tmpd.mkdir(parents=True, exist_ok=True)
        import numpy as np
        import soundfile as sf

        for f in sorted(src.rglob("*.flac")):
            dst = self.root / "gen" / "fargan" / f.relative_to(src)
            if dst.exists():
                n += 1
                continue
            x, sr = sf.read(f, dtype="int16")
            (tmpd / "in.pcm").write_bytes(x.tobytes())
            (tmpd / "out.pcm").unlink(missing_ok=True)  # never store the previous clip's audio
            ok = (subprocess.run([binary, "-features", tmpd / "in.pcm", tmpd / "feat.f32"], capture_output=True)
                  .returncode == 0 and
                  subprocess.run([binary, "-fargan-synthesis", tmpd / "feat.f32", tmpd / "out.pcm"],
                                 capture_output=True).returncode == 0)
            if not ok:
                self.skip("fargan", f"failed on {f}")
                continue
            y = np.frombuffer((tmpd / "out.pcm").read_bytes(), dtype="<i2")
            dst.parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(dst) + ".part", y, 16000, subtype="PCM_16", format="FLAC")
            os.replace(str(dst) + ".part", dst)
            n += 1
        return {"clips": n}

    # -- the combined manifest
    def generated_clips(self) -> list[M.Clip]:
        index = {}
        idx = self.root / "gen" / "src" / "index.csv"
        if idx.exists():
            index = {r["path"]: r for r in M.read_csv(str(idx))}
        clips: list[M.Clip] = []
        for engine in ("piper", "kokoro"):
            meta = self.root / "gen" / engine / "metadata.csv"
            for r in M.read_csv(str(meta)) if meta.exists() else []:
                rel = os.path.relpath(r["path"], self.root)
                clips.append(M.Clip(rel, "spoof", engine, f"local:{engine}", r["speaker"], "en",
                                    float(r["duration_s"]), origin=engine))
        classic = self.root / "gen" / "classic" / "manifest.csv"
        for r in M.read_csv(str(classic)) if classic.exists() else []:
            rel = f"gen/classic/{r['path']}"
            system = M.normalise_system(r["system"])
            clips.append(M.Clip(rel, "spoof", system, f"local:{r['system'].split('_')[0]}", r["system"], "en",
                                duration_of(self.root / rel), origin="classic"))
        resynth = self.root / "gen" / "resynth" / "manifest.csv"
        for r in M.read_csv(str(resynth)) if resynth.exists() else []:
            rel = f"gen/resynth/{r['path']}"
            # make_fakes.py names the source relative to the group folder, i.e. the clip's own path
            src = index.get(os.path.relpath(r["source_path"], self.root / "gen" / "src" / r["system"]), {})
            clips.append(M.Clip(rel, "spoof", f"resynth-{r['system']}", src.get("source", "local:resynth"),
                                src.get("speaker", ""), src.get("language", "en"), duration_of(self.root / rel),
                                origin="resynth"))
        for tool in ("lyra", "fargan"):
            base = self.root / "gen" / tool
            for f in sorted(base.rglob("*.flac")) if base.exists() else []:
                rel_src = f.relative_to(base)
                if tool == "lyra":
                    system, rel_src = f"resynth-{rel_src.parts[0]}", Path(*rel_src.parts[1:])
                else:
                    system = "resynth-fargan"
                src = index.get(str(rel_src), {})
                clips.append(M.Clip(os.path.relpath(f, self.root), "spoof", system, src.get("source", "?"),
                                    src.get("speaker", ""), src.get("language", "en"), duration_of(f), origin=tool))
        return clips

    def combine(self) -> dict[str, object]:
        generated = ([c for c in self.generated_clips() if c.duration_s >= MIN_SECONDS] if self.with_generated
                     else [])
        result = M.assign_splits(self.base_clips() + generated)
        M.write_manifest(result.clips, str(self.root / "training-manifest.csv"))
        with open(self.root / "excluded.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["path", "label", "system", "source", "reason"])
            for c, why in result.excluded:
                w.writerow([c.path, c.label, c.system, c.source, why])
        return {**M.summary(result.clips), "excluded": len(result.excluded), "leaks": {
            k: sorted(v) for k, v in M.leaks(result.clips).items()}}


def count_rows(path: Path) -> int:
    """Data rows of a CSV (0 when it does not exist)."""
    return len(M.read_csv(str(path))) if path.exists() else 0


def duration_of(path: Path) -> float:
    import soundfile as sf

    try:
        return float(sf.info(str(path)).duration)
    except Exception:
        return 0.0


def convert_to_flac(src: Path, dst: Path) -> None:
    import soundfile as sf

    x, sr = sf.read(str(src), dtype="float32")
    sf.write(str(dst) + ".part", x, sr, subtype="PCM_16", format="FLAC")
    os.replace(str(dst) + ".part", dst)
    src.unlink()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", type=Path, default=Path(os.environ.get("FAKECHECK_DATA", REPO.parent / "data")))
    ap.add_argument("--mirror", type=Path, default=Path(os.environ.get("FAKECHECK_MIRROR", "/work/.mirror")))
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    ap.add_argument("--tts-python", type=Path, default=None, help="python of the Piper/Kokoro venv")
    ap.add_argument("--only", nargs="*", choices=STEPS, help="run these steps (again), ignoring done markers")
    ap.add_argument("--with-generated", action="store_true",
                    help="also build the generated parts (Piper, Kokoro, classic TTS, DSP, Lyra, FARGAN) and put "
                         "them in the manifest; the default model does not train on them")
    a = ap.parse_args(argv)
    root = a.root.resolve()
    b = Build(root, a.mirror, a.shared.resolve(), a.tts_python or root / "tts-venv" / "bin" / "python")
    b.with_generated = a.with_generated
    t0 = time.time()
    report = {}
    for step in STEPS:
        if a.only and step not in a.only:
            continue
        if step in GENERATED_STEPS and not a.with_generated:
            continue
        if b.done(step) and not a.only and step not in ALWAYS_RERUN:
            log(f"done already: {step}")
            try:  # the report still gives its clip counts, from the step's done marker
                report[step] = {**json.loads((root / ".done" / step).read_text()), "done_earlier": True}
            except (OSError, ValueError):
                report[step] = {"done_earlier": True}
            continue
        t = time.time()
        log(f"step {step}")
        skipped_before = len(b.skipped)
        info = getattr(b, step)()
        if info is not None:
            info = {**info, "seconds": round(time.time() - t, 1)}
            report[step] = info
            if len(b.skipped) == skipped_before:
                b.mark(step, info)
            else:  # it skipped part of its work: run it again next time, once the tool or repository is there
                log(f"{step} is not marked done, because it skipped work")
            log(f"finished {step} in {time.time() - t:.0f} s: {json.dumps(info)[:300]}")
    log(f"build finished in {(time.time() - t0) / 60:.1f} min")
    for s in b.skipped:
        log(f"skipped: {s}")
    clips = {step: info["clips"] for step, info in report.items() if isinstance(info.get("clips"), int)}
    (root / "build-report.json").write_text(json.dumps({"clips": clips, "steps": report, "skipped": b.skipped,
                                                        "minutes": round((time.time() - t0) / 60, 1)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
