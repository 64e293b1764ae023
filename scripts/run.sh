#!/usr/bin/env bash
# Builds sdnc (release) and runs the main job. Extra arguments go to `sdnc`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${SDNC_JOBS:-$(nproc)}"
if [[ $# -eq 0 ]]; then set -- compare; fi
exec ./build/release/sdnc "$@"
