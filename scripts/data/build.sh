#!/usr/bin/env bash
# The one command: build the training set (resumable).  Run from anywhere; paths are resolved here.
#   bash scripts/data/build.sh [DATA_ROOT] [--with-generated]
# Without --with-generated (the default model's data) it needs only python3 with numpy, soundfile and
# soxr, and ffmpeg; the generated parts need the TTS engines and vocoders that setup.sh installs.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${FAKECHECK_DATA:-$(cd "$HERE/../../.." && pwd)/data}"
if [[ $# -gt 0 && "$1" != --* ]]; then
    ROOT="$1"
    shift
fi
if [[ " $* " == *" --with-generated "* ]]; then
    bash "$HERE/setup.sh" "$ROOT"
fi
python3 "$HERE/build.py" --root "$ROOT" "$@"
