"""Validate every generated FLAC and write /work/data/generated.csv.
Checks: FLAC container, 16 kHz, mono, >= 1.0 s, all samples finite, not silent
(RMS >= 1e-4 and peak >= 1e-3 of full scale).  Failures are listed in
/work/data/dropped.csv and NOT in generated.csv."""
import csv, os, glob, collections
import numpy as np, soundfile as sf
C = '/work/shared/corpus'
src = {}
for r in csv.DictReader(open(C + '/manifest.csv')):
    if r['label'] == 'bonafide':
        src[(r['source_repo'].replace('/', '__'), os.path.basename(r['path']))] = r
items = []  # (abs path, system, repo_dir, file)
for p in glob.glob('/work/data/fakes_resynth/resynth/*/*/*.flac'):
    s, d, f = p.split('/')[-3:]; items.append((p, 'resynth-' + s, d, f))
for p in glob.glob('/work/data/fakes_lyra/*/*/*.flac'):
    s, d, f = p.split('/')[-3:]; items.append((p, 'resynth-' + s, d, f))
for p in glob.glob('/work/data/fakes_fargan/*/*.flac'):
    d, f = p.split('/')[-2:]; items.append((p, 'resynth-fargan', d, f))
rows, drops = [], []
stat = collections.defaultdict(lambda: [0, 0.0, 0])
for p, s, d, f in sorted(items):
    r = src[(d, f)]
    why = None
    try:
        info = sf.info(p)
        x, sr = sf.read(p, dtype='float64', always_2d=True)
        dur = x.shape[0] / sr
        if info.format != 'FLAC': why = 'not FLAC'
        elif sr != 16000: why = 'sr %d' % sr
        elif x.shape[1] != 1: why = '%d channels' % x.shape[1]
        elif dur < 1.0: why = 'too short %.3fs' % dur
        elif not np.all(np.isfinite(x)): why = 'non-finite'
        elif np.sqrt(np.mean(x ** 2)) < 1e-4 or np.max(np.abs(x)) < 1e-3: why = 'silent'
    except Exception as e:
        why = 'unreadable %r' % e; dur = 0
    if why:
        drops.append((p, s, r['path'], why)); stat[s][2] += 1; continue
    rows.append((p, 'spoof', s, r['source_repo'], r['path'])); stat[s][0] += 1; stat[s][1] += dur
with open('/work/data/generated.csv', 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['path', 'label', 'system', 'source_repo', 'source_path']); w.writerows(rows)
with open('/work/data/dropped.csv', 'w', newline='') as fh:
    w = csv.writer(fh); w.writerow(['path', 'system', 'source_path', 'reason']); w.writerows(drops)
print('%-22s %6s %8s %6s' % ('system', 'kept', 'minutes', 'drop'))
for s in sorted(stat):
    print('%-22s %6d %8.1f %6d' % (s, stat[s][0], stat[s][1] / 60, stat[s][2]))
print('%-22s %6d %8.1f %6d' % ('TOTAL', len(rows), sum(v[1] for v in stat.values()) / 60, len(drops)))
print('distinct source clips', len({r[4] for r in rows}), 'repos', len({r[3] for r in rows}))
for d in drops: print('DROP', d)
