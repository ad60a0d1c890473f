"""The last step used for the bundled model: one training-only manifest of all resynthesis.

Reads the outputs of run_resynth.sh, run_lyra.py and run_fargan.sh under /work/data and
writes /work/data/generated_all.csv (path,label,system,source_repo).  The phase vocoder
output ("pvoc") is left out: it changes timing, not the signal model, so it is not a
vocoder artefact we want to teach.  source_repo is the real clip's repository, so that
`fakecheck train --extra` can drop rows whose source is held out for validation.
"""
import csv
import glob

out = []
for r in csv.DictReader(open("/work/data/fakes_resynth/manifest.csv")):
    if r["system"] == "pvoc":
        continue
    repo = r["path"].split("/")[2].replace("__", "/", 1)
    out.append(("/work/data/fakes_resynth/" + r["path"], "resynth-" + r["system"], repo))
for sysdir in ("lyra3200", "lyra9200"):
    for p in sorted(glob.glob(f"/work/data/fakes_lyra/{sysdir}/*/*.flac")):
        out.append((p, "resynth-" + sysdir, p.split("/")[-2].replace("__", "/", 1)))
for p in sorted(glob.glob("/work/data/fakes_fargan/*/*.flac")):
    out.append((p, "resynth-fargan", p.split("/")[-2].replace("__", "/", 1)))
with open("/work/data/generated_all.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["path", "label", "system", "source_repo"])
    for p, s, repo in out:
        w.writerow([p, "spoof", s, repo])
print(len(out))
