#!/usr/bin/env bash
# The one command: install the tools, then build every part of the training set (resumable).
#   bash scripts/data/build.sh [DATA_ROOT]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="${1:-${FAKECHECK_DATA:-$(cd "$HERE/../../.." && pwd)/data}}"
bash "$HERE/setup.sh" "$ROOT"
python3 "$HERE/build.py" --root "$ROOT"
