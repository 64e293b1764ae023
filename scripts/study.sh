#!/usr/bin/env bash
# Builds sdnc (release) and runs the default study (docs/results.md): 7 machines × 3 tasks ×
# 2 seeds, 1500 steps each, two runs at a time. Writes runs/study/default/ (results.jsonl,
# table.md, PNG plots, index.html). Run it again to resume an interrupted study; extra
# arguments go to `sdnc study` (e.g. --grid FILE.json --name NAME).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "${SDNC_JOBS:-$(nproc)}" --target sdnc_cli
start=$(date +%s)
./build/release/sdnc study "$@"
echo "[study.sh] wall time $(( $(date +%s) - start )) s"
