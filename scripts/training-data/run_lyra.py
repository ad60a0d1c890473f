"""Lyra v2 copy-synthesis of every bonafide clip in /work/data/real_src.
Executes the unmodified reference driver /work/shared/tools/neural/lyra_resynth.py
in-process (runpy, fresh TFLite interpreters per file, exactly as the CLI does)
to avoid 624 Python start-ups.  Bitrate per clip: sha256('0|lyra|<rel>') even -> 3200, odd -> 9200.
WAV output (PCM_16, 16 kHz) is converted losslessly to FLAC PCM_16 and trimmed to the
input length (the driver zero-pads to a multiple of 320 samples)."""
import hashlib, os, sys, runpy, time, csv, io, contextlib
import soundfile as sf
SRC, OUT = '/work/data/real_src', '/work/data/fakes_lyra'
DRV = '/work/shared/tools/neural/lyra_resynth.py'; MD = '/work/shared/tools/neural/lyra_v2'
rels = sorted(os.path.join(d, f) for d in os.listdir(SRC) for f in os.listdir(os.path.join(SRC, d)))
rows, t0 = [], time.time()
for i, r in enumerate(rels):
    br = 3200 if int(hashlib.sha256(('0|lyra|' + r).encode()).hexdigest(), 16) % 2 == 0 else 9200
    dst = os.path.join(OUT, 'lyra%d' % br, os.path.splitext(r)[0] + '.flac')
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = '/tmp/lyra_tmp.wav'
    try:
        sys.argv = [DRV, MD, os.path.join(SRC, r), tmp, str(br)]
        with contextlib.redirect_stdout(io.StringIO()):
            runpy.run_path(DRV, run_name='__main__')
        x_len = sf.info(os.path.join(SRC, r)).frames
        y, sr = sf.read(tmp, dtype='int16')
        assert sr == 16000
        sf.write(dst, y[:x_len], 16000, format='FLAC', subtype='PCM_16')
        rows.append((dst, 'lyra%d' % br, r, 'ok'))
    except Exception as e:
        rows.append((dst, 'lyra%d' % br, r, 'FAIL %r' % e)); print('FAIL', r, e, flush=True)
    if i % 50 == 0: print(i, '%.0fs' % (time.time() - t0), flush=True)
with open(os.path.join(OUT, 'lyra_runs.csv'), 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['path', 'system', 'rel', 'status']); w.writerows(rows)
print('done', len(rows), 'ok', sum(r[3] == 'ok' for r in rows), 'wall %.1fs' % (time.time() - t0))
