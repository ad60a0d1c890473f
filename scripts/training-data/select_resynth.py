"""Deterministic per-clip vocoder assignment for make_fakes.py --resynth.
cheap  (codec2_3200, codec2_1300, codec2_700C, pvoc): every bonafide clip gets 2 of 4.
costly (world, world_mgc, lpc, griffinlim, mlsa): only clips ranked in the first CAP
        (by sha256 of path) of their source repo; each gets 2 of 5.
Ranking key: sha256('0|<system>|<rel>') (seed 0).  Builds symlink trees
/work/data/resynth_sel/<system>/<repo__dir>/<file>.flac -> /work/data/real_src/...
"""
import hashlib, os, csv, collections
CHEAP = ['codec2_3200', 'codec2_1300', 'codec2_700C', 'pvoc']
COSTLY = ['world', 'world_mgc', 'lpc', 'griffinlim', 'mlsa']
CAP, SEED = 20, 0
SRC, SEL = '/work/data/real_src', '/work/data/resynth_sel'
h = lambda s: hashlib.sha256(s.encode()).hexdigest()
rels = sorted(os.path.join(d, f) for d in os.listdir(SRC) for f in os.listdir(os.path.join(SRC, d)))
by = collections.defaultdict(list)
for r in rels: by[r.split('/')[0]].append(r)
costly_ok = {r for l in by.values() for r in sorted(l, key=lambda r: h('%d|cap|%s' % (SEED, r)))[:CAP]}
assign = []
for r in rels:
    s = sorted(CHEAP, key=lambda n: h('%d|%s|%s' % (SEED, n, r)))[:2]
    if r in costly_ok:
        s += sorted(COSTLY, key=lambda n: h('%d|%s|%s' % (SEED, n, r)))[:2]
    for n in s:
        assign.append((n, r))
        d = os.path.join(SEL, n, os.path.dirname(r)); os.makedirs(d, exist_ok=True)
        os.symlink(os.path.join(SRC, r), os.path.join(SEL, n, r))
with open('/work/data/resynth_selection.csv', 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['system', 'rel']); w.writerows(assign)
c = collections.Counter(n for n, _ in assign)
print(len(rels), 'clips;', len(costly_ok), 'eligible for costly;', len(assign), 'jobs'); print(dict(c))
