#!/bin/bash
# FARGAN copy-synthesis of a deterministic half of the bonafide clips
# (sha256('0|fargan|<rel>') even).  16 kHz s16le raw in/out, as in neural_tts.md.
set -u
BIN=/tmp/opus-src/opus-1.5.2/fargan_demo
SRC=/work/data/real_src; OUT=/work/data/fakes_fargan; T=/tmp/fargan_tmp
mkdir -p $OUT $T
echo "path,system,rel,status" > $OUT/fargan_runs.csv
cd $SRC
find . -type l | sed 's|^\./||' | LC_ALL=C sort | while read -r rel; do
  h=$(printf '0|fargan|%s' "$rel" | sha256sum | cut -c64)
  case $h in 0|2|4|6|8|a|c|e) ;; *) continue;; esac
  dst=$OUT/${rel%.flac}.flac; mkdir -p "$(dirname "$dst")"
  if sox "$SRC/$rel" -r 16000 -c 1 -b 16 -e signed -t raw $T/in.pcm \
     && $BIN -features $T/in.pcm $T/feat.f32 >/dev/null 2>&1 \
     && $BIN -fargan-synthesis $T/feat.f32 $T/out.pcm >/dev/null 2>&1 \
     && sox -t raw -r 16000 -e signed -b 16 -c 1 $T/out.pcm -b 16 "$dst"; then
    echo "$dst,fargan,$rel,ok" >> $OUT/fargan_runs.csv
  else
    echo "$dst,fargan,$rel,FAIL" >> $OUT/fargan_runs.csv; echo "FAIL $rel"
  fi
done
echo "done $(grep -c ',ok$' $OUT/fargan_runs.csv) ok"
