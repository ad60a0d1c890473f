#!/bin/sh
# one make_fakes.py invocation per vocoder, sequential, 1 worker process, nice 10
cd /work/data
for s in codec2_3200 codec2_1300 codec2_700C pvoc mlsa griffinlim world world_mgc lpc; do
  echo "=== $s start $(date -Is)"
  /usr/bin/time -f "$s wall_s=%e user_s=%U" nice -n 10 /work/data/venv/bin/python /work/shared/tools/make_fakes.py \
     --resynth /work/data/resynth_sel/$s --out /work/data/fakes_resynth --systems "^$s\$" --seed 0 --workers 1 2>&1 | grep -v '^\[skip\] \(espeak\|flite\|festival\|pico\|rhvoice\|freetts\|sam\|mbrola\)'
  echo "=== $s end $(date -Is)"
done
